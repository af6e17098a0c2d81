//! `xiso::rpm::sign`: the pure-Rust package signature against its oracle, Debian's
//! `rpmsign --addsign --rpmv3` (rpm 4.18, signing through gpg with the time frozen by
//! `--faked-system-time`): the same key, package and time must give the same bytes.
//! `rpmkeys --checksig` with the key imported into a throw-away rpmdb accepts it.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::{make_signing_key, ok_output, require_tool, rpmbuild, run};
use xiso::openpgp::SecretKey;

/// A signature time after the key's creation (now), frozen for gpg and xiso alike.
fn sign_time() -> u32 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    (now + 3600) as u32
}

const SPEC: &str = "Name: xiso-signme\nVersion: 1.0\nRelease: 1\nSummary: signing test\n\
    License: MIT\nBuildArch: noarch\n\n%description\nA package xiso signs.\n\n%install\n\
    mkdir -p %{buildroot}/usr/share/xiso-signme\n\
    echo signme > %{buildroot}/usr/share/xiso-signme/README\n\n%files\n\
    /usr/share/xiso-signme/README\n";

fn rpmsign(home: &Path, fingerprint: &str, time: u32, rpm: &Path) {
    require_tool("rpmsign");
    ok_output(
        Command::new("rpmsign")
            .env("GNUPGHOME", home)
            .args(["--addsign", "--rpmv3"])
            .args(["--define", "__gpg /usr/bin/gpg"])
            .args(["--define", &format!("_gpg_name {fingerprint}")])
            .args(["--define", "_gpg_digest_algo sha256"])
            .args([
                "--define",
                &format!("_gpg_sign_cmd_extra_args --faked-system-time {time}!"),
            ])
            .arg(rpm),
    );
}

fn checksig(dir: &Path, public: &Path, rpm: &Path) -> String {
    require_tool("rpmkeys");
    let db = dir.join("rpmdb");
    fs::create_dir_all(&db).unwrap();
    ok_output(
        Command::new("rpmkeys")
            .arg("--dbpath")
            .arg(&db)
            .arg("--import")
            .arg(public),
    );
    let o = run(Command::new("rpmkeys")
        .arg("--dbpath")
        .arg(&db)
        .arg("--checksig")
        .arg(rpm));
    assert!(o.status.success(), "rpmkeys --checksig: {o:?}");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// With reserved space (rpmbuild ≥ 4.14) rpmsign rewrites the signature header in
/// place; xiso writes the same bytes.
#[test]
fn signature_is_byte_identical_to_rpmsign() {
    let t = common::tmpdir("rpm-sign");
    let key = make_signing_key(t.path(), "Packager", "rsa2048");
    let home = t.path().join("Packager-gnupg");
    let rpm = rpmbuild(t.path(), "signme", SPEC, "1700000000", &[]);
    let unsigned = fs::read(&rpm).unwrap();
    let time = sign_time();

    let by_rpmsign = t.path().join("by-rpmsign.rpm");
    fs::copy(&rpm, &by_rpmsign).unwrap();
    rpmsign(&home, &key.fingerprint, time, &by_rpmsign);
    let expected = fs::read(&by_rpmsign).unwrap();
    assert_ne!(expected, unsigned, "rpmsign did not sign");

    let secret = SecretKey::from_armor(&fs::read(&key.secret).unwrap(), None).unwrap();
    let ours = xiso::rpm::sign::sign_package(&unsigned, &secret, time).unwrap();
    assert_eq!(ours.len(), unsigned.len(), "reserved space keeps the size");
    assert!(
        ours == expected,
        "xiso's signed package differs from rpmsign's (first difference at byte {:?})",
        ours.iter().zip(&expected).position(|(a, b)| a != b)
    );

    // Reproducible, and what rpm itself accepts.
    assert_eq!(
        xiso::rpm::sign::sign_package(&unsigned, &secret, time).unwrap(),
        ours
    );
    let out_path = t.path().join("ours.rpm");
    fs::write(&out_path, &ours).unwrap();
    let text = checksig(t.path(), &key.public, &out_path);
    assert!(text.contains("signatures OK"), "{text}");
}

/// A package without reserved space (rpm 4.11 and createrepo_c's test packages):
/// the signature header grows; rpm still accepts it, and signing a signed package
/// again replaces its signatures (rpmsign gives the same bytes).
#[test]
fn package_without_reserved_space_grows_and_resigning_replaces() {
    let t = common::tmpdir("rpm-sign-grow");
    let key = make_signing_key(t.path(), "Packager", "rsa2048");
    let home = t.path().join("Packager-gnupg");
    let rpm = rpmbuild(
        t.path(),
        "signme",
        SPEC,
        "1700000000",
        &["__gpg_reserved_space 0"],
    );
    let unsigned = fs::read(&rpm).unwrap();
    let time = sign_time();
    let secret = SecretKey::from_armor(&fs::read(&key.secret).unwrap(), None).unwrap();
    let ours = xiso::rpm::sign::sign_package(&unsigned, &secret, time).unwrap();
    assert!(ours.len() > unsigned.len());
    let by_rpmsign = t.path().join("by-rpmsign.rpm");
    fs::copy(&rpm, &by_rpmsign).unwrap();
    rpmsign(&home, &key.fingerprint, time, &by_rpmsign);
    assert!(
        ours == fs::read(&by_rpmsign).unwrap(),
        "differs from rpmsign"
    );

    let again = xiso::rpm::sign::sign_package(&ours, &secret, time + 10).unwrap();
    assert_eq!(again.len(), ours.len());
    assert_ne!(again, ours);
    let out_path = t.path().join("again.rpm");
    fs::write(&out_path, &again).unwrap();
    let text = checksig(t.path(), &key.public, &out_path);
    assert!(text.contains("signatures OK"), "{text}");
}

/// EdDSA keys are refused: the XCP-ng 8.3 installer's rpm 4.11 cannot check them.
#[test]
fn eddsa_key_is_refused() {
    let t = common::tmpdir("rpm-sign-ed");
    let key = make_signing_key(t.path(), "Packager", "ed25519");
    let rpm = rpmbuild(t.path(), "signme", SPEC, "1700000000", &[]);
    let secret = SecretKey::from_armor(&fs::read(&key.secret).unwrap(), None).unwrap();
    let err =
        xiso::rpm::sign::sign_package(&fs::read(&rpm).unwrap(), &secret, sign_time()).unwrap_err();
    assert!(err.to_string().contains("RSA and DSA"), "{err}");
}
