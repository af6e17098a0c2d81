//! The isolinux boot info table, checked on isolinux.bin as genisoimage and xorriso
//! patched it inside real ISOs.

#[path = "common/boot_fixtures.rs"]
mod boot_fixtures;
#[path = "common/xorriso_report.rs"]
mod xorriso_report;

use std::path::Path;

use xiso::boot::info_table::{
    compute_checksum, patch, state, state_with_pvd, BootInfoTable, InfoTableState, StaleReason,
};
use xiso::iso::eltorito::{parse_boot_record, read_boot_catalog};
use xiso::source::{Source, SECTOR};
use xorriso_report::XorrisoReport;

/// The boot file as stored in the ISO at the default entry's LBA, with the length of
/// the original file (the directory reader is not needed for that).
fn stored_isolinux(iso: &Path) -> (u32, Vec<u8>) {
    let src = Source::open(iso).expect("open fixture");
    let vd = src.read_sector(17, "boot record").expect("read LBA 17");
    let cat_lba = parse_boot_record(&vd, 17 * SECTOR)
        .expect("boot record")
        .expect("El Torito");
    let cat = read_boot_catalog(&src, cat_lba).expect("catalog");
    let lba = cat.bios_entry().expect("BIOS entry").load_lba;
    let len = std::fs::metadata(boot_fixtures::ISOLINUX_BIN)
        .expect("isolinux.bin")
        .len() as usize;
    let image = src
        .read_vec(u64::from(lba) * SECTOR, len, "isolinux.bin")
        .expect("read isolinux.bin");
    (lba, image)
}

fn original_isolinux() -> Vec<u8> {
    std::fs::read(boot_fixtures::ISOLINUX_BIN).expect("read isolinux.bin")
}

#[test]
fn genisoimage_table_is_valid_and_patch_reproduces_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let iso = boot_fixtures::genisoimage_plain(dir.path(), true);
    let (lba, stored) = stored_isolinux(&iso);
    let x = XorrisoReport::of(&iso);
    assert!(
        x.boot_images[0].opts.iter().any(|o| o == "boot-info-table"),
        "xorriso should see the table: {:?}",
        x.boot_images[0].opts
    );
    let table = BootInfoTable::read(&stored).expect("table");
    assert_eq!(table.pvd_lba, 16);
    assert_eq!(table.file_lba, lba);
    assert_eq!(table.file_len as usize, stored.len());
    assert_eq!(table.checksum, compute_checksum(&stored));
    assert_eq!(state(&stored, lba), InfoTableState::Valid(table));

    // The pristine file has no table; patching it gives genisoimage's bytes exactly.
    // The pristine file carries syslinux's build-time table (bi_file = 0).
    let mut ours = original_isolinux();
    let pristine = state(&ours, lba);
    assert!(
        matches!(pristine, InfoTableState::Unpatched(_)),
        "{pristine:?}"
    );
    assert!(!pristine.was_patched());
    assert_eq!(patch(&mut ours, 16, lba).expect("patch"), table);
    assert!(
        ours == stored,
        "patched isolinux.bin differs from genisoimage's"
    );
}

#[test]
fn xorriso_table_is_valid_and_patch_reproduces_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let iso = boot_fixtures::xorriso_gpt_basdat(dir.path(), false);
    let (lba, stored) = stored_isolinux(&iso);
    assert!(state(&stored, lba).is_valid(), "{:?}", state(&stored, lba));
    let mut ours = original_isolinux();
    patch(&mut ours, 16, lba).expect("patch");
    assert!(
        ours == stored,
        "patched isolinux.bin differs from xorriso's"
    );
}

#[test]
fn without_boot_info_table_state_is_unpatched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let iso = boot_fixtures::genisoimage_plain(dir.path(), false);
    let (lba, stored) = stored_isolinux(&iso);
    assert!(
        matches!(state(&stored, lba), InfoTableState::Unpatched(_)),
        "{:?}",
        state(&stored, lba)
    );
    assert!(
        stored == original_isolinux(),
        "genisoimage must not touch the file"
    );
    let x = XorrisoReport::of(&iso);
    assert!(!x.boot_images[0].opts.iter().any(|o| o == "boot-info-table"));
}

#[test]
fn moved_or_edited_image_is_stale_with_every_reason() {
    let mut image = original_isolinux();
    patch(&mut image, 16, 100).expect("patch");
    let table = BootInfoTable::read(&image).expect("table");
    let sum = table.checksum;

    // Moved: only the LBA is wrong.
    assert_eq!(
        state(&image, 200),
        InfoTableState::Stale {
            table,
            reasons: vec![StaleReason::FileLba {
                recorded: 100,
                actual: 200
            }]
        }
    );
    // Another PVD location.
    assert_eq!(
        state_with_pvd(&image, 32, 100),
        InfoTableState::Stale {
            table,
            reasons: vec![StaleReason::PvdLba {
                recorded: 16,
                expected: 32
            }]
        }
    );
    // Edited and grown by two bytes (exercises the zero padding of the last word).
    image[100] ^= 0xFF;
    image.extend_from_slice(&[1, 2]);
    let InfoTableState::Stale { reasons, .. } = state(&image, 100) else {
        panic!("expected a stale table");
    };
    let actual_sum = compute_checksum(&image);
    assert_ne!(actual_sum, sum);
    assert_eq!(
        reasons,
        vec![
            StaleReason::FileLen {
                recorded: table.file_len,
                actual: table.file_len + 2
            },
            StaleReason::Checksum {
                recorded: sum,
                actual: actual_sum
            },
        ]
    );
    // Patching repairs it and is idempotent (the table is outside the checksummed range).
    let fixed = patch(&mut image, 16, 100).expect("patch");
    assert!(state(&image, 100).is_valid());
    assert_eq!(patch(&mut image, 16, 100).expect("patch"), fixed);
}

#[test]
fn checksum_pads_the_last_word_and_ignores_the_first_64_bytes() {
    let mut image = vec![0xAAu8; 64];
    assert_eq!(compute_checksum(&image), 0);
    image.extend_from_slice(&[1, 0, 0, 0, 2, 0, 0, 0, 3]);
    assert_eq!(compute_checksum(&image), 6);
    image.extend_from_slice(&[0xFF; 4]);
    // 0x03 padded, then 0xFF at bytes 1..4 of that word and byte 0 of the next.
    assert_eq!(
        compute_checksum(&image),
        1u32.wrapping_add(2)
            .wrapping_add(0xFFFF_FF03)
            .wrapping_add(0x0000_00FF)
    );
    assert!(patch(&mut [0u8; 63], 16, 20).is_err());
    assert_eq!(state(&[0u8; 10], 20), InfoTableState::Absent);
    assert_eq!(state(&[0u8; 4096], 20), InfoTableState::Absent);
}
