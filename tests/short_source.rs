//! A source ISO cut short (its last 4 KiB gone, like a cut download): `unpack`,
//! `remaster` and `inspect` still work and exit 0, but say so on stderr in one line
//! naming the file, the size its tables imply and its real size. `xiso verify` is
//! the oracle that the copy really is damaged; a whole fixture gives no warning.

mod common;

use std::fs;
use std::path::Path;

use common::{fixture, ok_output, run, tmpdir, xiso};

/// The warning lines of a run's stderr.
fn warnings(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| l.starts_with("xiso: warning:"))
        .map(str::to_string)
        .collect()
}

#[test]
fn a_cut_source_is_read_with_a_one_line_warning() {
    let tmp = tmpdir("short-source");
    let whole = fixture("genisoimage.iso");
    let bytes = fs::read(&whole).unwrap();
    let full = bytes.len() as u64;
    let short = tmp.path().join("cut.iso");
    fs::write(&short, &bytes[..bytes.len() - 4096]).unwrap();
    let cut = full - 4096;

    // The oracle: verify finds the damage (exit 1), and the whole fixture is clean
    // of this warning.
    let v = run(xiso().arg("verify").arg(&short));
    assert_eq!(
        v.status.code(),
        Some(1),
        "verify found nothing on a cut copy"
    );
    let o = ok_output(xiso().arg("inspect").arg(&whole));
    assert!(warnings(&o.stderr).is_empty());

    let check = |what: &str, stderr: &[u8]| {
        let w = warnings(stderr);
        assert_eq!(w.len(), 1, "{what}: {w:?}");
        let w = &w[0];
        assert!(w.contains(&short.display().to_string()), "{what}: {w}");
        assert!(w.contains(&format!("at byte {full}")), "{what}: {w}");
        assert!(
            w.contains(&format!("the file has {cut} bytes")),
            "{what}: {w}"
        );
    };

    let o = ok_output(xiso().arg("inspect").arg(&short));
    check("inspect", &o.stderr);
    let o = ok_output(xiso().arg("inspect").arg(&short).arg("--json"));
    check("inspect --json", &o.stderr);
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["truncation"]["expected_bytes"], full);
    assert_eq!(r["truncation"]["actual_bytes"], cut);

    let ws = tmp.path().join("ws");
    let o = ok_output(
        xiso()
            .arg("unpack")
            .arg(&short)
            .arg(&ws)
            .arg("--no-installer"),
    );
    check("unpack", &o.stderr);

    let out = tmp.path().join("out.iso");
    let o = ok_output(
        xiso()
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .arg("remaster")
            .arg(&short)
            .arg(&out)
            .args(["--boot-arg", "xiso.test=1", "--json"]),
    );
    check("remaster", &o.stderr);
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["truncation"]["expected_bytes"], full);
    // The remastered image has its tables written anew: whole again.
    let o = ok_output(xiso().arg("inspect").arg(&out));
    assert!(warnings(&o.stderr).is_empty(), "{:?}", warnings(&o.stderr));
    assert_eq!(fs::metadata(&out).unwrap().len() % 4096, 0);
    assert!(Path::new(&out).exists());

    // The library gives the same as data.
    let iso = xiso::iso::IsoImage::open(&short).unwrap();
    let t = xiso::truncation::check(&iso).expect("a truncation");
    assert_eq!((t.expected_bytes, t.actual_bytes), (full, cut));
    let iso = xiso::iso::IsoImage::open(&whole).unwrap();
    assert_eq!(xiso::truncation::check(&iso), None);
}
