//! `xiso driver-disk`: the driver disk XCP-ng 8.3's installer accepts. Debian's dnf,
//! asked as the installer asks its yum (`group summary drivers`, then `install
//! @drivers`), must find group `drivers` with `update-<label>` and install the
//! driver into an empty root; `xiso verify` must pass it and fail a broken one;
//! isoinfo and bsdtar must read it; SOURCE_DATE_EPOCH makes it reproducible; a
//! signed disk installs with gpgcheck and repo_gpgcheck on.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{
    assert_no_temp_files, make_signing_key, ok_output, require_tool, rpmbuild, run, sha256, tmpdir,
    xiso,
};

const EPOCH: &str = "1700000000";

/// A small driver package: `xiso-drv-1.2-3.xcpng8.3.x86_64.rpm` owning a kernel
/// module path, like a real driver RPM.
fn driver_rpm(dir: &Path) -> PathBuf {
    let spec = "Name: xiso-drv\nVersion: 1.2\nRelease: 3.xcpng8.3\nSummary: xiso test driver\n\
                License: MIT\n\n%description\nA driver package built by an xiso test.\n\n\
                %install\nmkdir -p %{buildroot}/lib/modules/4.19.0+1/updates\n\
                echo module > %{buildroot}/lib/modules/4.19.0+1/updates/xiso-drv.ko\n\n\
                %files\n/lib/modules/4.19.0+1/updates/xiso-drv.ko\n";
    let rpm = rpmbuild(dir, "xiso-drv", spec, EPOCH, &["_build_id_links none"]);
    assert!(
        rpm.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("xiso-drv-1.2-3.xcpng8.3.")),
        "{}",
        rpm.display()
    );
    rpm
}

/// `xiso driver-disk OUT PKGS… EXTRA…` with SOURCE_DATE_EPOCH.
fn driver_disk(out: &Path, packages: &[&Path], extra: &[&str]) -> Output {
    run(xiso()
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .arg("driver-disk")
        .arg(out)
        .args(packages)
        .args(extra))
}

/// The ISO's files, extracted with bsdtar (the test's mounted tree).
fn extract(iso: &Path, tree: &Path) {
    require_tool("bsdtar");
    fs::create_dir_all(tree).unwrap();
    ok_output(
        Command::new("bsdtar")
            .arg("-xf")
            .arg(iso)
            .arg("-C")
            .arg(tree),
    );
}

/// Debian's dnf with only the disk's repository (`dd`), its own cache.
fn dnf(dir: &Path, tree: &Path, gpg: Option<&Path>) -> Command {
    // The installer's yum.conf for driver disks has gpgcheck=0; a signed disk is
    // checked as xapi checks it.
    common::installer_dnf(dir, "dd", tree, gpg)
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Install `@drivers` into a fresh root below `dir`; return the root.
fn install_drivers(dir: &Path, tree: &Path, gpg: Option<&Path>) -> (PathBuf, Output) {
    let root = dir.join("installroot");
    fs::create_dir_all(&root).unwrap();
    let o = run(dnf(dir, tree, gpg)
        .arg(format!("--installroot={}", root.display()))
        .args(["install", "@drivers"]));
    (root, o)
}

fn verify(iso: &Path) -> (Option<i32>, serde_json::Value) {
    let o = run(xiso().arg("verify").arg("--json").arg(iso));
    (o.status.code(), serde_json::from_slice(&o.stdout).unwrap())
}

#[test]
fn dnf_finds_the_drivers_group_and_installs_the_driver() {
    let t = tmpdir("dd");
    let rpm = driver_rpm(t.path());
    let iso = t.path().join("dd.iso");
    let o = driver_disk(&iso, &[&rpm], &["--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // The label defaults to the first package's name.
    assert_eq!(report["update"]["name_label"], "xiso-drv");
    assert_eq!(
        report["metapackage"],
        "Packages/update-xiso-drv-1.2.3.xcpng8.3-1.noarch.rpm"
    );

    let tree = t.path().join("tree");
    extract(&iso, &tree);
    let update = fs::read_to_string(tree.join("update.xml")).unwrap();
    assert!(update.contains("<update "), "{update}");
    assert!(update.contains("name-label=\"xiso-drv\""), "{update}");
    assert!(update.contains("control=\"update-xiso-drv\""), "{update}");

    // The installer's check: `yum group summary drivers` finds one group.
    let groups = ok_output(dnf(t.path(), &tree, None).args(["group", "list", "--ids"]));
    let groups = String::from_utf8_lossy(&groups.stdout).into_owned();
    assert!(groups.contains("(drivers)"), "{groups}");
    assert!(groups.contains("(update)"), "{groups}");
    let info = ok_output(dnf(t.path(), &tree, None).args(["group", "info", "drivers"]));
    let info = String::from_utf8_lossy(&info.stdout).into_owned();
    let mandatory = info
        .split("Mandatory Packages:")
        .nth(1)
        .unwrap_or_else(|| panic!("no mandatory packages: {info}"));
    assert!(mandatory.contains("update-xiso-drv"), "{info}");

    // What the installer installs: @drivers, into the root it has just installed.
    let (root, o) = install_drivers(t.path(), &tree, None);
    assert!(o.status.success(), "dnf install @drivers: {}", text(&o));
    assert!(
        root.join("lib/modules/4.19.0+1/updates/xiso-drv.ko")
            .is_file(),
        "the driver's file is not installed: {}",
        text(&o)
    );
    let q = ok_output(Command::new("rpm").arg("--root").arg(&root).args([
        "-q",
        "xiso-drv",
        "update-xiso-drv",
    ]));
    assert!(String::from_utf8_lossy(&q.stdout).contains("xiso-drv-1.2-3.xcpng8.3"));

    let (code, v) = verify(&iso);
    assert_eq!(code, Some(0), "{v:#}");
    let i = ok_output(xiso().arg("inspect").arg("--json").arg(&iso));
    let i: serde_json::Value = serde_json::from_slice(&i.stdout).unwrap();
    assert_eq!(i["driver_disk"]["control"], "update-xiso-drv", "{i:#}");
    assert!(
        !i["warnings"].to_string().contains(".treeinfo"),
        "a driver disk needs no .treeinfo: {i:#}"
    );

    // Other readers: isoinfo sees Rock Ridge and Joliet, bsdtar lists the files.
    require_tool("isoinfo");
    let d = ok_output(
        Command::new("isoinfo")
            .args(["-d", "-R", "-J", "-i"])
            .arg(&iso),
    );
    let d = String::from_utf8_lossy(&d.stdout).into_owned();
    assert!(d.contains("Rock Ridge signatures version"), "{d}");
    assert!(d.contains("Joliet with UCS level"), "{d}");
    assert!(d.contains("Volume id: xiso-drv"), "{d}");
    let l = ok_output(Command::new("isoinfo").args(["-f", "-J", "-i"]).arg(&iso));
    let l = String::from_utf8_lossy(&l.stdout).into_owned();
    assert!(l.contains("/update.xml"), "{l}");
    let names = ok_output(Command::new("bsdtar").arg("-tf").arg(&iso));
    let names = String::from_utf8_lossy(&names.stdout).into_owned();
    for want in [
        "update.xml",
        "Packages/xiso-drv-1.2-3.xcpng8.3.x86_64.rpm",
        "Packages/update-xiso-drv-1.2.3.xcpng8.3-1.noarch.rpm",
        "repodata/repomd.xml",
    ] {
        assert!(names.lines().any(|n| n == want), "{want} not in {names}");
    }
}

#[test]
fn same_inputs_and_epoch_give_the_same_bytes() {
    let t = tmpdir("dd-repro");
    let rpm = driver_rpm(t.path());
    let a = t.path().join("a.iso");
    let b = t.path().join("b.iso");
    for out in [&a, &b] {
        let o = driver_disk(out, &[&rpm], &["--label", "xiso-net"]);
        assert!(o.status.success(), "{}", text(&o));
    }
    assert_eq!(sha256(&a), sha256(&b));
    // Signed too: RSA PKCS#1 v1.5 signatures at one time are the same bytes.
    let key = make_signing_key(t.path(), "repro", "rsa3072");
    let signed: Vec<PathBuf> = ["s1.iso", "s2.iso"]
        .iter()
        .map(|n| {
            let out = t.path().join(n);
            let o = driver_disk(&out, &[&rpm], &["--sign", key.secret.to_str().unwrap()]);
            assert!(o.status.success(), "{}", text(&o));
            out
        })
        .collect();
    assert_eq!(sha256(&signed[0]), sha256(&signed[1]));
    assert_ne!(sha256(&signed[0]), sha256(&a));
    let o = run(xiso()
        .env("SOURCE_DATE_EPOCH", "1700000001")
        .arg("driver-disk")
        .arg(t.path().join("c.iso"))
        .arg(&rpm));
    assert!(o.status.success(), "{}", text(&o));
    assert_ne!(sha256(&a), sha256(&t.path().join("c.iso")));
}

/// Rebuild the disk's tree as an ISO with createrepo_c and genisoimage, after `edit`.
fn rebuilt(dir: &Path, iso: &Path, edit: impl FnOnce(&Path)) -> PathBuf {
    require_tool("createrepo_c");
    require_tool("genisoimage");
    let tree = dir.join("broken-tree");
    extract(iso, &tree);
    let comps = dir.join("comps.xml");
    let repodata = tree.join("repodata");
    let group = fs::read_dir(&repodata)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("-comps.xml"))
        .expect("the disk has a plain comps file");
    fs::copy(group, &comps).unwrap();
    fs::remove_dir_all(&repodata).unwrap();
    edit(&tree);
    ok_output(
        Command::new("createrepo_c")
            .args(["--general-compress-type=gz", "--no-database", "-g"])
            .arg(&comps)
            .arg(&tree),
    );
    let out = dir.join("broken.iso");
    ok_output(
        Command::new("genisoimage")
            .args(["-quiet", "-r", "-J", "-V", "broken", "-o"])
            .arg(&out)
            .arg(&tree),
    );
    out
}

#[test]
fn verify_fails_a_disk_without_its_metapackage_or_update_xml() {
    let t = tmpdir("dd-broken");
    let rpm = driver_rpm(t.path());
    let iso = t.path().join("dd.iso");
    assert!(driver_disk(&iso, &[&rpm], &[]).status.success());

    // The control: the same tree rebuilt by createrepo_c and genisoimage verifies.
    let same = rebuilt(&t.path().join("same"), &iso, |_| {});
    let (code, v) = verify(&same);
    assert_eq!(code, Some(0), "{v:#}");

    // Metapackage removed, repodata consistent: installing @drivers would fail.
    let no_meta = rebuilt(&t.path().join("no-meta"), &iso, |tree| {
        fs::remove_file(tree.join("Packages/update-xiso-drv-1.2.3.xcpng8.3-1.noarch.rpm")).unwrap();
    });
    let (code, v) = verify(&no_meta);
    assert_eq!(code, Some(1), "{v:#}");
    let f = common::findings(&v, "driver-disk.metapackage");
    assert!(
        f.iter().any(|m| m.contains("no package update-xiso-drv")),
        "{v:#}"
    );

    // update.xml with another root element: the installer's assert fails.
    let bad_xml = rebuilt(&t.path().join("bad-xml"), &iso, |tree| {
        let p = tree.join("update.xml");
        let text = fs::read_to_string(&p).unwrap();
        fs::write(
            &p,
            text.replace("<update ", "<updates ")
                .replace("</update>", "</updates>"),
        )
        .unwrap();
    });
    let (code, v) = verify(&bad_xml);
    assert_eq!(code, Some(1), "{v:#}");
    assert!(
        !common::findings(&v, "driver-disk.update-xml").is_empty(),
        "{v:#}"
    );
}

#[test]
fn a_signed_disk_installs_with_gpgcheck_on() {
    let t = tmpdir("dd-signed");
    let rpm = driver_rpm(t.path());
    let key = make_signing_key(t.path(), "ddsigner", "rsa3072");
    let iso = t.path().join("signed.iso");
    let o = driver_disk(
        &iso,
        &[&rpm],
        &["--sign", key.secret.to_str().unwrap(), "--json"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["signed_by"], key.fingerprint.as_str());
    let key_file = report["update"]["key"].as_str().unwrap().to_string();
    assert_eq!(key_file, "RPM-GPG-KEY-ddsigner");

    let tree = t.path().join("tree");
    extract(&iso, &tree);
    assert!(tree.join("repodata/repomd.xml.asc").is_file());
    assert!(tree.join("update.xml.asc").is_file());
    let (root, o) = install_drivers(t.path(), &tree, Some(&tree.join(&key_file)));
    assert!(o.status.success(), "dnf with gpgcheck: {}", text(&o));
    assert!(root
        .join("lib/modules/4.19.0+1/updates/xiso-drv.ko")
        .is_file());
    let (code, v) = verify(&iso);
    assert_eq!(code, Some(0), "{v:#}");
    let notes = v["notes"].to_string();
    assert!(notes.contains("/update.xml.asc: signature good"), "{v:#}");

    // Edited after signing (update.xml changed, repodata regenerated without its
    // signature): verify names both.
    let edited = rebuilt(&t.path().join("edited"), &iso, |tree| {
        let p = tree.join("update.xml");
        let text = fs::read_to_string(&p).unwrap();
        fs::write(&p, text.replace("Driver disk", "Edited disk")).unwrap();
    });
    let (code, v) = verify(&edited);
    assert_eq!(code, Some(1), "{v:#}");
    assert!(
        common::findings(&v, "driver-disk.update-xml")
            .iter()
            .any(|m| m.contains("/update.xml.asc does not verify /update.xml")),
        "{v:#}"
    );
    assert!(
        !common::findings(&v, "repodata.signature").is_empty(),
        "{v:#}"
    );

    // The unsigned disk is refused by the same dnf: the check above is real.
    let plain = t.path().join("plain.iso");
    assert!(driver_disk(&plain, &[&rpm], &[]).status.success());
    let plain_tree = t.path().join("plain-tree");
    extract(&plain, &plain_tree);
    let other = t.path().join("other");
    fs::create_dir_all(&other).unwrap();
    let (_, o) = install_drivers(&other, &plain_tree, Some(&tree.join(&key_file)));
    assert!(
        !o.status.success(),
        "dnf installed unsigned packages: {}",
        text(&o)
    );
}

#[test]
fn a_bad_package_is_one_line_exit_2_and_no_output() {
    let t = tmpdir("dd-bad");
    let rpm = driver_rpm(t.path());
    let bytes = fs::read(&rpm).unwrap();
    let truncated = t.path().join("truncated.rpm");
    fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let garbage = t.path().join("garbage.rpm");
    fs::write(&garbage, b"not an rpm at all, just text\n").unwrap();
    let out_dir = t.path().join("out");
    fs::create_dir_all(&out_dir).unwrap();
    for bad in [&truncated, &garbage] {
        let out = out_dir.join("dd.iso");
        let o = driver_disk(&out, &[&rpm, bad], &[]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(&bad.display().to_string()), "{err}");
        assert!(err.contains("offset"), "{err}");
        assert!(!out.exists(), "an output was written for {}", bad.display());
        assert_no_temp_files(&out_dir);
    }
    let o = driver_disk(&out_dir.join("dd.iso"), &[&rpm], &["--label", "bad label"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!out_dir.join("dd.iso").exists());
}

#[test]
fn requires_the_host_provides_are_notes_not_findings() {
    let t = tmpdir("dd-host");
    let spec = "Name: xiso-kmod\nVersion: 2.0\nRelease: 1\nSummary: xiso test driver\n\
                License: MIT\nRequires: kernel-uname-r = 4.19.0+1\n\n%description\nA driver \
                package built by an xiso test.\n\n%install\nmkdir -p %{buildroot}/lib/modules/4.19.0+1/updates\n\
                echo module > %{buildroot}/lib/modules/4.19.0+1/updates/xiso-kmod.ko\n\n\
                %files\n/lib/modules/4.19.0+1/updates/xiso-kmod.ko\n";
    let rpm = rpmbuild(
        t.path(),
        "xiso-kmod",
        spec,
        EPOCH,
        &["_build_id_links none"],
    );
    let iso = t.path().join("kmod.iso");
    let o = driver_disk(&iso, &[&rpm], &[]);
    assert!(o.status.success(), "{}", text(&o));
    // The installer installs @drivers into the host it has just installed, which
    // has the kernel: verify is clean and says what it left to the host.
    let (code, v) = verify(&iso);
    assert_eq!(code, Some(0), "{v:#}");
    let notes = v["notes"].to_string();
    assert!(
        notes.contains("kernel-uname-r = 4.19.0+1") && notes.contains("left to the installed host"),
        "{v:#}"
    );
}
