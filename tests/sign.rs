//! `xiso sign`: the signature rPGP writes must satisfy GnuPG, the oracle the
//! installer's own check (rpm/yum with gpg) agrees with. Keys are generated at test
//! time in a throw-away GNUPGHOME; the exported key is imported into a second, fresh
//! keyring before `gpg --verify`, so only the files on the media are trusted.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use common::{
    fixture, gpg, gpg_fingerprints as fingerprints, new_gnupg_home as new_home, require_tool, run,
    xiso,
};

fn tmpdir(tag: &str) -> tempfile::TempDir {
    common::tmpdir(&format!("sign-{tag}"))
}

fn ok(cmd: &mut Command) -> Output {
    common::ok_output(cmd)
}

/// A signing key named after the test's signer; (secret key file, fingerprint).
fn make_key(dir: &Path, algo: &str) -> (std::path::PathBuf, String) {
    let k = common::make_signing_key(dir, "Jane-Builder", algo);
    (k.secret, k.fingerprint)
}

fn unpack(ws: &Path) {
    ok(xiso()
        .arg("unpack")
        .arg(fixture("genisoimage.iso"))
        .arg(ws)
        .arg("--no-installer"));
}

/// `gpg --verify SIG DATA` in a fresh keyring holding only `keyfile`.
fn verify(dir: &Path, name: &str, keyfile: &Path, sig: &Path, data: &Path) -> Output {
    let home = new_home(dir, name);
    ok(gpg(&home).arg("--import").arg(keyfile));
    run(gpg(&home).arg("--verify").arg(sig).arg(data))
}

fn sign_and_verify(algo: &str) {
    let t = tmpdir(algo);
    let (key, fpr) = make_key(t.path(), algo);
    let ws = t.path().join("ws");
    unpack(&ws);
    let treeinfo_before = fs::read_to_string(ws.join("iso/.treeinfo")).unwrap();
    // The plain fixture is an unsigned repository: key1 commented out.
    assert!(treeinfo_before.contains("#key1 = RPM-GPG-KEY-xcpng\n"));

    let o = ok(xiso()
        .arg("sign")
        .arg(&ws)
        .arg("--key")
        .arg(&key)
        .args(["--nick", "test", "--json"]));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["key_file"], "RPM-GPG-KEY-test");
    assert_eq!(report["fingerprint"], fpr.as_str());

    let keyfile = ws.join("iso/RPM-GPG-KEY-test");
    let asc = ws.join("iso/repodata/repomd.xml.asc");
    let repomd = ws.join("iso/repodata/repomd.xml");
    let sig = fs::read_to_string(&asc).unwrap();
    assert!(sig.starts_with("-----BEGIN PGP SIGNATURE-----"), "{sig}");
    let key_text = fs::read_to_string(&keyfile).unwrap();
    assert!(key_text.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----"));
    assert!(!key_text.contains("PRIVATE"));

    // The key file holds the signing key, and only public material.
    let home = new_home(t.path(), "show");
    let shown = ok(gpg(&home)
        .args(["--with-colons", "--import-options", "show-only", "--import"])
        .arg(&keyfile))
    .stdout;
    assert_eq!(fingerprints(&shown), vec![fpr.clone()]);

    // gpg accepts the signature with the exported key, and it is SHA-256.
    let v = verify(t.path(), "verifier", &keyfile, &asc, &repomd);
    let err = String::from_utf8_lossy(&v.stderr);
    assert!(v.status.success(), "gpg --verify failed: {err}");
    assert!(err.contains("Good signature"), "{err}");
    let packets = ok(gpg(&home).arg("--list-packets").arg(&asc)).stdout;
    assert!(
        String::from_utf8_lossy(&packets).contains("digest algo 8"),
        "not SHA-256: {}",
        String::from_utf8_lossy(&packets)
    );

    // .treeinfo: a key1 line names the file, nothing else changed.
    let treeinfo = fs::read_to_string(ws.join("iso/.treeinfo")).unwrap();
    assert_eq!(
        treeinfo,
        treeinfo_before.replace(
            "[keys]\n#key1 = RPM-GPG-KEY-xcpng\n",
            "[keys]\nkey1 = RPM-GPG-KEY-test\n#key1 = RPM-GPG-KEY-xcpng\n"
        )
    );

    // One changed byte in repomd.xml and the signature no longer checks.
    let mut bytes = fs::read(&repomd).unwrap();
    let i = bytes.len() / 2;
    bytes[i] ^= 0x20;
    fs::write(&repomd, &bytes).unwrap();
    let v = verify(t.path(), "verifier2", &keyfile, &asc, &repomd);
    assert!(
        !v.status.success(),
        "gpg --verify accepted a tampered repomd.xml: {}",
        String::from_utf8_lossy(&v.stderr)
    );
    common::assert_no_temp_files(&ws.join("iso"));
    common::assert_no_temp_files(&ws.join("iso/repodata"));
}

/// The XCP-ng 8.3 installer's rpm 4.11 and GnuPG 2.0 check RSA and DSA only: an
/// Ed25519 key is refused with one line, exit 2, nothing written.
#[test]
fn ed25519_key_is_refused_before_anything_is_written() {
    let t = tmpdir("ed25519");
    let (key, _) = make_key(t.path(), "ed25519");
    let ws = t.path().join("ws");
    unpack(&ws);
    let before = fs::read(ws.join("iso/.treeinfo")).unwrap();
    let rpm = ws.join("iso/Packages/Rimmer-1.0.2-2.x86_64.rpm");
    let rpm_before = fs::read(&rpm).unwrap();
    let o = run(xiso().arg("sign").arg(&ws).arg("--key").arg(&key));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("RSA and DSA"), "{err}");
    assert_eq!(fs::read(ws.join("iso/.treeinfo")).unwrap(), before);
    assert_eq!(fs::read(&rpm).unwrap(), rpm_before);
    assert!(!ws.join("iso/repodata/repomd.xml.asc").exists());
    assert!(!ws.join("iso/RPM-GPG-KEY-Jane-Builder").exists());
}

#[test]
fn rsa2048_signature_verifies_with_exported_key() {
    sign_and_verify("rsa2048");
}

/// SOURCE_DATE_EPOCH fixes the signature time, and RSA PKCS#1 v1.5 is deterministic:
/// two runs give the same bytes. The nick defaults to the user id's name.
#[test]
fn signature_is_reproducible_and_nick_comes_from_user_id() {
    let t = tmpdir("repro");
    let (key, _) = make_key(t.path(), "rsa2048");
    let ws = t.path().join("ws");
    unpack(&ws);
    let asc = ws.join("iso/repodata/repomd.xml.asc");
    let mut sigs = Vec::new();
    for _ in 0..2 {
        ok(xiso()
            .arg("sign")
            .arg(&ws)
            .arg("--key")
            .arg(&key)
            .env("SOURCE_DATE_EPOCH", "4000000000"));
        sigs.push(fs::read(&asc).unwrap());
    }
    assert_eq!(sigs[0], sigs[1]);
    assert!(ws.join("iso/RPM-GPG-KEY-Jane-Builder").is_file());
    let treeinfo = fs::read_to_string(ws.join("iso/.treeinfo")).unwrap();
    assert!(
        treeinfo.contains("key1 = RPM-GPG-KEY-Jane-Builder\n"),
        "{treeinfo}"
    );
    let home = new_home(t.path(), "packets");
    let packets = String::from_utf8_lossy(&ok(gpg(&home).arg("--list-packets").arg(&asc)).stdout)
        .into_owned();
    assert!(packets.contains("created 4000000000"), "{packets}");
}

/// Not a secret key, or a directory that is not a workspace: exit 2, nothing written.
#[test]
fn bad_key_is_refused_and_nothing_changes() {
    let t = tmpdir("bad");
    let ws = t.path().join("ws");
    unpack(&ws);
    let key = t.path().join("not-a-key.asc");
    fs::write(
        &key,
        "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n",
    )
    .unwrap();
    let before = fs::read(ws.join("iso/.treeinfo")).unwrap();
    let o = run(xiso().arg("sign").arg(&ws).arg("--key").arg(&key));
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(fs::read(ws.join("iso/.treeinfo")).unwrap(), before);
    assert!(!ws.join("iso/repodata/repomd.xml.asc").exists());
}

/// The vmlinuz argument words of every kernel line in a menu (isolinux APPEND's
/// dom0 segment, GRUB's `module2 /boot/vmlinuz` / `linux /boot/vmlinuz`).
fn vmlinuz_lines(cfg: &str) -> Vec<String> {
    cfg.lines()
        .filter_map(|l| {
            let t = l.trim_start();
            if let Some(rest) = t.strip_prefix("APPEND ") {
                if rest.contains("--- /boot/vmlinuz") {
                    return rest.split(" --- ").nth(1).map(str::to_string);
                }
                return Some(rest.to_string());
            }
            (t.starts_with("module2 /boot/vmlinuz") || t.starts_with("linux /boot/vmlinuz"))
                .then(|| t.to_string())
        })
        .collect()
}

#[test]
fn disable_gpgcheck_comments_keys_and_edits_every_menu() {
    require_tool("mtype");
    let t = tmpdir("disable");
    let ws = t.path().join("ws");
    // The signed fixture: its key1 is active.
    ok(xiso()
        .arg("unpack")
        .arg(fixture("signed.iso"))
        .arg(&ws)
        .arg("--no-installer"));
    let treeinfo_before = fs::read_to_string(ws.join("iso/.treeinfo")).unwrap();
    ok(xiso()
        .arg("sign")
        .arg(&ws)
        .args(["--disable-gpgcheck", "--no-gpgcheck"]));

    let treeinfo = fs::read_to_string(ws.join("iso/.treeinfo")).unwrap();
    assert_eq!(
        treeinfo,
        treeinfo_before.replace(
            "key1 = RPM-GPG-KEY-xiso-vendor\n",
            "#key1 = RPM-GPG-KEY-xiso-vendor\n"
        )
    );

    let isolinux = fs::read_to_string(ws.join("iso/boot/isolinux/isolinux.cfg")).unwrap();
    let grub = fs::read_to_string(ws.join("iso/EFI/xenserver/grub.cfg")).unwrap();
    let inner = String::from_utf8(
        ok(Command::new("mtype")
            .arg("-i")
            .arg(ws.join("iso/boot/efiboot.img"))
            .arg("::EFI/xenserver/grub.cfg"))
        .stdout,
    )
    .unwrap();
    for (name, cfg) in [
        ("isolinux.cfg", &isolinux),
        ("grub.cfg", &grub),
        ("efiboot.img:grub.cfg", &inner),
    ] {
        let lines = vmlinuz_lines(cfg);
        assert!(lines.len() >= 3, "{name}: {lines:?}");
        for l in lines {
            let words: Vec<&str> = l.split_whitespace().collect();
            assert!(words.contains(&"no-repo-gpgcheck"), "{name}: {l}");
            assert!(words.contains(&"no-gpgcheck"), "{name}: {l}");
        }
    }
    // Xen's own arguments stay as they were.
    assert!(isolinux.contains(
        "APPEND /boot/xen.gz dom0_max_vcpus=1-16 dom0_mem=max:8192M console=vga --- /boot/vmlinuz"
    ));
}
