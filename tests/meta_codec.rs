//! Codec detection on streams written by the real compressors, the way
//! `install.img` is made (`find . | cpio -o -H newc | bzip2 > install.img`).

use std::io::Write;
use std::process::{Command, Stdio};

use xiso::initrd::codec::{detect, Codec, DETECT_LEN};

/// Run `cmd args` with `input` on stdin and return stdout; panics loudly when the
/// tool is missing, because a skipped oracle proves nothing.
fn pipe(cmd: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new(cmd)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("`{cmd}` is required for this test: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "`{cmd} {args:?}` failed");
    out.stdout
}

/// A small newc archive made by GNU cpio from a temporary directory.
fn cpio_newc() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("init"), b"#!/bin/sh\n").unwrap();
    let mut child = Command::new("cpio")
        .args(["-o", "-H", "newc", "--quiet"])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("`cpio` is required for this test");
    child.stdin.take().unwrap().write_all(b"init\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    out.stdout
}

fn head(bytes: &[u8]) -> &[u8] {
    &bytes[..bytes.len().min(DETECT_LEN)]
}

#[test]
fn real_streams_are_detected() {
    let cpio = cpio_newc();
    assert_eq!(detect(head(&cpio)), Codec::Uncompressed);

    assert_eq!(detect(head(&pipe("gzip", &["-c"], &cpio))), Codec::Gzip);
    assert_eq!(
        detect(head(&pipe("bzip2", &["-c"], &cpio))),
        Codec::Bzip2 { level: 9 }
    );
    assert_eq!(
        detect(head(&pipe("bzip2", &["-c", "-1"], &cpio))),
        Codec::Bzip2 { level: 1 }
    );
    // bzip2 of nothing has no block, only the end-of-stream marker.
    assert_eq!(
        detect(head(&pipe("bzip2", &["-c"], b""))),
        Codec::Bzip2 { level: 9 }
    );
    assert_eq!(detect(head(&pipe("xz", &["-c"], &cpio))), Codec::Xz);
    assert_eq!(
        detect(head(&pipe("xz", &["-c", "--format=lzma"], &cpio))),
        Codec::Lzma
    );
    assert_eq!(
        detect(head(&pipe("zstd", &["-c", "-q"], &cpio))),
        Codec::Zstd
    );
}

#[test]
fn lz4_streams_are_detected() {
    let data = b"0707010000000100000000";
    assert_eq!(
        detect(head(&pipe("lz4", &["-l", "-c"], data))),
        Codec::Lz4Legacy
    );
    assert_eq!(detect(head(&pipe("lz4", &["-c"], data))), Codec::Lz4Frame);
}

#[test]
fn garbage_and_short_heads_are_unknown() {
    for bytes in [
        &b""[..],
        b"\x1f",
        b"BZh",
        b"BZhx1AY&SY",
        b"\x00\x00\x00\x00",
        b"MZ\x90\x00",
    ] {
        assert_eq!(detect(bytes), Codec::Unknown, "{bytes:?}");
    }
    assert_eq!(Codec::Unknown.name(), "unknown");
}
