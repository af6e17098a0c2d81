//! `xiso add-rpm` / `xiso rm-rpm` on a workspace unpacked from the fixture ISO.
//!
//! Oracles: `dnf repoquery` lists exactly the packages on disk; createrepo_c
//! run over the final `Packages/` writes the same `<package>` elements as
//! xiso (so entries reused from the old metadata are what createrepo_c would
//! write today); `sha256sum` over `Packages/` and `repodata/` proves that a
//! refused command changed nothing. Test packages of two versions of one name
//! are built at test time with `rpmbuild`.

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{
    build_named_rpm, fixture, require_tool, run, sha256, testdata_dir, testdata_rpm, xiso,
};
use xiso::repo::{entries_for_dir, read_entries, write_metadata, MetadataOptions, Repomd};

const EPOCH: &str = "1700000000";

fn comps() -> PathBuf {
    let p = testdata_dir().join("comps/comps-f19.xml");
    assert!(p.is_file(), "TESTDATA MISSING: {}", p.display());
    p
}

/// `xiso unpack` of the genisoimage fixture (ISO tree only) into `dir/ws`.
fn workspace(dir: &Path) -> PathBuf {
    let ws = dir.join("ws");
    let out = run(xiso()
        .arg("unpack")
        .arg(fixture("genisoimage.iso"))
        .arg(&ws)
        .arg("--no-installer"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    ws
}

fn xiso_rpm(args: &[&std::ffi::OsStr]) -> Output {
    run(xiso().env("SOURCE_DATE_EPOCH", EPOCH).args(args))
}

/// A command that must succeed, and its `--json` report.
fn xiso_rpm_json(args: &[&std::ffi::OsStr]) -> serde_json::Value {
    let out = xiso_rpm(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Build `xiso-test-<version>-1.noarch.rpm` with rpmbuild.
fn build_rpm(dir: &Path, version: &str) -> PathBuf {
    build_named_rpm(dir, "xiso-test", version, &[])
}

/// sha256 of every file under Packages/ and repodata/, by relative path.
fn snapshot(ws: &Path) -> BTreeMap<String, String> {
    let root = ws.join("iso");
    let mut m = BTreeMap::new();
    for sub in ["Packages", "repodata"] {
        for e in walk(&root.join(sub)) {
            let rel = e
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            m.insert(rel, sha256(&e));
        }
    }
    m
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn repomd(ws: &Path) -> Repomd {
    Repomd::parse(&std::fs::read(ws.join("iso/repodata/repomd.xml")).unwrap()).unwrap()
}

fn gunzip(path: &Path) -> String {
    let mut s = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut s)
        .unwrap();
    s
}

/// The `<package …>…</package>` elements of a metadata file, sorted.
fn package_elements(xml: &str) -> Vec<String> {
    let mut v: Vec<String> = xml
        .split("<package ")
        .skip(1)
        .map(|chunk| {
            let end = chunk.find("</package>").expect("closed package element");
            chunk[..end].to_string()
        })
        .collect();
    v.sort();
    v
}

fn dnf(repo_root: &Path, cache: &Path, args: &[&str]) -> String {
    require_tool("dnf");
    let out = run(Command::new("dnf")
        .args(["-q", "--releasever=1", "--disableplugin=*"])
        .arg(format!("--setopt=cachedir={}", cache.display()))
        .arg("--setopt=reposdir=/dev/null")
        .arg(format!("--repofrompath=t,{}", repo_root.display()))
        .args(["--repo", "t"])
        .args(args));
    assert!(
        out.status.success(),
        "dnf {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `name-epoch:version-release.arch` of every package file, by `rpm -qp`.
fn nevras_on_disk(ws: &Path) -> Vec<String> {
    require_tool("rpm");
    let mut v: Vec<String> = walk(&ws.join("iso/Packages"))
        .iter()
        .map(|p| {
            let out = run(Command::new("rpm")
                .args(["-qp", "--nosignature", "--nodigest", "--qf"])
                .arg("%{NAME}-%{EPOCHNUM}:%{VERSION}-%{RELEASE}.%{ARCH}")
                .arg(p));
            assert!(out.status.success(), "rpm -qp {}", p.display());
            String::from_utf8(out.stdout).unwrap()
        })
        .collect();
    v.sort();
    v
}

#[test]
fn metadata_read_back_writes_the_same_bytes() {
    // Every testdata package (i18n, Latin-1, rich deps, ghosts, changelogs…).
    let tmp = tempfile::tempdir().unwrap();
    let pk = tmp.path().join("Packages");
    std::fs::create_dir_all(&pk).unwrap();
    for sub in ["createrepo_c", "rpm-rs"] {
        let d = testdata_rpm("empty-0-0.x86_64.rpm")
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .join(sub);
        for f in std::fs::read_dir(d).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, pk.join(f.file_name().unwrap())).unwrap();
        }
    }
    let entries = entries_for_dir(tmp.path()).unwrap();
    assert!(entries.len() >= 20);
    let opts = MetadataOptions {
        timestamp: 1,
        unique_md_filenames: false,
    };
    write_metadata(&tmp.path().join("repodata"), &entries, &opts).unwrap();
    let open = |n: &str| std::fs::File::open(tmp.path().join("repodata").join(n)).unwrap();
    let back = read_entries(
        &mut open("primary.xml.gz"),
        &mut open("filelists.xml.gz"),
        &mut open("other.xml.gz"),
    )
    .unwrap();
    assert_eq!(back.len(), entries.len());
    for (a, b) in entries.iter().zip(&back) {
        assert_eq!(a.primary_xml(), b.primary_xml(), "{}", a.location_href);
        assert_eq!(a.filelists_xml(), b.filelists_xml(), "{}", a.location_href);
        assert_eq!(a.other_xml(), b.other_xml(), "{}", a.location_href);
    }
}

#[test]
fn add_replace_refuse_and_remove() {
    require_tool("createrepo_c");
    let tmp = tempfile::tempdir().unwrap();
    let ws = workspace(tmp.path());
    let v1 = build_rpm(tmp.path(), "1.0");
    let v2 = build_rpm(tmp.path(), "2.0");
    let before_fixture = nevras_on_disk(&ws);

    // Add a testdata package and v1.
    let report = xiso_rpm_json(&[
        "add-rpm".as_ref(),
        ws.as_os_str(),
        testdata_rpm("super_kernel-6.0.1-2.x86_64.rpm").as_os_str(),
        v1.as_os_str(),
        "--json".as_ref(),
        // super_kernel requires bzip2, expat, glib and zlib, which the fixture lacks.
        "--no-deps-check".as_ref(),
    ]);
    assert_eq!(report["added"].as_array().unwrap().len(), 2);
    assert_eq!(
        report["reused_entries"].as_u64(),
        Some(before_fixture.len() as u64),
        "the fixture's packages come from the old metadata: {report}"
    );
    assert!(ws.join("iso/Packages/xiso-test-1.0-1.noarch.rpm").is_file());

    // v2 replaces v1.
    let out = xiso_rpm(&["add-rpm".as_ref(), ws.as_os_str(), v2.as_os_str()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!ws.join("iso/Packages/xiso-test-1.0-1.noarch.rpm").exists());
    assert!(ws.join("iso/Packages/xiso-test-2.0-1.noarch.rpm").is_file());

    // dnf lists exactly the packages on disk.
    let listed = dnf(
        &ws.join("iso"),
        &tmp.path().join("cache1"),
        &[
            "repoquery",
            "--all",
            "--qf",
            "%{name}-%{epoch}:%{version}-%{release}.%{arch}\n",
        ],
    );
    let mut listed: Vec<String> = listed
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    listed.sort();
    let on_disk = nevras_on_disk(&ws);
    assert_eq!(listed, on_disk);
    assert_eq!(on_disk.len(), before_fixture.len() + 2);
    assert!(on_disk.contains(&"xiso-test-0:2.0-1.noarch".to_string()));

    // Every entry (reused ones included) is what createrepo_c writes for the final Packages/.
    let cr = tmp.path().join("cr");
    std::fs::create_dir_all(&cr).unwrap();
    let out = run(Command::new("createrepo_c")
        .env("LC_ALL", "C")
        .args([
            "--quiet",
            "--no-database",
            "--general-compress-type=gz",
            "-o",
        ])
        .arg(&cr)
        .arg(ws.join("iso")));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs = Repomd::parse(&std::fs::read(cr.join("repodata/repomd.xml")).unwrap()).unwrap();
    let ours = repomd(&ws);
    for t in ["primary", "filelists", "other"] {
        let a = package_elements(&gunzip(
            &ws.join("iso").join(&ours.record(t).unwrap().location_href),
        ));
        let b = package_elements(&gunzip(&cr.join(&theirs.record(t).unwrap().location_href)));
        assert_eq!(a.len(), on_disk.len());
        assert_eq!(a, b, "{t}: xiso's entries differ from createrepo_c's");
    }

    // A downgrade, a same-version replacement and a truncated package are refused; nothing changes.
    let before = snapshot(&ws);
    let trunc = tmp.path().join("xiso-test-3.0-1.noarch.rpm");
    let bytes = std::fs::read(&v2).unwrap();
    std::fs::write(&trunc, &bytes[..bytes.len() - 100]).unwrap();
    let not_rpm = tmp.path().join("garbage-1-1.noarch.rpm");
    std::fs::write(&not_rpm, b"not an rpm at all").unwrap();
    for (bad, expect) in [
        (&v1, "downgrade"),
        (&trunc, "truncated"),
        (&not_rpm, "garbage-1-1.noarch.rpm"),
    ] {
        // A good package next to the bad one is not added either.
        let out = xiso_rpm(&[
            "add-rpm".as_ref(),
            ws.as_os_str(),
            testdata_rpm("empty-0-0.x86_64.rpm").as_os_str(),
            bad.as_os_str(),
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {err}", bad.display());
        assert!(err.contains(expect), "{err}");
        assert!(
            err.contains(bad.file_name().unwrap().to_str().unwrap()),
            "the error names the file: {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert_eq!(
            snapshot(&ws),
            before,
            "{} changed the workspace",
            bad.display()
        );
    }
    let out = xiso_rpm(&[
        "add-rpm".as_ref(),
        ws.as_os_str(),
        testdata_rpm("empty-0-0.src.rpm").as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(snapshot(&ws), before);

    // --allow-downgrade puts v1 back.
    let out = xiso_rpm(&[
        "add-rpm".as_ref(),
        ws.as_os_str(),
        v1.as_os_str(),
        "--allow-downgrade".as_ref(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(ws.join("iso/Packages/xiso-test-1.0-1.noarch.rpm").is_file());
    assert!(!ws.join("iso/Packages/xiso-test-2.0-1.noarch.rpm").exists());

    // rm-rpm by name and by name.arch; an unknown name changes nothing.
    let before = snapshot(&ws);
    let out = xiso_rpm(&[
        "rm-rpm".as_ref(),
        ws.as_os_str(),
        "xiso-test".as_ref(),
        "nope".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(snapshot(&ws), before);
    let out = xiso_rpm(&[
        "rm-rpm".as_ref(),
        ws.as_os_str(),
        "xiso-test".as_ref(),
        "super_kernel.x86_64".as_ref(),
        // The fixture's fake_bash requires super_kernel.
        "--no-deps-check".as_ref(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = dnf(
        &ws.join("iso"),
        &tmp.path().join("cache2"),
        &[
            "repoquery",
            "--all",
            "--qf",
            "%{name}-%{epoch}:%{version}-%{release}.%{arch}\n",
        ],
    );
    let mut listed: Vec<String> = listed
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    listed.sort();
    assert_eq!(listed, before_fixture);
    assert_eq!(nevras_on_disk(&ws), before_fixture);
}

#[test]
fn group_record_is_carried_sqlite_dropped_signature_removed_and_pack_sees_it() {
    require_tool("createrepo_c");
    let tmp = tempfile::tempdir().unwrap();
    let ws = workspace(tmp.path());
    let iso = ws.join("iso");
    // A repository with comps and sqlite databases, as XenServer and old XCP-ng ship them.
    std::fs::remove_dir_all(iso.join("repodata")).unwrap();
    let out = run(Command::new("createrepo_c")
        .env("LC_ALL", "C")
        .args(["--quiet", "--general-compress-type=gz", "-g"])
        .arg(comps())
        .arg(&iso));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(
        iso.join("repodata/repomd.xml.asc"),
        "-----BEGIN PGP SIGNATURE-----\n",
    )
    .unwrap();
    let old = repomd(&ws);
    let old_groups: Vec<_> = old
        .records
        .iter()
        .filter(|r| r.data_type.starts_with("group"))
        .cloned()
        .collect();
    assert_eq!(
        old_groups.len(),
        2,
        "createrepo_c -g writes group and group_gz"
    );
    assert!(old.record("primary_db").is_some());

    let out = xiso_rpm(&[
        "add-rpm".as_ref(),
        ws.as_os_str(),
        testdata_rpm("super_kernel-6.0.1-2.x86_64.rpm").as_os_str(),
        // This comps has no mandatory packages, so every package is checked, and
        // super_kernel's requires are not in the fixture.
        "--no-deps-check".as_ref(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("signature") && err.contains("xiso sign"),
        "{err}"
    );
    assert!(!iso.join("repodata/repomd.xml.asc").exists());

    let new = repomd(&ws);
    let types: Vec<&str> = new.records.iter().map(|r| r.data_type.as_str()).collect();
    assert_eq!(
        types,
        ["primary", "filelists", "other", "group", "group_gz"]
    );
    for g in &old_groups {
        let n = new.record(&g.data_type).unwrap();
        assert_eq!(n.checksum, g.checksum);
        assert_eq!(n.location_href, g.location_href);
        assert_eq!(
            sha256(&iso.join(&n.location_href)),
            g.checksum.as_ref().unwrap().value
        );
    }
    for r in &new.records {
        assert_eq!(
            r.size,
            Some(std::fs::metadata(iso.join(&r.location_href)).unwrap().len())
        );
        assert_eq!(
            sha256(&iso.join(&r.location_href)),
            r.checksum.as_ref().unwrap().value
        );
        assert_eq!(r.checksum.as_ref().unwrap().algorithm, "sha256");
    }
    // Only repomd.xml and the files it names are left: sqlite and old XML are gone.
    let mut named: Vec<String> = new
        .records
        .iter()
        .map(|r| r.location_href.clone())
        .collect();
    named.push("repodata/repomd.xml".to_string());
    named.sort();
    let mut present: Vec<String> = walk(&iso.join("repodata"))
        .iter()
        .map(|p| p.strip_prefix(&iso).unwrap().to_string_lossy().into_owned())
        .collect();
    present.sort();
    assert_eq!(present, named);
    // dnf still reads the groups.
    let groups = dnf(
        &iso,
        &tmp.path().join("cache"),
        &["group", "list", "--hidden"],
    );
    assert!(!groups.trim().is_empty(), "dnf lists no group");

    // pack, then inspect the new ISO: gzip primary with every package.
    let out_iso = tmp.path().join("out.iso");
    let out = run(xiso()
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .arg("pack")
        .arg(&ws)
        .arg(&out_iso));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(xiso().arg("inspect").arg(&out_iso).arg("--json"));
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = walk(&iso.join("Packages")).len() as u64;
    assert_eq!(
        report["repodata"]["package_count"].as_u64(),
        Some(packages),
        "{}",
        report["repodata"]
    );
    assert_eq!(
        report["repodata"]["declared_package_count"].as_u64(),
        Some(packages)
    );
    assert_eq!(report["repodata"]["signed"].as_bool(), Some(false));
    assert!(report["repodata"]["warnings"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn dnf_resolves_dependencies_from_the_generated_metadata() {
    require_tool("dnf");
    let tmp = tempfile::tempdir().unwrap();
    let ws = workspace(tmp.path());
    // xiso-app needs xiso-lib by versioned name and by a file of its primary list.
    let lib = build_named_rpm(tmp.path(), "xiso-lib", "1.2", &[]);
    let app = build_named_rpm(
        tmp.path(),
        "xiso-app",
        "1.0",
        &["xiso-lib >= 1.1", "/usr/bin/xiso-lib"],
    );
    let out = xiso_rpm(&[
        "add-rpm".as_ref(),
        ws.as_os_str(),
        app.as_os_str(),
        lib.as_os_str(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dest = tmp.path().join("downloads");
    let out = run(Command::new("dnf")
        .args([
            "-q",
            "-y",
            "--releasever=1",
            "--disableplugin=*",
            "--nogpgcheck",
        ])
        .arg(format!(
            "--setopt=cachedir={}",
            tmp.path().join("cache").display()
        ))
        .arg("--setopt=reposdir=/dev/null")
        .arg("--setopt=install_weak_deps=0")
        .arg(format!(
            "--installroot={}",
            tmp.path().join("root").display()
        ))
        .arg(format!("--repofrompath=t,{}", ws.join("iso").display()))
        .args(["--repo", "t", "install", "--downloadonly"])
        .arg(format!("--destdir={}", dest.display()))
        .arg("xiso-app"));
    assert!(
        out.status.success(),
        "dnf could not resolve xiso-app: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut got: Vec<String> = std::fs::read_dir(&dest)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    got.sort();
    assert_eq!(
        got,
        ["xiso-app-1.0-1.noarch.rpm", "xiso-lib-1.2-1.noarch.rpm"]
    );
    for f in &got {
        assert_eq!(
            sha256(&dest.join(f)),
            sha256(&ws.join("iso/Packages").join(f)),
            "dnf downloaded {f} with the checksum primary.xml states"
        );
    }
}

#[test]
fn dependency_closure_refuses_unresolved_requires_with_their_chain() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = workspace(tmp.path());
    // The install target pulls xiso-mid, which needs xiso-gone >= 2 (not there yet).
    let target = build_named_rpm(tmp.path(), "xcp-ng-deps", "8.3", &["xiso-mid"]);
    let mid = build_named_rpm(tmp.path(), "xiso-mid", "1.0", &["xiso-gone >= 2"]);
    let before = snapshot(&ws);
    let add = |pkgs: &[&Path], extra: &[&str]| {
        let mut args: Vec<&std::ffi::OsStr> = vec!["add-rpm".as_ref(), ws.as_os_str()];
        args.extend(pkgs.iter().map(|p| p.as_os_str()));
        args.extend(extra.iter().map(|a| std::ffi::OsStr::new(*a)));
        args.push("--json".as_ref());
        xiso_rpm(&args)
    };
    let out = add(&[&target, &mid], &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "xcp-ng-deps-8.3-1.noarch → requires xiso-mid → xiso-mid-1.0-1.noarch → requires xiso-gone >= 2"
        ),
        "the error names the requirement and the chain: {err}"
    );
    assert!(err.contains("--no-deps-check"), "{err}");
    assert_eq!(
        snapshot(&ws),
        before,
        "a refused add-rpm changed the workspace"
    );

    // --no-deps-check adds them anyway.
    let out = add(&[&target, &mid], &["--no-deps-check"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(ws.join("iso/Packages/xiso-mid-1.0-1.noarch.rpm").is_file());

    // Too old to satisfy the require: the breakage is not new, so only a warning.
    let gone1 = build_named_rpm(tmp.path(), "xiso-gone", "1.0", &[]);
    let out = add(&[&gone1], &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("already had 1 unresolved require") && err.contains("xiso-gone >= 2"),
        "{err}"
    );

    // xiso-gone 2.0 satisfies it but needs a file of xiso-lib: refused alone…
    let gone2 = build_named_rpm(tmp.path(), "xiso-gone", "2.0", &["/usr/bin/xiso-lib"]);
    let lib = build_named_rpm(tmp.path(), "xiso-lib", "1.0", &[]);
    let before = snapshot(&ws);
    let out = add(&[&gone2], &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("xiso-gone-2.0-1.noarch → requires /usr/bin/xiso-lib"),
        "{err}"
    );
    assert_eq!(snapshot(&ws), before);
    // …accepted with the package whose files hold /usr/bin/xiso-lib; nothing unresolved is left.
    let out = add(&[&gone2, &lib], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["unresolved_before"].as_array().unwrap().len(), 1);
    let out = add(&[&lib], &[]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["unchanged"].as_array().unwrap().len(), 1);

    // Removing the package that provides the file is refused the same way.
    let before = snapshot(&ws);
    let out = xiso_rpm(&["rm-rpm".as_ref(), ws.as_os_str(), "xiso-lib".as_ref()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("requires /usr/bin/xiso-lib"), "{err}");
    assert_eq!(snapshot(&ws), before);
    let out = xiso_rpm(&[
        "rm-rpm".as_ref(),
        ws.as_os_str(),
        "xiso-lib".as_ref(),
        "--no-deps-check".as_ref(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Set a file's mtime (seconds) with touch(1).
fn set_mtime(path: &Path, secs: i64) {
    let o = run(Command::new("touch")
        .arg("-m")
        .arg("-d")
        .arg(format!("@{secs}"))
        .arg(path));
    assert!(o.status.success(), "touch {}", path.display());
}

/// A package still as the source ISO had it keeps its old entry unread even when its
/// mtime is not the entry's `<time file>`; one touched since unpack is hashed, and its
/// entry gets the new mtime.
#[test]
fn packages_as_the_source_had_them_keep_their_entries_unread() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = workspace(tmp.path());
    let v1 = build_rpm(tmp.path(), "1.0");
    // Make the workspace look like an ISO whose files' mtimes differ from the
    // metadata's: the files and the manifest's record of them move together.
    const SOURCE_MTIME: i64 = 1_234_567_890;
    let manifest_path = ws.join(".xiso/manifest");
    let mut m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    let mut rpms = Vec::new();
    for e in m["entries"].as_array_mut().unwrap() {
        let path = e["path"].as_str().unwrap().to_string();
        if path.ends_with(".rpm") {
            e["mtime"] = SOURCE_MTIME.into();
            set_mtime(&ws.join("iso").join(&path), SOURCE_MTIME);
            rpms.push(path);
        }
    }
    assert!(rpms.len() >= 2, "the fixture has packages: {rpms:?}");
    std::fs::write(&manifest_path, serde_json::to_vec(&m).unwrap()).unwrap();
    let primary = |ws: &Path| {
        let md = repomd(ws);
        let href = &md.record("primary").unwrap().location_href;
        package_elements(&gunzip(&ws.join("iso").join(href)))
    };
    let before = primary(&ws);

    let report = xiso_rpm_json(&[
        "add-rpm".as_ref(),
        ws.as_os_str(),
        v1.as_os_str(),
        "--json".as_ref(),
    ]);
    assert_eq!(
        report["pristine_entries"].as_u64(),
        Some(rpms.len() as u64),
        "{report}"
    );
    assert_eq!(report["hashed_entries"].as_u64(), Some(0), "{report}");
    let after = primary(&ws);
    for old in &before {
        assert!(
            after.contains(old),
            "an untouched package's entry changed:\n{old}"
        );
    }
    assert_eq!(after.len(), before.len() + 1);

    // Touched since unpack: hashed (same bytes, so the entry is kept) with the new
    // mtime as <time file>, as createrepo_c --update would write it.
    let touched = ws.join("iso").join(&rpms[0]);
    set_mtime(&touched, SOURCE_MTIME + 99);
    let report = xiso_rpm_json(&[
        "rm-rpm".as_ref(),
        ws.as_os_str(),
        "xiso-test".as_ref(),
        "--json".as_ref(),
    ]);
    assert_eq!(report["hashed_entries"].as_u64(), Some(1), "{report}");
    assert_eq!(
        report["pristine_entries"].as_u64(),
        Some(rpms.len() as u64 - 1),
        "{report}"
    );
    let href = format!("<location href=\"{}\"", rpms[0]);
    let entry = primary(&ws)
        .into_iter()
        .find(|p| p.contains(&href))
        .unwrap();
    assert!(
        entry.contains(&format!("file=\"{}\"", SOURCE_MTIME + 99)),
        "the touched package's <time file> is its new mtime: {entry}"
    );
}

/// The installer installs only what its target pulls in: an added package nothing
/// reached requires gets one warning line naming it, and `reached_by_installer`
/// false in the JSON report; one the target reaches gets neither.
#[test]
fn packages_the_install_target_does_not_reach_are_warned_about() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = workspace(tmp.path());
    let reached = |report: &serde_json::Value| -> Vec<(String, bool)> {
        report["added"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["name"].as_str().unwrap().to_string(),
                    a["reached_by_installer"]
                        .as_bool()
                        .expect("reached_by_installer on every added package"),
                )
            })
            .collect()
    };

    // The fixture has no xcp-ng-deps and no comps: no install target at all.
    let lone = build_named_rpm(tmp.path(), "xiso-lone", "1.0", &[]);
    let out = xiso_rpm(&["add-rpm".as_ref(), ws.as_os_str(), lone.as_os_str()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let warned: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("will not be installed"))
        .collect();
    assert_eq!(warned.len(), 1, "{err}");
    assert!(
        warned[0].starts_with("xiso: warning: xiso-lone-1.0-1.noarch will not be installed")
            && warned[0].contains("no install target"),
        "{err}"
    );

    // With the target: what it pulls in is installed, a stray package is not.
    let target = build_named_rpm(tmp.path(), "xcp-ng-deps", "8.3", &["xiso-mid"]);
    let mid = build_named_rpm(tmp.path(), "xiso-mid", "1.0", &["/usr/bin/xiso-leaf"]);
    let leaf = build_named_rpm(tmp.path(), "xiso-leaf", "1.0", &[]);
    let stray = build_named_rpm(tmp.path(), "xiso-stray", "1.0", &[]);
    let second = tmp.path().join("second");
    std::fs::create_dir(&second).unwrap();
    let ws = workspace(&second);
    let mut args: Vec<&std::ffi::OsStr> = vec!["add-rpm".as_ref(), ws.as_os_str()];
    for p in [&target, &mid, &leaf, &stray] {
        args.push(p.as_os_str());
    }
    args.push("--json".as_ref());
    let out = xiso_rpm(&args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut got = reached(&report);
    got.sort();
    assert_eq!(
        got,
        [
            ("xcp-ng-deps".to_string(), true),
            ("xiso-leaf".to_string(), true),
            ("xiso-mid".to_string(), true),
            ("xiso-stray".to_string(), false),
        ]
    );
    let warned: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("will not be installed"))
        .collect();
    assert_eq!(warned.len(), 1, "only the stray package: {err}");
    assert!(
        warned[0].contains("xiso-stray-1.0-1.noarch will not be installed")
            && warned[0].contains("nothing xcp-ng-deps pulls in requires it"),
        "{err}"
    );
    assert_eq!(report["warnings"].as_array().unwrap().len(), 1, "{report}");
}
