//! System area reading (MBR, GPT, backup GPT, APM) checked against xorriso's
//! `-report_system_area plain`, on ISOs built by `isohybrid --uefi` and by xorriso.

#[path = "common/boot_fixtures.rs"]
mod boot_fixtures;
#[path = "common/boot_oracle.rs"]
mod boot_oracle;
#[path = "common/xorriso_report.rs"]
mod xorriso_report;

use std::path::{Path, PathBuf};

use boot_oracle::{assert_boot_pointer_agrees, assert_sysarea_agrees};
use xiso::boot::sysarea::{read_system_area, BootPointer, SystemArea, BASIC_DATA};
use xiso::iso::eltorito::{parse_boot_record, read_boot_catalog, BootCatalog};
use xiso::source::{Source, SECTOR};
use xiso::ErrorKind;
use xorriso_report::XorrisoReport;

fn read(iso: &Path) -> (SystemArea, BootCatalog) {
    let src = Source::open(iso).expect("open fixture");
    let sa = read_system_area(&src).expect("read system area");
    let vd = src.read_sector(17, "boot record").expect("LBA 17");
    let lba = parse_boot_record(&vd, 17 * SECTOR)
        .expect("boot record")
        .expect("El Torito");
    (sa, read_boot_catalog(&src, lba).expect("catalog"))
}

/// Facts both isohybrid layouts share: MBR points at isolinux.bin, partition 2 (MBR and
/// GPT) starts at efiboot.img, and a backup GPT where the primary says.
fn assert_isohybrid_uefi(sa: &SystemArea, cat: &BootCatalog, x: &XorrisoReport) {
    assert!(sa.problems.is_empty(), "problems: {:#?}", sa.problems);
    assert_eq!(sa.boot_pointer(cat), Some(BootPointer::Isohybrid));
    assert_boot_pointer_agrees(sa, cat, x);
    let mbr = sa.mbr.as_ref().expect("MBR");
    let bios = cat.bios_entry().expect("BIOS entry");
    assert_eq!(
        mbr.boot_pointer_block,
        bios.load_lba * 4,
        "MBR 432..436 points at isolinux.bin"
    );
    assert_eq!(mbr.boot_code.len(), 432);
    let efi = cat.efi_entry().expect("EFI entry");
    let cover = sa.partitions_for(efi);
    assert_eq!(
        (cover.mbr, cover.gpt),
        (Some(2), Some(2)),
        "efiboot.img partitions"
    );
    assert_eq!(
        x.mbr_partition_paths.get(&2).map(String::as_str),
        Some("/boot/efiboot.img")
    );
    assert_eq!(
        x.gpt_partitions[&2].path.as_deref(),
        Some("/boot/efiboot.img")
    );
    let gpt = sa.gpt.as_ref().expect("GPT");
    assert!(gpt.header.header_crc_ok && gpt.header.entries_crc_ok);
    assert!(gpt.partitions.iter().all(|p| p.type_guid == BASIC_DATA));
    let backup = gpt.backup.as_ref().expect("backup GPT");
    assert_eq!(backup.current_lba, gpt.header.backup_lba);
    assert_eq!(backup.backup_lba, 1);
    assert!(backup.header_crc_ok && backup.entries_crc_ok);
    assert_eq!(backup.disk_guid, gpt.header.disk_guid);
    assert!(x.gpt_backup_problems.is_none());
}

#[test]
fn isohybrid_uefi_matches_xorriso() {
    let dir = tempfile::tempdir().expect("tempdir");
    let iso = boot_fixtures::genisoimage_isohybrid(dir.path());
    let (sa, cat) = read(&iso);
    let x = XorrisoReport::of(&iso);
    assert_sysarea_agrees(&sa, &x);
    assert_isohybrid_uefi(&sa, &cat, &x);
    // isohybrid --uefi's own choices (DESIGN.md §2 "Boot replay").
    let mbr = sa.mbr.as_ref().expect("MBR");
    let p1 = &mbr.partitions[0];
    assert_eq!(
        (p1.status, p1.partition_type, p1.start_lba),
        (0x80, 0x00, 0)
    );
    assert_eq!(
        p1.sector_count % 2048,
        0,
        "partition 1 covers the image padded to 1 MiB"
    );
    assert_eq!(mbr.partitions[1].partition_type, 0xEF);
    let gpt = sa.gpt.as_ref().expect("GPT");
    assert_eq!((gpt.header.entries_lba, gpt.header.entry_count), (2, 128));
    let names: Vec<&str> = gpt.partitions.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["ISOHybrid ISO", "ISOHybrid"]);
    assert!(!sa.apm);
}

#[test]
fn xorriso_gpt_basdat_matches_xorriso() {
    let dir = tempfile::tempdir().expect("tempdir");
    let iso = boot_fixtures::xorriso_gpt_basdat(dir.path(), false);
    let (sa, cat) = read(&iso);
    let x = XorrisoReport::of(&iso);
    assert_sysarea_agrees(&sa, &x);
    assert_isohybrid_uefi(&sa, &cat, &x);
    assert!(!sa.apm);
}

#[test]
fn xorriso_apm_is_detected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let iso = boot_fixtures::xorriso_gpt_basdat(dir.path(), true);
    let (sa, cat) = read(&iso);
    let x = XorrisoReport::of(&iso);
    assert!(x.apm_present, "fixture should carry an APM");
    assert_sysarea_agrees(&sa, &x);
    assert_isohybrid_uefi(&sa, &cat, &x);
    assert!(sa.apm);
}

#[test]
fn plain_iso_has_no_system_area_tables() {
    let dir = tempfile::tempdir().expect("tempdir");
    let iso = boot_fixtures::genisoimage_plain(dir.path(), true);
    let (sa, cat) = read(&iso);
    let x = XorrisoReport::of(&iso);
    assert_sysarea_agrees(&sa, &x);
    assert_boot_pointer_agrees(&sa, &cat, &x);
    assert_eq!(sa.mbr, None);
    assert_eq!(sa.gpt, None);
    assert_eq!(sa.boot_pointer(&cat), None);
    assert!(
        x.system_area_summary.is_none(),
        "xorriso sees no system area"
    );
}

fn copy_with(dir: &Path, iso: &Path, name: &str, edit: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    let mut bytes = std::fs::read(iso).expect("read fixture");
    edit(&mut bytes);
    let out = dir.join(name);
    std::fs::write(&out, bytes).expect("write damaged copy");
    out
}

#[test]
fn truncated_image_reports_missing_backup_like_xorriso() {
    let dir = tempfile::tempdir().expect("tempdir");
    let iso = boot_fixtures::genisoimage_isohybrid(dir.path());
    let cut = copy_with(dir.path(), &iso, "truncated.iso", |b| {
        b.truncate(b.len() - 4096)
    });
    let (sa, _) = read(&cut);
    let x = XorrisoReport::of(&cut);
    assert_sysarea_agrees(&sa, &x);
    assert!(x.gpt_backup_problems.is_some(), "xorriso flags the backup");
    let gpt = sa.gpt.as_ref().expect("primary GPT still read");
    assert_eq!(gpt.backup, None);
    assert!(
        sa.problems
            .iter()
            .any(|p| p.contains("backup GPT header") && p.contains("missing")),
        "{:#?}",
        sa.problems
    );
    assert!(
        sa.problems.iter().any(|p| p.contains("MBR partition 1")),
        "{:#?}",
        sa.problems
    );
}

#[test]
fn bad_header_crc_is_a_problem_not_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let iso = boot_fixtures::genisoimage_isohybrid(dir.path());
    let bad = copy_with(dir.path(), &iso, "badcrc.iso", |b| b[512 + 60] ^= 0xFF);
    let (sa, _) = read(&bad);
    let x = XorrisoReport::of(&bad);
    // xorriso drops a GPT whose header CRC is wrong; we keep it and say why.
    assert!(!x.gpt_present);
    let gpt = sa.gpt.as_ref().expect("GPT kept");
    assert!(!gpt.header.header_crc_ok);
    assert!(
        sa.problems.iter().any(|p| p.contains("header CRC32")),
        "{:#?}",
        sa.problems
    );
    assert!(
        sa.problems
            .iter()
            .any(|p| p.contains("disagrees with the primary")),
        "{:#?}",
        sa.problems
    );
}

#[test]
fn bad_entry_array_crc_matches_xorriso() {
    let dir = tempfile::tempdir().expect("tempdir");
    let iso = boot_fixtures::genisoimage_isohybrid(dir.path());
    // Byte 200 of the array is in entry 2's name: "ISOHybrid" becomes "ISOHybri\u{1}".
    let bad = copy_with(dir.path(), &iso, "badarray.iso", |b| b[1024 + 200] = 1);
    let (sa, _) = read(&bad);
    let x = XorrisoReport::of(&bad);
    assert!(x.gpt_array_crc_wrong.is_some());
    assert_sysarea_agrees(&sa, &x);
    assert!(
        sa.problems.iter().any(|p| p.contains("entry array CRC32")),
        "{:#?}",
        sa.problems
    );
}

#[test]
fn entry_array_past_eof_is_a_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let iso = boot_fixtures::genisoimage_isohybrid(dir.path());
    let bad = copy_with(dir.path(), &iso, "far-array.iso", |b| {
        // Move the array to LBA 2^40 and fix the header CRC so only the array is wrong.
        b[512 + 72..512 + 80].copy_from_slice(&(1u64 << 40).to_le_bytes());
        b[512 + 16..512 + 20].fill(0);
        let crc = crc32fast::hash(&b[512..512 + 92]);
        b[512 + 16..512 + 20].copy_from_slice(&crc.to_le_bytes());
    });
    let src = Source::open(&bad).expect("open");
    let sa = read_system_area(&src).expect("still readable");
    let gpt = sa.gpt.as_ref().expect("GPT");
    assert!(gpt.header.header_crc_ok);
    assert!(gpt.partitions.is_empty());
    assert!(
        sa.problems
            .iter()
            .any(|p| p.contains("runs past the end of the file")),
        "{:#?}",
        sa.problems
    );
}

#[test]
fn file_shorter_than_512_bytes_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("tiny.iso");
    std::fs::write(&f, [0u8; 511]).expect("write");
    let err = read_system_area(&Source::open(&f).expect("open")).expect_err("too short");
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert_eq!(err.offset(), Some(0));
    // 512 bytes of zeros: no tables, no error.
    std::fs::write(&f, [0u8; 512]).expect("write");
    let sa = read_system_area(&Source::open(&f).expect("open")).expect("readable");
    assert_eq!((sa.mbr, sa.gpt, sa.apm), (None, None, false));
}
