//! Foreign hybrid ISOs shipped by Debian packages (DESIGN.md §4): ipxe's `ipxe.iso`
//! (isohybrid without an EFI partition), grub-rescue-pc's `grub-rescue-cdrom.iso`
//! (grub-mkrescue) and memtest86+'s ISO (floppy-emulation BIOS entry, EFI image as an
//! appended partition outside the file tree). Catalog and system area must match xorriso.
//!
//! These need packages the fixtures do not: run with
//! `apt-get install ipxe grub-rescue-pc memtest86+` and `cargo test -- --ignored`.

#[path = "common/boot_fixtures.rs"]
mod boot_fixtures;
#[path = "common/boot_oracle.rs"]
mod boot_oracle;
#[path = "common/xorriso_report.rs"]
mod xorriso_report;

use std::path::Path;

use boot_oracle::{assert_boot_pointer_agrees, assert_catalog_agrees, assert_sysarea_agrees};
use xiso::boot::sysarea::{read_system_area, BootPointer, SystemArea};
use xiso::iso::eltorito::{BootCatalog, Media};
use xiso::source::Source;
use xorriso_report::XorrisoReport;

fn check(path: &str, package: &str) -> (BootCatalog, SystemArea, XorrisoReport) {
    let iso = Path::new(path);
    assert!(
        iso.is_file(),
        "{path} is missing: apt-get install {package}"
    );
    let (_src, cat, x) = assert_catalog_agrees(iso);
    let sa = read_system_area(&Source::open(iso).expect("open")).expect("system area");
    assert_sysarea_agrees(&sa, &x);
    assert_boot_pointer_agrees(&sa, &cat, &x);
    (cat, sa, x)
}

#[test]
#[ignore = "needs the Debian package ipxe"]
fn ipxe_iso_matches_xorriso() {
    let (cat, sa, _) = check("/usr/lib/ipxe/ipxe.iso", "ipxe");
    assert!(cat.bios_entry().is_some());
    assert_eq!(sa.boot_pointer(&cat), Some(BootPointer::Isohybrid));
}

#[test]
#[ignore = "needs the Debian package grub-rescue-pc"]
fn grub_rescue_iso_matches_xorriso() {
    let (cat, sa, _) = check(
        "/usr/lib/grub-rescue/grub-rescue-cdrom.iso",
        "grub-rescue-pc",
    );
    assert_eq!(sa.boot_pointer(&cat), Some(BootPointer::Grub2));
}

#[test]
#[ignore = "needs the Debian package memtest86+"]
fn memtest_iso_matches_xorriso() {
    let (cat, sa, x) = check("/usr/lib/memtest86+/memtest86+x64.iso", "memtest86+");
    let bios = cat.bios_entry().expect("BIOS entry");
    assert_eq!(bios.media, Media::Floppy144);
    assert_eq!(sa.boot_pointer(&cat), Some(BootPointer::Grub2));
    // The EFI image is appended after the ISO, outside the file tree: xorriso names no
    // path for it, and MBR partition 2 (type 0xEF) starts exactly there.
    let efi = cat.efi_entry().expect("EFI entry");
    let xi = &x.boot_images[1];
    assert_eq!((xi.lba, xi.path.as_deref()), (efi.load_lba, None));
    let cover = sa.partitions_for(efi);
    assert_eq!((cover.mbr, cover.gpt), (Some(2), None));
    assert_eq!(
        sa.mbr.as_ref().expect("MBR").partitions[1].partition_type,
        0xEF
    );
}
