//! El Torito catalog reading checked against xorriso's `-report_el_torito plain`, on ISOs
//! built in the test by genisoimage (+ isohybrid) and xorriso.

#[path = "common/boot_fixtures.rs"]
mod boot_fixtures;
#[path = "common/boot_oracle.rs"]
mod boot_oracle;
#[path = "common/xorriso_report.rs"]
mod xorriso_report;

use std::path::Path;

use boot_oracle::{assert_catalog_agrees, hex, read_catalog};
use xiso::iso::eltorito::{
    parse_boot_record, read_boot_catalog, write_boot_catalog, BootCatalog, ElToritoEntry, Media,
    Platform,
};
use xiso::source::{Source, SECTOR};
use xiso::ErrorKind;

fn entries_without_offsets(entries: &[ElToritoEntry]) -> Vec<ElToritoEntry> {
    entries
        .iter()
        .cloned()
        .map(|mut e| {
            e.catalog_offset = 0;
            e
        })
        .collect()
}

/// Writing the parsed entries back must give the same sector (genisoimage and xorriso
/// leave section id strings empty in these layouts).
fn assert_round_trip_identical(src: &Source, cat: &BootCatalog) {
    let written =
        write_boot_catalog(&cat.entries, cat.validation_platform, &cat.id).expect("write catalog");
    let original = src
        .read_sector(cat.lba, "catalog")
        .expect("read catalog sector");
    assert_eq!(
        hex(&written),
        hex(&original),
        "rewritten catalog differs from the original"
    );
    assert_faithful(src, cat);
}

/// `BootCatalog::to_sector` reproduces the catalog byte for byte, section ids included.
fn assert_faithful(src: &Source, cat: &BootCatalog) {
    let original = src
        .read_sector(cat.lba, "catalog")
        .expect("read catalog sector");
    let written = cat.to_sector().expect("to_sector");
    assert_eq!(
        hex(&written),
        hex(&original),
        "to_sector differs from the original"
    );
}

#[test]
fn genisoimage_isohybrid_catalog_matches_xorriso() {
    let dir = tempfile::tempdir().expect("tempdir");
    let iso = boot_fixtures::genisoimage_isohybrid(dir.path());
    let (src, cat, x) = assert_catalog_agrees(&iso);
    // XCP-ng's layout: isolinux default entry + one final UEFI section.
    assert_eq!(cat.entries.len(), 2);
    let bios = cat.bios_entry().expect("BIOS entry");
    assert_eq!(bios.sector_count, 4);
    assert_eq!(bios.load_size_bytes(), 2048);
    let efi = cat.efi_entry().expect("EFI entry");
    assert_eq!(efi.image_size_bytes(), 1_474_560, "efiboot.img is 1.44 MB");
    assert_eq!(cat.sections.len(), 1);
    assert!(cat.sections[0].final_header);
    assert_eq!(
        x.boot_images[0].path.as_deref(),
        Some("/boot/isolinux/isolinux.bin")
    );
    assert_eq!(x.boot_images[1].path.as_deref(), Some("/boot/efiboot.img"));
    assert_round_trip_identical(&src, &cat);
}

#[test]
fn xorriso_gpt_basdat_catalog_matches_xorriso() {
    let dir = tempfile::tempdir().expect("tempdir");
    let iso = boot_fixtures::xorriso_gpt_basdat(dir.path(), false);
    let (src, cat, _) = assert_catalog_agrees(&iso);
    assert_eq!(cat.entries.len(), 2);
    assert_round_trip_identical(&src, &cat);
}

#[test]
fn many_sections_match_xorriso_and_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let iso = boot_fixtures::xorriso_many_entries(dir.path());
    let (src, cat, x) = assert_catalog_agrees(&iso);
    assert_faithful(&src, &cat);
    assert_eq!(cat.entries.len(), 4);
    assert_eq!(cat.id, "XCPTESTCATALOG", "validation entry id string");
    let floppy = &cat.entries[1];
    assert_eq!(floppy.media, Media::Floppy144);
    assert_eq!(floppy.image_size_bytes(), 1_474_560);
    assert_eq!(floppy.selection_criteria_type, 0x01);
    assert_eq!(
        hex(&floppy.selection_criteria),
        "112233445566778899aabbccddeeff00112233"
    );
    let hd = &cat.entries[3];
    assert_eq!(
        (hd.platform, hd.media, hd.system_type),
        (Platform::PowerPC, Media::HardDisk, 0x83)
    );
    assert_eq!(x.boot_images[3].hdsiz512, Some(81));
    // Sections: BIOS floppy, UEFI "EFISECTION", PPC (final).
    let platforms: Vec<Platform> = cat.sections.iter().map(|s| s.platform).collect();
    assert_eq!(platforms, [Platform::X86, Platform::Efi, Platform::PowerPC]);
    assert_eq!(cat.sections[1].id, "EFISECTION");
    assert_eq!(
        cat.sections
            .iter()
            .map(|s| s.final_header)
            .collect::<Vec<_>>(),
        [false, false, true]
    );
    assert_eq!(
        cat.entries.iter().map(|e| e.section).collect::<Vec<_>>(),
        [None, Some(0), Some(1), Some(2)]
    );

    // write → read gives the same entries.
    let sector = write_boot_catalog(&cat.entries, cat.validation_platform, &cat.id).expect("write");
    let file = dir.path().join("catalog.bin");
    std::fs::write(&file, sector).expect("write catalog file");
    let again = read_boot_catalog(&Source::open(&file).expect("open"), 0).expect("re-read");
    assert_eq!(
        entries_without_offsets(&again.entries),
        entries_without_offsets(&cat.entries)
    );
    assert_eq!(again.id, cat.id);
}

#[test]
fn selection_criteria_longer_than_an_entry_use_extension_entries() {
    let mut default = ElToritoEntry::no_emulation(Platform::X86, 40, 4);
    default.load_segment = 0x7c0;
    let mut efi = ElToritoEntry::no_emulation(Platform::Efi, 50, 2880);
    efi.selection_criteria_type = 1;
    efi.selection_criteria = (0u8..70).collect(); // 19 in the entry + 2 extensions
    efi.section = Some(0);
    let mut efi2 = ElToritoEntry::no_emulation(Platform::Efi, 60, 0);
    efi2.bootable = false;
    efi2.section = Some(0);
    let sector = write_boot_catalog(
        &[default.clone(), efi.clone(), efi2.clone()],
        Platform::X86,
        "xiso",
    )
    .expect("write");
    assert_eq!(sector[0x40], 0x91, "one final section");
    assert_eq!(sector[0x42], 2, "extension entries are not counted");
    assert_eq!(sector[0x61] & 0x20, 0x20, "entry announces an extension");
    assert_eq!(
        (sector[0x80], sector[0x81]),
        (0x44, 0x20),
        "first extension, more follow"
    );
    assert_eq!((sector[0xA0], sector[0xA1]), (0x44, 0x00), "last extension");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("catalog.bin");
    std::fs::write(&file, sector).expect("write");
    let cat = read_boot_catalog(&Source::open(&file).expect("open"), 0).expect("read");
    assert_eq!(cat.entries.len(), 3);
    assert_eq!(cat.entries[0].load_segment, 0x7c0);
    let mut expect_crit: Vec<u8> = (0u8..70).collect();
    expect_crit.resize(19 + 2 * 30, 0);
    assert_eq!(cat.entries[1].selection_criteria, expect_crit);
    assert_eq!(cat.entries[1].media_flags, 0x20);
    assert!(!cat.entries[2].bootable);
    assert_eq!(cat.entries[2].catalog_offset, 0xC0);
    assert_eq!(cat.id, "xiso");
}

fn catalog_file(dir: &Path, sector: &[u8]) -> Source {
    let file = dir.join("bad.bin");
    let mut bytes = vec![0u8; 3 * SECTOR as usize];
    bytes[2 * SECTOR as usize..].copy_from_slice(sector);
    std::fs::write(&file, bytes).expect("write");
    Source::open(&file).expect("open")
}

#[test]
fn bad_validation_checksum_is_corrupt_at_its_offset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut sector = write_boot_catalog(
        &[ElToritoEntry::no_emulation(Platform::X86, 30, 4)],
        Platform::X86,
        "",
    )
    .expect("write");
    sector[28] ^= 1;
    let err = read_boot_catalog(&catalog_file(dir.path(), &sector), 2).expect_err("bad checksum");
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert_eq!(err.offset(), Some(2 * SECTOR + 28), "{err}");
    assert_eq!(
        err.file(),
        Some(dir.path().join("bad.bin").as_path()),
        "{err}"
    );
    assert!(err.to_string().contains("checksum"), "{err}");
}

#[test]
fn bad_key_bytes_are_corrupt_at_their_offset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut sector = write_boot_catalog(
        &[ElToritoEntry::no_emulation(Platform::X86, 30, 4)],
        Platform::X86,
        "",
    )
    .expect("write");
    sector[31] = 0xAB;
    let err = read_boot_catalog(&catalog_file(dir.path(), &sector), 2).expect_err("bad key");
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert_eq!(err.offset(), Some(2 * SECTOR + 30), "{err}");
}

#[test]
fn unknown_header_indicator_and_truncation_are_corrupt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut sector = write_boot_catalog(
        &[ElToritoEntry::no_emulation(Platform::X86, 30, 4)],
        Platform::X86,
        "",
    )
    .expect("write");
    sector[64] = 0x77;
    let err = read_boot_catalog(&catalog_file(dir.path(), &sector), 2).expect_err("bad header");
    assert_eq!(err.offset(), Some(2 * SECTOR + 64), "{err}");

    // A section declaring more entries than the file holds: error at the end, no panic.
    sector[64] = 0x91;
    sector[66..68].copy_from_slice(&u16::MAX.to_le_bytes());
    for slot in (96..SECTOR as usize).step_by(32) {
        sector[slot] = 0x88;
    }
    let err = read_boot_catalog(&catalog_file(dir.path(), &sector), 2).expect_err("truncated");
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert_eq!(err.offset(), Some(3 * SECTOR), "{err}");
}

#[test]
fn catalog_is_bounded_to_64_sectors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("huge.bin");
    let mut bytes = vec![0u8; 70 * SECTOR as usize];
    let first = write_boot_catalog(
        &[ElToritoEntry::no_emulation(Platform::X86, 30, 4)],
        Platform::X86,
        "",
    )
    .expect("write");
    bytes[..SECTOR as usize].copy_from_slice(&first);
    bytes[64] = 0x91;
    bytes[66..68].copy_from_slice(&u16::MAX.to_le_bytes());
    for slot in (96..bytes.len()).step_by(32) {
        bytes[slot] = 0x88;
    }
    std::fs::write(&file, bytes).expect("write");
    let err = read_boot_catalog(&Source::open(&file).expect("open"), 0).expect_err("unbounded");
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert_eq!(err.offset(), Some(64 * SECTOR), "{err}");
}

#[test]
fn boot_record_of_another_system_is_none() {
    let mut vd = [0u8; 2048];
    vd[1..6].copy_from_slice(b"CD001");
    vd[6] = 1;
    vd[7..23].copy_from_slice(b"SOMETHING ELSE  ");
    assert_eq!(parse_boot_record(&vd, 17 * SECTOR).expect("valid VD"), None);
    vd[7..30].copy_from_slice(b"EL TORITO SPECIFICATION");
    vd[23..39].fill(0);
    vd[7..30].copy_from_slice(b"EL TORITO SPECIFICATION");
    vd[71..75].copy_from_slice(&33u32.to_le_bytes());
    assert_eq!(
        parse_boot_record(&vd, 17 * SECTOR).expect("valid VD"),
        Some(33)
    );
    vd[0] = 1;
    let err = parse_boot_record(&vd, 17 * SECTOR).expect_err("PVD is no boot record");
    assert_eq!(err.offset(), Some(17 * SECTOR));
    let err = parse_boot_record(&vd[..40], 0).expect_err("short");
    assert_eq!(err.kind(), ErrorKind::Corrupt);
}

#[test]
fn to_sector_moves_images_and_drops_emptied_sections() {
    let dir = tempfile::tempdir().expect("tempdir");
    let iso = boot_fixtures::xorriso_many_entries(dir.path());
    let (_src, mut cat) = read_catalog(&iso);
    // Move the EFI image and drop the PPC entry: the UEFI section becomes the final one.
    cat.entries[2].load_lba = 4000;
    cat.entries.pop();
    let sector = cat.to_sector().expect("to_sector");
    let file = dir.path().join("edited.bin");
    std::fs::write(&file, sector).expect("write");
    let again = read_boot_catalog(&Source::open(&file).expect("open"), 0).expect("re-read");
    assert_eq!(again.entries.len(), 3);
    assert_eq!(again.efi_entry().map(|e| e.load_lba), Some(4000));
    assert_eq!(again.sections.len(), 2);
    assert!(again.sections[1].final_header);
    assert_eq!(again.sections[1].id, "EFISECTION");

    cat.entries[1].section = Some(9);
    assert!(
        cat.to_sector().is_err(),
        "an entry naming a missing section"
    );
}
