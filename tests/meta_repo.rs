//! repodata reading against createrepo_c as the oracle: a repository made by the
//! real tool from real RPMs must parse to exactly the files it wrote.

use std::fs;
use std::io::{Read, Write};
use std::process::Command;

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};
use xiso::repo::{count_primary_packages, summarize, Repomd};

mod common;
use xiso::ErrorKind;

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// A repository of three RPMs made by `createrepo_c --general-compress-type=gz`.
fn make_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let packages = dir.path().join("Packages");
    fs::create_dir(&packages).unwrap();
    let src = common::testdata_dir().join("rpms/createrepo_c");
    for name in [
        "Archer-3.4.5-6.x86_64.rpm",
        "Rimmer-1.0.2-2.x86_64.rpm",
        "empty-0-0.x86_64.rpm",
    ] {
        fs::copy(src.join(name), packages.join(name)).unwrap();
    }
    let out = Command::new("createrepo_c")
        .arg("--general-compress-type=gz")
        .arg(dir.path())
        .output()
        .expect("createrepo_c is required for this test (apt-get install createrepo-c)");
    assert!(
        out.status.success(),
        "createrepo_c failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

#[test]
fn createrepo_c_repository_matches_its_files() {
    let repo = make_repo();
    let xml = fs::read(repo.path().join("repodata/repomd.xml")).unwrap();
    let md = Repomd::parse(&xml).unwrap();

    assert!(md.revision.as_deref().is_some_and(|r| !r.is_empty()));
    let types: Vec<&str> = md.records.iter().map(|r| r.data_type.as_str()).collect();
    for wanted in ["primary", "filelists", "other"] {
        assert!(types.contains(&wanted), "{wanted} missing from {types:?}");
    }
    for t in &types {
        assert!(
            [
                "primary",
                "filelists",
                "other",
                "primary_db",
                "filelists_db",
                "other_db"
            ]
            .contains(t),
            "unexpected record {t}"
        );
    }

    for rec in &md.records {
        let bytes = fs::read(repo.path().join(&rec.location_href)).unwrap();
        assert_eq!(rec.size, Some(bytes.len() as u64), "{} size", rec.data_type);
        let sum = rec.checksum.as_ref().expect("checksum");
        assert_eq!(sum.algorithm, "sha256");
        assert_eq!(sum.value, sha256_hex(&bytes), "{} checksum", rec.data_type);
        assert!(rec.timestamp.is_some());
        if rec.data_type.ends_with("_db") {
            assert!(rec.database_version.is_some());
        } else {
            // The XML records are gzip: open-checksum/open-size describe the XML.
            let mut open = Vec::new();
            GzDecoder::new(&bytes[..]).read_to_end(&mut open).unwrap();
            assert_eq!(rec.open_size, Some(open.len() as u64));
            assert_eq!(rec.open_checksum.as_ref().unwrap().value, sha256_hex(&open));
        }
    }

    let primary = md.record("primary").unwrap();
    let mut file = fs::File::open(repo.path().join(&primary.location_href)).unwrap();
    let summary = summarize(&md, Some(&mut file), false).unwrap();
    assert_eq!(summary.package_count, Some(3));
    assert_eq!(summary.declared_package_count, Some(3));
    assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);
    assert!(!summary.signed);
    assert_eq!(summary.records.len(), md.records.len());
    assert_eq!(summary.records[0].href, md.records[0].location_href);
    // The report is what `inspect --json` prints.
    serde_json::to_string(&summary).unwrap();

    let no_primary = summarize(&md, None, true).unwrap();
    assert_eq!(no_primary.package_count, None);
    assert!(no_primary.signed);
}

#[test]
fn package_count_mismatch_is_a_warning() {
    let xml = br#"<?xml version="1.0"?>
<metadata xmlns="http://linux.duke.edu/metadata/common" packages="5">
<package type="rpm"><name>a</name><format><rpm:entry name="package"/></format></package>
<package type="rpm"><name>b</name></package>
</metadata>"#;
    let md = Repomd::parse(
        br#"<repomd><data type="primary"><location href="repodata/p.xml.gz"/></data></repomd>"#,
    )
    .unwrap();
    let gz = gzip(xml);
    let summary = summarize(&md, Some(&mut &gz[..]), false).unwrap();
    assert_eq!(summary.package_count, Some(2));
    assert_eq!(summary.declared_package_count, Some(5));
    assert_eq!(summary.warnings.len(), 1, "{:?}", summary.warnings);
}

#[test]
fn bad_primary_streams_are_errors_not_panics() {
    let good_xml = b"<metadata packages=\"0\"></metadata>";
    let gz = gzip(good_xml);
    assert_eq!(count_primary_packages(&gz[..]).unwrap().counted, 0);

    // Truncated gzip, gzip magic followed by garbage, no compression at all.
    let truncated = &gz[..gz.len() / 2];
    let mut garbage = vec![0x1f, 0x8b, 8, 0];
    garbage.extend_from_slice(&[0xff; 64]);
    for (what, bytes) in [
        ("truncated", truncated.to_vec()),
        ("garbage", garbage),
        ("plain", good_xml.to_vec()),
        ("empty", Vec::new()),
        ("malformed xml", gzip(b"<metadata><package></metadata>")),
        ("wrong root", gzip(b"<repomd/>")),
        ("unclosed", gzip(b"<metadata><package>")),
        ("bad count", gzip(b"<metadata packages=\"x\"/>")),
    ] {
        let e = count_primary_packages(&bytes[..]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{what}: {e}");
    }
    let zstd_magic = [0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0];
    let e = count_primary_packages(&zstd_magic[..]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
}

#[test]
fn malformed_repomd_is_corrupt() {
    for bad in [
        &b"<repomd><data type=\"primary\"><location href=\"../../etc/passwd\"/></data></repomd>"[..],
        b"<repomd><data type=\"primary\"><location href=\"/repodata/p.xml.gz\"/></data></repomd>",
        b"<repomd><data type=\"primary\"><location href=\"http://evil/p.xml.gz\"/></data></repomd>",
        b"<repomd><revision>1</revision><data type=\"primary\"></repomd>",
        b"\xff\xfe\x00garbage",
    ] {
        let e = Repomd::parse(bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
    }
}
