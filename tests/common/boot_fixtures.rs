//! Fixture ISOs built the way XCP-ng builds them, with the real tools.
//!
//! Every builder fails loudly when a tool is missing: an oracle test that silently
//! skips proves nothing.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// isolinux from Debian's `isolinux` package.
pub const ISOLINUX_BIN: &str = "/usr/lib/ISOLINUX/isolinux.bin";
/// The isohybrid MBR template from the same package.
pub const ISOHDPFX_BIN: &str = "/usr/lib/ISOLINUX/isohdpfx.bin";
/// ldlinux.c32 from `syslinux-common`.
pub const LDLINUX_C32: &str = "/usr/lib/syslinux/modules/bios/ldlinux.c32";

/// Run a tool; panic with its name, arguments and stderr when it cannot run or fails.
pub fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap_or_else(|e| {
        panic!(
            "cannot run `{program}` ({e}): this test needs it \
             (Debian: apt-get install xorriso genisoimage syslinux-utils isolinux syslinux-common mtools)"
        )
    });
    assert!(
        out.status.success(),
        "`{program} {}` failed with {}:\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    text
}

fn require_file(path: &str) {
    assert!(
        Path::new(path).is_file(),
        "{path} is missing: this test needs Debian's isolinux and syslinux-common packages"
    );
}

fn s(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

/// A small installer-like tree: boot/isolinux/{isolinux.bin,ldlinux.c32,isolinux.cfg}
/// and boot/efiboot.img, a 1.44 MB FAT image holding EFI/BOOT/BOOTX64.EFI.
pub fn make_tree(dir: &Path) -> PathBuf {
    require_file(ISOLINUX_BIN);
    require_file(LDLINUX_C32);
    let tree = dir.join("tree");
    let isolinux = tree.join("boot/isolinux");
    std::fs::create_dir_all(&isolinux).expect("create fixture tree");
    std::fs::copy(ISOLINUX_BIN, isolinux.join("isolinux.bin")).expect("copy isolinux.bin");
    std::fs::copy(LDLINUX_C32, isolinux.join("ldlinux.c32")).expect("copy ldlinux.c32");
    std::fs::write(
        isolinux.join("isolinux.cfg"),
        "default xen\nlabel xen\n  kernel mboot.c32\n",
    )
    .expect("write isolinux.cfg");
    let img = tree.join("boot/efiboot.img");
    run("mformat", &["-i", s(&img), "-C", "-f", "1440", "::"]);
    run("mmd", &["-i", s(&img), "::/EFI", "::/EFI/BOOT"]);
    let efi = dir.join("BOOTX64.EFI");
    std::fs::write(&efi, b"MZ not really a PE image").expect("write BOOTX64.EFI");
    run(
        "mcopy",
        &["-i", s(&img), s(&efi), "::/EFI/BOOT/BOOTX64.EFI"],
    );
    tree
}

/// XCP-ng's recipe: `genisoimage … -eltorito-alt-boot -e boot/efiboot.img` + `isohybrid --uefi`.
pub fn genisoimage_isohybrid(dir: &Path) -> PathBuf {
    let tree = make_tree(dir);
    let iso = dir.join("genisoimage-isohybrid.iso");
    run(
        "genisoimage",
        &[
            "-quiet",
            "-r",
            "-J",
            "--joliet-long",
            "-V",
            "XCPTEST",
            "-c",
            "boot/isolinux/boot.cat",
            "-b",
            "boot/isolinux/isolinux.bin",
            "-no-emul-boot",
            "-boot-load-size",
            "4",
            "-boot-info-table",
            "-eltorito-alt-boot",
            "-e",
            "boot/efiboot.img",
            "-no-emul-boot",
            "-o",
            s(&iso),
            s(&tree),
        ],
    );
    run("isohybrid", &["--uefi", s(&iso)]);
    iso
}

/// The same ISO from genisoimage alone: El Torito, no system area.
pub fn genisoimage_plain(dir: &Path, boot_info_table: bool) -> PathBuf {
    let tree = make_tree(dir);
    let iso = dir.join("genisoimage-plain.iso");
    let mut args = vec![
        "-quiet",
        "-r",
        "-J",
        "-V",
        "XCPTEST",
        "-c",
        "boot/isolinux/boot.cat",
        "-b",
        "boot/isolinux/isolinux.bin",
        "-no-emul-boot",
        "-boot-load-size",
        "4",
    ];
    if boot_info_table {
        args.push("-boot-info-table");
    }
    args.extend(["-o", s(&iso), s(&tree)]);
    run("genisoimage", &args);
    iso
}

/// `xorriso -as mkisofs … -isohybrid-mbr isohdpfx.bin -isohybrid-gpt-basdat`, optionally
/// with `-isohybrid-apm-hfsplus`.
pub fn xorriso_gpt_basdat(dir: &Path, apm: bool) -> PathBuf {
    require_file(ISOHDPFX_BIN);
    let tree = make_tree(dir);
    let iso = dir.join(if apm {
        "xorriso-apm.iso"
    } else {
        "xorriso-basdat.iso"
    });
    let mut args = vec![
        "-as",
        "mkisofs",
        "-quiet",
        "-r",
        "-J",
        "-V",
        "XCPTEST",
        "-c",
        "boot/isolinux/boot.cat",
        "-b",
        "boot/isolinux/isolinux.bin",
        "-no-emul-boot",
        "-boot-load-size",
        "4",
        "-boot-info-table",
        "-isohybrid-mbr",
        ISOHDPFX_BIN,
        "-eltorito-alt-boot",
        "-e",
        "boot/efiboot.img",
        "-no-emul-boot",
        "-isohybrid-gpt-basdat",
    ];
    if apm {
        args.push("-isohybrid-apm-hfsplus");
    }
    args.extend(["-o", s(&iso), s(&tree)]);
    run("xorriso", &args);
    iso
}

/// A catalog with four sections' worth of variety, made with xorriso's native commands:
/// isolinux (no emulation, boot info table, validation id string), a 1.44 MB floppy
/// image with selection criteria, the EFI image in a section with an id string, and a
/// PowerPC hard-disk-emulation image.
pub fn xorriso_many_entries(dir: &Path) -> PathBuf {
    let tree = make_tree(dir);
    std::fs::write(tree.join("fd.img"), vec![0u8; 1_474_560]).expect("write fd.img");
    let mut hd = vec![0u8; 100 * 512];
    // One partition of type 0x83 over blocks 1..81, so xorriso reports hdsiz/512 = 81.
    hd[446..462].copy_from_slice(&[0x80, 0, 2, 0, 0x83, 0, 0x10, 0, 1, 0, 0, 0, 0x50, 0, 0, 0]);
    hd[510] = 0x55;
    hd[511] = 0xAA;
    std::fs::write(tree.join("hd.img"), hd).expect("write hd.img");
    let iso = dir.join("xorriso-many.iso");
    let map = format!("{}", tree.display());
    run(
        "xorriso",
        &[
            "-outdev",
            s(&iso),
            "-map",
            &map,
            "/",
            "-boot_image",
            "any",
            "bin_path=/boot/isolinux/isolinux.bin",
            "-boot_image",
            "any",
            "cat_path=/boot/boot.cat",
            "-boot_image",
            "any",
            "load_size=2048",
            "-boot_image",
            "any",
            "boot_info_table=on",
            "-boot_image",
            "any",
            "id_string=XCPTESTCATALOG",
            "-boot_image",
            "any",
            "next",
            "-boot_image",
            "any",
            "bin_path=/fd.img",
            "-boot_image",
            "any",
            "emul_type=diskette",
            "-boot_image",
            "any",
            "platform_id=0x00",
            "-boot_image",
            "any",
            "sel_crit=01112233445566778899aabbccddeeff00112233",
            "-boot_image",
            "any",
            "next",
            "-boot_image",
            "any",
            "efi_path=/boot/efiboot.img",
            "-boot_image",
            "any",
            "id_string=EFISECTION",
            "-boot_image",
            "any",
            "next",
            "-boot_image",
            "any",
            "bin_path=/hd.img",
            "-boot_image",
            "any",
            "emul_type=hard_disk",
            "-boot_image",
            "any",
            "platform_id=0x01",
        ],
    );
    iso
}
