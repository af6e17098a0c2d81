//! `xiso verify`: clean on the fixtures and on what `xiso pack` writes; each planted
//! fault fails with its check id; an unreadable ISO exits 2.

mod common;

use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{fixture, require_tool, run, xiso};
use serde_json::Value;
use xiso::iso::IsoImage;

/// `xiso verify --json ISO`: (exit code, parsed report or Null, stderr).
fn verify(iso: &Path) -> (i32, Value, String) {
    let out = run(xiso().arg("verify").arg("--json").arg(iso));
    let code = out.status.code().expect("xiso verify exited by signal");
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        code,
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn checks(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| f["check"].as_str().unwrap().to_string())
        .collect()
}

fn assert_clean(iso: &Path) {
    let (code, report, stderr) = verify(iso);
    assert_eq!(
        (code, checks(&report)),
        (0, Vec::<String>::new()),
        "{}: {report:#} {stderr}",
        iso.display()
    );
}

/// Verify fails (exit 1) and `check` is among the findings.
fn assert_finding(iso: &Path, check: &str) -> Value {
    let (code, report, stderr) = verify(iso);
    assert_eq!(code, 1, "{report:#} {stderr}");
    assert!(
        checks(&report).iter().any(|c| c == check),
        "expected a {check} finding: {report:#}"
    );
    report
}

/// Unpack the genisoimage fixture (install.img copied as is) into `dir/ws`.
fn unpack(dir: &Path) -> PathBuf {
    let ws = dir.join("ws");
    let out = run(xiso()
        .arg("unpack")
        .arg("--no-installer")
        .arg(fixture("genisoimage.iso"))
        .arg(&ws));
    assert!(out.status.success(), "{out:?}");
    ws
}

fn pack(ws: &Path, dir: &Path) -> PathBuf {
    let iso = dir.join("out.iso");
    let out = run(xiso().arg("pack").arg(ws).arg(&iso));
    assert!(out.status.success(), "{out:?}");
    iso
}

/// A copy of the genisoimage fixture to damage.
fn copy_fixture(dir: &Path) -> PathBuf {
    let iso = dir.join("copy.iso");
    fs::copy(fixture("genisoimage.iso"), &iso).unwrap();
    iso
}

fn patch(iso: &Path, offset: u64, bytes: &[u8]) {
    let mut f = fs::OpenOptions::new().write(true).open(iso).unwrap();
    f.seek(SeekFrom::Start(offset)).unwrap();
    f.write_all(bytes).unwrap();
}

fn read_u32(iso: &Path, offset: u64) -> u32 {
    let mut f = fs::File::open(iso).unwrap();
    f.seek(SeekFrom::Start(offset)).unwrap();
    let mut b = [0u8; 4];
    f.read_exact(&mut b).unwrap();
    u32::from_le_bytes(b)
}

/// Byte offset of a file's data in the ISO.
fn file_offset(iso: &Path, path: &str) -> u64 {
    let img = IsoImage::open(iso).unwrap();
    img.lookup(path).unwrap().extents[0].offset()
}

#[test]
fn fixtures_are_clean() {
    assert_clean(&fixture("genisoimage.iso"));
    assert_clean(&fixture("xorriso.iso"));
}

#[test]
fn unpack_pack_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    let ws = unpack(dir.path());
    assert_clean(&pack(&ws, dir.path()));
}

#[test]
fn add_rpm_then_pack_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    let ws = unpack(dir.path());
    let out = run(xiso()
        .arg("add-rpm")
        .arg(&ws)
        .arg(common::testdata_rpm("v4_rpm-basic-2.3.4-5.el9.noarch.rpm"))
        // rpm-basic requires what nothing provides; without an install target that is
        // a note of verify, and add-rpm's own check refuses it.
        .arg("--no-deps-check"));
    assert!(out.status.success(), "{out:?}");
    assert_clean(&pack(&ws, dir.path()));
}

#[test]
fn text_output_names_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let ws = unpack(dir.path());
    fs::remove_file(ws.join("iso/.treeinfo")).unwrap();
    let iso = pack(&ws, dir.path());
    let out = run(xiso().arg("verify").arg(&iso));
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("error[treeinfo]: no /.treeinfo"), "{text}");
}

#[test]
fn wrong_boot_info_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let iso = copy_fixture(dir.path());
    // Boot info table: bytes 8..24 of isolinux.bin; the checksum is at +20.
    let at = file_offset(&iso, "/boot/isolinux/isolinux.bin") + 20;
    let sum = read_u32(&iso, at);
    patch(&iso, at, &(sum ^ 1).to_le_bytes());
    let report = assert_finding(&iso, "boot.info-table");
    let f = &report["findings"][0];
    assert_eq!(f["offset"].as_u64(), Some(at), "{report:#}");
}

#[test]
fn mbr_partition_2_not_matching_the_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let iso = copy_fixture(dir.path());
    // MBR partition 2 entry at 462; its start block at +8 (isohybrid: efiboot.img LBA × 4).
    let start = read_u32(&iso, 462 + 8);
    assert_eq!(
        u64::from(start) * 512,
        file_offset(&iso, "/boot/efiboot.img")
    );
    patch(&iso, 462 + 8, &(start + 4).to_le_bytes());
    let report = assert_finding(&iso, "hybrid.efi-partition");
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["offset"].as_u64() == Some(462)),
        "{report:#}"
    );
}

#[test]
fn stale_efiboot_grub_cfg() {
    let dir = tempfile::tempdir().unwrap();
    let ws = unpack(dir.path());
    let cfg = ws.join("iso/EFI/xenserver/grub.cfg");
    let text = fs::read_to_string(&cfg).unwrap();
    let edited = text.replacen("console=tty0", "console=tty0 atexit=shell", 1);
    assert_ne!(text, edited);
    fs::write(&cfg, edited).unwrap();
    let iso = pack(&ws, dir.path());
    assert_finding(&iso, "efiboot.grub-cfg");
}

#[test]
fn missing_treeinfo() {
    let dir = tempfile::tempdir().unwrap();
    let ws = unpack(dir.path());
    fs::remove_file(ws.join("iso/.treeinfo")).unwrap();
    assert_finding(&pack(&ws, dir.path()), "treeinfo");
}

#[test]
fn missing_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let ws = unpack(dir.path());
    // The plain fixture's key1 is commented out; make it active, its file gone.
    let treeinfo = ws.join("iso/.treeinfo");
    let text = fs::read_to_string(&treeinfo).unwrap();
    fs::write(&treeinfo, text.replace("#key1 = ", "key1 = ")).unwrap();
    fs::remove_file(ws.join("iso/RPM-GPG-KEY-xcpng")).unwrap();
    assert_finding(&pack(&ws, dir.path()), "treeinfo.key-file");
}

#[test]
fn wrong_package_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let ws = unpack(dir.path());
    let rpm = ws.join("iso/Packages/Rimmer-1.0.2-2.x86_64.rpm");
    let mut f = fs::OpenOptions::new().append(true).open(&rpm).unwrap();
    f.write_all(b"x").unwrap();
    drop(f);
    let report = assert_finding(&pack(&ws, dir.path()), "packages.checksum");
    assert!(
        report.to_string().contains("Rimmer-1.0.2-2.x86_64.rpm"),
        "{report:#}"
    );
}

#[test]
fn unlisted_package() {
    let dir = tempfile::tempdir().unwrap();
    let ws = unpack(dir.path());
    fs::copy(
        common::testdata_rpm("v4_rpm-basic-2.3.4-5.el9.noarch.rpm"),
        ws.join("iso/Packages/rpm-basic-2.3.4-5.el9.noarch.rpm"),
    )
    .unwrap();
    let report = assert_finding(&pack(&ws, dir.path()), "packages.unlisted");
    assert_eq!(checks(&report), vec!["packages.unlisted"], "{report:#}");
}

#[test]
fn listed_but_missing_package() {
    let dir = tempfile::tempdir().unwrap();
    let ws = unpack(dir.path());
    fs::remove_file(ws.join("iso/Packages/Archer-3.4.5-6.x86_64.rpm")).unwrap();
    let report = assert_finding(&pack(&ws, dir.path()), "packages.missing");
    assert_eq!(checks(&report), vec!["packages.missing"], "{report:#}");
}

#[test]
fn wrong_repomd_record_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let ws = unpack(dir.path());
    let repomd = ws.join("iso/repodata/repomd.xml");
    let text = fs::read_to_string(&repomd).unwrap();
    // Flip the first hex digit of the first <checksum>.
    let at = text.find("<checksum type=\"sha256\">").unwrap() + "<checksum type=\"sha256\">".len();
    let mut bytes = text.into_bytes();
    bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
    fs::write(&repomd, bytes).unwrap();
    assert_finding(&pack(&ws, dir.path()), "repodata.record");
}

#[test]
fn truncated_iso_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let iso = copy_fixture(dir.path());
    let f = fs::OpenOptions::new().write(true).open(&iso).unwrap();
    f.set_len(f.metadata().unwrap().len() / 2).unwrap();
    drop(f);
    let (code, report, stderr) = verify(&iso);
    assert_eq!(code, 2, "{report:#}");
    assert_eq!(report, Value::Null);
    assert!(stderr.starts_with("xiso: error:"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}

#[test]
fn file_not_padded_as_isohybrid_pads_it() {
    let dir = tempfile::tempdir().unwrap();
    let iso = copy_fixture(dir.path());
    // A copy with 2 KiB appended: no longer whole MiB, backup GPT no longer last.
    let f = fs::OpenOptions::new().write(true).open(&iso).unwrap();
    f.set_len(f.metadata().unwrap().len() + 2048).unwrap();
    drop(f);
    assert_finding(&iso, "hybrid.size");
    assert_finding(&iso, "hybrid.gpt");
}

fn ok(cmd: &mut Command) -> Output {
    let o = run(cmd);
    assert!(
        o.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// An RSA signing key (what the installer checks; xiso sign refuses EdDSA) in a fresh
/// GNUPGHOME: (armoured secret key file, armoured public key file).
fn make_key(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let k = common::make_signing_key(dir, name, "rsa2048");
    (k.secret, k.public)
}

fn notes(report: &Value) -> String {
    report["notes"].to_string()
}

#[test]
fn signed_iso_is_clean_and_a_bad_signature_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let (key_a, _) = make_key(dir.path(), "alice");
    let (_, public_b) = make_key(dir.path(), "bob");
    let ws = unpack(dir.path());
    ok(xiso()
        .arg("sign")
        .arg(&ws)
        .arg("--key")
        .arg(&key_a)
        .args(["--nick", "test"]));

    // Signed as xiso sign signs: clean, and the note names the key.
    let iso = pack(&ws, dir.path());
    let (code, report, stderr) = verify(&iso);
    assert_eq!((code, checks(&report)), (0, vec![]), "{report:#} {stderr}");
    assert!(notes(&report).contains("signature good"), "{report:#}");

    // repomd.xml changed after signing (one byte more; every record still right).
    let repomd = ws.join("iso/repodata/repomd.xml");
    let signed = fs::read(&repomd).unwrap();
    let mut changed = signed.clone();
    changed.push(b'\n');
    fs::write(&repomd, &changed).unwrap();
    let report = assert_finding(&pack(&ws, dir.path()), "repodata.signature");
    assert_eq!(checks(&report), vec!["repodata.signature"], "{report:#}");
    assert!(
        report.to_string().contains("/RPM-GPG-KEY-test"),
        "the finding names the key file: {report:#}"
    );
    fs::write(&repomd, &signed).unwrap();

    // The key file holds another key than the one that signed: the repository and
    // every package (xiso sign signed them) fail yum's checks.
    fs::copy(&public_b, ws.join("iso/RPM-GPG-KEY-test")).unwrap();
    let report = assert_finding(&pack(&ws, dir.path()), "repodata.signature");
    let mut found = checks(&report);
    found.dedup();
    assert_eq!(
        found,
        vec!["repodata.signature", "packages.signature"],
        "{report:#}"
    );

    // Not a key at all (the fixture's placeholder text).
    fs::write(ws.join("iso/RPM-GPG-KEY-test"), "not a key\n").unwrap();
    let report = assert_finding(&pack(&ws, dir.path()), "repodata.signature");
    assert!(
        report
            .to_string()
            .contains("not an ASCII-armoured OpenPGP public key"),
        "{report:#}"
    );
}

/// Build `<name>-<version>-1.noarch.rpm` with these `Requires:` (as tests/add_rpm.rs).
fn build_rpm(dir: &Path, name: &str, version: &str, requires: &[&str]) -> PathBuf {
    require_tool("rpmbuild");
    let top = dir.join(format!("rpmbuild-{name}-{version}"));
    fs::create_dir_all(top.join("SPECS")).unwrap();
    let spec = top.join(format!("SPECS/{name}.spec"));
    let req: String = requires
        .iter()
        .map(|r| format!("Requires: {r}\n"))
        .collect();
    fs::write(
        &spec,
        format!(
            "Name: {name}\nVersion: {version}\nRelease: 1\nSummary: xiso verify test package\n\
             License: MIT\nBuildArch: noarch\n{req}\n%description\nBuilt by tests/verify.rs.\n\n\
             %install\nmkdir -p %{{buildroot}}/usr/share/{name}\n\
             echo {version} > %{{buildroot}}/usr/share/{name}/version\n\n\
             %files\n/usr/share/{name}/version\n"
        ),
    )
    .unwrap();
    ok(Command::new("rpmbuild")
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .arg("--define")
        .arg(format!("_topdir {}", top.display()))
        .args(["--define", "_binary_payload w9.gzdio", "--quiet", "-bb"])
        .arg(&spec));
    let rpm = top.join(format!("RPMS/noarch/{name}-{version}-1.noarch.rpm"));
    assert!(rpm.is_file(), "rpmbuild wrote no {}", rpm.display());
    rpm
}

/// A workspace with `rpms` added by `xiso add-rpm --no-deps-check`, packed.
fn pack_with(dir: &Path, rpms: &[PathBuf]) -> PathBuf {
    let ws = unpack(dir);
    ok(xiso()
        .arg("add-rpm")
        .arg(&ws)
        .args(rpms)
        .arg("--no-deps-check"));
    pack(&ws, dir)
}

#[test]
fn install_target_closure_complete_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    let lib = build_rpm(dir.path(), "xiso-lib", "1.0", &[]);
    let deps = build_rpm(dir.path(), "xcp-ng-deps", "8.3", &["xiso-lib >= 1"]);
    let (code, report, stderr) = verify(&pack_with(dir.path(), &[deps, lib]));
    assert_eq!((code, checks(&report)), (0, vec![]), "{report:#} {stderr}");
    assert!(
        notes(&report).contains("dependency closure of xcp-ng-deps: complete (2 packages reached)"),
        "{report:#}"
    );
}

#[test]
fn unresolved_dependency_of_the_install_target() {
    let dir = tempfile::tempdir().unwrap();
    let lib = build_rpm(dir.path(), "xiso-lib", "1.0", &["xiso-missing"]);
    let deps = build_rpm(dir.path(), "xcp-ng-deps", "8.3", &["xiso-lib"]);
    let report = assert_finding(&pack_with(dir.path(), &[deps, lib]), "packages.closure");
    assert_eq!(checks(&report), vec!["packages.closure"], "{report:#}");
    assert_eq!(
        report["findings"][0]["message"].as_str().unwrap(),
        "dependency closure of xcp-ng-deps: xcp-ng-deps-8.3-1.noarch → requires xiso-lib → \
         xiso-lib-1.0-1.noarch → requires xiso-missing (nothing in the repository provides it)",
        "{report:#}"
    );
}

#[test]
fn without_install_target_unresolved_requires_are_notes() {
    // The fixture has neither xcp-ng-deps nor comps; its test packages require
    // what nothing provides (fake_bash needs super_kernel): notes, not findings.
    let (code, report, stderr) = verify(&fixture("genisoimage.iso"));
    assert_eq!((code, checks(&report)), (0, vec![]), "{report:#} {stderr}");
    let notes = notes(&report);
    assert!(notes.contains("so no install target"), "{report:#}");
    assert!(notes.contains("requires super_kernel"), "{report:#}");
}
