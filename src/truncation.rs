//! A source ISO shorter than its own tables say: a cut download.
//!
//! An image whose volume space size (ECMA-119 8.4.8) runs past the end of the file
//! is refused when it is opened ([`IsoImage::open`]). An isohybrid image keeps its
//! padding and its backup GPT header *after* the ISO 9660 volume (isohybrid pads to a
//! whole MiB, UEFI §5.3.2 puts the backup header in the disk's last block), so
//! losing its last KiBs leaves a volume that reads fine and a file a USB stick
//! cannot boot from. Nothing is lost for a remaster (the writer makes new tables),
//! so [`check`] only reports it, as data: the size each table implies, the largest
//! of them, and the file's real size. `xiso verify` lists the details.

use std::fmt;

use serde::Serialize;

use crate::boot::sysarea::{self, BLOCK};
use crate::iso::{eltorito, IsoImage};
use crate::source::SECTOR;

/// What a short source's tables imply, against what the file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Truncation {
    /// The source file.
    pub file: String,
    /// The file's size in bytes.
    pub actual_bytes: u64,
    /// The size the tables imply: the end of the furthest structure they place.
    pub expected_bytes: u64,
    /// Which structure ends there (`backup GPT header at block 45055`).
    pub furthest: String,
}

impl fmt::Display for Truncation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: the source is shorter than its own tables say: {} ends at byte {}, the file has {} bytes ({} missing; a cut download?)",
            self.file,
            self.furthest,
            self.expected_bytes,
            self.actual_bytes,
            self.expected_bytes - self.actual_bytes
        )
    }
}

/// Compare `iso`'s file size with the end of every structure its tables place: the
/// volume space size, every file extent, every El Torito boot image, every MBR
/// partition and the backup GPT header. `None` when the file holds them all.
///
/// Tables that cannot be read are skipped: this is a warning, and `xiso verify`
/// reports the unreadable tables themselves.
pub fn check(iso: &IsoImage) -> Option<Truncation> {
    let actual = iso.source().len();
    let mut ends: Vec<(u64, String)> = Vec::new();
    let space = iso.primary().space_size;
    ends.push((
        u64::from(space) * SECTOR,
        format!("the volume ({space} sectors of 2048 bytes)"),
    ));
    if let Ok(entries) = iso.walk() {
        // One line for the furthest extent is enough to name the cause.
        if let Some((end, path)) = entries
            .iter()
            .flat_map(|e| e.extents.iter().map(move |x| (x.offset() + x.len, &e.path)))
            .max_by_key(|(end, _)| *end)
        {
            ends.push((end, format!("file {path}")));
        }
    }
    if let Some(lba) = iso.descriptors().boot_catalog_lba {
        if let Ok(cat) = eltorito::read_boot_catalog(iso.source(), lba) {
            for e in &cat.entries {
                ends.push((
                    e.image_offset() + e.load_size_bytes(),
                    format!(
                        "El Torito {:?} boot image at LBA {}",
                        e.platform, e.load_lba
                    ),
                ));
            }
        }
    }
    if let Ok(sa) = sysarea::read_system_area(iso.source()) {
        for p in sa.mbr.iter().flat_map(|m| m.used_partitions()) {
            ends.push((
                p.end_lba().saturating_mul(BLOCK),
                format!("MBR partition {}", p.number),
            ));
        }
        if let Some(gpt) = &sa.gpt {
            let backup = gpt.header.backup_lba;
            ends.push((
                backup.saturating_add(1).saturating_mul(BLOCK),
                format!("the backup GPT header at block {backup}"),
            ));
        }
    }
    // The furthest end; the first named wins a tie (the volume before its files).
    let (expected, furthest) = ends
        .into_iter()
        .rev()
        .max_by_key(|(end, _)| *end)
        .filter(|(end, _)| *end > actual)?;
    Some(Truncation {
        file: iso.source().path().display().to_string(),
        actual_bytes: actual,
        expected_bytes: expected,
        furthest,
    })
}
