//! `xiso remaster --netinstall`: the media XCP-ng's `create-iso.sh --netinstall`
//! makes. Oracles: `bsdtar -tf` lists no `Packages/`, `repodata/` or `.treeinfo`;
//! every installer line of isolinux.cfg, the tree's grub.cfg (both read with
//! `bsdtar -xOf`) and the grub.cfg inside efiboot.img (read with mtools' `mtype`)
//! has `netinstall` right after the kernel path; `xiso verify` accepts the result
//! and finds the one entry an edit took the word from.

mod common;

use std::path::Path;
use std::process::Command;

use common::{fixture, ok_output, require_tool, run, tmpdir, xiso};

const EPOCH: &str = "1700000000";

fn x() -> Command {
    let mut c = xiso();
    c.env("SOURCE_DATE_EPOCH", EPOCH);
    c
}

/// One file of an ISO, read by bsdtar.
fn iso_file(iso: &Path, path: &str) -> Vec<u8> {
    require_tool("bsdtar");
    let o = run(Command::new("bsdtar").arg("-xOf").arg(iso).arg(path));
    assert!(o.status.success(), "bsdtar -xOf {} {path}", iso.display());
    o.stdout
}

/// The kernel lines of a menu: isolinux `APPEND` lines holding `/boot/vmlinuz` or
/// following `KERNEL /boot/vmlinuz`, GRUB `linux`/`module2 /boot/vmlinuz` lines.
/// Returns the words after the kernel path (or after `APPEND` for a plain kernel).
fn installer_args(cfg: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut plain_kernel = false;
    for line in cfg.lines() {
        let words: Vec<&str> = line.split_ascii_whitespace().collect();
        match words.first().map(|w| w.to_ascii_lowercase()).as_deref() {
            Some("kernel") => plain_kernel = words.get(1) == Some(&"/boot/vmlinuz"),
            Some("append") if plain_kernel => {
                out.push(words[1..].iter().map(|w| w.to_string()).collect());
            }
            Some("append") | Some("linux") | Some("module2") => {
                if let Some(i) = words.iter().position(|w| *w == "/boot/vmlinuz") {
                    out.push(words[i + 1..].iter().map(|w| w.to_string()).collect());
                }
            }
            _ => {}
        }
    }
    out
}

fn assert_netinstall_first(name: &str, cfg: &str, expected_lines: usize) {
    let lines = installer_args(cfg);
    assert_eq!(lines.len(), expected_lines, "{name}:\n{cfg}");
    for l in &lines {
        assert_eq!(
            l.first().map(String::as_str),
            Some("netinstall"),
            "{name}: netinstall is not right after the kernel: {l:?}"
        );
        assert_eq!(l.iter().filter(|w| *w == "netinstall").count(), 1, "{l:?}");
    }
}

#[test]
fn netinstall_media_has_no_repository_and_netinstall_on_every_installer_line() {
    require_tool("mtype");
    let tmp = tmpdir("netinstall");
    let src = fixture("xorriso.iso");
    let out = tmp.path().join("net.iso");
    let o = ok_output(
        x().arg("remaster")
            .arg(&src)
            .arg(&out)
            .arg("--netinstall")
            .arg("--json"),
    );
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let step = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "netinstall")
        .expect("a netinstall step");
    assert_eq!(
        step["detail"]["removed"],
        serde_json::json!(["Packages", "repodata", ".treeinfo"])
    );

    let listing =
        String::from_utf8(run(Command::new("bsdtar").arg("-tf").arg(&out)).stdout).unwrap();
    for gone in ["Packages", "repodata", ".treeinfo"] {
        assert!(
            !listing
                .lines()
                .any(|l| l == gone || l.starts_with(&format!("{gone}/"))),
            "{gone} is still on the media:\n{listing}"
        );
    }
    assert!(listing.lines().any(|l| l == "install.img"), "{listing}");

    // Every installer line of every menu copy: 5 in isolinux.cfg, 5 in each grub.cfg.
    let isolinux = String::from_utf8(iso_file(&out, "boot/isolinux/isolinux.cfg")).unwrap();
    assert_netinstall_first("isolinux.cfg", &isolinux, 5);
    let grub = String::from_utf8(iso_file(&out, "EFI/xenserver/grub.cfg")).unwrap();
    assert_netinstall_first("EFI/xenserver/grub.cfg", &grub, 5);
    let img = tmp.path().join("efiboot.img");
    std::fs::write(&img, iso_file(&out, "boot/efiboot.img")).unwrap();
    let o = run(Command::new("mtype")
        .arg("-i")
        .arg(&img)
        .arg("::EFI/xenserver/grub.cfg"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let inner = String::from_utf8(o.stdout).unwrap();
    assert_netinstall_first("efiboot.img:EFI/xenserver/grub.cfg", &inner, 5);
    // Nothing else of the lines changed: drop the word and the source's line is back.
    let src_grub = String::from_utf8(iso_file(&src, "EFI/xenserver/grub.cfg")).unwrap();
    assert_eq!(grub.replace(" netinstall", ""), src_grub);

    // verify knows netinstall media: no complaint about the missing repository.
    let o = run(xiso().arg("verify").arg(&out));
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(
        text.contains("netinstall media") && text.contains("15 of 15 installer lines"),
        "{text}"
    );

    // An entry without the word finds no installation source: verify says which.
    let ws = tmp.path().join("ws");
    ok_output(x().arg("unpack").arg(&out).arg(&ws).arg("--no-installer"));
    ok_output(
        x().arg("boot-args")
            .arg(&ws)
            .args(["--remove", "netinstall", "--entry", "shell"]),
    );
    let broken = tmp.path().join("broken.iso");
    ok_output(x().arg("pack").arg(&ws).arg(&broken));
    let o = run(xiso().arg("verify").arg(&broken).arg("--json"));
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let found: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "netinstall")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(found.len(), 3, "isolinux, grub.cfg, efiboot.img: {v}");
    assert!(found.iter().all(|m| m.contains("entry \"shell\"")), "{v}");

    // Media without a repository and without the word is still broken media.
    let ws2 = tmp.path().join("ws2");
    ok_output(x().arg("unpack").arg(&out).arg(&ws2).arg("--no-installer"));
    ok_output(
        x().arg("boot-args")
            .arg(&ws2)
            .args(["--remove", "netinstall"]),
    );
    let bare = tmp.path().join("bare.iso");
    ok_output(x().arg("pack").arg(&ws2).arg(&bare));
    let o = run(xiso().arg("verify").arg(&bare).arg("--json"));
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let checks: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    assert!(
        checks.contains(&"treeinfo") && checks.contains(&"repodata.repomd"),
        "{checks:?}"
    );
}

/// --netinstall removes the repository: edits of it are refused before any work.
#[test]
fn netinstall_refuses_repository_edits() {
    let tmp = tmpdir("netinstall-refuse");
    let out = tmp.path().join("net.iso");
    let rpm = common::testdata_rpm("v6_rpm-hardlinks-1.0-1.noarch.rpm");
    for extra in [
        vec!["--add-rpm".as_ref(), rpm.as_os_str()],
        vec!["--disable-gpgcheck".as_ref()],
    ] {
        let o = run(x()
            .arg("remaster")
            .arg(fixture("xorriso.iso"))
            .arg(&out)
            .arg("--netinstall")
            .args(&extra));
        assert_eq!(o.status.code(), Some(2), "{extra:?}");
        assert!(!out.exists());
    }
    // The same from a plan file (no clap conflict there).
    let plan = tmp.path().join("plan.toml");
    std::fs::write(&plan, "netinstall = true\ndisable-gpgcheck = true\n").unwrap();
    let o = run(x()
        .arg("remaster")
        .arg(fixture("xorriso.iso"))
        .arg(&out)
        .arg("--plan")
        .arg(&plan));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--netinstall") && err.contains("--disable-gpgcheck"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!out.exists());
}
