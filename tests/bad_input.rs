//! Damaged images: each must give a one-line error naming the file and the byte
//! offset, exit code 2, nothing written, and the input unchanged.

mod common;

use std::fs;
use std::path::Path;

use common::*;

/// Run `xiso unpack BAD DIR` and `xiso ls BAD` and check the failure contract.
fn assert_rejected(bad: &Path, expect_in_msg: &str) {
    let before = sha256(bad);
    let dir = bad.with_extension("out");
    for args in [
        vec![
            "unpack".to_string(),
            bad.display().to_string(),
            dir.display().to_string(),
        ],
        vec!["ls".to_string(), bad.display().to_string()],
    ] {
        let out = run(xiso().args(&args));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?} should exit 2; stderr: {stderr}"
        );
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "error must be one line: {stderr}"
        );
        assert!(
            stderr.contains(&bad.display().to_string()),
            "error must name the file: {stderr}"
        );
        assert!(
            stderr.contains("offset "),
            "error must give the offset: {stderr}"
        );
        assert!(
            stderr.contains(expect_in_msg),
            "error should mention {expect_in_msg:?}: {stderr}"
        );
        assert!(
            !dir.exists(),
            "nothing may be written on failure ({} exists)",
            dir.display()
        );
        assert_no_temp_files(bad.parent().unwrap());
    }
    assert_eq!(sha256(bad), before, "input must be left untouched");
}

fn patch(path: &Path, offset: u64, bytes: &[u8]) {
    use std::os::unix::fs::FileExt;
    let f = fs::OpenOptions::new().write(true).open(path).unwrap();
    f.write_all_at(bytes, offset).unwrap();
}

fn record_offset(iso: &Path, inner: &str) -> u64 {
    let img = xiso::iso::IsoImage::open(iso).unwrap();
    img.lookup(inner).unwrap().record_offset
}

#[test]
fn truncated_image() {
    let t = tempfile::tempdir().unwrap();
    let iso = small_iso(t.path());
    let len = fs::metadata(&iso).unwrap().len();
    // Cut inside the file data: the walk finds extents past the end.
    let f = fs::OpenOptions::new().write(true).open(&iso).unwrap();
    f.set_len(len - 4096).unwrap();
    assert_rejected(&iso, "truncated");
    // Cut inside the volume descriptors.
    f.set_len(16 * 2048 + 100).unwrap();
    assert_rejected(&iso, "truncated");
}

#[test]
fn zero_filled_image() {
    let t = tempfile::tempdir().unwrap();
    let iso = t.path().join("zero.iso");
    fs::write(&iso, vec![0u8; 1 << 20]).unwrap();
    assert_rejected(&iso, "all-zero");
}

#[test]
fn wrong_magic() {
    let t = tempfile::tempdir().unwrap();
    let iso = small_iso(t.path());
    patch(&iso, 16 * 2048 + 1, b"CD002");
    assert_rejected(&iso, "wrong magic");
}

#[test]
fn tiny_file() {
    let t = tempfile::tempdir().unwrap();
    let iso = t.path().join("tiny.iso");
    fs::write(&iso, b"not an iso").unwrap();
    assert_rejected(&iso, "too small");
}

#[test]
fn looping_directory() {
    let t = tempfile::tempdir().unwrap();
    let iso = small_iso(t.path());
    let img = xiso::iso::IsoImage::open(&iso).unwrap();
    let root_lba = img.root().extents[0].lba;
    drop(img);
    // /docs/deep/er now points back at the root directory.
    let rec = record_offset(&iso, "/docs/deep/er");
    patch(&iso, rec + 2, &root_lba.to_le_bytes());
    patch(&iso, rec + 6, &root_lba.to_be_bytes());
    assert_rejected(&iso, "directory loop");
}

#[test]
fn extent_past_eof() {
    let t = tempfile::tempdir().unwrap();
    let iso = small_iso(t.path());
    let rec = record_offset(&iso, "/docs/deep/er/file.txt");
    let lba: u32 = 0x00ff_0000;
    patch(&iso, rec + 2, &lba.to_le_bytes());
    patch(&iso, rec + 6, &lba.to_be_bytes());
    assert_rejected(&iso, "past the end of the file");
}

#[test]
fn bad_directory_record_length() {
    let t = tempfile::tempdir().unwrap();
    let iso = small_iso(t.path());
    let rec = record_offset(&iso, "/docs/deep/er/file.txt");
    patch(&iso, rec, &[20]);
    assert_rejected(&iso, "directory record length");
}

#[test]
fn non_empty_target_is_refused_without_force() {
    let t = tempfile::tempdir().unwrap();
    let iso = small_iso(t.path());
    let dir = t.path().join("ws");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("keep"), "mine").unwrap();
    let out = run(xiso().arg("unpack").arg(&iso).arg(&dir));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not empty"));
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
    let out = run(xiso().arg("unpack").arg("--force").arg(&iso).arg(&dir));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fs::read(dir.join("keep")).unwrap(), b"mine");
    assert!(dir.join("iso/docs/deep/er/file.txt").exists());
}
