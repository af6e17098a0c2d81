//! `xiso answerfile`: the file reaches install.img (read back with bsdtar, bunzip2
//! and cpio from the packed ISO), every boot menu names it, gpgcheck options move
//! from the boot lines into the answerfile, and a malformed file changes nothing.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{fixture, require_tool, run, xiso};

const ANSWERFILE: &str = "<?xml version=\"1.0\"?>\n<installation mode=\"fresh\">\n  <primary-disk>sda</primary-disk>\n  <keymap>us</keymap>\n  <root-password>xiso</root-password>\n  <source type=\"local\"/>\n  <admin-interface name=\"eth0\" proto=\"dhcp\"/>\n  <timezone>UTC</timezone>\n</installation>\n";

fn tmpdir(tag: &str) -> tempfile::TempDir {
    common::tmpdir(&format!("answerfile-{tag}"))
}

fn ok(cmd: &mut Command) -> Output {
    common::ok_output(cmd)
}

fn unpack(ws: &Path) {
    ok(xiso().arg("unpack").arg(fixture("genisoimage.iso")).arg(ws));
}

/// The three boot menus of the fixture: isolinux.cfg, the tree's grub.cfg and the
/// grub.cfg inside efiboot.img (read with mtools).
fn menus(ws: &Path) -> Vec<(&'static str, String)> {
    let inner = String::from_utf8(
        ok(Command::new("mtype")
            .arg("-i")
            .arg(ws.join("iso/boot/efiboot.img"))
            .arg("::EFI/xenserver/grub.cfg"))
        .stdout,
    )
    .unwrap();
    vec![
        (
            "isolinux.cfg",
            fs::read_to_string(ws.join("iso/boot/isolinux/isolinux.cfg")).unwrap(),
        ),
        (
            "grub.cfg",
            fs::read_to_string(ws.join("iso/EFI/xenserver/grub.cfg")).unwrap(),
        ),
        ("efiboot.img:grub.cfg", inner),
    ]
}

/// Argument words of the vmlinuz (installer) lines of a menu.
fn vmlinuz_lines(cfg: &str) -> Vec<Vec<String>> {
    cfg.lines()
        .filter_map(|l| {
            let t = l.trim_start();
            let args = if let Some(rest) = t.strip_prefix("APPEND ") {
                if rest.contains("--- /boot/vmlinuz") {
                    rest.split(" --- ").nth(1)?.to_string()
                } else {
                    rest.to_string()
                }
            } else if t.starts_with("module2 /boot/vmlinuz") || t.starts_with("linux /boot/vmlinuz")
            {
                t.to_string()
            } else {
                return None;
            };
            Some(args.split_whitespace().map(str::to_string).collect())
        })
        .collect()
}

/// One member of the packed ISO's install.img, through independent tools.
fn installer_member(iso: &Path, name: &str, verbose_list: bool) -> Vec<u8> {
    require_tool("bsdtar");
    require_tool("bunzip2");
    require_tool("cpio");
    let script = if verbose_list {
        format!("bsdtar -xOf \"$1\" install.img | bunzip2 | cpio -itv --quiet {name}")
    } else {
        format!("bsdtar -xOf \"$1\" install.img | bunzip2 | cpio -i --quiet --to-stdout {name}")
    };
    let o = ok(Command::new("bash")
        .arg("-c")
        .arg(format!("set -o pipefail; {script}"))
        .arg("sh")
        .arg(iso)
        .stdin(Stdio::null()));
    o.stdout
}

#[test]
fn answerfile_reaches_install_img_and_every_menu() {
    require_tool("mtype");
    let t = tmpdir("ok");
    let ws = t.path().join("ws");
    unpack(&ws);
    // An unsigned ISO: the boot lines carry the gpgcheck options first.
    ok(xiso()
        .arg("sign")
        .arg(&ws)
        .args(["--disable-gpgcheck", "--no-gpgcheck"]));
    let file = t.path().join("answer.xml");
    fs::write(&file, ANSWERFILE).unwrap();
    let o = ok(xiso().arg("answerfile").arg(&ws).arg(&file).arg("--json"));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["path"], "/answerfile.xml");

    // The gpgcheck options moved into the root element; nothing else changed.
    let expected = ANSWERFILE.replace(
        "<installation mode=\"fresh\">",
        "<installation mode=\"fresh\" repo-gpgcheck=\"false\" gpgcheck=\"false\">",
    );
    let on_disk = fs::read_to_string(ws.join("installer/answerfile.xml")).unwrap();
    assert_eq!(on_disk, expected);

    for (name, cfg) in menus(&ws) {
        let lines = vmlinuz_lines(&cfg);
        assert!(lines.len() >= 3, "{name}: {lines:?}");
        for words in lines {
            let has = |w: &str| words.iter().any(|x| x == w);
            assert!(has("install"), "{name}: {words:?}");
            assert!(
                has("answerfile=file:///answerfile.xml"),
                "{name}: {words:?}"
            );
            assert!(
                !has("no-repo-gpgcheck") && !has("no-gpgcheck"),
                "{name}: {words:?}"
            );
        }
    }

    let iso = t.path().join("out.iso");
    ok(xiso()
        .arg("pack")
        .arg(&ws)
        .arg(&iso)
        .env("SOURCE_DATE_EPOCH", "1700000000"));
    assert_eq!(
        installer_member(&iso, "answerfile.xml", false),
        expected.as_bytes()
    );
    let listing = String::from_utf8(installer_member(&iso, "answerfile.xml", true)).unwrap();
    assert!(
        listing.starts_with("-rw-r--r--")
            && listing.contains(" root ")
            && listing.contains("root "),
        "{listing}"
    );
}

#[test]
fn malformed_answerfile_is_refused_and_nothing_changes() {
    let t = tmpdir("bad");
    let ws = t.path().join("ws");
    unpack(&ws);
    let snapshot = |ws: &Path| {
        [
            "iso/boot/isolinux/isolinux.cfg",
            "iso/EFI/xenserver/grub.cfg",
            "iso/boot/efiboot.img",
            ".xiso/installer",
        ]
        .map(|p| fs::read(ws.join(p)).unwrap())
    };
    let before = snapshot(&ws);
    for (tag, xml) in [
        (
            "unclosed",
            "<installation><primary-disk>sda</installation>\n",
        ),
        ("wrong-root", "<restore/>\n"),
        ("not-xml", "install me\n"),
    ] {
        let file = t.path().join(format!("{tag}.xml"));
        fs::write(&file, xml).unwrap();
        let o = run(xiso().arg("answerfile").arg(&ws).arg(&file));
        assert_eq!(
            o.status.code(),
            Some(2),
            "{tag}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(!ws.join("installer/answerfile.xml").exists(), "{tag}");
        assert!(snapshot(&ws) == before, "{tag}: the workspace changed");
    }
}
