//! install.img is the dom0 kernel's initramfs: `pack` refuses a codec the kernel in
//! `/boot/vmlinuz` cannot decompress, and `verify` reports such an image. Tested on
//! the fixture's real bzImage (Debian's Linux 6.1), with its version string
//! patched to 4.19 (XCP-ng 8.3's dom0 kernel) where the test says so.

mod common;

use std::path::Path;

use common::{assert_no_temp_files, fixture, ok_output, require_tool, run, tmpdir, xiso};

/// Overwrite the bzImage's `kernel_version` string (pointer at 0x20E, string at
/// pointer + 0x200) with `version` and a NUL; returns the old release word.
fn patch_kernel_version(vmlinuz: &Path, version: &str) -> String {
    let mut img = std::fs::read(vmlinuz).unwrap();
    assert_eq!(
        &img[0x202..0x206],
        b"HdrS",
        "{} is not a bzImage",
        vmlinuz.display()
    );
    let at = usize::from(u16::from_le_bytes([img[0x20E], img[0x20F]])) + 0x200;
    let old = String::from_utf8_lossy(&img[at..at + 64]).into_owned();
    let new = format!("{version}\0");
    img[at..at + new.len()].copy_from_slice(new.as_bytes());
    std::fs::write(vmlinuz, img).unwrap();
    old.split_whitespace().next().unwrap().to_string()
}

/// `xiso pack --compress CODEC WS OUT`, which must succeed.
fn pack(ws: &Path, codec: &str, out: &Path) {
    ok_output(
        xiso()
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .args(["pack", "--compress", codec])
            .arg(ws)
            .arg(out),
    );
}

fn unpack(ws: &Path) {
    ok_output(xiso().arg("unpack").arg(fixture("genisoimage.iso")).arg(ws));
}

/// The real 6.1 kernel reads zstd: `pack --compress zstd` works and verifies.
/// Patched to say 4.19, the same pack is refused before anything is written (exit
/// 2, one line naming the kernel's version and the codec); gzip still packs.
#[test]
fn pack_refuses_zstd_for_a_4_19_kernel_and_packs_it_for_6_1() {
    let tmp = tmpdir("dom0-codec");
    let ws = tmp.path().join("ws");
    unpack(&ws);
    let zstd61 = tmp.path().join("zstd-6.1.iso");
    pack(&ws, "zstd", &zstd61);
    let info = run(xiso().args(["inspect", "--json"]).arg(&zstd61));
    let v: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(
        v["install_image"]["codec"]["codec"], "zstd",
        "{}",
        v["install_image"]
    );
    common::assert_verifies(&zstd61);

    let old = patch_kernel_version(&ws.join("iso/boot/vmlinuz"), "4.19.0+1");
    assert!(old.starts_with("6.1."), "fixture kernel {old}");
    let refused = tmp.path().join("zstd-4.19.iso");
    let o = run(xiso()
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .args(["pack", "--compress", "zstd"])
        .arg(&ws)
        .arg(&refused));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("4.19.0+1") && err.contains("zstd") && err.contains("vmlinuz"),
        "{err}"
    );
    assert!(!refused.exists(), "an output was written");
    assert_no_temp_files(tmp.path());
    assert!(
        !std::fs::read_dir(tmp.path())
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().contains("install-img")),
        "a temporary install.img was left behind"
    );

    let gzip = tmp.path().join("gzip-4.19.iso");
    pack(&ws, "gzip", &gzip);
    common::assert_verifies(&gzip);
}

/// An ISO whose install.img is zstd and whose kernel says 4.19 (made by xorriso
/// from the zstd ISO, replacing /boot/vmlinuz): `verify` reports an error naming
/// the codec and the kernel; the same ISO with the 6.1 kernel verifies.
#[test]
fn verify_reports_zstd_under_a_4_19_kernel() {
    require_tool("xorriso");
    let tmp = tmpdir("dom0-verify");
    let ws = tmp.path().join("ws");
    unpack(&ws);
    let zstd61 = tmp.path().join("zstd-6.1.iso");
    pack(&ws, "zstd", &zstd61);
    let kernel = tmp.path().join("vmlinuz-4.19");
    std::fs::copy(ws.join("iso/boot/vmlinuz"), &kernel).unwrap();
    patch_kernel_version(&kernel, "4.19.0+1");
    let bad = tmp.path().join("zstd-4.19.iso");
    ok_output(
        std::process::Command::new("xorriso")
            .arg("-indev")
            .arg(&zstd61)
            .arg("-outdev")
            .arg(&bad)
            .arg("-map")
            .arg(&kernel)
            .arg("/boot/vmlinuz")
            .args(["-boot_image", "any", "replay", "-commit"]),
    );
    let v = run(xiso().args(["verify", "--json"]).arg(&bad));
    assert_eq!(
        v.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&v.stdout)
    );
    let r: serde_json::Value = serde_json::from_slice(&v.stdout).unwrap();
    let f: Vec<&serde_json::Value> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "installer.codec")
        .collect();
    assert_eq!(f.len(), 1, "{r}");
    assert_eq!(f[0]["severity"], "error");
    let msg = f[0]["message"].as_str().unwrap();
    assert!(msg.contains("4.19.0+1") && msg.contains("zstd"), "{msg}");
    common::assert_verifies(&zstd61);
}
