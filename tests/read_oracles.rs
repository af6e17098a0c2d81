//! `xiso unpack` against independent readers: the file list, sizes, modes and
//! symlink targets must equal `bsdtar -tvf`, on both XCP-ng-shaped fixtures and on
//! real ISOs shipped in Debian packages (built by scripts/make-fixtures.sh).

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

use common::*;

#[derive(Debug, PartialEq)]
struct Row {
    mode: String,
    size: u64,
    target: Option<String>,
}

/// Split off `n` whitespace-separated tokens, returning them and the rest of the line.
fn tokens(line: &str, n: usize) -> Option<(Vec<&str>, &str)> {
    let mut rest = line;
    let mut out = Vec::new();
    for _ in 0..n {
        rest = rest.trim_start();
        let end = rest.find(char::is_whitespace)?;
        out.push(&rest[..end]);
        rest = &rest[end..];
    }
    Some((out, rest.trim_start()))
}

fn bsdtar_listing(iso: &Path) -> BTreeMap<String, Row> {
    require_tool("bsdtar");
    let out = run(Command::new("bsdtar").arg("-tvf").arg(iso));
    assert!(
        out.status.success(),
        "bsdtar failed on {}: {}",
        iso.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut rows = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let (t, rest) = tokens(line, 8).unwrap_or_else(|| panic!("unparsed bsdtar line {line:?}"));
        let (path, target) = match rest.split_once(" -> ") {
            Some((p, t)) => (p.to_string(), Some(t.to_string())),
            None => (rest.to_string(), None),
        };
        if path == "." {
            continue;
        }
        let mode = t[0].to_string();
        let size = if mode.starts_with('d') || mode.starts_with('l') {
            0
        } else {
            t[4].parse().unwrap()
        };
        rows.insert(
            path.trim_end_matches('/').to_string(),
            Row { mode, size, target },
        );
    }
    rows
}

/// Unpack with xiso and describe the workspace: names and types from the disk,
/// sizes from the disk, symlink targets from the disk, modes from the manifest.
fn xiso_unpack_listing(iso: &Path) -> BTreeMap<String, Row> {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("ws");
    let out = run(xiso().arg("unpack").arg(iso).arg(&dir));
    assert!(
        out.status.success(),
        "xiso unpack {} failed: {}",
        iso.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest = xiso::workspace::Manifest::load(&dir).unwrap();
    let tree = dir.join("iso");
    let mut rows = BTreeMap::new();
    for e in &manifest.entries {
        let p = tree.join(&e.path);
        let meta = std::fs::symlink_metadata(&p)
            .unwrap_or_else(|err| panic!("{} missing on disk: {err}", p.display()));
        let kind_ok = match e.kind.as_str() {
            "file" => meta.is_file(),
            "dir" => meta.is_dir(),
            "symlink" => meta.file_type().is_symlink(),
            _ => true,
        };
        assert!(
            kind_ok,
            "{}: manifest kind {} but disk has {:?}",
            e.path,
            e.kind,
            meta.file_type()
        );
        let target = meta
            .file_type()
            .is_symlink()
            .then(|| std::fs::read_link(&p).unwrap().display().to_string());
        let size = if meta.is_file() { meta.size() } else { 0 };
        assert_eq!(
            size,
            if e.kind == "file" { e.size } else { 0 },
            "{}: size on disk vs manifest",
            e.path
        );
        rows.insert(
            e.path.clone(),
            Row {
                mode: xiso::iso::mode_string(e.mode),
                size,
                target,
            },
        );
    }
    rows
}

fn compare(rel: &str) {
    let iso = fixture(rel);
    let theirs = bsdtar_listing(&iso);
    let ours = xiso_unpack_listing(&iso);
    let only_theirs: Vec<_> = theirs.keys().filter(|k| !ours.contains_key(*k)).collect();
    let only_ours: Vec<_> = ours.keys().filter(|k| !theirs.contains_key(*k)).collect();
    assert!(
        only_theirs.is_empty() && only_ours.is_empty(),
        "{rel}: only bsdtar {only_theirs:?}, only xiso {only_ours:?}"
    );
    for (path, row) in &theirs {
        assert_eq!(
            &ours[path], row,
            "{rel}: {path} differs (left xiso, right bsdtar)"
        );
    }
    assert!(theirs.len() > 3, "{rel}: suspiciously few entries");
}

#[test]
fn genisoimage_fixture_matches_bsdtar() {
    compare("genisoimage.iso");
}

#[test]
fn xorriso_fixture_matches_bsdtar() {
    compare("xorriso.iso");
}

#[test]
fn debian_grub_rescue_matches_bsdtar() {
    compare("debian/grub-rescue-cdrom.iso");
}

#[test]
fn debian_ipxe_matches_bsdtar() {
    compare("debian/ipxe.iso");
}

#[test]
fn debian_memtest_matches_bsdtar() {
    compare("debian/memtest86+x64.iso");
}

/// Every file's bytes equal what bsdtar extracts.
#[test]
fn fixture_contents_match_bsdtar() {
    let iso = fixture("genisoimage.iso");
    let t = tempfile::tempdir().unwrap();
    let theirs = t.path().join("bsdtar");
    std::fs::create_dir(&theirs).unwrap();
    let out = run(Command::new("bsdtar")
        .arg("-xf")
        .arg(&iso)
        .arg("-C")
        .arg(&theirs));
    assert!(out.status.success());
    let ws = t.path().join("ws");
    let out = run(xiso().arg("unpack").arg(&iso).arg(&ws));
    assert!(out.status.success());
    let out = run(Command::new("diff")
        .arg("-r")
        .arg("--no-dereference")
        .arg(&theirs)
        .arg(ws.join("iso")));
    assert!(
        out.status.success(),
        "contents differ:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
