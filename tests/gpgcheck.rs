//! Signed media that installs: on the signed fixture (packages and repomd.xml signed
//! by a vendor RSA key that key1 names), `remaster --add-rpm … --sign user.asc` must
//! give media that Debian's dnf, configured as the XCP-ng installer configures yum
//! (gpgcheck and repo_gpgcheck on, gpgkey = key1's file only), installs from; that
//! `rpmkeys --checksig` with only key1's keys accepts; whose vendor packages are
//! byte-identical; and that `xiso verify` passes. With `--no-sign-packages` or
//! `--replace-keys` dnf refuses, and verify names the packages it would refuse.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{build_named_rpm, fixture, make_signing_key, ok_output, require_tool, run, xiso};

const EPOCH: &str = "1700000000";

/// The signed fixture and the vendor's packages it was built from.
fn signed_fixture() -> (PathBuf, PathBuf) {
    let iso = fixture("signed.iso");
    let packages = fixture("signed/Packages");
    assert!(
        packages.is_dir(),
        "FIXTURE MISSING: {} (scripts/make-fixtures.sh runs scripts/make-signed-fixture.sh)",
        packages.display()
    );
    (iso, packages)
}

/// The two unsigned packages added: a new one and a newer version of a vendor's.
fn new_packages(dir: &Path) -> [PathBuf; 2] {
    [
        build_named_rpm(dir, "xiso-driver", "1.0", &[]),
        build_named_rpm(dir, "xiso-vendor-b", "1.1", &[]),
    ]
}

/// `xiso remaster SIGNED OUT --add-rpm NEW --add-rpm NEWER --sign KEY EXTRA…` (JSON report).
fn remaster(out: &Path, added: &[PathBuf; 2], key: &Path, extra: &[&str]) -> Output {
    run(remaster_adding(out, added)
        .arg("--sign")
        .arg(key)
        .arg("--json")
        .args(extra))
}

/// `xiso remaster SIGNED OUT --add-rpm NEW --add-rpm NEWER`, to which a test adds flags.
fn remaster_adding(out: &Path, [new, newer]: &[PathBuf; 2]) -> Command {
    let (iso, _) = signed_fixture();
    let mut cmd = xiso();
    cmd.env("SOURCE_DATE_EPOCH", EPOCH)
        .arg("remaster")
        .arg(iso)
        .arg(out)
        .arg("--add-rpm")
        .arg(new)
        .arg("--add-rpm")
        .arg(newer);
    cmd
}

/// The ISO's tree, extracted with bsdtar (install.img and boot/ left out).
fn extract(iso: &Path, dir: &Path) -> PathBuf {
    require_tool("bsdtar");
    let tree = dir.join("tree");
    fs::create_dir_all(&tree).unwrap();
    ok_output(
        Command::new("bsdtar")
            .arg("-xf")
            .arg(iso)
            .arg("-C")
            .arg(&tree)
            .args(["--exclude", "install.img", "--exclude", "boot"]),
    );
    tree
}

/// The file the first `[keys]` entry names, as the installer reads it.
fn key1(tree: &Path) -> PathBuf {
    let text = fs::read_to_string(tree.join(".treeinfo")).unwrap();
    let mut in_keys = false;
    for l in text.lines() {
        let l = l.trim();
        if l.starts_with('[') {
            in_keys = l == "[keys]";
        } else if in_keys && !l.starts_with('#') {
            if let Some((_, v)) = l.split_once('=') {
                return tree.join(v.trim());
            }
        }
    }
    panic!("no active [keys] entry in .treeinfo: {text}");
}

/// Debian's dnf as the installer's yum: only the ISO's repository, gpgcheck and
/// repo_gpgcheck on, gpgkey = key1's file; install into an empty root.
fn dnf_install(dir: &Path, tree: &Path, packages: &[&str]) -> Output {
    dnf_install_with(dir, tree, packages, true)
}

/// [`dnf_install`] with the installer's gpg lines (`checks`) or, as the installer
/// writes the repository when gpgcheck and repo-gpgcheck are off, none.
fn dnf_install_with(dir: &Path, tree: &Path, packages: &[&str], checks: bool) -> Output {
    let root = dir.join("installroot");
    fs::create_dir_all(&root).unwrap();
    let key = checks.then(|| key1(tree));
    run(common::installer_dnf(dir, "iso", tree, key.as_deref())
        .arg(format!("--installroot={}", root.display()))
        .arg("install")
        .args(packages))
}

fn checksig(dir: &Path, tree: &Path) -> Vec<(String, bool, String)> {
    require_tool("rpmkeys");
    let db = dir.join("rpmdb");
    fs::create_dir_all(&db).unwrap();
    let text = fs::read_to_string(key1(tree)).unwrap();
    let end = "-----END PGP PUBLIC KEY BLOCK-----";
    for (i, block) in text.split_inclusive(end).enumerate() {
        if !block.contains("BEGIN PGP PUBLIC KEY BLOCK") {
            continue;
        }
        let f = dir.join(format!("key1-{i}.asc"));
        fs::write(&f, block.trim_start()).unwrap();
        ok_output(
            Command::new("rpmkeys")
                .arg("--dbpath")
                .arg(&db)
                .arg("--import")
                .arg(&f),
        );
    }
    let mut out = Vec::new();
    for p in packages(tree) {
        let o = run(Command::new("rpmkeys")
            .arg("--dbpath")
            .arg(&db)
            .arg("--checksig")
            .arg(&p));
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        let passed = o.status.success() && text.contains("signatures OK");
        out.push((name(&p), passed, text));
    }
    out
}

fn packages(tree: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(tree.join("Packages"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

fn verify(iso: &Path) -> (Option<i32>, serde_json::Value) {
    let o = run(xiso().arg("verify").arg(iso).arg("--json"));
    (o.status.code(), serde_json::from_slice(&o.stdout).unwrap())
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn signed_remaster_installs_with_the_installers_gpgcheck() {
    let t = common::tmpdir("gpgcheck");
    let user = make_signing_key(t.path(), "User", "rsa2048");
    let out = t.path().join("out.iso");
    let added = new_packages(t.path());
    let o = remaster(&out, &added, &user.secret, &[]);
    assert!(o.status.success(), "{}", text(&o));

    // The report lists the keys in key1's file: the user's and the vendor's.
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let sign = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "sign")
        .expect("a sign step");
    let keys: Vec<&str> = sign["detail"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), 2, "{sign:#}");
    assert_eq!(keys[0], user.fingerprint);
    let signed: Vec<&str> = sign["detail"]["signed_packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(
        signed,
        vec![
            "Packages/xiso-driver-1.0-1.noarch.rpm",
            "Packages/xiso-vendor-b-1.1-1.noarch.rpm"
        ],
        "{sign:#}"
    );

    let tree = extract(&out, t.path());
    let dnf = dnf_install(t.path(), &tree, &["xcp-ng-deps", "xiso-driver"]);
    assert!(dnf.status.success(), "dnf refused: {}", text(&dnf));
    let root = t.path().join("installroot");
    assert!(root.join("usr/share/xiso-driver/version").is_file());
    assert_eq!(
        fs::read_to_string(root.join("usr/share/xiso-vendor-b/version")).unwrap(),
        "1.1\n",
        "the newer vendor package was installed"
    );

    let sigs = checksig(t.path(), &tree);
    assert_eq!(sigs.len(), 4, "{sigs:?}");
    for (p, passed, out) in &sigs {
        assert!(passed, "rpmkeys --checksig refused {p}: {out}");
    }

    // The vendor's packages are byte for byte the vendor's.
    let (_, vendor) = signed_fixture();
    for p in [
        "xcp-ng-deps-8.3-1.noarch.rpm",
        "xiso-vendor-a-1.0-1.noarch.rpm",
    ] {
        assert!(
            fs::read(tree.join("Packages").join(p)).unwrap() == fs::read(vendor.join(p)).unwrap(),
            "{p} changed"
        );
    }
    assert!(!tree
        .join("Packages/xiso-vendor-b-1.0-1.noarch.rpm")
        .exists());

    let (code, v) = verify(&out);
    assert_eq!(code, Some(0), "{v:#}");
    assert_inspect_names_signers(&out, &tree, &[&user.fingerprint]);

    // Reproducible: a second run gives the same bytes.
    let out2 = t.path().join("out2.iso");
    let o = remaster(&out2, &added, &user.secret, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(common::sha256(&out), common::sha256(&out2));
}

/// The paths of the `packages.signature` findings, sorted; each message must say `why`.
fn refused(v: &serde_json::Value, why: &str) -> Vec<String> {
    let mut paths: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "packages.signature")
        .map(|f| {
            let m = f["message"].as_str().unwrap();
            assert!(m.contains(why), "{m}");
            f["path"].as_str().unwrap_or("").to_string()
        })
        .collect();
    paths.sort();
    paths
}

#[test]
fn unsigned_packages_are_refused_by_dnf_and_named_by_verify() {
    let t = common::tmpdir("gpgcheck-nosign");
    let user = make_signing_key(t.path(), "User", "rsa2048");
    let out = t.path().join("out.iso");
    let o = remaster(
        &out,
        &new_packages(t.path()),
        &user.secret,
        &["--no-sign-packages"],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_unsigned_refused(&out, t.path());
}

/// dnf with the installer's gpgcheck refuses `iso`, whose two added packages are
/// unsigned, and verify names exactly those; the verify report.
fn assert_unsigned_refused(iso: &Path, dir: &Path) -> serde_json::Value {
    let tree = extract(iso, dir);
    let dnf = dnf_install(dir, &tree, &["xcp-ng-deps", "xiso-driver"]);
    assert!(
        !dnf.status.success(),
        "dnf installed unsigned packages: {}",
        text(&dnf)
    );
    let (code, v) = verify(iso);
    assert_eq!(code, Some(1), "{v:#}");
    assert_eq!(
        refused(&v, "is not signed"),
        vec![
            "/Packages/xiso-driver-1.0-1.noarch.rpm",
            "/Packages/xiso-vendor-b-1.1-1.noarch.rpm"
        ],
        "{v:#}"
    );
    v
}

#[test]
fn replaced_keys_leave_vendor_packages_refused_by_dnf_and_named_by_verify() {
    let t = common::tmpdir("gpgcheck-replace");
    let user = make_signing_key(t.path(), "User", "rsa2048");
    let out = t.path().join("out.iso");
    let o = remaster(
        &out,
        &new_packages(t.path()),
        &user.secret,
        &["--replace-keys"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let tree = extract(&out, t.path());
    assert_eq!(
        fs::read_to_string(key1(&tree))
            .unwrap()
            .matches("BEGIN PGP PUBLIC KEY BLOCK")
            .count(),
        1,
        "key1's file holds the user's key alone"
    );
    let dnf = dnf_install(t.path(), &tree, &["xcp-ng-deps", "xiso-driver"]);
    assert!(
        !dnf.status.success(),
        "dnf accepted vendor packages without the vendor key: {}",
        text(&dnf)
    );

    // The vendor's packages are kept as they are (never re-signed by the user).
    let (_, vendor) = signed_fixture();
    for p in [
        "xcp-ng-deps-8.3-1.noarch.rpm",
        "xiso-vendor-a-1.0-1.noarch.rpm",
    ] {
        assert!(
            fs::read(tree.join("Packages").join(p)).unwrap() == fs::read(vendor.join(p)).unwrap(),
            "{p} changed"
        );
    }
    let (code, v) = verify(&out);
    assert_eq!(code, Some(1), "{v:#}");
    assert_eq!(
        refused(&v, "which /RPM-GPG-KEY-User does not hold"),
        vec![
            "/Packages/xcp-ng-deps-8.3-1.noarch.rpm",
            "/Packages/xiso-vendor-a-1.0-1.noarch.rpm"
        ],
        "{v:#}"
    );
}

#[test]
fn eddsa_key_is_refused_and_no_output_is_written() {
    let t = common::tmpdir("gpgcheck-eddsa");
    let user = make_signing_key(t.path(), "User", "ed25519");
    let out = t.path().join("out.iso");
    let o = remaster(&out, &new_packages(t.path()), &user.secret, &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("RSA and DSA"), "{err}");
    assert!(!out.exists());
    common::assert_no_temp_files(t.path());
}

/// An answerfile whose root element carries `attributes` (e.g. ` gpgcheck="false"`).
fn answerfile(dir: &Path, tag: &str, attributes: &str) -> PathBuf {
    let path = dir.join(format!("answer-{tag}.xml"));
    fs::write(
        &path,
        format!(
            "<?xml version=\"1.0\"?>\n<installation mode=\"fresh\"{attributes}>\n  \
             <primary-disk>sda</primary-disk>\n  <source type=\"local\"/>\n</installation>\n"
        ),
    )
    .unwrap();
    path
}

/// `xiso remaster SIGNED OUT --add-rpm NEW --add-rpm NEWER --answerfile FILE` (no --sign).
fn remaster_answerfile(out: &Path, added: &[PathBuf; 2], file: &Path) {
    ok_output(remaster_adding(out, added).arg("--answerfile").arg(file));
}

/// The installer takes gpgcheck and repo-gpgcheck from the answerfile a line boots
/// (inside install.img), not from the boot line: verify reads it there. Unsigned
/// packages on signed media pass when the answerfile turns the checks off (dnf,
/// configured as the installer then configures yum, installs them) and are named
/// when it leaves them on (dnf refuses).
#[test]
fn an_embedded_answerfile_decides_gpgcheck_as_the_installer_reads_it() {
    let t = common::tmpdir("gpgcheck-answerfile");
    let added = new_packages(t.path());

    let off = t.path().join("off.iso");
    let file = answerfile(
        t.path(),
        "off",
        " gpgcheck=\"false\" repo-gpgcheck=\"false\"",
    );
    remaster_answerfile(&off, &added, &file);
    let (code, v) = verify(&off);
    assert_eq!(code, Some(0), "{v:#}");
    let notes = v["notes"].to_string();
    assert!(
        notes.contains(
            "answerfile file:///answerfile.xml (install.img): gpgcheck off, repo-gpgcheck off"
        ),
        "{notes}"
    );
    let dir = t.path().join("dnf-off");
    let dnf = dnf_install_with(
        &dir,
        &extract(&off, &dir),
        &["xcp-ng-deps", "xiso-driver"],
        false,
    );
    assert!(dnf.status.success(), "{}", text(&dnf));

    let on = t.path().join("on.iso");
    remaster_answerfile(&on, &added, &answerfile(t.path(), "on", ""));
    let v = assert_unsigned_refused(&on, &t.path().join("dnf-on"));
    assert_eq!(common::findings(&v, "repodata.signature").len(), 1, "{v:#}");
}

/// What the installer refuses before it reads any package: gpgcheck words beside an
/// answerfile on the boot line (install.py raises), and an answerfile=file:/// that
/// install.img does not hold.
#[test]
fn gpgcheck_words_beside_an_answerfile_and_a_missing_answerfile_are_errors() {
    let t = common::tmpdir("gpgcheck-answerfile-bad");
    let (iso, _) = signed_fixture();
    let pack = |ws: &Path, out: &Path| {
        ok_output(
            xiso()
                .env("SOURCE_DATE_EPOCH", EPOCH)
                .arg("pack")
                .arg(ws)
                .arg(out),
        );
    };

    let ws = t.path().join("missing");
    ok_output(xiso().arg("unpack").arg(&iso).arg(&ws));
    ok_output(xiso().arg("boot-args").arg(&ws).args([
        "--add",
        "install",
        "--add",
        "answerfile=file:///nowhere.xml",
    ]));
    let out = t.path().join("missing.iso");
    pack(&ws, &out);
    let (code, v) = verify(&out);
    assert_eq!(code, Some(1), "{v:#}");
    let m = common::findings(&v, "installer.answerfile");
    assert!(
        m.len() == 1 && m[0].contains("install.img holds no /nowhere.xml"),
        "{v:#}"
    );

    let ws = t.path().join("both");
    ok_output(xiso().arg("unpack").arg(&iso).arg(&ws));
    ok_output(
        xiso()
            .arg("answerfile")
            .arg(&ws)
            .arg(answerfile(t.path(), "both", "")),
    );
    ok_output(
        xiso()
            .arg("boot-args")
            .arg(&ws)
            .args(["--add", "no-gpgcheck"]),
    );
    let out = t.path().join("both.iso");
    pack(&ws, &out);
    let (code, v) = verify(&out);
    assert_eq!(code, Some(1), "{v:#}");
    assert!(
        !common::findings(&v, "installer.options").is_empty(),
        "{v:#}"
    );
    assert!(
        common::findings(&v, "installer.answerfile").is_empty(),
        "{v:#}"
    );
}

/// `xiso inspect --json` names, for every package, the key id rpm reads from its
/// header signature (`rpm -qp --qf %{RSAHEADER:pgpsig}`), held by key1's file, and
/// lists key1's keys as gpg reads them (`expected_first`: the first fingerprints).
fn assert_inspect_names_signers(iso: &Path, tree: &Path, expected_first: &[&str]) {
    require_tool("rpm");
    let o = ok_output(xiso().arg("inspect").arg(iso).arg("--json"));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let signing = &v["signing"];
    let keys: Vec<String> = signing["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["fingerprint"].as_str().unwrap().to_string())
        .collect();
    let home = common::new_gnupg_home(tree.parent().unwrap(), "inspect-gpg");
    let shown = ok_output(
        common::gpg(&home)
            .args(["--with-colons", "--show-keys"])
            .arg(key1(tree)),
    );
    assert_eq!(keys, common::gpg_fingerprints(&shown.stdout), "{signing:#}");
    assert_eq!(&keys[..expected_first.len()], expected_first);
    let listed = signing["packages"].as_array().unwrap();
    let on_media = packages(tree);
    assert_eq!(listed.len(), on_media.len(), "{signing:#}");
    for rpm in on_media {
        let q = ok_output(
            Command::new("rpm")
                .args(["-qp", "--nosignature", "--qf", "%{RSAHEADER:pgpsig}"])
                .arg(&rpm),
        );
        let pgpsig = String::from_utf8_lossy(&q.stdout).to_uppercase();
        let path = format!("/Packages/{}", name(&rpm));
        let entry = listed
            .iter()
            .find(|p| p["path"] == path.as_str())
            .unwrap_or_else(|| panic!("{path} not listed: {signing:#}"));
        let id = entry["key_ids"][0].as_str().unwrap();
        assert!(
            pgpsig.ends_with(&format!("KEY ID {id}")),
            "{path}: rpm says {pgpsig}, inspect {id}"
        );
        assert!(entry["key1_fingerprint"].is_string(), "{entry:#}");
    }
}

/// `remaster SIGNED OUT --add-rpm NEW [--pull-in] --sign KEY`: with --pull-in the
/// vendor's xcp-ng-deps is rewritten to require NEW and signed by the user's key, so
/// dnf asked like the installer (gpgcheck on, xcp-ng-deps only) installs NEW; without
/// it a warning names NEW and dnf leaves it out.
#[test]
fn pull_in_on_signed_media_makes_the_installer_install_the_new_package() {
    let t = common::tmpdir("gpgcheck-pull-in");
    let user = make_signing_key(t.path(), "User", "rsa2048");
    let new = build_named_rpm(t.path(), "xiso-driver", "1.0", &[]);
    let (iso, _) = signed_fixture();
    for pull_in in [true, false] {
        let dir = t.path().join(if pull_in { "pulled" } else { "plain" });
        fs::create_dir_all(&dir).unwrap();
        let out = dir.join("out.iso");
        let o = run(xiso()
            .env("SOURCE_DATE_EPOCH", EPOCH)
            .arg("remaster")
            .arg(&iso)
            .arg(&out)
            .arg("--add-rpm")
            .arg(&new)
            .arg("--sign")
            .arg(&user.secret)
            .args(if pull_in { &["--pull-in"][..] } else { &[] }));
        assert!(o.status.success(), "{}", text(&o));
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(
            stderr.contains("xiso-driver-1.0-1.noarch will not be installed"),
            !pull_in,
            "{stderr}"
        );
        let tree = extract(&out, &dir);
        let deps = tree.join(if pull_in {
            "Packages/xcp-ng-deps-8.3-1.xiso1.noarch.rpm"
        } else {
            "Packages/xcp-ng-deps-8.3-1.noarch.rpm"
        });
        let requires = ok_output(Command::new("rpm").args(["-qp", "--requires"]).arg(&deps));
        let requires = String::from_utf8_lossy(&requires.stdout).into_owned();
        assert_eq!(
            requires.lines().any(|l| l == "xiso-driver"),
            pull_in,
            "{requires}"
        );
        for (p, passed, out) in &checksig(&dir, &tree) {
            assert!(passed, "rpmkeys --checksig refused {p}: {out}");
        }
        let dnf = dnf_install(&dir, &tree, &["xcp-ng-deps"]);
        assert!(dnf.status.success(), "dnf refused: {}", text(&dnf));
        assert_eq!(
            dir.join("installroot/usr/share/xiso-driver/version")
                .is_file(),
            pull_in,
            "{}",
            text(&dnf)
        );
        let (code, v) = verify(&out);
        assert_eq!(code, Some(0), "{v:#}");
    }
}
