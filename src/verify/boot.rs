//! Boot checks: El Torito catalog (El Torito 1.0 §2), the isolinux boot info table,
//! the isohybrid MBR/GPT (`isohybrid --uefi` layout, see [`crate::boot::hybrid`]),
//! and `efiboot.img`.

use super::{check, Ctx, Severity};
use crate::boot::efiboot::EfiBootImage;
use crate::boot::info_table::{self, InfoTableState, StaleReason};
use crate::boot::sysarea::{self, BootPointer, SystemArea, BLOCK};
use crate::bootcfg::{BootConfig, ConfigKind};
use crate::error::{ErrorKind, Result};
use crate::iso::eltorito::{self, BootCatalog, ElToritoEntry, Media, Platform};
use crate::iso::IsoImage;
use crate::source::SECTOR;

/// Largest BIOS boot image read for the info table check (isolinux.bin is ~40 KiB).
const MAX_BOOT_IMAGE: u64 = 16 << 20;
/// `efiboot.img` must stay below 32 MiB (ARCHITECTURE.md §2); larger is not read.
const MAX_EFIBOOT: u64 = 32 << 20;
/// Largest grub.cfg read from the tree.
const MAX_CFG: u64 = 1 << 20;
/// isohybrid pads the image to whole cylinders of 64 heads × 32 sectors × 512 bytes.
const CYLINDER_BYTES: u64 = 1 << 20;
/// The file firmware loads from the EFI system partition (UEFI §3.5.1.1, x64).
const BOOTX64: &str = "EFI/BOOT/BOOTX64.EFI";

pub(super) fn check(ctx: &mut Ctx<'_>) -> Result<()> {
    let Some(catalog) = catalog(ctx)? else {
        return Ok(());
    };
    entries(ctx, &catalog);
    info_table(ctx, &catalog)?;
    let sa = sysarea::read_system_area(ctx.iso.source())?;
    hybrid(ctx, &catalog, &sa);
    efiboot(ctx, &catalog)?;
    Ok(())
}

/// The catalog, or `None` with a finding when there is none or it is damaged.
fn catalog(ctx: &mut Ctx<'_>) -> Result<Option<BootCatalog>> {
    let Some(lba) = ctx.iso.descriptors().boot_catalog_lba else {
        ctx.error(
            check::ELTORITO_CATALOG,
            None,
            Some(17 * SECTOR),
            "no El Torito boot record: the ISO does not boot from CD/DVD".into(),
        );
        return Ok(None);
    };
    match eltorito::read_boot_catalog(ctx.iso.source(), lba) {
        Ok(c) => Ok(Some(c)),
        Err(e) if e.kind() == ErrorKind::Corrupt => {
            let offset = e.offset().unwrap_or(u64::from(lba) * SECTOR);
            ctx.error(
                check::ELTORITO_CATALOG,
                None,
                Some(offset),
                format!("boot catalog at LBA {lba}: {}", e.message()),
            );
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Every entry starts inside the volume at a file of the tree; BIOS and UEFI present.
fn entries(ctx: &mut Ctx<'_>, catalog: &BootCatalog) {
    let by_lba = IsoImage::files_by_lba(&ctx.entries);
    let volume_end = u64::from(ctx.iso.primary().space_size) * SECTOR;
    for (i, e) in catalog.entries.iter().enumerate() {
        let n = i + 1;
        let end = e.image_offset() + e.load_size_bytes();
        if e.load_lba == 0 || end > volume_end {
            ctx.error(
                check::ELTORITO_ENTRY,
                None,
                Some(e.catalog_offset),
                format!(
                    "entry {n} ({:?}) loads {} bytes from LBA {}, outside the volume of {} sectors",
                    e.platform,
                    e.load_size_bytes(),
                    e.load_lba,
                    ctx.iso.primary().space_size
                ),
            );
        } else if !by_lba.contains_key(&e.load_lba) {
            ctx.error(
                check::ELTORITO_ENTRY,
                None,
                Some(e.catalog_offset),
                format!(
                    "entry {n} ({:?}) points at LBA {}, where no file of the tree starts",
                    e.platform, e.load_lba
                ),
            );
        }
    }
    if catalog.bios_entry().is_none() {
        ctx.error(
            check::ELTORITO_ENTRY,
            None,
            Some(u64::from(catalog.lba) * SECTOR),
            "boot catalog has no BIOS (x86) entry".into(),
        );
    }
    if catalog.efi_entry().is_none() {
        ctx.error(
            check::ELTORITO_ENTRY,
            None,
            Some(u64::from(catalog.lba) * SECTOR),
            "boot catalog has no UEFI (0xEF) entry".into(),
        );
    }
}

/// The path of the file starting at the entry's LBA.
fn entry_file(ctx: &Ctx<'_>, e: &ElToritoEntry) -> Option<crate::iso::Entry> {
    ctx.entries
        .iter()
        .find(|f| f.is_file() && f.extents.first().is_some_and(|x| x.lba == e.load_lba))
        .cloned()
}

/// isolinux reads the rest of itself using the boot info table that `-boot-info-table`
/// patches in at bytes 8..24 (genisoimage(1)); a stale one fails the BIOS CD boot.
fn info_table(ctx: &mut Ctx<'_>, catalog: &BootCatalog) -> Result<()> {
    let Some(bios) = catalog.bios_entry() else {
        return Ok(());
    };
    if bios.platform != Platform::X86 || bios.media != Media::NoEmulation {
        return Ok(());
    }
    let Some(file) = entry_file(ctx, bios) else {
        return Ok(());
    };
    if file.size > MAX_BOOT_IMAGE {
        return Ok(());
    }
    let mut image = Vec::with_capacity(file.size as usize);
    ctx.iso.copy_file(&file, &mut image)?;
    let table_offset = bios.image_offset() + 8;
    let state = info_table::state_with_pvd(&image, ctx.iso.primary().lba, bios.load_lba);
    let path = Some(file.path.as_str());
    match state {
        InfoTableState::Valid(_) => {}
        InfoTableState::Absent => ctx.push(
            check::BOOT_INFO_TABLE,
            Severity::Warning,
            path,
            Some(table_offset),
            format!(
                "{} (LBA {}) has no boot info table (bytes 8..24 are zero)",
                file.path, bios.load_lba
            ),
        ),
        InfoTableState::Unpatched(_) => ctx.error(
            check::BOOT_INFO_TABLE,
            path,
            Some(table_offset),
            format!(
                "{} (LBA {}) carries the unpatched boot info table of a pristine isolinux.bin",
                file.path, bios.load_lba
            ),
        ),
        InfoTableState::Stale { reasons, .. } => {
            for r in reasons {
                let (at, what) = match r {
                    StaleReason::PvdLba { recorded, expected } => {
                        (8, format!("PVD LBA {recorded}, expected {expected}"))
                    }
                    StaleReason::FileLba { recorded, actual } => {
                        (12, format!("file LBA {recorded}, the file is at {actual}"))
                    }
                    StaleReason::FileLen { recorded, actual } => (
                        16,
                        format!("length {recorded}, the file has {actual} bytes"),
                    ),
                    StaleReason::Checksum { recorded, actual } => (
                        20,
                        format!("checksum {recorded:#010x}, the bytes sum to {actual:#010x}"),
                    ),
                };
                let offset = bios.image_offset() + at;
                ctx.error(
                    check::BOOT_INFO_TABLE,
                    path,
                    Some(offset),
                    format!(
                        "{} (LBA {}): boot info table at offset {offset} records {what}",
                        file.path, bios.load_lba
                    ),
                );
            }
        }
    }
    Ok(())
}

/// The isohybrid MBR and GPT agree with the catalog and with the file's length.
fn hybrid(ctx: &mut Ctx<'_>, catalog: &BootCatalog, sa: &SystemArea) {
    let file_len = ctx.iso.source().len();
    let Some(mbr) = &sa.mbr else {
        if sa.gpt.is_none() {
            ctx.notes.push(
                "no MBR or GPT: the image is not hybrid and boots only as a CD/DVD".to_string(),
            );
        }
        for p in &sa.problems {
            ctx.error(check::HYBRID_GPT, None, None, p.clone());
        }
        return;
    };
    let isohybrid = match catalog.bios_entry() {
        Some(bios) if mbr.boot_code_present => match mbr.boot_pointer(bios.load_lba) {
            Some(kind) => kind == BootPointer::Isohybrid,
            None => {
                ctx.error(
                    check::HYBRID_BOOT_POINTER,
                    None,
                    Some(432),
                    format!(
                        "MBR boot pointer (offset 432) is block {}; the BIOS boot image is at LBA {} (block {})",
                        mbr.boot_pointer_block,
                        bios.load_lba,
                        u64::from(bios.load_lba) * 4
                    ),
                );
                true
            }
        },
        _ => false,
    };

    // isohybrid --uefi: partition 2, type 0xEF, over efiboot.img (LBA × 4, catalog count).
    if let Some(efi) = catalog.efi_entry() {
        let blocks_in_file = entry_file(ctx, efi).map(|f| f.size.div_ceil(BLOCK));
        for p in mbr.used_partitions().filter(|p| p.partition_type == 0xEF) {
            let offset = 446 + 16 * (u64::from(p.number) - 1);
            let count_ok = u64::from(p.sector_count) == u64::from(efi.sector_count)
                || Some(u64::from(p.sector_count)) == blocks_in_file;
            if u64::from(p.start_lba) != efi.start_block512() || !count_ok {
                ctx.error(
                    check::HYBRID_EFI_PARTITION,
                    None,
                    Some(offset),
                    format!(
                        "MBR partition {} (type 0xEF, offset {offset}) covers blocks {}+{}; the catalog's EFI image is at block {} ({} blocks)",
                        p.number,
                        p.start_lba,
                        p.sector_count,
                        efi.start_block512(),
                        efi.sector_count
                    ),
                );
            }
        }
        if let Some(gpt) = &sa.gpt {
            if sa.partitions_for(efi).gpt.is_none() {
                ctx.error(
                    check::HYBRID_EFI_PARTITION,
                    None,
                    Some(gpt.header.entries_lba * BLOCK),
                    format!(
                        "no GPT partition starts at the catalog's EFI image (block {})",
                        efi.start_block512()
                    ),
                );
            }
        }
    }

    for p in &sa.problems {
        ctx.error(check::HYBRID_GPT, None, None, p.clone());
    }
    if let Some(gpt) = &sa.gpt {
        let last = (file_len / BLOCK).saturating_sub(1);
        if gpt.header.backup_lba != last {
            ctx.error(
                check::HYBRID_GPT,
                None,
                Some(BLOCK),
                format!(
                    "GPT header puts the backup at block {}, but the file's last block is {last}",
                    gpt.header.backup_lba
                ),
            );
        }
    }

    for p in mbr.used_partitions() {
        if p.end_lba() > file_len / BLOCK {
            ctx.error(
                check::HYBRID_SIZE,
                None,
                Some(446 + 16 * (u64::from(p.number) - 1)),
                format!(
                    "MBR partition {} ends at block {}, past the end of the file ({} blocks)",
                    p.number,
                    p.end_lba(),
                    file_len / BLOCK
                ),
            );
        }
    }
    if isohybrid && !file_len.is_multiple_of(CYLINDER_BYTES) {
        ctx.error(
            check::HYBRID_SIZE,
            None,
            Some(file_len),
            format!(
                "file is {file_len} bytes, not padded to a whole MiB as isohybrid pads it (a truncated copy?)"
            ),
        );
    }
}

/// efiboot.img: a FAT with `EFI/BOOT/BOOTX64.EFI`, and the grub configs in it agree with
/// the tree's (a USB stick booted in UEFI mode reads these copies, ARCHITECTURE.md §1).
fn efiboot(ctx: &mut Ctx<'_>, catalog: &BootCatalog) -> Result<()> {
    let Some(efi) = catalog.efi_entry() else {
        return Ok(());
    };
    let Some(file) = entry_file(ctx, efi) else {
        return Ok(());
    };
    let path = file.path.clone();
    if file.size > MAX_EFIBOOT {
        ctx.error(
            check::EFIBOOT_FAT,
            Some(&path),
            Some(efi.image_offset()),
            format!(
                "{path} is {} bytes; an EFI boot image must stay below 32 MiB",
                file.size
            ),
        );
        return Ok(());
    }
    let mut bytes = Vec::with_capacity(file.size as usize);
    ctx.iso.copy_file(&file, &mut bytes)?;
    let img = match EfiBootImage::new(bytes) {
        Ok(i) => i,
        Err(e) => {
            ctx.error(
                check::EFIBOOT_FAT,
                Some(&path),
                Some(efi.image_offset()),
                format!("{path} (LBA {}): {}", efi.load_lba, e.message()),
            );
            return Ok(());
        }
    };
    if let Err(e) = img.read_file(BOOTX64) {
        ctx.error(
            check::EFIBOOT_FAT,
            Some(&path),
            Some(efi.image_offset()),
            format!("{path}: no {BOOTX64}: {}", e.message()),
        );
    }
    let configs = match img.grub_configs() {
        Ok(c) => c,
        Err(e) => {
            ctx.error(
                check::EFIBOOT_FAT,
                Some(&path),
                Some(efi.image_offset()),
                format!("{path}: cannot list EFI/*/grub*.cfg: {}", e.message()),
            );
            return Ok(());
        }
    };
    for inner in configs {
        let tree_path = ctx
            .files
            .keys()
            .find(|k| k.eq_ignore_ascii_case(&format!("/{inner}")))
            .cloned();
        let Some(tree_path) = tree_path else {
            continue;
        };
        let ours = match img.read_file(&inner) {
            Ok(b) => b,
            Err(e) => {
                ctx.error(
                    check::EFIBOOT_FAT,
                    Some(&path),
                    Some(efi.image_offset()),
                    format!("{path}: cannot read {inner}: {}", e.message()),
                );
                continue;
            }
        };
        let theirs = ctx.iso.read_file(&tree_path, MAX_CFG)?;
        let a = kernel_lines(&ours);
        let b = kernel_lines(&theirs);
        if keys(&a) != keys(&b) {
            let detail = first_difference(&a, &b);
            ctx.error(
                check::EFIBOOT_GRUB_CFG,
                Some(&path),
                Some(efi.image_offset()),
                format!("{path}:{inner} differs from {tree_path} in its kernel lines: {detail}"),
            );
        } else if a != b {
            ctx.notes.push(format!(
                "{path}:{inner} and {tree_path} give the same kernel arguments with different values: {}",
                first_difference(&a, &b)
            ));
        }
    }
    Ok(())
}

/// `(entry, kernel, args)` of every kernel line; unparseable text compares as raw lines.
fn kernel_lines(bytes: &[u8]) -> Vec<(String, String, String)> {
    match BootConfig::parse(ConfigKind::Grub, bytes) {
        Ok(cfg) => cfg
            .kernel_lines()
            .iter()
            .map(|k| (k.entry.clone(), k.kernel.clone(), cfg.args(k).to_string()))
            .collect(),
        Err(_) => String::from_utf8_lossy(bytes)
            .lines()
            .map(|l| (String::new(), String::new(), l.to_string()))
            .collect(),
    }
}

/// `(entry, kernel, argument keys)`: what an argument edit that missed one copy changes.
/// Values may differ on purpose (a USB-specific copy, a boot-test marker), so a value
/// alone differing is a note, not a finding.
fn keys(lines: &[(String, String, String)]) -> Vec<(&str, &str, Vec<&str>)> {
    lines
        .iter()
        .map(|(entry, kernel, args)| {
            let keys = args
                .split_whitespace()
                .map(|w| w.split('=').next().unwrap_or(w))
                .collect();
            (entry.as_str(), kernel.as_str(), keys)
        })
        .collect()
}

fn first_difference(
    efiboot: &[(String, String, String)],
    tree: &[(String, String, String)],
) -> String {
    for (a, b) in efiboot.iter().zip(tree) {
        if a != b {
            return format!(
                "entry {:?} {} has {:?} inside efiboot.img, entry {:?} {} has {:?} in the tree",
                a.0, a.1, a.2, b.0, b.1, b.2
            );
        }
    }
    format!(
        "{} kernel lines inside efiboot.img, {} in the tree",
        efiboot.len(),
        tree.len()
    )
}
