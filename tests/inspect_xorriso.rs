//! `xiso inspect` against `xorriso -report_el_torito plain -report_system_area plain`
//! on the XCP-ng-shaped fixtures and on foreign hybrid ISOs shipped by Debian
//! packages (DESIGN.md §4): ipxe's `ipxe.iso` (isohybrid without an EFI partition),
//! grub-rescue-pc's `grub-rescue-cdrom.iso` (grub-mkrescue) and memtest86+'s ISO
//! (floppy-emulation BIOS entry, EFI image appended outside the file tree).
//! All are built or fetched by scripts/make-fixtures.sh.

#[path = "common/boot_fixtures.rs"]
mod boot_fixtures;
#[path = "common/boot_oracle.rs"]
mod boot_oracle;
mod common;
#[path = "common/xorriso_report.rs"]
mod xorriso_report;

use boot_oracle::{assert_boot_pointer_agrees, assert_catalog_agrees, assert_sysarea_agrees};
use xiso::boot::sysarea::{read_system_area, BootPointer, SystemArea};
use xiso::iso::eltorito::{BootCatalog, Media};
use xiso::source::Source;
use xorriso_report::XorrisoReport;

/// Library structs agree with xorriso, and the CLI's JSON report carries the same facts.
fn check(rel: &str) -> (BootCatalog, SystemArea, XorrisoReport) {
    let iso = common::fixture(rel);
    let (_src, cat, x) = assert_catalog_agrees(&iso);
    let sa = read_system_area(&Source::open(&iso).expect("open")).expect("system area");
    assert_sysarea_agrees(&sa, &x);
    assert_boot_pointer_agrees(&sa, &cat, &x);

    let out = common::run(common::xiso().arg("inspect").arg("--json").arg(&iso));
    assert!(
        out.status.success(),
        "inspect failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("inspect --json is JSON");
    let entries = json["el_torito"]["entries"]
        .as_array()
        .expect("el_torito.entries");
    assert_eq!(
        entries.len(),
        x.boot_images.len(),
        "{rel}: entry count vs xorriso"
    );
    for (e, xi) in entries.iter().zip(&x.boot_images) {
        assert_eq!(
            e["load_lba"].as_u64(),
            Some(u64::from(xi.lba)),
            "{rel}: LBA vs xorriso"
        );
        assert_eq!(
            e["sector_count"].as_u64(),
            Some(u64::from(xi.load_size)),
            "{rel}: load size vs xorriso"
        );
        let file = e["file"].as_str();
        assert_eq!(file, xi.path.as_deref(), "{rel}: boot file vs xorriso");
    }
    let parts = json["system_area"]["mbr"]["partitions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let used: Vec<_> = parts
        .iter()
        .filter(|p| p["sector_count"].as_u64() != Some(0))
        .collect();
    assert_eq!(
        used.len(),
        x.mbr_partitions.len(),
        "{rel}: MBR partitions vs xorriso"
    );
    (cat, sa, x)
}

#[test]
fn genisoimage_isohybrid_fixture_matches_xorriso() {
    let (cat, sa, _) = check("genisoimage.iso");
    assert_eq!(sa.boot_pointer(&cat), Some(BootPointer::Isohybrid));
    assert!(cat.efi_entry().is_some() && sa.gpt.is_some());
}

#[test]
fn xorriso_gpt_basdat_fixture_matches_xorriso() {
    let (cat, sa, _) = check("xorriso.iso");
    assert_eq!(sa.boot_pointer(&cat), Some(BootPointer::Isohybrid));
    assert!(cat.efi_entry().is_some() && sa.gpt.is_some());
}

#[test]
fn ipxe_iso_matches_xorriso() {
    let (cat, sa, _) = check("debian/ipxe.iso");
    assert!(cat.bios_entry().is_some());
    assert_eq!(sa.boot_pointer(&cat), Some(BootPointer::Isohybrid));
}

#[test]
fn grub_rescue_iso_matches_xorriso() {
    let (cat, sa, _) = check("debian/grub-rescue-cdrom.iso");
    assert_eq!(sa.boot_pointer(&cat), Some(BootPointer::Grub2));
}

#[test]
fn memtest_iso_matches_xorriso() {
    let (cat, sa, x) = check("debian/memtest86+x64.iso");
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
