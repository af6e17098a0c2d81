//! Oracle test: the hybrid layout computed by `xiso::boot::hybrid` must equal, byte for byte,
//! what Debian's `isohybrid` (syslinux-utils 6.04) writes into a genisoimage-made image.
//!
//! isohybrid's only randomness is the disk id (`rand()`) and the three GUIDs
//! (`uuid_generate`); they are read back from its output and fed to the generator, so every
//! other byte, CRCs included, is compared.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use xiso::boot::hybrid::{
    isohybrid_uefi, EfiBootImage, HybridIds, HybridParams, MBR_BOOT_CODE_LEN,
};

fn tool(name: &str) -> PathBuf {
    for dir in ["/usr/bin", "/usr/sbin", "/bin", "/sbin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!("`{name}` is required for this oracle test (apt-get install genisoimage syslinux-utils isolinux syslinux-common dosfstools)");
}

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A minimal XCP-ng-like tree: isolinux.bin + ldlinux.c32, an `efiboot.img` FAT image of
/// `efi_kib` KiB, and an optional filler file to steer the image size.
fn make_tree(dir: &Path, efi_kib: u32, filler: usize) -> PathBuf {
    let tree = dir.join("tree");
    let _ = fs::remove_dir_all(&tree);
    fs::create_dir_all(tree.join("boot/isolinux")).unwrap();
    fs::copy(
        "/usr/lib/ISOLINUX/isolinux.bin",
        tree.join("boot/isolinux/isolinux.bin"),
    )
    .expect("/usr/lib/ISOLINUX/isolinux.bin (package isolinux)");
    fs::copy(
        "/usr/lib/syslinux/modules/bios/ldlinux.c32",
        tree.join("boot/isolinux/ldlinux.c32"),
    )
    .expect("/usr/lib/syslinux/modules/bios/ldlinux.c32 (package syslinux-common)");
    run(Command::new(tool("mkfs.fat"))
        .arg("-C")
        .arg(tree.join("boot/efiboot.img"))
        .arg(efi_kib.to_string()));
    if filler > 0 {
        fs::write(tree.join("filler.bin"), vec![0x5Au8; filler]).unwrap();
    }
    tree
}

fn genisoimage(tree: &Path, out: &Path) {
    run(Command::new(tool("genisoimage"))
        .args(["-quiet", "-r", "-J", "-c", "boot/isolinux/boot.cat"])
        .args(["-b", "boot/isolinux/isolinux.bin", "-no-emul-boot"])
        .args([
            "-boot-load-size",
            "4",
            "-boot-info-table",
            "-eltorito-alt-boot",
        ])
        .args(["-e", "boot/efiboot.img", "-no-emul-boot", "-o"])
        .arg(out)
        .arg(tree));
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// What the writer knows about the image: PVD volume size and the El Torito catalog.
struct Catalog {
    iso_sectors: u64,
    bios_lba: u32,
    efi: EfiBootImage,
}

fn read_catalog(iso: &[u8]) -> Catalog {
    // ECMA-119 8.4.8: volume space size at PVD byte 80.
    let pvd = &iso[16 * 2048..17 * 2048];
    assert_eq!(&pvd[1..6], b"CD001");
    let iso_sectors = u64::from(le32(pvd, 80));
    // El Torito boot record volume descriptor at sector 17: catalog LBA at byte 0x47.
    let brvd = &iso[17 * 2048..18 * 2048];
    assert_eq!(&brvd[7..30], b"EL TORITO SPECIFICATION");
    let cat = le32(brvd, 0x47) as usize * 2048;
    let cat = &iso[cat..cat + 2048];
    // Validation entry (32) | default entry (32) | section header (32) | section entry.
    assert_eq!(cat[0], 1);
    assert_eq!(cat[32], 0x88);
    let bios_lba = le32(cat, 32 + 8);
    assert_eq!(cat[64 + 1], 0xEF, "second section is EFI");
    let efi = EfiBootImage {
        lba: le32(cat, 96 + 8),
        sectors: u16::from_le_bytes([cat[96 + 6], cat[96 + 7]]),
    };
    Catalog {
        iso_sectors,
        bios_lba,
        efi,
    }
}

/// Build an image, run `isohybrid [--uefi]` on one copy, reproduce it on the other.
/// Returns (unpadded length, padded length) for the caller's size assertions.
fn check_against_isohybrid(name: &str, efi_kib: u32, filler: usize, uefi: bool) -> (u64, u64) {
    let tmp = tempfile::tempdir().unwrap();
    let tree = make_tree(tmp.path(), efi_kib, filler);
    let a = tmp.path().join(format!("{name}-a.iso"));
    let b = tmp.path().join(format!("{name}-b.iso"));
    genisoimage(&tree, &a);
    fs::copy(&a, &b).unwrap();
    let mut cmd = Command::new(tool("isohybrid"));
    if uefi {
        cmd.arg("--uefi");
    }
    run(cmd.arg(&a));

    let a_bytes = fs::read(&a).unwrap();
    let b_bytes = fs::read(&b).unwrap();
    let cat = read_catalog(&b_bytes);

    // isohybrid's random ids, taken from its output.
    let mut ids = HybridIds {
        disk_id: le32(&a_bytes, 440),
        disk_guid: [0; 16],
        iso_part_guid: [0; 16],
        efi_part_guid: [0; 16],
    };
    if uefi {
        ids.disk_guid.copy_from_slice(&a_bytes[512 + 56..512 + 72]);
        ids.iso_part_guid
            .copy_from_slice(&a_bytes[1024 + 16..1024 + 32]);
        ids.efi_part_guid
            .copy_from_slice(&a_bytes[1024 + 128 + 16..1024 + 128 + 32]);
    }
    // The boot code is reused from the hybrid image, as xiso reuses the source's.
    let mut boot_code = [0u8; MBR_BOOT_CODE_LEN];
    boot_code.copy_from_slice(&a_bytes[..MBR_BOOT_CODE_LEN]);

    let params = HybridParams {
        boot_code,
        iso_sectors: cat.iso_sectors,
        image_len: b_bytes.len() as u64,
        bios_boot_lba: cat.bios_lba,
        efi_image: uefi.then_some(cat.efi),
        ids,
        mac: false,
    };
    let layout = isohybrid_uefi(&params).unwrap();
    let mut f = fs::OpenOptions::new().write(true).open(&b).unwrap();
    layout.apply_to_file(&mut f).unwrap();
    drop(f);

    let ours = fs::read(&b).unwrap();
    assert_eq!(ours.len(), a_bytes.len(), "{name}: padded length");
    if let Some(i) = ours.iter().zip(&a_bytes).position(|(x, y)| x != y) {
        panic!(
            "{name}: first difference at byte {i} (0x{i:x}): ours {:02x}, isohybrid {:02x}",
            ours[i], a_bytes[i]
        );
    }
    (b_bytes.len() as u64, layout.padded_len)
}

#[test]
fn uefi_small_efi_image_matches_isohybrid() {
    let (len, padded) = check_against_isohybrid("small", 1440, 0, true);
    assert_ne!(len % (1 << 20), 0);
    assert_eq!(padded % (1 << 20), 0);
}

#[test]
fn uefi_large_efi_image_odd_size_matches_isohybrid() {
    // 2.88 MB EFI image plus a filler so the volume is far from a MiB boundary.
    let (len, padded) = check_against_isohybrid("large", 2880, 700_000 + 2048 * 7, true);
    assert_ne!(len % (1 << 20), 0);
    assert_eq!(padded, len.next_multiple_of(1 << 20));
}

#[test]
fn uefi_image_of_whole_mib_gets_extra_mib_like_isohybrid() {
    // Find a filler that makes the image an exact number of MiB: no room for the backup
    // GPT, so isohybrid adds a MiB after sizing the MBR partition.
    let tmp = tempfile::tempdir().unwrap();
    let probe = tmp.path().join("probe.iso");
    let mut filler = 1usize << 20;
    for _ in 0..4 {
        let tree = make_tree(tmp.path(), 1440, filler);
        genisoimage(&tree, &probe);
        let len = fs::metadata(&probe).unwrap().len();
        let short = len.next_multiple_of(1 << 20) - len;
        if short == 0 {
            break;
        }
        filler += short as usize;
    }
    let (len, padded) = check_against_isohybrid("whole", 1440, filler, true);
    assert_eq!(
        len % (1 << 20),
        0,
        "filler search did not reach a MiB boundary"
    );
    assert_eq!(padded, len + (1 << 20));
}

#[test]
fn bios_only_matches_plain_isohybrid() {
    let (len, padded) = check_against_isohybrid("bios", 1440, 0, false);
    assert_eq!(padded, len.next_multiple_of(1 << 20));
}
