//! `xiso diff A B`: a remaster made with the workspace commands (unpack, add-rpm,
//! patch-installer, boot-args, pack) is diffed against its source, and the report
//! must list exactly those edits and nothing else; an image against itself (and
//! against a no-op remaster) is empty with exit 0; an appended install.img has the
//! same installer root as a rebuilt one; an update shows old → new; a damaged image
//! is one error line with exit 2.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{build_named_rpm, fixture, ok_output, run, tmpdir, xiso};
use serde_json::Value;
use xiso::iso::IsoImage;

const EPOCH: &str = "1700000000";

fn xiso_ok(args: &[&std::ffi::OsStr]) -> Output {
    ok_output(xiso().env("SOURCE_DATE_EPOCH", EPOCH).args(args))
}

fn unpack(iso: &Path, ws: &Path, installer: bool) {
    let mut args = vec!["unpack".as_ref(), iso.as_os_str(), ws.as_os_str()];
    if !installer {
        args.push("--no-installer".as_ref());
    }
    xiso_ok(&args);
}

fn pack(ws: &Path, out: &Path) {
    xiso_ok(&["pack".as_ref(), ws.as_os_str(), out.as_os_str()]);
}

fn add_rpm(ws: &Path, rpm: &Path) {
    xiso_ok(&[
        "add-rpm".as_ref(),
        ws.as_os_str(),
        rpm.as_os_str(),
        "--no-deps-check".as_ref(),
    ]);
}

/// `xiso diff A B --json`: exit code and parsed report.
fn diff_json(a: &Path, b: &Path) -> (i32, Value) {
    let o = run(xiso().arg("diff").arg(a).arg(b).arg("--json"));
    let code = o.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "diff failed ({code}): {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = serde_json::from_slice(&o.stdout).expect("diff --json prints JSON");
    (code, v)
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().expect("a string").to_string())
        .collect()
}

/// Names of the files in `ws/iso/repodata/`, as `repodata/<name>`.
fn repodata_files(ws: &Path) -> BTreeSet<String> {
    std::fs::read_dir(ws.join("iso/repodata"))
        .unwrap()
        .map(|e| format!("repodata/{}", e.unwrap().file_name().to_string_lossy()))
        .collect()
}

fn assert_empty(v: &Value, what: &str) {
    let empty = match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o
            .values()
            .all(|x| matches!(x, Value::Null) || x.as_array().is_some_and(|a| a.is_empty())),
        _ => false,
    };
    assert!(empty, "{what} should be empty: {v:#}");
}

#[test]
fn diff_of_a_remaster_lists_exactly_its_edits() {
    let dir = tmpdir("diff-edits");
    let a = fixture("xorriso.iso");
    let ws = dir.path().join("ws");
    unpack(&a, &ws, true);
    let old_repodata = repodata_files(&ws);

    let rpm = build_named_rpm(dir.path(), "xiso-diff", "1.0", &[]);
    add_rpm(&ws, &rpm);
    let new_repodata = repodata_files(&ws);

    let overlay = dir.path().join("overlay");
    std::fs::create_dir_all(overlay.join("etc")).unwrap();
    std::fs::write(
        overlay.join("etc/xiso-marker"),
        "changed by tests/diff.rs\n",
    )
    .unwrap();
    xiso_ok(&[
        "patch-installer".as_ref(),
        ws.as_os_str(),
        overlay.as_os_str(),
    ]);

    let boot = xiso_ok(&[
        "boot-args".as_ref(),
        ws.as_os_str(),
        "--add".as_ref(),
        "xiso.test=1".as_ref(),
        "--json".as_ref(),
    ]);
    let boot: Value = serde_json::from_slice(&boot.stdout).unwrap();
    let mut edited: BTreeSet<(String, String)> = BTreeSet::new();
    for m in boot["menus"].as_array().unwrap() {
        for c in m["changes"].as_array().unwrap() {
            edited.insert((
                m["path"].as_str().unwrap().to_string(),
                c["entry"].as_str().unwrap().to_string(),
            ));
        }
    }
    let menus: BTreeSet<&str> = edited.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(
        menus,
        BTreeSet::from([
            "EFI/xenserver/grub.cfg",
            "boot/efiboot.img:EFI/xenserver/grub.cfg",
            "boot/isolinux/isolinux.cfg"
        ]),
        "the fixture has a BIOS menu, a tree grub.cfg and one inside efiboot.img"
    );

    let b = dir.path().join("b.iso");
    pack(&ws, &b);
    let (code, r) = diff_json(&a, &b);
    assert_eq!(code, 1, "images that differ exit 1");

    // Files: the RPM and the new metadata added, the old metadata removed, the
    // edited files changed; nothing else (boot catalog and isolinux.bin moved but
    // are the same modulo their LBAs).
    let mut added: Vec<String> = new_repodata.difference(&old_repodata).cloned().collect();
    added.push("Packages/xiso-diff-1.0-1.noarch.rpm".into());
    added.sort();
    let mut got = strings(&r["files"]["added"]);
    got.sort();
    assert_eq!(got, added, "files added");
    let removed: Vec<String> = old_repodata.difference(&new_repodata).cloned().collect();
    assert_eq!(strings(&r["files"]["removed"]), removed, "files removed");
    assert_eq!(removed.len(), 3, "primary, filelists and other are renamed");
    let mut changed = strings(&r["files"]["changed"]);
    changed.sort();
    assert_eq!(
        changed,
        [
            "EFI/xenserver/grub.cfg",
            "boot/efiboot.img",
            "boot/isolinux/isolinux.cfg",
            "install.img",
            "repodata/repomd.xml"
        ],
        "files changed"
    );
    assert_empty(&r["files"]["metadata"], "file metadata changes");
    assert_empty(&r["volume"], "volume changes");

    // Packages: the one added, by NEVRA.
    assert_eq!(strings(&r["packages"]["added"]), ["xiso-diff-1.0-1.noarch"]);
    for k in ["removed", "updated", "rebuilt"] {
        assert_empty(&r["packages"][k], k);
    }

    // Boot: xiso.test=1 added to every entry of every menu boot-args edited.
    assert!(r["boot"]["el_torito"].is_null(), "{:#}", r["boot"]);
    for k in [
        "menus_added",
        "menus_removed",
        "entries_added",
        "entries_removed",
    ] {
        assert_empty(&r["boot"][k], k);
    }
    let mut seen = BTreeSet::new();
    for c in r["boot"]["args"].as_array().unwrap() {
        assert_eq!(strings(&c["added"]), ["xiso.test=1"], "{c:#}");
        assert_empty(&c["removed"], "arguments removed");
        assert_empty(&c["changed"], "arguments changed");
        seen.insert((
            c["menu"].as_str().unwrap().to_string(),
            c["entry"].as_str().unwrap().to_string(),
        ));
    }
    assert_eq!(seen, edited, "one argument change per edited entry");

    // Installer: the one patched file.
    assert_eq!(strings(&r["installer"]["changed"]), ["etc/xiso-marker"]);
    for k in ["added", "removed", "metadata"] {
        assert_empty(&r["installer"][k], k);
    }

    // The cap on the expanded installer stops a decompression bomb.
    let opts = xiso::diff::DiffOptions {
        max_expanded: 64 << 10,
        ..Default::default()
    };
    let (ia, ib) = (IsoImage::open(&a).unwrap(), IsoImage::open(&b).unwrap());
    let err = xiso::diff::diff(&ia, &ib, &opts).expect_err("over the cap");
    assert!(
        err.to_string().contains("expands beyond 65536 bytes"),
        "{err}"
    );

    // The same edits appended to install.img (a second cpio archive whose entries
    // replace the first's, as in the kernel) give the same installer root.
    let c = dir.path().join("c.iso");
    xiso_ok(&[
        "pack".as_ref(),
        ws.as_os_str(),
        c.as_os_str(),
        "--installer-append".as_ref(),
    ]);
    let (code, r2) = diff_json(&b, &c);
    assert_eq!(code, 1);
    assert_eq!(strings(&r2["files"]["changed"]), ["install.img"]);
    for k in ["added", "removed", "metadata"] {
        assert_empty(&r2["files"][k], k);
    }
    for k in ["volume", "packages", "boot", "installer"] {
        assert_empty(&r2[k], k);
    }

    // The same as text.
    let o = run(xiso().arg("diff").arg(&a).arg(&b));
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    for line in [
        "+ Packages/xiso-diff-1.0-1.noarch.rpm",
        "~ install.img",
        "package added: xiso-diff-1.0-1.noarch",
        "boot boot/isolinux/isolinux.cfg \"install\": + xiso.test=1",
        "installer ~ etc/xiso-marker",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "no line {line:?} in:\n{text}"
        );
    }
}

#[test]
fn an_image_against_itself_and_a_no_op_remaster_is_empty() {
    let a = fixture("xorriso.iso");
    let o = run(xiso().arg("diff").arg(&a).arg(&a));
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );

    // genisoimage and xorriso wrote the same tree at other LBAs: their boot catalogs
    // and isolinux.bin boot info tables differ byte-wise, and that is bookkeeping.
    let o = run(xiso().arg("diff").arg(fixture("genisoimage.iso")).arg(&a));
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_ne!(
        common::sha256(&fixture("genisoimage.iso")),
        common::sha256(&a)
    );

    let dir = tmpdir("diff-noop");
    let ws = dir.path().join("ws");
    unpack(&a, &ws, false);
    let b = dir.path().join("b.iso");
    pack(&ws, &b);
    let (code, r) = diff_json(&a, &b);
    assert_eq!(code, 0, "a no-op remaster differs: {r:#}");
    for k in ["volume", "files", "packages", "boot", "installer"] {
        assert_empty(&r[k], k);
    }

    // A new volume id is the only difference of a pack with --volid.
    let c = dir.path().join("c.iso");
    xiso_ok(&[
        "pack".as_ref(),
        ws.as_os_str(),
        c.as_os_str(),
        "--volid".as_ref(),
        "XISO-DIFF".as_ref(),
    ]);
    let (code, r) = diff_json(&b, &c);
    assert_eq!(code, 1);
    assert_eq!(r["volume"][0]["field"], "volume_id");
    assert_eq!(r["volume"][0]["after"], "XISO-DIFF");
    assert_eq!(r["volume"].as_array().unwrap().len(), 1);
    for k in ["files", "packages", "boot", "installer"] {
        assert_empty(&r[k], k);
    }

    // Past the boot info table, isolinux.bin's bytes are content.
    let bin = ws.join("iso/boot/isolinux/isolinux.bin");
    let mut bytes = std::fs::read(&bin).unwrap();
    bytes[1000] ^= 0xff;
    std::fs::write(&bin, bytes).unwrap();
    let d = dir.path().join("d.iso");
    pack(&ws, &d);
    let (code, r) = diff_json(&b, &d);
    assert_eq!(code, 1);
    assert_eq!(
        strings(&r["files"]["changed"]),
        ["boot/isolinux/isolinux.bin"]
    );
}

#[test]
fn a_newer_version_shows_as_updated_old_to_new() {
    let dir = tmpdir("diff-update");
    let ws = dir.path().join("ws");
    unpack(&fixture("xorriso.iso"), &ws, false);
    add_rpm(&ws, &build_named_rpm(dir.path(), "xiso-diff", "1.0", &[]));
    let b1 = dir.path().join("b1.iso");
    pack(&ws, &b1);
    add_rpm(&ws, &build_named_rpm(dir.path(), "xiso-diff", "2.0", &[]));
    let b2 = dir.path().join("b2.iso");
    pack(&ws, &b2);

    let (code, r) = diff_json(&b1, &b2);
    assert_eq!(code, 1);
    let p = &r["packages"];
    assert_eq!(
        p["updated"],
        serde_json::json!([{"name": "xiso-diff", "arch": "noarch", "from": "1.0-1", "to": "2.0-1"}])
    );
    for k in ["added", "removed", "rebuilt"] {
        assert_empty(&p[k], k);
    }
    assert!(strings(&r["files"]["added"]).contains(&"Packages/xiso-diff-2.0-1.noarch.rpm".into()));
    assert!(strings(&r["files"]["removed"]).contains(&"Packages/xiso-diff-1.0-1.noarch.rpm".into()));
    let o = run(xiso().arg("diff").arg(&b1).arg(&b2));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.lines()
            .any(|l| l == "package updated: xiso-diff.noarch 1.0-1 → 2.0-1"),
        "{text}"
    );
}

#[test]
fn a_damaged_image_is_one_error_line_and_exit_2() {
    let dir = tmpdir("diff-bad");
    let a = fixture("xorriso.iso");
    let bytes = std::fs::read(&a).unwrap();
    let cut: PathBuf = dir.path().join("cut.iso");
    // The volume descriptors and root directory survive; file extents do not.
    std::fs::write(&cut, &bytes[..bytes.len() / 4]).unwrap();
    for (x, y) in [(&a, &cut), (&cut, &a)] {
        let o = run(xiso().arg("diff").arg(x).arg(y));
        assert_eq!(
            o.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&o.stdout)
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("xiso: error: "), "{err}");
        assert!(o.stdout.is_empty());
    }
    let o = run(xiso()
        .arg("diff")
        .arg(&a)
        .arg(dir.path().join("missing.iso")));
    assert_eq!(o.status.code(), Some(2));
}
