//! The El Torito entries of an opened image together with the files they boot: what
//! `unpack` records in the workspace manifest, `diff` compares and `inspect` reports.

use serde::{Deserialize, Serialize};

use super::eltorito::{read_boot_catalog, BootCatalog, ElToritoEntry, Media, Platform};
use super::{Entry, IsoImage};
use crate::boot::info_table::{self, InfoTableState};
use crate::error::{Error, Result};

/// Largest boot image read whole to check its boot info table (isolinux.bin is ~40 KiB).
pub(crate) const MAX_BOOT_IMAGE: u64 = 16 << 20;

/// An El Torito boot entry as `pack` must replay it: the catalog entry read from the
/// source and the file it boots.
///
/// On disk the entry's fields are flat, the platform as its byte and the media as its
/// nibble (manifest version 1); media flags, selection criteria and the entry's place
/// in the source catalog are not kept (the writer writes a genisoimage catalog).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(from = "RecordOnDisk", into = "RecordOnDisk")]
pub struct BootEntryRecord {
    /// The catalog entry; `load_lba` is the image's LBA in the source.
    pub entry: ElToritoEntry,
    /// The file in the tree that starts at that LBA, if any.
    pub file: Option<String>,
    /// Whether the boot image carries a boot info table (BIOS isolinux).
    pub boot_info_table: bool,
}

impl BootEntryRecord {
    /// The record of a catalog entry read from the source: only what the manifest keeps,
    /// so a record reads back from disk equal to itself.
    pub(crate) fn new(entry: &ElToritoEntry, file: Option<String>, boot_info_table: bool) -> Self {
        BootEntryRecord::from(RecordOnDisk::from(BootEntryRecord {
            entry: entry.clone(),
            file,
            boot_info_table,
        }))
    }
}

/// The manifest's JSON form of a [`BootEntryRecord`] (manifest version 1).
#[derive(Serialize, Deserialize)]
struct RecordOnDisk {
    /// Platform id byte (0 x86, 0xEF UEFI).
    platform: u8,
    bootable: bool,
    /// Media type nibble (0 = no emulation).
    media: u8,
    load_segment: u16,
    system_type: u8,
    sector_count: u16,
    load_lba: u32,
    file: Option<String>,
    boot_info_table: bool,
}

impl From<RecordOnDisk> for BootEntryRecord {
    fn from(r: RecordOnDisk) -> Self {
        let mut entry = ElToritoEntry::no_emulation(
            Platform::from_byte(r.platform),
            r.load_lba,
            r.sector_count,
        );
        entry.bootable = r.bootable;
        entry.media = Media::from_nibble(r.media);
        entry.load_segment = r.load_segment;
        entry.system_type = r.system_type;
        BootEntryRecord {
            entry,
            file: r.file,
            boot_info_table: r.boot_info_table,
        }
    }
}

impl From<BootEntryRecord> for RecordOnDisk {
    fn from(r: BootEntryRecord) -> Self {
        let e = r.entry;
        RecordOnDisk {
            platform: e.platform.to_byte(),
            bootable: e.bootable,
            media: e.media.to_nibble(),
            load_segment: e.load_segment,
            system_type: e.system_type,
            sector_count: e.sector_count,
            load_lba: e.load_lba,
            file: r.file,
            boot_info_table: r.boot_info_table,
        }
    }
}

/// The regular file of a walk whose data starts at `lba` (a boot image, the catalog).
pub(crate) fn file_at_lba(entries: &[Entry], lba: u32) -> Option<&Entry> {
    entries
        .iter()
        .find(|e| e.is_file() && e.size > 0 && e.extents.first().is_some_and(|x| x.lba == lba))
}

/// The image's El Torito boot catalog, when its boot record names one.
pub(crate) fn read_catalog(iso: &IsoImage) -> Result<Option<BootCatalog>> {
    match iso.descriptors().boot_catalog_lba {
        Some(lba) => Ok(Some(read_boot_catalog(iso.source(), lba)?)),
        None => Ok(None),
    }
}

/// The boot info table of a BIOS no-emulation image (`None` for other entries, an
/// entry without a file in the tree, or an image larger than [`MAX_BOOT_IMAGE`]).
pub(crate) fn boot_image_state(
    iso: &IsoImage,
    entry: &ElToritoEntry,
    file: Option<&Entry>,
) -> Result<Option<InfoTableState>> {
    let Some(file) = file else { return Ok(None) };
    if entry.platform != Platform::X86
        || entry.media != Media::NoEmulation
        || file.size > MAX_BOOT_IMAGE
    {
        return Ok(None);
    }
    let mut image = Vec::with_capacity(file.size as usize);
    iso.copy_file(file, &mut image)?;
    Ok(Some(info_table::state_with_pvd(
        &image,
        iso.primary().lba,
        entry.load_lba,
    )))
}

/// El Torito entries of `iso` as the manifest records them (`entries` is a full walk).
///
/// An entry whose image lies past the end of the file cannot be replayed (its boot
/// image is missing): that is [`ErrorKind::Corrupt`](crate::ErrorKind::Corrupt) at the
/// entry's catalog slot. An image outside the file tree but inside the file is kept.
pub fn boot_entry_records(iso: &IsoImage, entries: &[Entry]) -> Result<Vec<BootEntryRecord>> {
    let Some(cat) = read_catalog(iso)? else {
        return Ok(Vec::new());
    };
    cat.entries
        .iter()
        .map(|e| {
            let end = e.image_offset().saturating_add(e.load_size_bytes());
            if end > iso.source().len() {
                return Err(Error::corrupt(
                    e.catalog_offset,
                    format!(
                        "El Torito boot image at LBA {} ({} bytes) lies past the end of the file ({} bytes): the boot image is missing",
                        e.load_lba,
                        e.load_size_bytes(),
                        iso.source().len()
                    ),
                )
                .in_file(iso.source().path()));
            }
            let file = file_at_lba(entries, e.load_lba);
            let state = boot_image_state(iso, e, file)?;
            Ok(BootEntryRecord::new(
                e,
                file.map(|f| f.path.trim_start_matches('/').to_string()),
                matches!(
                    state,
                    Some(InfoTableState::Valid(_) | InfoTableState::Stale { .. })
                ),
            ))
        })
        .collect()
}
