//! `xiso add-rpm --installer`: RPM payloads into the installer root of a workspace
//! unpacked from the fixture ISO, then `xiso pack`.
//!
//! Oracles: `rpm -qp --dump` (file list, modes, digests, link targets of every test
//! data package), `bsdtar` and GNU `cpio -tv --numeric-uid-gid` over the rebuilt
//! install.img (owners, modes, device numbers, hard links), Debian's `rpm --root`
//! (the rpmdb xiso reads and leaves untouched). Packages are built with `rpmbuild`.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{
    fixture, ok_output, require_tool, rpmbuild, run, sha256, testdata_rpms, tmpdir, xiso,
};

const EPOCH: &str = "1700000000";

/// `xiso unpack` of the genisoimage fixture (with its installer root) into `dir/ws`.
fn workspace(dir: &Path) -> PathBuf {
    let ws = dir.join("ws");
    ok_output(
        xiso()
            .arg("unpack")
            .arg(fixture("genisoimage.iso"))
            .arg(&ws),
    );
    ws
}

fn add(ws: &Path, rpms: &[&Path], extra: &[&str]) -> Output {
    run(xiso()
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .args(["add-rpm", "--installer"])
        .args(extra)
        .arg(ws)
        .args(rpms))
}

fn add_ok(ws: &Path, rpms: &[&Path], extra: &[&str]) -> String {
    let o = add(ws, rpms, extra);
    assert!(
        o.status.success(),
        "add-rpm --installer failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn manifest(ws: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(ws.join(".xiso/installer")).unwrap()).unwrap()
}

/// The manifest entry of `path`.
fn entry<'a>(m: &'a serde_json::Value, path: &str) -> &'a serde_json::Value {
    m["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == path)
        .unwrap_or_else(|| panic!("no manifest entry for {path}"))
}

/// The marker package: version 1 also ships /etc/xiso-old.
fn marker_rpm(dir: &Path, version: &str) -> PathBuf {
    let old = version == "1";
    let ko = common::fixture_module(dir);
    let spec = format!(
        "Name: xiso-marker\nVersion: {version}\nRelease: 1\nSummary: marker\nLicense: MIT\n\
         BuildArch: noarch\n\n%description\nxiso add-rpm --installer test.\n\n\
         %install\nmkdir -p %{{buildroot}}/etc %{{buildroot}}/usr/share/xiso-t %{{buildroot}}/var/log \
         %{{buildroot}}/lib/modules/6.1.0-xiso/extra\n\
         echo 'marker {version}' > %{{buildroot}}/etc/xiso-marker\n\
         {old_install}\
         echo 'conf {version}' > %{{buildroot}}/etc/xiso.conf\n\
         echo 'linked {version}' > %{{buildroot}}/usr/share/xiso-t/a\n\
         ln %{{buildroot}}/usr/share/xiso-t/a %{{buildroot}}/usr/share/xiso-t/b\n\
         ln -s ../../../etc/xiso-marker %{{buildroot}}/usr/share/xiso-t/link\n\
         echo nobody > %{{buildroot}}/usr/share/xiso-t/nobody\n\
         cp {ko} %{{buildroot}}/lib/modules/6.1.0-xiso/extra/xiso.ko\n\
         touch %{{buildroot}}/var/log/xiso.log\n\n\
         %post\necho post\n\n%preun\necho preun\n\n\
         %files\n/etc/xiso-marker\n{old_files}%config /etc/xiso.conf\n\
         %dir %attr(0750,xisouser,root) /usr/share/xiso-t\n\
         %attr(0640,xisouser,xisouser) /usr/share/xiso-t/a\n\
         %attr(0640,xisouser,xisouser) /usr/share/xiso-t/b\n\
         /usr/share/xiso-t/link\n\
         %attr(0600,nobody,nobody) /usr/share/xiso-t/nobody\n\
         /lib/modules/6.1.0-xiso/extra/xiso.ko\n\
         %dev(c,1,3) %attr(0666,root,root) /dev/xiso-null\n\
         %ghost /var/log/xiso.log\n",
        old_install = if old {
            "echo old > %{buildroot}/etc/xiso-old\n"
        } else {
            ""
        },
        old_files = if old { "/etc/xiso-old\n" } else { "" },
        ko = ko.display(),
    );
    rpmbuild(dir, &format!("marker-{version}"), &spec, EPOCH, &[])
}

/// `bsdtar -xOf ISO install.img | bunzip2 | cpio -tv --numeric-uid-gid`, one line per path.
fn image_listing(iso: &Path) -> BTreeMap<String, String> {
    require_tool("bsdtar");
    require_tool("cpio");
    let sh = format!(
        "set -o pipefail; bsdtar -xOf '{}' install.img | bunzip2 | cpio -tv --numeric-uid-gid --quiet",
        iso.display()
    );
    let o = ok_output(Command::new("bash").arg("-c").arg(&sh));
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            // Device lines have "MAJOR, MINOR" where others have the size.
            let col = if l.starts_with('c') || l.starts_with('b') {
                9
            } else {
                8
            };
            let name = l.split_whitespace().nth(col).unwrap_or("").to_string();
            (name, l.to_string())
        })
        .collect()
}

/// The listing line of `name`; panics with the whole listing when it is missing.
fn line<'a>(l: &'a BTreeMap<String, String>, name: &str) -> &'a str {
    l.get(name)
        .unwrap_or_else(|| panic!("{name} not in install.img: {:#?}", l.values()))
}

/// Mode, links, owner, group (and device numbers) of a `cpio -tv` line.
fn head(line: &str) -> String {
    let f: Vec<&str> = line.split_whitespace().collect();
    if line.starts_with('c') || line.starts_with('b') {
        f[..6].join(" ")
    } else {
        f[..4].join(" ")
    }
}

#[test]
fn replace_old_version_then_pack_keeps_owners_modes_links_and_devices() {
    let t = tmpdir("rpmi-replace");
    let ws = workspace(t.path());
    let v1 = marker_rpm(t.path(), "1");
    let v2 = marker_rpm(t.path(), "2");
    let root = ws.join("installer");

    let o = add(&ws, &[&v1], &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(out.contains("scriptlets NOT run: %post, %preun"), "{out}");
    assert!(out.contains("6.1.0-xiso"), "{out}");
    assert!(
        err.contains("user nobody does not exist") && err.contains("group nobody does not exist"),
        "{err}"
    );
    assert_eq!(
        fs::read_to_string(root.join("etc/xiso-old")).unwrap(),
        "old\n"
    );
    assert!(!root.join("var/log/xiso.log").exists(), "%ghost created");
    let a = fs::metadata(root.join("usr/share/xiso-t/a")).unwrap();
    let b = fs::metadata(root.join("usr/share/xiso-t/b")).unwrap();
    assert_eq!(a.ino(), b.ino(), "hard link lost on disk");
    let m = manifest(&ws);
    let e = entry(&m, "usr/share/xiso-t/a");
    assert_eq!(
        (e["header"]["uid"].as_u64(), e["header"]["gid"].as_u64()),
        (Some(1000), Some(1000))
    );
    assert_eq!(e["header"]["mode"].as_u64(), Some(0o100640));
    let d = entry(&m, "dev/xiso-null");
    assert_eq!(d["kind"], "char-device");
    assert_eq!(
        (
            d["header"]["rdevmajor"].as_u64(),
            d["header"]["rdevminor"].as_u64()
        ),
        (Some(1), Some(3))
    );
    let dir = entry(&m, "usr/share/xiso-t");
    assert_eq!(dir["header"]["mode"].as_u64(), Some(0o40750));
    assert_eq!(dir["header"]["uid"].as_u64(), Some(1000));
    let nobody = entry(&m, "usr/share/xiso-t/nobody");
    assert_eq!(nobody["header"]["uid"].as_u64(), Some(0));
    assert_eq!(m["packages"][0]["name"], "xiso-marker");
    assert_eq!(m["packages"][0]["evr"], "1-1");

    // The new version: /etc/xiso-old goes, the marker changes, the %config stays.
    let o = add(&ws, &[&v2], &["--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let p = &r["packages"][0];
    assert_eq!(p["replaced"], "1-1");
    assert_eq!(p["replaced_from"], "xiso");
    assert_eq!(p["removed"], serde_json::json!(["etc/xiso-old"]));
    assert_eq!(p["rpmnew"], serde_json::json!(["etc/xiso.conf"]));
    assert_eq!(p["ghosts"], serde_json::json!(["var/log/xiso.log"]));
    assert_eq!(r["kernel_modules"], serde_json::json!(["6.1.0-xiso"]));
    assert!(!root.join("etc/xiso-old").exists());
    assert_eq!(
        fs::read_to_string(root.join("etc/xiso-marker")).unwrap(),
        "marker 2\n"
    );
    assert_eq!(
        fs::read_to_string(root.join("etc/xiso.conf")).unwrap(),
        "conf 1\n"
    );
    assert_eq!(
        fs::read_to_string(root.join("etc/xiso.conf.rpmnew")).unwrap(),
        "conf 2\n"
    );
    let m = manifest(&ws);
    assert!(
        m["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["path"] != "etc/xiso-old"),
        "the removed file's entry stayed"
    );
    assert_eq!(m["packages"].as_array().unwrap().len(), 1);
    assert_eq!(m["packages"][0]["evr"], "2-1");

    // --replace-config overwrites the kept %config file.
    add_ok(&ws, &[&v2], &["--replace-config"]);
    assert_eq!(
        fs::read_to_string(root.join("etc/xiso.conf")).unwrap(),
        "conf 2\n"
    );
    // Reinstalled without it: the kept file is the same, so no .rpmnew (as rpm).
    fs::remove_file(root.join("etc/xiso.conf.rpmnew")).unwrap();
    let r: serde_json::Value = serde_json::from_str(&add_ok(&ws, &[&v2], &["--json"])).unwrap();
    assert_eq!(r["packages"][0]["rpmnew"], serde_json::json!([]));
    assert!(!root.join("etc/xiso.conf.rpmnew").exists());

    // pack: the rebuilt install.img carries owners, modes, links and the device node.
    let iso = t.path().join("out.iso");
    ok_output(
        xiso()
            .env("SOURCE_DATE_EPOCH", EPOCH)
            .arg("pack")
            .arg(&ws)
            .arg(&iso),
    );
    let l = image_listing(&iso);
    assert!(
        !l.contains_key("etc/xiso-old"),
        "etc/xiso-old still in install.img"
    );
    assert!(!l.contains_key("var/log/xiso.log"), "%ghost in install.img");
    assert_eq!(head(line(&l, "usr/share/xiso-t")), "drwxr-x--- 2 1000 0");
    assert_eq!(
        head(line(&l, "usr/share/xiso-t/a")),
        "-rw-r----- 2 1000 1000"
    );
    assert_eq!(
        head(line(&l, "usr/share/xiso-t/b")),
        "-rw-r----- 2 1000 1000"
    );
    assert_eq!(
        head(line(&l, "usr/share/xiso-t/nobody")),
        "-rw------- 1 0 0"
    );
    assert_eq!(head(line(&l, "dev/xiso-null")), "crw-rw-rw- 1 0 0 1, 3");
    let link = line(&l, "usr/share/xiso-t/link");
    assert!(
        link.starts_with("lrwxrwxrwx") && link.ends_with("-> ../../../etc/xiso-marker"),
        "{link}"
    );
    assert_eq!(head(line(&l, "etc/xiso-marker")), "-rw-r--r-- 1 0 0");
    // Contents and the hard link through bsdtar's own extraction.
    let x = t.path().join("x");
    fs::create_dir(&x).unwrap();
    let sh = format!(
        "set -o pipefail; bsdtar -xOf '{}' install.img | bunzip2 | (cd '{}' && bsdtar -xf - etc usr/share/xiso-t)",
        iso.display(),
        x.display()
    );
    ok_output(Command::new("bash").arg("-c").arg(&sh));
    assert_eq!(
        fs::read_to_string(x.join("etc/xiso-marker")).unwrap(),
        "marker 2\n"
    );
    assert_eq!(
        fs::read_to_string(x.join("usr/share/xiso-t/a")).unwrap(),
        "linked 2\n"
    );
    let (a, b) = (
        fs::metadata(x.join("usr/share/xiso-t/a")).unwrap(),
        fs::metadata(x.join("usr/share/xiso-t/b")).unwrap(),
    );
    assert_eq!(
        a.ino(),
        b.ino(),
        "a and b are not hard links in install.img"
    );
}

/// `rpm -qp --dump`: path → (size, digest, mode, link target), `%ghost` files left out.
fn rpm_dump(rpm: &Path) -> BTreeMap<String, (u64, String, u32, String)> {
    require_tool("rpm");
    let o = ok_output(
        Command::new("rpm")
            .args(["-qp", "--nosignature", "--nodigest", "--qf"])
            .arg("[%{FILEFLAGS}\\n]")
            .arg(rpm),
    );
    let flags: Vec<u64> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    let o = ok_output(
        Command::new("rpm")
            .args(["-qp", "--nosignature", "--nodigest", "--dump"])
            .arg(rpm),
    );
    let mut out = BTreeMap::new();
    for (line, fl) in String::from_utf8(o.stdout).unwrap().lines().zip(&flags) {
        if line.starts_with("(contains no files)") || fl & 64 != 0 {
            continue;
        }
        // path size mtime digest mode owner group isconfig isdoc rdev symlink
        let f: Vec<&str> = line.rsplitn(11, ' ').collect();
        let path = f[10].to_string();
        out.insert(
            path,
            (
                f[9].parse().unwrap(),
                f[7].to_string(),
                u32::from_str_radix(f[6], 8).unwrap(),
                f[0].to_string(),
            ),
        );
    }
    out
}

#[test]
fn every_testdata_rpm_installs_as_rpm_lists_it_or_is_refused() {
    let t = tmpdir("rpmi-testdata");
    let ws = workspace(t.path());
    let root = ws.join("installer");
    let mut installed = 0;
    for rpm in testdata_rpms() {
        let name = rpm.file_name().unwrap().to_string_lossy().into_owned();
        let o = add(&ws, &[&rpm], &["--json"]);
        if name.ends_with(".src.rpm") {
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{name}: {err}");
            assert_eq!(err.trim().lines().count(), 1, "{name}: {err}");
            assert!(err.contains("source package"), "{name}: {err}");
            continue;
        }
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        installed += 1;
        let dump = rpm_dump(&rpm);
        let m = manifest(&ws);
        let rec = m["packages"].as_array().unwrap().last().unwrap();
        let on_disk: Vec<String> = rec["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap().to_string())
            .filter(|f| root.join(f).symlink_metadata().is_ok())
            .map(|f| format!("/{f}"))
            .collect();
        let expected: Vec<String> = dump.keys().cloned().collect();
        assert_eq!(on_disk, expected, "{name}: file list differs from rpm -qlp");
        for (path, (size, digest, mode, link)) in &dump {
            let rel = &path[1..];
            let e = entry(&m, rel);
            assert_eq!(
                e["header"]["mode"].as_u64(),
                Some(u64::from(*mode)),
                "{name}: {path} mode"
            );
            let p = root.join(rel);
            match mode & 0o170000 {
                0o100000 => {
                    assert_eq!(
                        fs::metadata(&p).unwrap().len(),
                        *size,
                        "{name}: {path} size"
                    );
                    if digest.len() == 64 {
                        assert_eq!(&sha256(&p), digest, "{name}: {path} content");
                    }
                }
                0o120000 => assert_eq!(
                    fs::read_link(&p).unwrap().to_string_lossy(),
                    link.as_str(),
                    "{name}: {path} target"
                ),
                _ => {}
            }
        }
    }
    assert!(
        installed >= 20,
        "only {installed} test data packages installed"
    );
}

/// Every path under `root` with its type, mode and content hash, plus the manifest.
fn snapshot(ws: &Path) -> Vec<String> {
    fn walk(root: &Path, p: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(p).unwrap() {
            let p = e.unwrap().path();
            let md = p.symlink_metadata().unwrap();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            let what = if md.is_file() {
                sha256(&p)
            } else if md.is_symlink() {
                fs::read_link(&p).unwrap().display().to_string()
            } else {
                String::new()
            };
            out.push(format!("{rel} {:o} {what}", md.mode()));
            if md.is_dir() {
                walk(root, &p, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(&ws.join("installer"), &ws.join("installer"), &mut out);
    out.sort();
    out.push(sha256(&ws.join(".xiso/installer")));
    out
}

/// Offset of the payload: just past the main header.
fn payload_start(rpm: &Path) -> usize {
    xiso::rpm::Package::open(rpm).unwrap().header.end() as usize
}

#[test]
fn malformed_packages_exit_2_naming_file_and_offset_and_change_nothing() {
    let t = tmpdir("rpmi-bad");
    let ws = workspace(t.path());
    let good = marker_rpm(t.path(), "1");
    let bytes = fs::read(&good).unwrap();
    let start = payload_start(&good);

    let truncated = t.path().join("truncated.rpm");
    fs::write(&truncated, &bytes[..bytes.len() - 200]).unwrap();

    let bad_compressor = t.path().join("bad-compressor.rpm");
    let mut b = bytes.clone();
    let at = b[..start]
        .windows(5)
        .position(|w| w == b"gzip\0")
        .expect("PAYLOADCOMPRESSOR gzip");
    b[at..at + 4].copy_from_slice(b"gzap");
    fs::write(&bad_compressor, &b).unwrap();

    // A payload member renamed to climb out of the root (same length).
    let traversal = t.path().join("traversal.rpm");
    let mut cpio = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&bytes[start..]),
        &mut cpio,
    )
    .unwrap();
    let name = b"./etc/xiso-marker";
    let i = cpio
        .windows(name.len())
        .position(|w| w == name)
        .expect("marker in the payload");
    cpio[i..i + name.len()].copy_from_slice(b"../../tmp/xiso-mk");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut enc, &cpio).unwrap();
    let mut b = bytes[..start].to_vec();
    b.extend(enc.finish().unwrap());
    fs::write(&traversal, &b).unwrap();

    let before = snapshot(&ws);
    for (bad, expect) in [
        (&truncated, "payload"),
        (&bad_compressor, "gzap"),
        (&traversal, "climbs out"),
    ] {
        // The good package first: nothing is written when any package is bad.
        let o = add(&ws, &[&good, bad], &[]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{}: {err}", bad.display());
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains(&bad.display().to_string()), "{err}");
        assert!(err.contains("offset"), "{err}");
        assert!(err.contains(expect), "{err}");
        assert_eq!(
            snapshot(&ws),
            before,
            "{}: the workspace changed",
            bad.display()
        );
    }
    assert!(!Path::new("/tmp/xiso-mk").exists());
}

/// Debian's rpm on the installer root, with the rpmdb where EL keeps it.
fn rpm_root(root: &Path) -> Command {
    require_tool("rpm");
    let mut c = Command::new("rpm");
    c.arg("--root").arg(root).args(["--dbpath", "/var/lib/rpm"]);
    c
}

/// sha256 of every file under `dir`, by name.
fn hashes(dir: &Path) -> BTreeMap<String, String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                sha256(&p),
            )
        })
        .collect()
}

/// The image as if built with version 1 of the marker package: its files on disk
/// and rpm's record of it (with two more packages, so the database has several
/// records and blobs larger than a page), in an SQLite rpmdb made by Debian's rpm.
fn built_with_v1(root: &Path, v1: &Path) {
    ok_output(rpm_root(root).arg("--initdb"));
    let mut justdb = rpm_root(root);
    justdb.args([
        "-i",
        "--justdb",
        "--nodeps",
        "--noscripts",
        "--notriggers",
        "--nosignature",
        "--nodigest",
        "--ignorearch",
        "--ignoreos",
    ]);
    justdb.arg(v1);
    for extra in [
        "v4_rpm-basic-2.3.4-5.el9.noarch.rpm",
        "Archer-3.4.5-6.x86_64.rpm",
    ] {
        justdb.arg(common::testdata_rpm(extra));
    }
    ok_output(&mut justdb);
    fs::write(root.join("etc/xiso-old"), "old\n").unwrap();
    assert!(
        root.join("var/lib/rpm/rpmdb.sqlite").is_file(),
        "rpm wrote no rpmdb.sqlite"
    );
}

/// Add version 2 over a root whose rpmdb (`db`) records version 1: the old file list
/// comes from `source`, the rpmdb is byte-identical afterwards and `rpm -qa` still
/// lists version 1 (the documented policy), xiso's record version 2.
fn replace_over_rpmdb(ws: &Path, v2: &Path, db: &Path, source: &str) {
    let root = ws.join("installer");
    let before = hashes(db);
    let o = add(ws, &[v2], &["--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let p = &r["packages"][0];
    assert_eq!(p["replaced"], "1-1");
    assert_eq!(p["replaced_from"], source);
    assert_eq!(p["removed"], serde_json::json!(["etc/xiso-old"]));
    assert!(r["rpmdb"].as_str().unwrap().contains("untouched"), "{r}");
    assert!(!root.join("etc/xiso-old").exists());
    assert_eq!(
        fs::read_to_string(root.join("etc/xiso-marker")).unwrap(),
        "marker 2\n"
    );
    assert_eq!(hashes(db), before, "the rpmdb changed");
    let qa = ok_output(rpm_root(&root).arg("-qa"));
    let qa = String::from_utf8_lossy(&qa.stdout);
    assert!(qa.lines().any(|l| l == "xiso-marker-1-1.noarch"), "{qa}");
    assert!(qa.lines().any(|l| l == "Archer-3.4.5-6.x86_64"), "{qa}");
    let m = manifest(ws);
    assert_eq!(m["packages"][0]["name"], "xiso-marker");
    assert_eq!(m["packages"][0]["evr"], "2-1");
}

#[test]
fn rpmdb_sqlite_gives_the_old_file_list_and_stays_untouched() {
    let t = tmpdir("rpmi-sqlite");
    let ws = workspace(t.path());
    let v1 = marker_rpm(t.path(), "1");
    let v2 = marker_rpm(t.path(), "2");
    let root = ws.join("installer");
    built_with_v1(&root, &v1);
    replace_over_rpmdb(&ws, &v2, &root.join("var/lib/rpm"), "rpmdb-sqlite");
}

#[test]
fn rpmdb_berkeley_db_gives_the_old_file_list_and_stays_untouched() {
    require_tool("db5.3_load");
    let t = tmpdir("rpmi-bdb");
    let ws = workspace(t.path());
    let v1 = marker_rpm(t.path(), "1");
    let v2 = marker_rpm(t.path(), "2");
    let root = ws.join("installer");
    built_with_v1(&root, &v1);
    // The EL7 layout: the same header blobs in a Berkeley DB hash `Packages`, keyed
    // by the 4-byte header number (0: rpm's counter), made by db5.3_load.
    let script = "import sqlite3,struct,sys\n\
        c=sqlite3.connect('file:'+sys.argv[1]+'?mode=ro',uri=True)\n\
        rows=list(c.execute('select hnum, blob from Packages'))\n\
        print('VERSION=3\\nformat=bytevalue\\ntype=hash\\nHEADER=END')\n\
        print(' '+struct.pack('<I',0).hex()); print(' '+struct.pack('<I',len(rows)+1).hex())\n\
        for h,b in rows:\n\
        \x20   print(' '+struct.pack('<I',h).hex()); print(' '+bytes(b).hex())\n\
        print('DATA=END')\n";
    let sqlite = root.join("var/lib/rpm/rpmdb.sqlite");
    let dump = ok_output(Command::new("python3").arg("-c").arg(script).arg(&sqlite));
    let db = root.join("var/lib/rpm");
    fs::remove_dir_all(&db).unwrap();
    fs::create_dir(&db).unwrap();
    let txt = t.path().join("packages.txt");
    fs::write(&txt, &dump.stdout).unwrap();
    ok_output(
        Command::new("db5.3_load")
            .arg("-f")
            .arg(&txt)
            .arg(db.join("Packages")),
    );
    replace_over_rpmdb(&ws, &v2, &db, "rpmdb-bdb");
}

#[test]
fn symlinked_parents_are_followed_inside_the_root_only() {
    let t = tmpdir("rpmi-symlinks");
    let ws = workspace(t.path());
    let root = ws.join("installer");
    // EL7's /lib -> usr/lib, an absolute link, and one that climbs as far as it can.
    fs::create_dir_all(root.join("usr/lib")).unwrap();
    std::os::unix::fs::symlink("usr/lib", root.join("lib")).unwrap();
    std::os::unix::fs::symlink("/usr/share", root.join("opt/abs")).unwrap();
    std::os::unix::fs::symlink("../../../../../../tmp", root.join("etc/escape")).unwrap();
    let ko = common::fixture_module(t.path());
    let spec = &format!("Name: xiso-links\nVersion: 1\nRelease: 1\nSummary: links\nLicense: MIT\n\
        BuildArch: noarch\n\n%description\nparents through symlinks\n\n%install\n\
        mkdir -p %{{buildroot}}/lib/modules/6.1.0-sym/extra %{{buildroot}}/opt/abs %{{buildroot}}/etc/escape\n\
        cp {} %{{buildroot}}/lib/modules/6.1.0-sym/extra/a.ko\n\
        echo abs > %{{buildroot}}/opt/abs/xiso-abs\n\
        echo esc > %{{buildroot}}/etc/escape/xiso-escape-check\n\n\
        %files\n/lib/modules/6.1.0-sym/extra/a.ko\n/opt/abs/xiso-abs\n/etc/escape/xiso-escape-check\n",
        ko.display()
    );
    let rpm = rpmbuild(t.path(), "links", spec, EPOCH, &[]);
    let r: serde_json::Value = serde_json::from_str(&add_ok(&ws, &[&rpm], &["--json"])).unwrap();
    assert_eq!(r["kernel_modules"], serde_json::json!(["6.1.0-sym"]));
    // (rpmbuild's brp scripts may strip the module: it is still the ELF module.)
    assert!(fs::read(root.join("usr/lib/modules/6.1.0-sym/extra/a.ko"))
        .unwrap()
        .starts_with(b"\x7fELF"));
    // depmod ran for that kernel, through the lib -> usr/lib link.
    assert!(root.join("usr/lib/modules/6.1.0-sym/modules.dep").is_file());
    assert!(root.join("lib").symlink_metadata().unwrap().is_symlink());
    assert_eq!(
        fs::read_to_string(root.join("usr/share/xiso-abs")).unwrap(),
        "abs\n"
    );
    assert_eq!(
        fs::read_to_string(root.join("tmp/xiso-escape-check")).unwrap(),
        "esc\n"
    );
    assert!(!t.path().join("tmp").exists());
    let m = manifest(&ws);
    // In the header's (sorted) order: /etc/escape/…, /lib/…, /opt/abs/….
    let files = &m["packages"][0]["files"];
    assert_eq!(
        files,
        &serde_json::json!([
            "tmp/xiso-escape-check",
            "usr/lib/modules/6.1.0-sym/extra/a.ko",
            "usr/share/xiso-abs"
        ])
    );
}

/// The blob of row `i` in the generated databases below.
fn blob(i: usize) -> Vec<u8> {
    (0..(i * 37) % 9000)
        .map(|j| ((i * 7 + j) % 256) as u8)
        .collect()
}

#[test]
fn sqlite_and_bdb_readers_return_every_row_of_large_tables() {
    require_tool("python3");
    require_tool("db5.3_load");
    let t = tmpdir("rpmi-dbs");
    let n = 400;
    // SQLite with 1 KiB pages: interior pages, several levels, long overflow chains.
    let db = t.path().join("t.sqlite");
    let script = "import sqlite3,sys\n\
        c=sqlite3.connect(sys.argv[1]); c.execute('pragma page_size=1024')\n\
        c.execute('create table Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)')\n\
        for i in range(1, int(sys.argv[2])+1):\n\
        \x20   c.execute('insert into Packages values (?,?)', (i, bytes((i*7+j)%256 for j in range((i*37)%9000))))\n\
        c.commit()\n";
    ok_output(
        Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(&db)
            .arg(n.to_string()),
    );
    let d = xiso::rpm::sqlite::Database::new(fs::read(&db).unwrap()).unwrap();
    let root = d.table_root("Packages").unwrap().expect("Packages table");
    let rows = d.rows(root).unwrap();
    assert_eq!(rows.len(), n);
    for (k, (rowid, values)) in rows.iter().enumerate() {
        assert_eq!(*rowid, k as i64 + 1);
        assert_eq!(values[0], xiso::rpm::sqlite::Value::Null);
        assert_eq!(
            values[1],
            xiso::rpm::sqlite::Value::Blob(blob(k + 1)),
            "row {rowid}"
        );
    }
    // Berkeley DB hash with 512-byte pages: most values on overflow pages.
    let mut txt =
        String::from("VERSION=3\nformat=bytevalue\ntype=hash\ndb_pagesize=512\nHEADER=END\n");
    for i in 1..=n {
        txt.push_str(&format!(" {:08x}\n ", (i as u32).swap_bytes()));
        for b in blob(i) {
            txt.push_str(&format!("{b:02x}"));
        }
        txt.push('\n');
    }
    txt.push_str("DATA=END\n");
    let dump = t.path().join("dump.txt");
    fs::write(&dump, txt).unwrap();
    let bdb = t.path().join("Packages");
    ok_output(Command::new("db5.3_load").arg("-f").arg(&dump).arg(&bdb));
    let mut pairs = xiso::rpm::bdb::hash_pairs(&fs::read(&bdb).unwrap()).unwrap();
    pairs.sort();
    let mut want: Vec<(Vec<u8>, Vec<u8>)> = (1..=n)
        .map(|i| ((i as u32).to_le_bytes().to_vec(), blob(i)))
        .collect();
    want.sort();
    assert_eq!(pairs.len(), want.len());
    assert!(pairs == want, "Berkeley DB pairs differ");

    // Damaged databases are errors or other rows, never panics.
    let (sq, bd) = (fs::read(&db).unwrap(), fs::read(&bdb).unwrap());
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..600 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let mut s = sq.clone();
        let i = (x as usize) % s.len();
        s[i] ^= (x >> 32) as u8 | 1;
        if let Ok(d) = xiso::rpm::sqlite::Database::new(s) {
            if let Ok(Some(root)) = d.table_root("Packages") {
                let _ = d.rows(root);
            }
        }
        let mut b = bd.clone();
        let i = (x as usize >> 3) % b.len();
        b[i] ^= (x >> 40) as u8 | 1;
        let _ = xiso::rpm::bdb::hash_pairs(&b);
    }
}

#[test]
fn files_another_rpmdb_package_owns_stay_when_the_old_version_goes() {
    let t = tmpdir("rpmi-shared");
    let ws = workspace(t.path());
    let root = ws.join("installer");
    let v1 = marker_rpm(t.path(), "1");
    let v2 = marker_rpm(t.path(), "2");
    let spec = "Name: xiso-sharer\nVersion: 1\nRelease: 1\nSummary: shares\nLicense: MIT\n\
        BuildArch: noarch\n\n%description\nowns /etc/xiso-old too\n\n%install\n\
        mkdir -p %{buildroot}/etc\necho old > %{buildroot}/etc/xiso-old\n\n\
        %files\n/etc/xiso-old\n";
    let sharer = rpmbuild(t.path(), "sharer", spec, EPOCH, &[]);
    ok_output(rpm_root(&root).arg("--initdb"));
    ok_output(
        rpm_root(&root)
            .args(["-i", "--justdb", "--nodeps", "--noscripts", "--nosignature"])
            .args(["--nodigest", "--replacefiles"])
            .arg(&v1)
            .arg(&sharer),
    );
    fs::write(root.join("etc/xiso-old"), "old\n").unwrap();
    let r: serde_json::Value = serde_json::from_str(&add_ok(&ws, &[&v2], &["--json"])).unwrap();
    assert_eq!(r["packages"][0]["replaced_from"], "rpmdb-sqlite");
    assert_eq!(r["packages"][0]["removed"], serde_json::json!([]));
    assert!(
        root.join("etc/xiso-old").exists(),
        "a file xiso-sharer owns was removed"
    );
}

/// Read a whole package through the payload reader; errors are fine, panics are not.
fn read_all(bytes: Vec<u8>) -> bool {
    let Ok(mut p) = xiso::rpm::Payload::from_reader(Box::new(std::io::Cursor::new(bytes))) else {
        return false;
    };
    loop {
        match p.next_entry() {
            Ok(Some(_)) => {
                if std::io::copy(&mut p.data(), &mut std::io::sink()).is_err() {
                    return false;
                }
            }
            Ok(None) => return true,
            Err(_) => return false,
        }
    }
}

#[test]
fn truncated_or_flipped_packages_are_errors_never_panics() {
    // newc uncompressed, stripped uncompressed, gzip.
    for name in [
        "v4_rpm-basic-2.3.4-5.el9.noarch.rpm",
        "v6_rpm-file-attrs-1.0-1.noarch.rpm",
        "Archer-3.4.5-6.x86_64.rpm",
    ] {
        let bytes = fs::read(common::testdata_rpm(name)).unwrap();
        assert!(read_all(bytes.clone()), "{name} does not read");
        let start = payload_start(&common::testdata_rpm(name));
        for cut in (0..bytes.len()).step_by(3) {
            assert!(
                !read_all(bytes[..cut].to_vec()),
                "{name} cut at {cut} reads"
            );
        }
        for at in start.saturating_sub(64)..bytes.len() {
            let mut b = bytes.clone();
            b[at] ^= 0xff;
            let _ = read_all(b);
        }
    }
}

#[test]
fn every_payload_compressor_rpmbuild_writes_installs() {
    let t = tmpdir("rpmi-codecs");
    let ws = workspace(t.path());
    let root = ws.join("installer");
    for (io, compressor) in [
        ("w9.gzdio", "gzip"),
        ("w9.bzdio", "bzip2"),
        ("w6.xzdio", "xz"),
        ("w6.lzdio", "lzma"),
        ("w19.zstdio", "zstd"),
        ("w.ufdio", "none"),
    ] {
        let spec = format!(
            "Name: xiso-codec-{compressor}\nVersion: 1\nRelease: 1\nSummary: codec\nLicense: MIT\n\
             BuildArch: noarch\n\n%description\npayload {compressor}\n\n%install\n\
             mkdir -p %{{buildroot}}/usr/share/xiso-codec\n\
             seq 1 20000 > %{{buildroot}}/usr/share/xiso-codec/{compressor}\n\n\
             %files\n/usr/share/xiso-codec/{compressor}\n"
        );
        let define = format!("_binary_payload {io}");
        let rpm = rpmbuild(t.path(), compressor, &spec, EPOCH, &[&define]);
        let stated = ok_output(
            Command::new("rpm")
                .args([
                    "-qp",
                    "--nosignature",
                    "--nodigest",
                    "--qf",
                    "%{PAYLOADCOMPRESSOR}",
                ])
                .arg(&rpm),
        );
        let stated = String::from_utf8_lossy(&stated.stdout).into_owned();
        if compressor != "none" {
            assert_eq!(stated, compressor, "rpmbuild ignored {io}");
        }
        add_ok(&ws, &[&rpm], &[]);
        let got = fs::read_to_string(root.join("usr/share/xiso-codec").join(compressor)).unwrap();
        let want: String = (1..=20000).map(|i| format!("{i}\n")).collect();
        assert!(got == want, "{compressor}: content differs");
    }
}

#[test]
fn packages_of_one_command_that_disagree_on_a_path_change_nothing() {
    let t = tmpdir("rpmi-conflict");
    let ws = workspace(t.path());
    let pkg = |name: &str, install: &str, files: &str| {
        let spec = format!(
            "Name: {name}\nVersion: 1\nRelease: 1\nSummary: c\nLicense: MIT\nBuildArch: noarch\n\n\
             %description\nc\n\n%install\nmkdir -p %{{buildroot}}/opt\n{install}\n\n%files\n{files}\n"
        );
        rpmbuild(t.path(), name, &spec, EPOCH, &[])
    };
    let file = pkg(
        "xiso-file",
        "echo f > %{buildroot}/opt/xiso-c",
        "/opt/xiso-c",
    );
    let dir = pkg(
        "xiso-dir",
        "mkdir -p %{buildroot}/opt/xiso-c && echo x > %{buildroot}/opt/xiso-c/x",
        "/opt/xiso-c/x",
    );
    let before = snapshot(&ws);
    for order in [[&file, &dir], [&dir, &file]] {
        let o = add(&ws, &[order[0].as_path(), order[1].as_path()], &[]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("/opt/xiso-c"), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert_eq!(snapshot(&ws), before);
    }
}

/// xiso's record of what it installed travels inside install.img
/// (`/var/lib/xiso/installed-rpms.json`): a newer version added to the remastered
/// ISO, after a fresh unpack (or in `xiso remaster`), still removes the files only the
/// older one shipped.
#[test]
fn the_package_record_travels_with_the_image() {
    let t = tmpdir("rpmi-travel");
    let ws = workspace(t.path());
    let v1 = marker_rpm(t.path(), "1");
    let v2 = marker_rpm(t.path(), "2");
    add_ok(&ws, &[&v1], &[]);
    let record = ws.join("installer/var/lib/xiso/installed-rpms.json");
    let rec: serde_json::Value = serde_json::from_slice(&fs::read(&record).unwrap()).unwrap();
    assert_eq!(rec[0]["name"], "xiso-marker");
    assert_eq!(rec[0]["evr"], "1-1");
    let mid = t.path().join("mid.iso");
    ok_output(xiso().arg("pack").arg(&ws).arg(&mid));
    // A remaster of the remastered image: the old version's files come from the record.
    let out = t.path().join("out.iso");
    ok_output(
        xiso()
            .arg("remaster")
            .arg(&mid)
            .arg(&out)
            .arg("--add-rpm-installer")
            .arg(&v2),
    );
    // `inspect --installer` lists it from inside install.img.
    let i = ok_output(
        xiso()
            .arg("inspect")
            .arg("--installer")
            .arg("--json")
            .arg(&out),
    );
    let v: serde_json::Value = serde_json::from_slice(&i.stdout).unwrap();
    assert_eq!(
        v["installer_packages"][0]["name"], "xiso-marker",
        "{}",
        v["installer_packages"]
    );
    assert_eq!(v["installer_packages"][0]["evr"], "2-1");
    let i = ok_output(xiso().arg("inspect").arg("--installer").arg(&mid));
    assert!(
        String::from_utf8_lossy(&i.stdout)
            .contains("installer package (xiso add-rpm --installer): xiso-marker-1-1.noarch"),
        "{}",
        String::from_utf8_lossy(&i.stdout)
    );
    let ws2 = t.path().join("ws2");
    ok_output(xiso().arg("unpack").arg(&out).arg(&ws2));
    let root = ws2.join("installer");
    assert!(
        !root.join("etc/xiso-old").exists(),
        "/etc/xiso-old survived"
    );
    assert_eq!(
        fs::read_to_string(root.join("etc/xiso-marker")).unwrap(),
        "marker 2\n"
    );
    let rec: serde_json::Value =
        serde_json::from_slice(&fs::read(root.join("var/lib/xiso/installed-rpms.json")).unwrap())
            .unwrap();
    assert_eq!(rec.as_array().unwrap().len(), 1, "{rec}");
    assert_eq!(rec[0]["evr"], "2-1");
}
