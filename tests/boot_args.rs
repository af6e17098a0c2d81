//! `xiso boot-args`: one edit reaches isolinux.cfg, the tree's grub.cfg and the
//! grub.cfg inside efiboot.img. Oracles: `fsck.fat -n` and mtools (`mtype`, `mdir`)
//! on the edited FAT image, `xorriso` extracting it from the packed ISO.
//! (The QEMU proof that all five boot modes, through Xen, see the new words is in
//! tests/boot_fixtures.rs.)

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use common::{assert_no_temp_files, fixture, require_tool, run, xiso};

const GRUB: &str = "iso/EFI/xenserver/grub.cfg";
const ISOLINUX: &str = "iso/boot/isolinux/isolinux.cfg";
const EFIBOOT: &str = "iso/boot/efiboot.img";

fn tmpdir(tag: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("xiso-boot-args-{tag}-"))
        .tempdir()
        .unwrap()
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

fn unpack(ws: &Path, installer: bool) {
    let mut cmd = xiso();
    cmd.arg("unpack").arg(fixture("genisoimage.iso")).arg(ws);
    if !installer {
        cmd.arg("--no-installer");
    }
    ok(&mut cmd);
}

/// `mtype` of a file inside a FAT image, as bytes.
fn mtype(img: &Path, inner: &str) -> Vec<u8> {
    ok(Command::new("mtype")
        .arg("-i")
        .arg(img)
        .arg(format!("::{inner}")))
    .stdout
}

fn mdir(img: &Path, inner: &str) -> String {
    String::from_utf8(
        ok(Command::new("mdir")
            .arg("-i")
            .arg(img)
            .arg(format!("::{inner}")))
        .stdout,
    )
    .unwrap()
}

/// What the grub.cfg of the fixture must become after `--add xiso.test=1 --remove
/// bash-shell`: the vmlinuz lines lose `bash-shell` (the shell entry's) and end in the
/// new word; every other line (Xen's among them) is unchanged.
fn expected_grub(before: &str) -> String {
    before
        .split_inclusive('\n')
        .map(|l| {
            if l.trim_start().starts_with("module2 /boot/vmlinuz ") {
                let body = l.trim_end_matches('\n').replace(" bash-shell", "");
                format!("{body} xiso.test=1\n")
            } else {
                l.to_string()
            }
        })
        .collect()
}

/// The same for isolinux.cfg: the dom0 words sit between `/boot/vmlinuz` and the
/// second `---` of the `mboot.c32` lines.
fn expected_isolinux(before: &str) -> String {
    before
        .split_inclusive('\n')
        .map(|l| {
            if l.contains(" --- /boot/vmlinuz ") {
                l.replace(" bash-shell", "")
                    .replace(" --- /install.img", " xiso.test=1 --- /install.img")
            } else {
                l.to_string()
            }
        })
        .collect()
}

#[test]
fn boot_args_edits_every_menu_and_efiboot_stays_valid() {
    for t in ["fsck.fat", "mtype", "mdir", "xorriso"] {
        require_tool(t);
    }
    let tmp = tmpdir("all");
    let ws = tmp.path().join("ws");
    unpack(&ws, true);
    let img = ws.join(EFIBOOT);
    let grub_before = fs::read_to_string(ws.join(GRUB)).unwrap();
    let isolinux_before = fs::read_to_string(ws.join(ISOLINUX)).unwrap();
    let img_before = fs::read(&img).unwrap();
    let inner_before = String::from_utf8(mtype(&img, "/EFI/xenserver/grub.cfg")).unwrap();
    let boot_dir_before = mdir(&img, "/EFI/BOOT");
    assert!(inner_before.contains("XISO-GRUBCFG efiboot"));

    let o = ok(xiso()
        .arg("boot-args")
        .arg(&ws)
        .args(["--add", "xiso.test=1", "--remove", "bash-shell", "--json"])
        .args(["--date", "1600000000"]));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let menus: Vec<(&str, u64, usize)> = report["menus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["path"].as_str().unwrap(),
                m["kernel_lines"].as_u64().unwrap(),
                m["changes"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        menus,
        [
            ("boot/isolinux/isolinux.cfg", 5, 5),
            ("EFI/xenserver/grub.cfg", 5, 5),
            ("boot/efiboot.img:EFI/xenserver/grub.cfg", 5, 5),
        ]
    );
    assert_eq!(report["written"].as_array().unwrap().len(), 3);

    // The tree's menus: exactly the expected lines changed, the rest byte for byte.
    assert_eq!(
        fs::read_to_string(ws.join(GRUB)).unwrap(),
        expected_grub(&grub_before)
    );
    assert_eq!(
        fs::read_to_string(ws.join(ISOLINUX)).unwrap(),
        expected_isolinux(&isolinux_before)
    );

    // The FAT image: same size, clean for fsck.fat, new grub.cfg, other files intact.
    let img_after = fs::read(&img).unwrap();
    assert_eq!(img_after.len(), img_before.len());
    assert_ne!(img_after, img_before);
    let fsck = run(Command::new("fsck.fat").arg("-n").arg(&img));
    assert!(
        fsck.status.success(),
        "fsck.fat -n found problems:\n{}{}",
        String::from_utf8_lossy(&fsck.stdout),
        String::from_utf8_lossy(&fsck.stderr)
    );
    let inner_after = String::from_utf8(mtype(&img, "/EFI/xenserver/grub.cfg")).unwrap();
    assert_eq!(inner_after, expected_grub(&inner_before));
    assert_eq!(
        mtype(&img, "/EFI/BOOT/BOOTX64.EFI"),
        fs::read(ws.join("iso/EFI/BOOT/BOOTX64.EFI")).unwrap()
    );
    assert_eq!(mdir(&img, "/EFI/BOOT"), boot_dir_before);
    // --date stamps the changed FAT entry (2020-09-13 12:26:40 UTC).
    let listing = mdir(&img, "/EFI/xenserver");
    let line = listing.lines().find(|l| l.starts_with("grub")).unwrap();
    assert!(line.contains("2020-09-13  12:26"), "{listing}");
    assert_no_temp_files(&ws.join("iso/boot"));
    assert_no_temp_files(&ws.join("iso/EFI/xenserver"));

    // A second run changes nothing and writes nothing.
    let o = ok(xiso().arg("boot-args").arg(&ws).args([
        "--add",
        "xiso.test=1",
        "--remove",
        "bash-shell",
        "--json",
    ]));
    let again: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(again["written"].as_array().unwrap().is_empty());
    assert_eq!(fs::read(&img).unwrap(), img_after);

    // Packed, the ISO carries the edited efiboot.img (extracted by xorriso).
    let iso = tmp.path().join("out.iso");
    ok(xiso()
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .arg("pack")
        .arg(&ws)
        .arg(&iso));
    let extracted = tmp.path().join("efiboot.img");
    ok(Command::new("xorriso")
        .args(["-osirrox", "on", "-indev"])
        .arg(&iso)
        .args(["-extract", "/boot/efiboot.img"])
        .arg(&extracted));
    assert_eq!(fs::read(&extracted).unwrap(), img_after);
}

#[test]
fn boot_args_entry_filter_and_refusals() {
    let tmp = tmpdir("entry");
    let ws = tmp.path().join("ws");
    unpack(&ws, false);
    let grub_before = fs::read_to_string(ws.join(GRUB)).unwrap();
    let img = ws.join(EFIBOOT);

    let o =
        ok(xiso()
            .arg("boot-args")
            .arg(&ws)
            .args(["--entry", "shell", "--add", "atexit=shell"]));
    let text = String::from_utf8(o.stdout).unwrap();
    assert_eq!(
        text.matches("1 of 1 kernel lines changed").count(),
        3,
        "{text}"
    );
    assert_eq!(
        fs::read_to_string(ws.join(GRUB)).unwrap(),
        grub_before.replace(
            "console=tty0 bash-shell\n",
            "console=tty0 bash-shell atexit=shell\n"
        )
    );
    let inner = String::from_utf8(mtype(&img, "/EFI/xenserver/grub.cfg")).unwrap();
    assert_eq!(inner.matches("atexit=shell").count(), 1);

    // Refusals: exit 2, one line on stderr, nothing written.
    let snapshot = |ws: &Path| {
        [GRUB, ISOLINUX, EFIBOOT]
            .map(|p| fs::read(ws.join(p)).unwrap())
            .to_vec()
    };
    let before = snapshot(&ws);
    for (args, needle) in [
        (
            vec!["--entry", "nope", "--add", "x"],
            "--entry \"nope\" matches no entry",
        ),
        (vec!["--add", "initrd=/x.img"], "initrd"),
        (vec!["--remove", "quiet=1"], "give the key only"),
        (vec!["--add", "a b"], "without spaces"),
        (vec![], "nothing to do"),
    ] {
        let o = run(xiso().arg("boot-args").arg(&ws).args(&args));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(o.stdout.is_empty());
    }
    assert_eq!(snapshot(&ws), before);

    let o = run(xiso().arg("boot-args").arg(tmp.path()).args(["--add", "x"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a workspace"));
}
