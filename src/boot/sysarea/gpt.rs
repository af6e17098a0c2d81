//! The GUID partition table (UEFI §5.3) of a hybrid image: primary header at block 1,
//! its entry array, and the backup header the primary names. isohybrid's GPT overlaps
//! the ISO and often loses its backup to truncation, so defects are findings, not errors.

use std::fmt;

use serde::{Serialize, Serializer};

use super::{u32_le, BLOCK};
use crate::error::Result;
use crate::source::Source;

/// Largest GPT partition entry array the reader loads (UEFI requires ≥ 16 KiB; 1 MiB is ample).
const MAX_ENTRY_ARRAY: u64 = 1 << 20;
/// GPT header signature (UEFI §5.3.2 table 5-5).
const GPT_SIGNATURE: &[u8; 8] = b"EFI PART";
/// Smallest valid GPT header (UEFI §5.3.2: 92 bytes).
const GPT_HEADER_MIN: u32 = 92;

/// A GUID as stored on disk (UEFI Appendix A: first three fields little-endian).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Guid(pub [u8; 16]);

impl Guid {
    /// The on-disk bytes as 32 lowercase hex digits, the form `xorriso -report_system_area`
    /// prints (`GPT disk GUID : 84972c75c8c1784e93a8f3aa7ff584e3`).
    pub fn to_xorriso_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// True for the all-zero GUID.
    pub(crate) fn is_nil(&self) -> bool {
        self.0 == [0; 16]
    }
}

/// Canonical registry form, e.g. `EBD0A0A2-B9E5-4433-87C0-68B6B72699C7` (Basic Data).
impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:02X}{:02X}{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-",
            b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9]
        )?;
        for x in &b[10..16] {
            write!(f, "{x:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Guid({self})")
    }
}

/// Serialized in canonical form (as `sgdisk`, `blkid` and the UEFI spec write it).
impl Serialize for Guid {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// GPT partition type "Basic Data" (EBD0A0A2-B9E5-4433-87C0-68B6B72699C7), which
/// isohybrid and xorriso use for both the ISO and the EFI partition.
pub const BASIC_DATA: Guid = Guid([
    0xA2, 0xA0, 0xD0, 0xEB, 0xE5, 0xB9, 0x33, 0x44, 0x87, 0xC0, 0x68, 0xB6, 0xB7, 0x26, 0x99, 0xC7,
]);

/// A GPT header (UEFI §5.3.2), primary or backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GptHeader {
    /// Byte offset of the header in the file.
    pub offset: u64,
    /// Revision (1.0 = 0x0001_0000).
    pub revision: u32,
    /// Header size in bytes (92).
    pub header_size: u32,
    /// Stored header CRC32.
    pub header_crc32: u32,
    /// The stored CRC matches the header bytes.
    pub header_crc_ok: bool,
    /// LBA of this header.
    pub current_lba: u64,
    /// LBA of the other header.
    pub backup_lba: u64,
    /// First usable LBA for partitions.
    pub first_usable_lba: u64,
    /// Last usable LBA for partitions.
    pub last_usable_lba: u64,
    /// Disk GUID.
    pub disk_guid: Guid,
    /// LBA of the partition entry array.
    pub entries_lba: u64,
    /// Number of entries in the array.
    pub entry_count: u32,
    /// Size of one entry (128).
    pub entry_size: u32,
    /// Stored CRC32 of the entry array.
    pub entries_crc32: u32,
    /// The stored CRC matches the array (false when the array could not be read).
    pub entries_crc_ok: bool,
}

/// A used GPT partition entry (UEFI §5.3.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GptPartition {
    /// 1-based index in the entry array.
    pub number: u32,
    /// Partition type GUID.
    pub type_guid: Guid,
    /// Unique partition GUID.
    pub unique_guid: Guid,
    /// First 512-byte block.
    pub first_lba: u64,
    /// Last 512-byte block (inclusive).
    pub last_lba: u64,
    /// Attribute flags (xorriso sets bits 0 and 60: required, read-only).
    pub attributes: u64,
    /// Name, UTF-16LE up to the first NUL.
    pub name: String,
}

impl GptPartition {
    /// Length in 512-byte blocks (`last - first + 1`, 0 for an inverted range).
    pub fn block_count(&self) -> u64 {
        self.last_lba
            .checked_sub(self.first_lba)
            .map_or(0, |d| d.saturating_add(1))
    }
}

/// The GUID partition table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gpt {
    /// The primary header at block 1.
    pub header: GptHeader,
    /// Used entries of the primary array (type GUID not nil).
    pub partitions: Vec<GptPartition>,
    /// The backup header at `header.backup_lba`, when it lies in the file and has the signature.
    pub backup: Option<GptHeader>,
}

fn u64_le(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

fn guid_at(b: &[u8], at: usize) -> Guid {
    let mut g = [0u8; 16];
    g.copy_from_slice(&b[at..at + 16]);
    Guid(g)
}

/// Parse a GPT header block; `None` without the signature. CRC failures go to `problems`.
fn parse_gpt_header(
    block: &[u8; 512],
    offset: u64,
    what: &str,
    problems: &mut Vec<String>,
) -> Option<GptHeader> {
    if &block[..8] != GPT_SIGNATURE {
        return None;
    }
    let header_size = u32_le(block, 12);
    let header_crc32 = u32_le(block, 16);
    let header_crc_ok = if (GPT_HEADER_MIN..=512).contains(&header_size) {
        let mut copy = block[..header_size as usize].to_vec();
        copy[16..20].fill(0);
        let ok = crc32fast::hash(&copy) == header_crc32;
        if !ok {
            problems.push(format!(
                "{what} at offset {offset}: header CRC32 {header_crc32:#010x} does not match its bytes"
            ));
        }
        ok
    } else {
        problems.push(format!(
            "{what} at offset {offset}: header size {header_size} is outside 92..=512"
        ));
        false
    };
    Some(GptHeader {
        offset,
        revision: u32_le(block, 8),
        header_size,
        header_crc32,
        header_crc_ok,
        current_lba: u64_le(block, 24),
        backup_lba: u64_le(block, 32),
        first_usable_lba: u64_le(block, 40),
        last_usable_lba: u64_le(block, 48),
        disk_guid: guid_at(block, 56),
        entries_lba: u64_le(block, 72),
        entry_count: u32_le(block, 80),
        entry_size: u32_le(block, 84),
        entries_crc32: u32_le(block, 88),
        entries_crc_ok: false,
    })
}

/// Load the entry array of `header`, set `entries_crc_ok`, and return it (None when it
/// cannot be read; the reason goes to `problems`).
fn read_entry_array(
    src: &Source,
    header: &mut GptHeader,
    what: &str,
    problems: &mut Vec<String>,
) -> Option<Vec<u8>> {
    let offset = header.entries_lba.checked_mul(BLOCK);
    let len = u64::from(header.entry_count).checked_mul(u64::from(header.entry_size));
    let (Some(offset), Some(len)) = (offset, len) else {
        problems.push(format!("{what}: entry array position overflows"));
        return None;
    };
    if header.entry_size < 128 || !header.entry_size.is_multiple_of(8) {
        problems.push(format!(
            "{what}: entry size {} is not a multiple of 8 of at least 128",
            header.entry_size
        ));
        return None;
    }
    if len > MAX_ENTRY_ARRAY {
        problems.push(format!(
            "{what}: entry array of {len} bytes is larger than {MAX_ENTRY_ARRAY}"
        ));
        return None;
    }
    let end = offset.saturating_add(len);
    if end > src.len() {
        problems.push(format!(
            "{what}: entry array at offset {offset} ({len} bytes) runs past the end of the file ({} bytes)",
            src.len()
        ));
        return None;
    }
    // len <= MAX_ENTRY_ARRAY, so it fits in usize.
    let array = match src.read_vec(offset, len as usize, "GPT partition entry array") {
        Ok(a) => a,
        Err(e) => {
            problems.push(format!("{what}: {e}"));
            return None;
        }
    };
    header.entries_crc_ok = crc32fast::hash(&array) == header.entries_crc32;
    if !header.entries_crc_ok {
        problems.push(format!(
            "{what}: entry array CRC32 {:#010x} does not match the entries at offset {offset}",
            header.entries_crc32
        ));
    }
    Some(array)
}

fn parse_partitions(array: &[u8], entry_size: u32) -> Vec<GptPartition> {
    // entry_size >= 128 was checked by read_entry_array.
    array
        .chunks_exact(entry_size as usize)
        .zip(1u32..)
        .filter_map(|(e, number)| {
            let type_guid = guid_at(e, 0);
            if type_guid.is_nil() {
                return None;
            }
            let units: Vec<u16> = e[56..128]
                .chunks_exact(2)
                .map(|w| u16::from_le_bytes([w[0], w[1]]))
                .take_while(|&u| u != 0)
                .collect();
            Some(GptPartition {
                number,
                type_guid,
                unique_guid: guid_at(e, 16),
                first_lba: u64_le(e, 32),
                last_lba: u64_le(e, 40),
                attributes: u64_le(e, 48),
                name: String::from_utf16_lossy(&units),
            })
        })
        .collect()
}

/// Read the backup header named by the primary and compare it with the primary.
fn read_backup(src: &Source, primary: &GptHeader, problems: &mut Vec<String>) -> Option<GptHeader> {
    let blocks = src.len() / BLOCK;
    let Some(offset) = primary
        .backup_lba
        .checked_mul(BLOCK)
        .filter(|_| primary.backup_lba < blocks)
    else {
        problems.push(format!(
            "backup GPT header at LBA {} is missing: the file has only {blocks} blocks of 512 bytes",
            primary.backup_lba
        ));
        return None;
    };
    let mut block = [0u8; 512];
    if let Err(e) = src.read_exact_at(offset, &mut block, "backup GPT header") {
        problems.push(format!("backup GPT header: {e}"));
        return None;
    }
    let Some(mut backup) = parse_gpt_header(&block, offset, "backup GPT header", problems) else {
        problems.push(format!(
            "backup GPT header at LBA {} (offset {offset}) lacks the EFI PART signature",
            primary.backup_lba
        ));
        return None;
    };
    // Only the CRC check matters here; the primary's entries are the ones reported.
    let _ = read_entry_array(src, &mut backup, "backup GPT entry array", problems);
    if backup.current_lba != primary.backup_lba || backup.backup_lba != primary.current_lba {
        problems.push(format!(
            "backup GPT header says it is at LBA {} with its partner at {}; the primary says {} and {}",
            backup.current_lba, backup.backup_lba, primary.backup_lba, primary.current_lba
        ));
    }
    if backup.disk_guid != primary.disk_guid
        || backup.entries_crc32 != primary.entries_crc32
        || backup.entry_count != primary.entry_count
    {
        problems.push(
            "backup GPT header disagrees with the primary (disk GUID, entry count or entries CRC)"
                .to_string(),
        );
    }
    Some(backup)
}

/// Read the GPT at block 1, its entries and its backup; `None` without the signature.
/// Only an I/O failure on the first two blocks is an error: every defect of the tables
/// goes to `problems`.
pub(super) fn read_gpt(src: &Source, problems: &mut Vec<String>) -> Result<Option<Gpt>> {
    if src.len() < 2 * BLOCK {
        return Ok(None);
    }
    let mut block1 = [0u8; 512];
    src.read_exact_at(BLOCK, &mut block1, "GPT header")?;
    let Some(mut header) = parse_gpt_header(&block1, BLOCK, "GPT header", problems) else {
        return Ok(None);
    };
    if header.current_lba != 1 {
        problems.push(format!(
            "GPT header at LBA 1 says it is at LBA {}",
            header.current_lba
        ));
    }
    let partitions = read_entry_array(src, &mut header, "GPT entry array", problems)
        .map(|a| parse_partitions(&a, header.entry_size))
        .unwrap_or_default();
    let backup = read_backup(src, &header, problems);
    Ok(Some(Gpt {
        header,
        partitions,
        backup,
    }))
}
