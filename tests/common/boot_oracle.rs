//! Comparisons of xiso's boot structures with xorriso's report, shared by the
//! El Torito and system area oracle tests.
#![allow(dead_code)]

use std::path::Path;

use xiso::boot::sysarea::{BootPointer, SystemArea};
use xiso::iso::eltorito::{parse_boot_record, read_boot_catalog, BootCatalog, Media, Platform};
use xiso::source::{Source, SECTOR};

use super::xorriso_report::{XBootImage, XGptPartition, XMbrPartition, XorrisoReport};

/// Find the El Torito boot record among the volume descriptors (ECMA-119 8.1: from
/// sector 16 to the terminator, type 255).
pub fn catalog_lba(src: &Source) -> Option<u32> {
    for lba in 16..64u32 {
        let sector = src.read_sector(lba, "volume descriptor").expect("read VD");
        match sector[0] {
            0 => {
                if let Some(cat) =
                    parse_boot_record(&sector, u64::from(lba) * SECTOR).expect("boot record")
                {
                    return Some(cat);
                }
            }
            255 => return None,
            _ => {}
        }
    }
    None
}

pub fn read_catalog(iso: &Path) -> (Source, BootCatalog) {
    let src = Source::open(iso).expect("open fixture");
    let lba = catalog_lba(&src).expect("fixture has an El Torito boot record");
    let cat = read_boot_catalog(&src, lba).expect("read boot catalog");
    (src, cat)
}

pub fn xorriso_platform(p: Platform) -> String {
    match p {
        Platform::X86 => "BIOS".into(),
        Platform::PowerPC => "PPC".into(),
        Platform::Mac => "Mac".into(),
        Platform::Efi => "UEFI".into(),
        Platform::Other(b) => format!("0x{b:02x}"),
    }
}

pub fn xorriso_emulation(m: Media) -> String {
    match m {
        Media::NoEmulation => "none".into(),
        Media::Floppy12 => "fd1.2".into(),
        Media::Floppy144 => "fd1.4".into(),
        Media::Floppy288 => "fd2.8".into(),
        Media::HardDisk => "hd".into(),
        Media::Other(b) => format!("{b}"),
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Assert every fact xorriso prints about the catalog matches ours.
pub fn assert_catalog_agrees(iso: &Path) -> (Source, BootCatalog, XorrisoReport) {
    let (src, cat) = read_catalog(iso);
    let x = XorrisoReport::of(iso);
    assert!(
        x.unparsed.is_empty(),
        "unrecognised xorriso lines: {:#?}",
        x.unparsed
    );
    assert_eq!(
        x.catalog,
        Some((cat.lba, cat.sectors)),
        "catalog LBA and block count"
    );
    assert_eq!(
        x.boot_images.len(),
        cat.entries.len(),
        "number of boot images: xorriso {:#?}\nours {:#?}",
        x.boot_images,
        cat.entries
    );
    for (i, (e, xi)) in cat.entries.iter().zip(&x.boot_images).enumerate() {
        let ours = XBootImage {
            number: i as u32 + 1,
            platform: xorriso_platform(e.platform),
            bootable: e.bootable,
            emulation: xorriso_emulation(e.media),
            load_segment: e.load_segment,
            hd_partition_type: e.system_type,
            load_size: u32::from(e.sector_count),
            lba: e.load_lba,
            ..xi.clone()
        };
        assert_eq!(&ours, xi, "boot image {}", i + 1);
        if let Some(crit) = &xi.sel_crit_hex {
            let mut bytes = vec![e.selection_criteria_type];
            bytes.extend_from_slice(&e.selection_criteria);
            assert!(
                hex(&bytes).starts_with(crit.as_str()),
                "selection criteria of image {}",
                i + 1
            );
        }
        // The slot we name is the slot xorriso describes.
        let mut slot = [0u8; 32];
        src.read_exact_at(e.catalog_offset, &mut slot, "entry")
            .expect("read slot");
        assert_eq!(
            u32::from_le_bytes([slot[8], slot[9], slot[10], slot[11]]),
            xi.lba
        );
    }
    (src, cat, x)
}

pub fn utf16le_hex(name: &str) -> String {
    name.encode_utf16()
        .flat_map(u16::to_le_bytes)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Assert every MBR and GPT fact xorriso prints matches ours.
pub fn assert_sysarea_agrees(sa: &SystemArea, x: &XorrisoReport) {
    assert!(
        x.unparsed.is_empty(),
        "unrecognised xorriso lines: {:#?}",
        x.unparsed
    );

    let ours_mbr: Vec<XMbrPartition> = sa
        .mbr
        .iter()
        .flat_map(|m| m.used_partitions())
        .map(|p| XMbrPartition {
            number: p.number,
            status: p.status,
            partition_type: p.partition_type,
            start: u64::from(p.start_lba),
            blocks: u64::from(p.sector_count),
        })
        .collect();
    assert_eq!(ours_mbr, x.mbr_partitions, "MBR partitions");

    assert_eq!(
        sa.gpt.is_some(),
        x.gpt_present,
        "GPT presence; problems: {:?}",
        sa.problems
    );
    if let Some(gpt) = &sa.gpt {
        let h = &gpt.header;
        assert_eq!(
            Some(h.disk_guid.to_xorriso_hex()),
            x.gpt_disk_guid_hex,
            "disk GUID"
        );
        let (lba, count, _) = x.gpt_entry_array.clone().expect("GPT entry array line");
        assert_eq!((h.entries_lba, h.entry_count), (lba, count), "entry array");
        assert_eq!(
            Some((h.first_usable_lba, h.last_usable_lba, h.backup_lba)),
            x.gpt_lba_range,
            "usable range and backup header LBA"
        );
        assert_eq!(
            h.entries_crc_ok,
            x.gpt_array_crc_wrong.is_none(),
            "entry array CRC verdict"
        );
        let ours: Vec<(u32, XGptPartition)> = gpt
            .partitions
            .iter()
            .map(|p| {
                let xp = x.gpt_partitions.get(&p.number).cloned().unwrap_or_default();
                (
                    p.number,
                    XGptPartition {
                        name_hex: utf16le_hex(&p.name),
                        name_local: (!p.name.is_empty()).then(|| p.name.clone()),
                        guid_hex: p.unique_guid.to_xorriso_hex(),
                        type_guid_hex: p.type_guid.to_xorriso_hex(),
                        flags: p.attributes,
                        start: p.first_lba,
                        size: p.block_count(),
                        path: xp.path,
                    },
                )
            })
            .collect();
        let theirs: Vec<(u32, XGptPartition)> = x.gpt_partitions.clone().into_iter().collect();
        assert_eq!(ours, theirs, "GPT partitions");
    }
    assert_eq!(sa.apm, x.apm_present, "APM presence");
}

/// xorriso recognises the boot code ("isohybrid" / "grub2-mbr" in the summary); we
/// recognise the pointer convention. Both must agree.
pub fn assert_boot_pointer_agrees(sa: &SystemArea, cat: &BootCatalog, x: &XorrisoReport) {
    let summary = x.system_area_summary.clone().unwrap_or_default();
    let words: Vec<&str> = summary.split_whitespace().collect();
    let theirs = if words.contains(&"isohybrid") {
        Some(BootPointer::Isohybrid)
    } else if words.contains(&"grub2-mbr") {
        Some(BootPointer::Grub2)
    } else {
        None
    };
    assert_eq!(
        sa.boot_pointer(cat),
        theirs,
        "boot pointer vs xorriso summary {summary:?}"
    );
}
