//! Writing whole repodata: dnf (the oracle) must read xiso's metadata exactly
//! as it reads createrepo_c's for the same packages, repomd.xml must state the
//! true checksums and sizes (checked with sha256sum and gzip), and two runs
//! with the same timestamp must give the same bytes.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{require_tool, run, sha256};
use xiso::repo::{entries_for_dir, repomd_xml, write_metadata, MetadataOptions, Repomd};

const TIMESTAMP: u64 = 1_700_000_000;

/// A repository root with every testdata RPM under `Packages/`.
fn repo_with_testdata(dir: &Path) -> PathBuf {
    let src = common::testdata_dir().join("rpms");
    assert!(
        src.is_dir(),
        "TESTDATA MISSING: {} does not exist",
        src.display()
    );
    let packages = dir.join("Packages");
    std::fs::create_dir_all(&packages).unwrap();
    let mut n = 0;
    for sub in std::fs::read_dir(&src).unwrap() {
        let sub = sub.unwrap().path();
        for f in std::fs::read_dir(&sub).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "rpm") {
                std::fs::copy(&f, packages.join(f.file_name().unwrap())).unwrap();
                n += 1;
            }
        }
    }
    assert!(n >= 20, "expected the test RPMs, found {n} packages");
    dir.to_path_buf()
}

fn write_repo(root: &Path) -> Repomd {
    let entries = entries_for_dir(root).unwrap();
    let opts = MetadataOptions {
        timestamp: TIMESTAMP,
        unique_md_filenames: true,
    };
    let repomd = write_metadata(&root.join("repodata"), &entries, &opts).unwrap();
    std::fs::write(root.join("repodata/repomd.xml"), repomd_xml(&repomd)).unwrap();
    repomd
}

/// `dnf repoquery` over the repository at `root`, one line per package.
fn repoquery(root: &Path, cache: &Path, query: &[&str]) -> String {
    let out = run(Command::new("dnf")
        .args(["-q", "--releasever=1", "--disableplugin=*"])
        .arg(format!("--setopt=cachedir={}", cache.display()))
        .arg("--setopt=reposdir=/dev/null")
        .arg(format!("--repofrompath=t,{}", root.display()))
        .args(["--repo", "t", "repoquery"])
        .args(query));
    assert!(
        out.status.success(),
        "dnf repoquery failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn dnf_reads_xiso_repodata_as_it_reads_createrepo_c() {
    require_tool("dnf");
    require_tool("createrepo_c");
    let tmp = tempfile::tempdir().unwrap();
    let ours = repo_with_testdata(&tmp.path().join("ours"));
    let theirs = repo_with_testdata(&tmp.path().join("theirs"));
    write_repo(&ours);
    let out = run(Command::new("createrepo_c")
        .env("LC_ALL", "C")
        .args(["--no-database", "--general-compress-type=gz"])
        .arg(&theirs));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let packages = std::fs::read_dir(ours.join("Packages")).unwrap().count();
    let fields = "--qf=%{name}|%{epoch}|%{version}|%{release}|%{arch}|%{location}|%{downloadsize}|%{installsize}|%{sourcerpm}|%{license}|%{summary}";
    for query in [
        &["--all", fields][..],
        &["--all", "--provides"],
        &["--all", "--requires"],
        &["--all", "--conflicts"],
        &["--all", "--obsoletes"],
        &["--all", "--recommends"],
        &["--all", "--suggests"],
        &["--all", "--supplements"],
        &["--all", "--enhances"],
        &["--all", "--list"],
        &["--all", "--changelogs"],
    ] {
        let a = repoquery(&ours, &tmp.path().join("cache-ours"), query);
        let b = repoquery(&theirs, &tmp.path().join("cache-theirs"), query);
        assert_eq!(
            a, b,
            "dnf repoquery {query:?} differs (xiso, then createrepo_c)"
        );
        if query[1] == fields {
            assert_eq!(a.lines().count(), packages, "dnf lists every package:\n{a}");
        }
        assert!(
            !a.trim().is_empty(),
            "dnf repoquery {query:?} printed nothing"
        );
    }
}

#[test]
fn repomd_states_true_checksums_and_sizes() {
    require_tool("gzip");
    let tmp = tempfile::tempdir().unwrap();
    let root = repo_with_testdata(tmp.path());
    write_repo(&root);
    let repomd = Repomd::parse(&std::fs::read(root.join("repodata/repomd.xml")).unwrap()).unwrap();
    assert_eq!(repomd.revision.as_deref(), Some("1700000000"));
    let types: Vec<&str> = repomd
        .records
        .iter()
        .map(|r| r.data_type.as_str())
        .collect();
    assert_eq!(types, ["primary", "filelists", "other"]);
    for r in &repomd.records {
        let file = root.join(&r.location_href);
        let digest = sha256(&file);
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(
            name,
            format!("{digest}-{}.xml.gz", r.data_type),
            "unique md filename"
        );
        assert_eq!(r.checksum.as_ref().unwrap().value, digest);
        assert_eq!(r.checksum.as_ref().unwrap().algorithm, "sha256");
        assert_eq!(r.size, Some(std::fs::metadata(&file).unwrap().len()));
        assert_eq!(r.timestamp, Some(TIMESTAMP));
        let open = tmp.path().join(format!("{}.xml", r.data_type));
        let out = run(Command::new("sh").arg("-c").arg(format!(
            "gzip -dc '{}' > '{}'",
            file.display(),
            open.display()
        )));
        assert!(out.status.success(), "gzip -d {}", file.display());
        assert_eq!(r.open_checksum.as_ref().unwrap().value, sha256(&open));
        assert_eq!(r.open_size, Some(std::fs::metadata(&open).unwrap().len()));
    }
}

#[test]
fn same_packages_and_timestamp_give_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let root = repo_with_testdata(tmp.path());
    let first = write_repo(&root);
    let first_xml = std::fs::read(root.join("repodata/repomd.xml")).unwrap();
    std::fs::remove_dir_all(root.join("repodata")).unwrap();
    let second = write_repo(&root);
    assert_eq!(first, second);
    assert_eq!(
        first_xml,
        std::fs::read(root.join("repodata/repomd.xml")).unwrap()
    );
}
