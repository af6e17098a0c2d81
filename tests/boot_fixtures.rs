//! Boots ISOs made from the fixtures of `scripts/make-fixtures.sh` in QEMU through
//! `scripts/boot-check.sh`, the way XCP-ng boots: Xen (the real hypervisor) with the
//! dom0 kernel and install.img as modules, five ways: BIOS CD, BIOS disk, UEFI CD,
//! UEFI disk (OVMF reads El Torito on it) and UEFI disk with El Torito hidden
//! (`uefi-esp`: the hybrid EFI partition and the grub.cfg inside efiboot.img).
//! Each ISO carries many edits at once: a boot under TCG costs 10-50 s a mode.
//!
//! The fixtures are found through `$XISO_FIXTURES` (absolute path; `scripts/test.sh`
//! sets it), else `<repo>/fixtures`. A missing fixture is a test FAILURE, never a
//! silent pass: run `scripts/make-fixtures.sh` first.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// Boot checks are CPU-bound (TCG) and each already runs two QEMUs at once:
/// never run two checks concurrently on the 2-core machines.
static QEMU_LOCK: Mutex<()> = Mutex::new(());

const MARKER: &str = "fixture-original";

fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures_dir() -> PathBuf {
    match std::env::var_os("XISO_FIXTURES") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => repo_dir().join("fixtures"),
    }
}

fn fixture(name: &str) -> PathBuf {
    let path = fixtures_dir().join(name);
    if !path.is_file() {
        panic!(
            "\n\n########################################################\n\
             FIXTURE MISSING: {}\n\
             Build the fixtures first: scripts/make-fixtures.sh \
             (or run the whole suite with scripts/test.sh).\n\
             XISO_FIXTURES={:?}\n\
             ########################################################\n",
            path.display(),
            std::env::var_os("XISO_FIXTURES")
        );
    }
    path
}

const MODES: [&str; 5] = ["bios-cd", "bios-hd", "uefi-cd", "uefi-hd", "uefi-esp"];

/// Xen's words in every serial entry of the fixture menus.
const FIXTURE_XEN_ARGS: [&str; 4] = [
    "dom0_max_vcpus=1-16",
    "dom0_mem=max:8192M",
    "com1=115200,8n1",
    "console=com1,vga",
];

/// What boot-check.sh printed for one mode: PASS or FAIL with the reason, Xen's and
/// dom0's command lines, the grub.cfg copy GRUB read (UEFI only).
#[derive(Debug, Default)]
struct ModeReport {
    status: String,
    xen: Vec<String>,
    dom0: Vec<String>,
    grubcfg: Option<String>,
    /// The serial port Xen's console was on (`com1`, `com2`).
    port: Option<String>,
}

fn parse_report(stdout: &str) -> BTreeMap<String, ModeReport> {
    let mut out = BTreeMap::new();
    let mut current: Option<String> = None;
    // "(none)": the line was never printed
    let words = |s: &str| -> Vec<String> {
        s.split_whitespace()
            .filter(|w| *w != "(none)")
            .map(str::to_string)
            .collect()
    };
    for line in stdout.lines() {
        if let Some((mode, rest)) = line.split_once(": ") {
            if MODES.contains(&mode) {
                let r = ModeReport {
                    status: rest.to_string(),
                    ..ModeReport::default()
                };
                out.insert(mode.to_string(), r);
                current = Some(mode.to_string());
                continue;
            }
        }
        let Some(r) = current.as_ref().and_then(|m| out.get_mut(m)) else {
            continue;
        };
        if let Some(x) = line.strip_prefix("  xen: ") {
            r.xen = words(x);
        } else if let Some(x) = line.strip_prefix("  dom0: ") {
            r.dom0 = words(x);
        } else if let Some(x) = line.strip_prefix("  grub.cfg: ") {
            r.grubcfg = Some(x.to_string());
        } else if let Some(x) = line.strip_prefix("  xen console: ") {
            r.port = Some(x.to_string());
        }
    }
    out
}

/// Runs boot-check.sh on `iso` (`args` before the ISO, `modes` after the marker);
/// returns its exit status and stdout.
fn run_boot_check(
    iso: &Path,
    args: &[&str],
    marker: &str,
    modes: &[&str],
) -> (std::process::ExitStatus, String) {
    let _guard = QEMU_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let script = repo_dir().join("scripts/boot-check.sh");
    let out = Command::new("bash")
        .arg(&script)
        .args(["--jobs", "2"])
        .args(args)
        .arg(iso)
        .arg(marker)
        .args(modes)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    (out.status, stdout)
}

/// What one ISO must show in every mode: Xen's and dom0's command line words.
struct Expect<'a> {
    marker: &'a str,
    xen: &'a [&'a str],
    dom0: &'a [&'a str],
    /// The serial port Xen's console must be on.
    port: &'a str,
}

/// Boots `iso` in all five modes; every mode must PASS through Xen, showing Xen's
/// command line with `expect.xen` and dom0's with `expect.dom0` (checked by the
/// script and again here from its report). uefi-cd and uefi-hd read the ISO tree's
/// grub.cfg, uefi-esp the one inside efiboot.img.
fn boot_check(iso: &Path, expect: &Expect) -> BTreeMap<String, ModeReport> {
    let mut args = Vec::new();
    for w in expect.xen {
        args.extend(["--expect-xen-cmdline", w]);
    }
    for w in expect.dom0 {
        args.extend(["--expect-cmdline", w]);
    }
    let (status, stdout) = run_boot_check(iso, &args, expect.marker, &[]);
    assert!(
        status.success(),
        "\n\nBOOT CHECK FAILED for {} ({status}):\n{stdout}\n",
        iso.display()
    );
    let report = parse_report(&stdout);
    for mode in MODES {
        let r = report
            .get(mode)
            .unwrap_or_else(|| panic!("no report for {mode}:\n{stdout}"));
        assert!(r.status.starts_with("PASS"), "{mode}: {}", r.status);
        for w in expect.xen {
            assert!(r.xen.iter().any(|x| x == w), "{mode}: Xen lacks {w}: {r:?}");
        }
        for w in expect.dom0 {
            assert!(
                r.dom0.iter().any(|x| x == w),
                "{mode}: dom0 lacks {w}: {r:?}"
            );
        }
        let grubcfg = match mode {
            "uefi-esp" => Some("efiboot"),
            "uefi-cd" | "uefi-hd" => Some("iso"),
            _ => None,
        };
        assert_eq!(r.grubcfg.as_deref(), grubcfg, "{mode}: {r:?}");
        assert_eq!(r.port.as_deref(), Some(expect.port), "{mode}: {r:?}");
    }
    report
}

/// A failed check keeps its logs ("logs kept in DIR"): an expected failure's are
/// removed once the test has read the report.
fn remove_kept_logs(stdout: &str) {
    if let Some((_, dir)) = stdout.split_once("FAILED; logs kept in ") {
        let dir = dir.trim();
        assert!(dir.contains("xiso-boot."), "unexpected log directory {dir}");
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// The fixture's serial entries as they are, plus `extra` on dom0's line.
fn fixture_expect<'a>(marker: &'a str, dom0: &'a [&'a str]) -> Expect<'a> {
    Expect {
        marker,
        xen: &FIXTURE_XEN_ARGS,
        dom0,
        port: "com1",
    }
}

/// The check fails when a word expected on Xen's command line is missing: the
/// original fixture boots (Xen's and dom0's lines and the marker are printed), but
/// `iommu=0` is not Xen's. And it fails for an ISO whose xen.gz is cut in half (made
/// with xorriso from the fixture): no Xen banner, in BIOS and UEFI alike.
#[test]
fn boot_check_fails_for_a_missing_xen_argument_and_a_truncated_xen() {
    let src = fixture("xorriso.iso");
    let (status, stdout) = run_boot_check(
        &src,
        &[
            "--expect-xen-cmdline",
            "dom0_mem=max:8192M",
            "--expect-xen-cmdline",
            "iommu=0",
        ],
        MARKER,
        &["bios-cd"],
    );
    assert_eq!(status.code(), Some(1), "{stdout}");
    let r = &parse_report(&stdout)["bios-cd"];
    assert!(
        r.status.contains("Xen's command line lacks 'iommu=0'"),
        "{r:?}"
    );
    assert_eq!(r.xen, FIXTURE_XEN_ARGS, "{r:?}");
    assert_eq!(r.dom0, ["console=hvc0", "console=tty0"], "{r:?}");
    remove_kept_logs(&stdout);

    let tmp = common::tmpdir("boot-truncated-xen");
    let xen = tmp.path().join("xen.gz");
    let whole = std::fs::read(fixture("tree/boot/xen.gz")).unwrap();
    std::fs::write(&xen, &whole[..whole.len() / 2]).unwrap();
    let bad = tmp.path().join("truncated-xen.iso");
    common::ok_output(
        Command::new("xorriso")
            .arg("-indev")
            .arg(&src)
            .arg("-outdev")
            .arg(&bad)
            .arg("-map")
            .arg(&xen)
            .arg("/boot/xen.gz")
            .args(["-boot_image", "any", "replay", "-commit"]),
    );
    let (status, stdout) = run_boot_check(
        &bad,
        // never boots (mboot.c32 and GRUB retry the default entry forever)
        &["--timeout", "45"],
        MARKER,
        &["bios-cd", "uefi-cd"],
    );
    assert_eq!(status.code(), Some(1), "{stdout}");
    let report = parse_report(&stdout);
    for mode in ["bios-cd", "uefi-cd"] {
        let r = &report[mode];
        assert!(r.status.contains("no Xen banner"), "{mode}: {r:?}");
        assert!(r.dom0.is_empty(), "{mode}: dom0 ran: {r:?}");
    }
    remove_kept_logs(&stdout);
}

/// `xiso-marker-VERSION-1.noarch.rpm`: `/etc/xiso-marker` holding `rpm-marker-VERSION`,
/// and with `old` also `/etc/xiso-old` (which the next version no longer ships).
fn marker_rpm(dir: &Path, version: &str, old: bool) -> PathBuf {
    let extra = if old {
        "echo old > %{buildroot}/etc/xiso-old\n"
    } else {
        ""
    };
    let extra_file = if old { "/etc/xiso-old\n" } else { "" };
    let spec = format!(
        "Name: xiso-marker\nVersion: {version}\nRelease: 1\nSummary: marker\nLicense: MIT\n\
         BuildArch: noarch\n%description\nthe boot test's marker\n\
         %install\nmkdir -p %{{buildroot}}/etc\necho rpm-marker-{version} > %{{buildroot}}/etc/xiso-marker\n{extra}\
         %files\n/etc/xiso-marker\n{extra_file}"
    );
    common::rpmbuild(dir, &format!("marker-{version}"), &spec, "1700000000", &[])
}

/// `xiso unpack` → edit (a 200 MB file added, a file changed, `xiso add-rpm --installer`
/// of `xiso-marker-1` (shipping `/etc/xiso-marker` and `/etc/xiso-old`) and then of
/// `xiso-marker-2` (only the marker), `xiso boot-args --add xiso.test=1`, one RPM added to
/// the repository with `xiso add-rpm` (its dependency check on), `xiso answerfile`, `xiso
/// sign`) → `xiso pack` (install.img rebuilt, unchanged bzip2 blocks copied); the boot
/// images land on new LBAs, the result passes `xiso verify`, and must boot five ways,
/// print the new marker (the fixture's /init appends `+/etc/xiso-old` when that file
/// exists) and show `xiso.test=1` on dom0's command line (uefi-esp boots the EFI
/// partition, so it proves the grub.cfg inside efiboot.img was edited).
fn boot_packed(name: &str) {
    let src = fixture(name);
    let tmp = std::env::temp_dir().join(format!("xiso-boot-pack-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let ws = tmp.join("ws");
    let xiso = env!("CARGO_BIN_EXE_xiso");
    let st = Command::new(xiso)
        .arg("unpack")
        .arg(&src)
        .arg(&ws)
        .status()
        .unwrap();
    assert!(st.success(), "xiso unpack failed");
    std::fs::write(ws.join("iso/EULA"), "edited by the boot test\n").unwrap();
    let marker = "rpm-marker-2";
    for (version, old) in [("1", true), ("2", false)] {
        let rpm = marker_rpm(&tmp, version, old);
        common::ok_output(
            Command::new(xiso)
                .env("SOURCE_DATE_EPOCH", "1700000000")
                .args(["add-rpm", "--installer"])
                .arg(&ws)
                .arg(&rpm),
        );
    }
    assert!(
        !ws.join("installer/etc/xiso-old").exists(),
        "the file only the old version shipped is still there"
    );
    let st = Command::new(xiso)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .arg("boot-args")
        .arg(&ws)
        .args(["--add", "xiso.test=1"])
        .status()
        .unwrap();
    assert!(st.success(), "xiso boot-args failed");
    let st = Command::new(xiso)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .arg("add-rpm")
        .arg(&ws)
        .arg(common::testdata_rpm("v6_rpm-hardlinks-1.0-1.noarch.rpm"))
        .status()
        .unwrap();
    assert!(st.success(), "xiso add-rpm failed");
    let answers = answerfile(&tmp);
    common::ok_output(
        Command::new(xiso)
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .arg("answerfile")
            .arg(&ws)
            .arg(&answers),
    );
    let key = common::make_signing_key(&tmp, "boot-test", "rsa2048");
    common::ok_output(
        Command::new(xiso)
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .arg("sign")
            .arg(&ws)
            .arg("--key")
            .arg(&key.secret),
    );
    let filler = std::fs::File::create(ws.join("iso/0000-filler.bin")).unwrap();
    filler.set_len(200 << 20).unwrap();
    let out = tmp.join("packed.iso");
    let st = Command::new(xiso)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .arg("pack")
        .arg(&ws)
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success(), "xiso pack failed");
    let lbas = |iso: &Path| -> Vec<u64> {
        let o = Command::new(xiso)
            .arg("inspect")
            .arg("--json")
            .arg(iso)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["el_torito"]["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["load_lba"].as_u64().unwrap())
            .collect()
    };
    let (before, after) = (lbas(&src), lbas(&out));
    assert_eq!(before.len(), after.len());
    assert!(
        before.iter().zip(&after).all(|(a, b)| a != b),
        "boot images did not move: {before:?} -> {after:?}"
    );
    check_repodata(&src, &out);
    common::assert_verifies(&out);
    boot_check(
        &out,
        &fixture_expect(
            marker,
            &[
                "xiso.test=1",
                "answerfile=file:///answerfile.xml",
                "console=hvc0",
            ],
        ),
    );
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A fresh-install answer file in `dir`.
fn answerfile(dir: &Path) -> PathBuf {
    let answers = dir.join("answerfile.xml");
    std::fs::write(
        &answers,
        "<?xml version=\"1.0\"?>\n<installation mode=\"fresh\">\n  <primary-disk>sda</primary-disk>\n  <keymap>us</keymap>\n  <root-password>xiso</root-password>\n  <source type=\"local\"/>\n  <admin-interface name=\"eth0\" proto=\"dhcp\"/>\n  <timezone>UTC</timezone>\n</installation>\n",
    )
    .unwrap();
    answers
}

/// The packed ISO's repository counts one package more than the source's, and
/// its primary, filelists and other are gzip files whose sha256 repomd.xml states.
fn check_repodata(src: &Path, out: &Path) {
    let xiso = env!("CARGO_BIN_EXE_xiso");
    let repodata = |iso: &Path| -> serde_json::Value {
        let o = Command::new(xiso)
            .arg("inspect")
            .arg("--json")
            .arg(iso)
            .output()
            .unwrap();
        assert!(o.status.success(), "xiso inspect {}", iso.display());
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["repodata"].clone()
    };
    let (before, after) = (repodata(src), repodata(out));
    let count = |r: &serde_json::Value| r["package_count"].as_u64().expect("primary counted");
    assert_eq!(count(&after), count(&before) + 1, "{after}");
    assert_eq!(
        after["declared_package_count"].as_u64(),
        Some(count(&after))
    );
    assert!(after["warnings"].as_array().unwrap().is_empty(), "{after}");
    let cat = |inner: &str| -> Vec<u8> {
        let o = Command::new(xiso)
            .arg("cat")
            .arg(out)
            .arg(inner)
            .output()
            .unwrap();
        assert!(o.status.success(), "xiso cat {inner}");
        o.stdout
    };
    let repomd = xiso::repo::Repomd::parse(&cat("/repodata/repomd.xml")).unwrap();
    for t in ["primary", "filelists", "other"] {
        let rec = repomd.record(t).unwrap_or_else(|| panic!("no {t} record"));
        let bytes = cat(&format!("/{}", rec.location_href));
        assert_eq!(&bytes[..2], b"\x1f\x8b", "{t} is not gzip");
        let sum = rec.checksum.as_ref().unwrap();
        assert_eq!(sum.algorithm, "sha256", "{t}");
        let digest = <sha2::Sha256 as sha2::Digest>::digest(&bytes);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(sum.value, hex, "{t}: checksum");
    }
}

#[test]
fn boot_packed_genisoimage_fixture_installer_rebuilt() {
    boot_packed("genisoimage.iso");
}

/// `xiso remaster` with every edit kind that changes what boots, in one command:
/// an ISO overlay (a changed file and a 200 MB file that moves every boot image),
/// an RPM added to the repository and one installed into the installer root, an
/// installer overlay, all appended to install.img, a kernel argument, a Xen argument
/// added and one removed, Xen's serial console moved to com2 (QEMU's second port),
/// an answer file, the repository signed, a new volume id. The result passes `xiso
/// verify` and boots five ways through Xen with the new marker, Xen's command line
/// carrying its edits (and no `dom0_max_vcpus`, no com1) on com2, and dom0's its own.
#[test]
fn boot_remastered_xorriso_fixture_every_edit_installer_appended() {
    let src = fixture("xorriso.iso");
    let tmp = std::env::temp_dir().join(format!("xiso-boot-remaster-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let overlay = tmp.join("iso-overlay");
    std::fs::create_dir_all(&overlay).unwrap();
    std::fs::write(overlay.join("EULA"), "edited by the remaster boot test\n").unwrap();
    let filler = std::fs::File::create(overlay.join("0000-filler.bin")).unwrap();
    filler.set_len(200 << 20).unwrap();
    let installer = tmp.join("installer-overlay");
    std::fs::create_dir_all(installer.join("etc")).unwrap();
    let marker = "remastered-append";
    std::fs::write(installer.join("etc/xiso-marker"), format!("{marker}\n")).unwrap();
    let out = tmp.join("remastered.iso");
    let answers = answerfile(&tmp);
    let key = common::make_signing_key(&tmp, "boot-remaster", "rsa2048");
    let xiso = env!("CARGO_BIN_EXE_xiso");
    let o = Command::new(xiso)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .arg("remaster")
        .arg(&src)
        .arg(&out)
        .arg("--overlay")
        .arg(&overlay)
        .arg("--add-rpm")
        .arg(common::testdata_rpm("v6_rpm-hardlinks-1.0-1.noarch.rpm"))
        .arg("--add-rpm-installer")
        .arg(common::testdata_rpm("v6_rpm-file-attrs-1.0-1.noarch.rpm"))
        .arg("--patch-installer")
        .arg(&installer)
        .args(["--boot-arg", "xiso.test=1"])
        .args(["--xen-arg", "iommu=0", "--remove-xen-arg", "dom0_max_vcpus"])
        .args(["--serial", "com2"])
        .arg("--answerfile")
        .arg(&answers)
        .arg("--sign")
        .arg(&key.secret)
        .args(["--volid", "XISO_REMASTER_TEST", "--installer-append"])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "xiso remaster failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    check_repodata(&src, &out);
    common::assert_verifies(&out);
    let report = boot_check(
        &out,
        &Expect {
            marker,
            xen: &[
                "dom0_mem=max:8192M",
                "com2=115200,8n1",
                "console=com2,vga",
                "iommu=0",
            ],
            dom0: &[
                "xiso.test=1",
                "answerfile=file:///answerfile.xml",
                "console=hvc0",
            ],
            port: "com2",
        },
    );
    for (mode, r) in &report {
        for gone in ["dom0_max_vcpus=1-16", "com1=115200,8n1", "console=com1,vga"] {
            assert!(
                !r.xen.iter().any(|w| w == gone),
                "{mode}: Xen has {gone}: {r:?}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

/// The fast one-shot path: `xiso remaster --patch-installer --installer-append`
/// with no other installer edit never decodes install.img and appends the overlay
/// as new root:root entries (a directory of the image among them, which the
/// kernel's unpacker re-creates in place). With a boot argument and the gpgcheck
/// switched off (`no-repo-gpgcheck` on dom0's line); passes `xiso
/// verify` and boots five ways showing the appended marker.
#[test]
fn boot_remastered_genisoimage_fixture_overlay_appended_undecoded() {
    use std::os::unix::fs::PermissionsExt;
    let src = fixture("genisoimage.iso");
    let tmp = std::env::temp_dir().join(format!("xiso-boot-append-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let installer = tmp.join("installer-overlay");
    std::fs::create_dir_all(installer.join("etc")).unwrap();
    std::fs::create_dir_all(installer.join("opt/xiso-new")).unwrap();
    for d in ["etc", "opt", "opt/xiso-new"] {
        std::fs::set_permissions(installer.join(d), std::fs::Permissions::from_mode(0o755))
            .unwrap();
    }
    let marker = "appended-undecoded";
    std::fs::write(installer.join("etc/xiso-marker"), format!("{marker}\n")).unwrap();
    std::fs::write(installer.join("opt/xiso-new/tool"), "#!/bin/sh\n").unwrap();
    let out = tmp.join("appended.iso");
    let xiso = env!("CARGO_BIN_EXE_xiso");
    let o = Command::new(xiso)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .arg("remaster")
        .arg(&src)
        .arg(&out)
        .arg("--patch-installer")
        .arg(&installer)
        .args(["--boot-arg", "xiso.test=1", "--disable-gpgcheck"])
        .args(["--installer-append", "--json"])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "xiso remaster failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        r["steps"][0]["detail"]["installer"].is_null(),
        "install.img was decoded: {}",
        r["steps"][0]
    );
    common::assert_verifies(&out);
    boot_check(
        &out,
        &fixture_expect(marker, &["xiso.test=1", "no-repo-gpgcheck"]),
    );
    let _ = std::fs::remove_dir_all(&tmp);
}

/// `xiso remaster --netinstall` of the xorriso fixture (no Packages/, repodata/,
/// .treeinfo; `netinstall` right after /boot/vmlinuz on every installer line of
/// every menu, efiboot.img's grub.cfg included) passes `xiso verify` and boots five
/// ways with `netinstall` on dom0's command line (uefi-esp reads the grub.cfg
/// inside efiboot.img).
#[test]
fn boot_netinstall_remaster() {
    let src = fixture("xorriso.iso");
    let tmp = common::tmpdir("boot-netinstall");
    let out = tmp.path().join("netinstall.iso");
    common::ok_output(
        Command::new(env!("CARGO_BIN_EXE_xiso"))
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .arg("remaster")
            .arg(&src)
            .arg(&out)
            .arg("--netinstall"),
    );
    common::assert_verifies(&out);
    boot_check(&out, &fixture_expect(MARKER, &["netinstall"]));
}
