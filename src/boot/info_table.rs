//! The isolinux boot info table (El Torito `-boot-info-table`): bytes 8..64 of the BIOS boot image.
//!
//! mkisofs/genisoimage (`-boot-info-table`) and xorriso write, into the copy of the boot
//! file stored in the ISO, four little-endian u32 values that isolinux uses to find itself
//! on media whose BIOS cannot tell it:
//!
//! ```text
//! offset  8  bi_pvd     LBA of the primary volume descriptor (16 on a single-session image)
//! offset 12  bi_file    LBA of the boot file itself
//! offset 16  bi_length  length of the boot file in bytes
//! offset 20  bi_csum    32-bit sum of the LE u32 words from byte 64 to the end of the file
//! offset 24  bi_reserved[40], zero
//! ```
//!
//! (genisoimage `eltorito.c`, struct `eltorito_boot_info`.) The table goes stale as soon
//! as the boot file moves, which is what [`state`] detects and [`patch`] repairs.

use serde::Serialize;

use crate::error::{Error, Result};

/// First byte of the table.
pub(crate) const TABLE_OFFSET: usize = 8;
/// First byte covered by the checksum (and end of the table's reserved area).
pub(crate) const CHECKSUM_START: usize = 64;
/// LBA of the primary volume descriptor on a single-session image (ECMA-119 6.2.1: the
/// volume descriptor set starts at sector 16).
pub(crate) const DEFAULT_PVD_LBA: u32 = 16;

/// The four fields of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BootInfoTable {
    /// LBA of the primary volume descriptor.
    pub pvd_lba: u32,
    /// LBA of the boot file.
    pub file_lba: u32,
    /// Length of the boot file in bytes.
    pub file_len: u32,
    /// Sum of the LE u32 words from byte 64 to the end of the file.
    pub checksum: u32,
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl BootInfoTable {
    /// Read bytes 8..24 of a boot image; `None` when the image is shorter than 64 bytes
    /// (no room for a table in front of the checksummed area).
    pub fn read(image: &[u8]) -> Option<Self> {
        if image.len() < CHECKSUM_START {
            return None;
        }
        Some(BootInfoTable {
            pvd_lba: u32_at(image, 8),
            file_lba: u32_at(image, 12),
            file_len: u32_at(image, 16),
            checksum: u32_at(image, 20),
        })
    }

    /// The table a correct image placed at `file_lba` carries.
    pub(crate) fn expected(image: &[u8], pvd_lba: u32, file_lba: u32) -> Result<Self> {
        let file_len = u32::try_from(image.len()).map_err(|_| {
            Error::invalid(format!(
                "boot image of {} bytes is too large for a boot info table",
                image.len()
            ))
        })?;
        Ok(BootInfoTable {
            pvd_lba,
            file_lba,
            file_len,
            checksum: compute_checksum(image),
        })
    }
}

/// Sum (wrapping) of the little-endian u32 words from byte 64 to the end of `image`, the
/// last word zero padded. Zero for an image of 64 bytes or fewer.
pub fn compute_checksum(image: &[u8]) -> u32 {
    let Some(body) = image.get(CHECKSUM_START..) else {
        return 0;
    };
    let mut chunks = body.chunks_exact(4);
    let mut sum = chunks.by_ref().fold(0u32, |acc, w| {
        acc.wrapping_add(u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
    });
    let tail = chunks.remainder();
    if !tail.is_empty() {
        let mut w = [0u8; 4];
        w[..tail.len()].copy_from_slice(tail);
        sum = sum.wrapping_add(u32::from_le_bytes(w));
    }
    sum
}

/// One way a table disagrees with the image it sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum StaleReason {
    /// `bi_pvd` is not the expected primary volume descriptor LBA.
    PvdLba {
        /// In the table.
        recorded: u32,
        /// Where the PVD is.
        expected: u32,
    },
    /// `bi_file` is not where the file is.
    FileLba {
        /// In the table.
        recorded: u32,
        /// Where the file is.
        actual: u32,
    },
    /// `bi_length` is not the file's length.
    FileLen {
        /// In the table.
        recorded: u32,
        /// The file's length (saturated at `u32::MAX`).
        actual: u32,
    },
    /// `bi_csum` does not match the bytes.
    Checksum {
        /// In the table.
        recorded: u32,
        /// Computed over the image.
        actual: u32,
    },
}

/// Makes the [`StaleReason`] of a field from what the table records and what it should hold.
type StaleFn = fn(u32, u32) -> StaleReason;

/// What a boot image's table says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum InfoTableState {
    /// Bytes 8..24 are all zero: the image was written without `-boot-info-table`
    /// (or is shorter than 64 bytes).
    Absent,
    /// `bi_file` is 0, which no file in an ISO can have (sector 0 is the system area): the
    /// table is the one syslinux's build leaves in a pristine `isolinux.bin` (PVD 16,
    /// file 0, length, checksum, 0xDEADBEEF filler), so no mastering tool patched it.
    Unpatched(BootInfoTable),
    /// Every field matches.
    Valid(BootInfoTable),
    /// A table is there but some fields are wrong.
    Stale {
        /// The table as found.
        table: BootInfoTable,
        /// Every disagreement.
        reasons: Vec<StaleReason>,
    },
}

impl InfoTableState {
    /// True for [`InfoTableState::Valid`].
    pub fn is_valid(&self) -> bool {
        matches!(self, InfoTableState::Valid(_))
    }

    /// True when a mastering tool wrote the table (valid or stale), so a rebuilt image
    /// must carry a patched one too.
    pub fn was_patched(&self) -> bool {
        matches!(
            self,
            InfoTableState::Valid(_) | InfoTableState::Stale { .. }
        )
    }
}

/// Check the table of `image`, stored at `actual_lba` in an image whose primary volume
/// descriptor is at sector 16 (every single-session ISO). See [`state_with_pvd`].
pub fn state(image: &[u8], actual_lba: u32) -> InfoTableState {
    state_with_pvd(image, DEFAULT_PVD_LBA, actual_lba)
}

/// Check the table of `image` against the PVD LBA and the image's own LBA.
pub fn state_with_pvd(image: &[u8], pvd_lba: u32, actual_lba: u32) -> InfoTableState {
    let Some(table) = BootInfoTable::read(image) else {
        return InfoTableState::Absent;
    };
    if image[TABLE_OFFSET..24].iter().all(|&b| b == 0) {
        return InfoTableState::Absent;
    }
    if table.file_lba == 0 {
        return InfoTableState::Unpatched(table);
    }
    let len = u32::try_from(image.len()).unwrap_or(u32::MAX);
    let sum = compute_checksum(image);
    // Each field of the table beside what it should hold, and the reason it is stale.
    let checks: [(u32, u32, StaleFn); 4] = [
        (table.pvd_lba, pvd_lba, |recorded, expected| {
            StaleReason::PvdLba { recorded, expected }
        }),
        (table.file_lba, actual_lba, |recorded, actual| {
            StaleReason::FileLba { recorded, actual }
        }),
        (table.file_len, len, |recorded, actual| {
            StaleReason::FileLen { recorded, actual }
        }),
        (table.checksum, sum, |recorded, actual| {
            StaleReason::Checksum { recorded, actual }
        }),
    ];
    let reasons: Vec<StaleReason> = checks
        .into_iter()
        .filter(|(recorded, wanted, _)| recorded != wanted)
        .map(|(recorded, wanted, reason)| reason(recorded, wanted))
        .collect();
    if reasons.is_empty() {
        InfoTableState::Valid(table)
    } else {
        InfoTableState::Stale { table, reasons }
    }
}

/// Write a correct table into `image` (the whole boot file) for a copy stored at
/// `file_lba`, clearing the 40 reserved bytes as mkisofs does. The checksum does not
/// cover the table, so patching is idempotent. Fails when the image is shorter than
/// 64 bytes or longer than 4 GiB.
pub fn patch(image: &mut [u8], pvd_lba: u32, file_lba: u32) -> Result<BootInfoTable> {
    if image.len() < CHECKSUM_START {
        return Err(Error::invalid(format!(
            "boot image of {} bytes is too short for a boot info table (needs 64)",
            image.len()
        )));
    }
    let table = BootInfoTable::expected(image, pvd_lba, file_lba)?;
    image[8..12].copy_from_slice(&table.pvd_lba.to_le_bytes());
    image[12..16].copy_from_slice(&table.file_lba.to_le_bytes());
    image[16..20].copy_from_slice(&table.file_len.to_le_bytes());
    image[20..24].copy_from_slice(&table.checksum.to_le_bytes());
    image[24..CHECKSUM_START].fill(0);
    Ok(table)
}
