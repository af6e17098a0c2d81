//! El Torito: boot record volume descriptor and boot catalog (El Torito 1.0, section 2).
//!
//! The boot record (a type-0 volume descriptor, ECMA-119 8.2) names the sector of the
//! boot catalog. The catalog is a list of 32-byte slots:
//!
//! ```text
//! slot 0   validation entry   (El Torito table 2: header id 1, platform, id string, checksum, 55 AA)
//! slot 1   initial/default    (table 3: the entry BIOS firmware boots)
//! slot 2.. section headers 0x90 ("more follow") / 0x91 ("final") (table 4), each followed by
//!          its section entries (table 5) and their extension entries 0x44 (table 6)
//! ```
//!
//! The catalog of an XCP-ng ISO is one sector: validation, the isolinux default entry and
//! one final section with the UEFI `efiboot.img` entry. The reader accepts any number of
//! sections spread over at most `MAX_CATALOG_SECTORS` sectors.

use serde::Serialize;

use super::ecma119::{STANDARD_ID, VD_BOOT_RECORD, VD_ID, VD_VERSION};
use crate::error::{Error, Result};
use crate::source::{Source, SECTOR};

mod write;
pub(crate) use write::boot_record_sector;
pub use write::write_boot_catalog;

/// Upper bound on the size of a boot catalog the reader follows (a sane image needs one).
pub(crate) const MAX_CATALOG_SECTORS: u32 = 64;

/// Size of one catalog slot.
const ENTRY: usize = 32;

/// Boot system identifier of an El Torito boot record (El Torito 1.0 table 1), zero padded.
const EL_TORITO_ID: &[u8] = b"EL TORITO SPECIFICATION";
/// Byte range of the boot system identifier in the boot record (table 1).
const BOOT_SYSTEM_ID: std::ops::Range<usize> = 7..39;
/// Offset of the boot catalog's LBA (little-endian u32) in the boot record (table 1).
const CATALOG_POINTER: usize = 0x47;

/// Section header indicator: more section headers follow (table 4).
const HEADER_MORE: u8 = 0x90;
/// Section header indicator: this is the final section header (table 4).
const HEADER_FINAL: u8 = 0x91;
/// Section entry extension indicator (table 6).
const EXTENSION: u8 = 0x44;
/// Boot indicator of a bootable entry (tables 3 and 5).
const BOOTABLE: u8 = 0x88;
/// Media-type bit 5 of a section entry / byte-1 bit 5 of an extension: an extension follows.
const CONTINUATION: u8 = 0x20;
/// Bytes of vendor-unique selection criteria in a section entry (bytes 13..32).
const SECTION_CRITERIA: usize = 19;
/// Bytes of selection criteria in an extension entry (bytes 2..32).
const EXTENSION_CRITERIA: usize = 30;

/// The firmware an entry (or the validation entry) is meant for (El Torito table 2 byte 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Platform {
    /// 0: PC BIOS (isolinux).
    X86,
    /// 1: PowerPC.
    PowerPC,
    /// 2: Mac.
    Mac,
    /// 0xEF: UEFI (the `efiboot.img` FAT image), added by UEFI §12.3.2.1.
    Efi,
    /// Any other value.
    Other(u8),
}

impl Platform {
    /// The platform id byte.
    pub(crate) fn from_byte(b: u8) -> Self {
        match b {
            0 => Platform::X86,
            1 => Platform::PowerPC,
            2 => Platform::Mac,
            0xEF => Platform::Efi,
            other => Platform::Other(other),
        }
    }

    /// The byte stored in the catalog.
    pub(crate) fn to_byte(self) -> u8 {
        match self {
            Platform::X86 => 0,
            Platform::PowerPC => 1,
            Platform::Mac => 2,
            Platform::Efi => 0xEF,
            Platform::Other(b) => b,
        }
    }
}

/// Boot media emulation (low nibble of the media-type byte, El Torito tables 3 and 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Media {
    /// 0: no emulation; the image is loaded as is (isolinux, EFI images).
    NoEmulation,
    /// 1: 1.2 MB floppy.
    Floppy12,
    /// 2: 1.44 MB floppy.
    Floppy144,
    /// 3: 2.88 MB floppy.
    Floppy288,
    /// 4: hard disk (the image starts with an MBR).
    HardDisk,
    /// Any other value (5..15 are reserved).
    Other(u8),
}

impl Media {
    /// Decode the low nibble of a media-type byte.
    pub(crate) fn from_nibble(b: u8) -> Self {
        match b & 0x0F {
            0 => Media::NoEmulation,
            1 => Media::Floppy12,
            2 => Media::Floppy144,
            3 => Media::Floppy288,
            4 => Media::HardDisk,
            other => Media::Other(other),
        }
    }

    /// The low nibble stored in the catalog.
    pub(crate) fn to_nibble(self) -> u8 {
        match self {
            Media::NoEmulation => 0,
            Media::Floppy12 => 1,
            Media::Floppy144 => 2,
            Media::Floppy288 => 3,
            Media::HardDisk => 4,
            Media::Other(b) => b & 0x0F,
        }
    }

    /// Size of the emulated floppy in bytes, for the floppy media types.
    pub(crate) fn floppy_bytes(self) -> Option<u64> {
        match self {
            Media::Floppy12 => Some(1_228_800),
            Media::Floppy144 => Some(1_474_560),
            Media::Floppy288 => Some(2_949_120),
            _ => None,
        }
    }
}

/// One bootable (or non-bootable) image named by the catalog: the initial/default
/// entry (table 3) or a section entry (table 5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ElToritoEntry {
    /// Firmware the entry is for: the validation entry's platform for the default entry,
    /// the section header's platform for a section entry.
    pub platform: Platform,
    /// Boot indicator 0x88 (anything else reads as not bootable; 0x00 is written back).
    pub bootable: bool,
    /// Emulation mode.
    pub media: Media,
    /// Bits 4..7 of the media-type byte of a section entry (bit 5 "extension follows" is
    /// recomputed on writing; bits 6/7 announce ATAPI/SCSI drivers). Zero for the default entry.
    pub media_flags: u8,
    /// Real-mode load segment; 0 means the BIOS default 0x7C0.
    pub load_segment: u16,
    /// Partition type of a hard-disk image (byte 4); xorriso calls it "Hdpt".
    pub system_type: u8,
    /// Number of 512-byte virtual sectors the BIOS loads (isolinux: 4).
    pub sector_count: u16,
    /// LBA (2048-byte sectors) of the image.
    pub load_lba: u32,
    /// Selection criteria type (section entries only, byte 12; 0 = none).
    pub selection_criteria_type: u8,
    /// Vendor-unique selection criteria: bytes 13..32 of a section entry followed by
    /// bytes 2..32 of each of its extension entries. Empty for the default entry.
    pub selection_criteria: Vec<u8>,
    /// Index into [`BootCatalog::sections`] of the section holding the entry; `None` for
    /// the default entry.
    pub section: Option<usize>,
    /// Byte offset in the source file of the entry's 32-byte slot.
    pub catalog_offset: u64,
}

impl ElToritoEntry {
    /// A bootable no-emulation entry, the kind isolinux and EFI images use.
    pub fn no_emulation(platform: Platform, load_lba: u32, sector_count: u16) -> Self {
        ElToritoEntry {
            platform,
            bootable: true,
            media: Media::NoEmulation,
            media_flags: 0,
            load_segment: 0,
            system_type: 0,
            sector_count,
            load_lba,
            selection_criteria_type: 0,
            selection_criteria: Vec::new(),
            section: None,
            catalog_offset: 0,
        }
    }

    /// Bytes the firmware loads: `sector_count` × 512. For a no-emulation image this is
    /// often less than the file (isolinux.bin loads 4 sectors and reads the rest itself).
    pub fn load_size_bytes(&self) -> u64 {
        u64::from(self.sector_count) * 512
    }

    /// Best knowledge of the image's size from the catalog alone: the floppy size for
    /// floppy emulation, otherwise the load size. The file's real length is in the
    /// directory tree; for a hard-disk image it is in the image's own MBR.
    pub fn image_size_bytes(&self) -> u64 {
        self.media
            .floppy_bytes()
            .unwrap_or_else(|| self.load_size_bytes())
    }

    /// Byte offset of the image in the ISO.
    pub fn image_offset(&self) -> u64 {
        u64::from(self.load_lba) * SECTOR
    }

    /// The image's start in 512-byte blocks, the unit of MBR and GPT partition tables.
    pub fn start_block512(&self) -> u64 {
        u64::from(self.load_lba) * 4
    }
}

/// A section header (El Torito table 4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SectionHeader {
    /// Platform of every entry in the section.
    pub platform: Platform,
    /// Number of section entries declared (extension entries not counted).
    pub entry_count: u16,
    /// Id string (bytes 4..32), trailing NULs and spaces removed.
    pub id: String,
    /// Header indicator was 0x91.
    pub final_header: bool,
    /// Byte offset in the source file of the header slot.
    pub catalog_offset: u64,
}

/// The parsed boot catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BootCatalog {
    /// LBA of the catalog's first sector.
    pub lba: u32,
    /// Sectors the catalog's entries occupy (1 for every image seen in practice).
    pub sectors: u32,
    /// Platform of the validation entry (and so of the default entry).
    pub validation_platform: Platform,
    /// Id string of the validation entry (manufacturer/developer), trailing NULs removed.
    pub id: String,
    /// The default entry first, then every section entry in catalog order.
    pub entries: Vec<ElToritoEntry>,
    /// Section headers in catalog order.
    pub sections: Vec<SectionHeader>,
}

impl BootCatalog {
    /// The initial/default entry (always present in a parsed catalog).
    pub fn default_entry(&self) -> Option<&ElToritoEntry> {
        self.entries.first()
    }

    /// The first bootable entry for UEFI, the one carrying `efiboot.img`.
    pub fn efi_entry(&self) -> Option<&ElToritoEntry> {
        self.entries
            .iter()
            .find(|e| e.platform == Platform::Efi && e.bootable)
    }

    /// The first bootable entry for PC BIOS.
    pub fn bios_entry(&self) -> Option<&ElToritoEntry> {
        self.entries
            .iter()
            .find(|e| e.platform == Platform::X86 && e.bootable)
    }
}

fn u16_le(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Sum of the 16 little-endian words of a validation entry; 0 for a valid one (table 2).
fn word_sum(slot: &[u8; ENTRY]) -> u16 {
    slot.chunks_exact(2).fold(0u16, |acc, w| {
        acc.wrapping_add(u16::from_le_bytes([w[0], w[1]]))
    })
}

/// Id strings are a-characters padded with NULs (genisoimage) or spaces.
fn id_string(bytes: &[u8]) -> String {
    let end = bytes
        .iter()
        .rposition(|&b| b != 0 && b != b' ')
        .map_or(0, |p| p + 1);
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// Decide whether a volume descriptor sector is an El Torito boot record.
///
/// `offset` is the sector's byte offset, for errors. Returns `Ok(None)` for a boot record
/// of another boot system, the catalog LBA (byte 71, El Torito table 1) for El Torito, and
/// an error when the sector is not a boot record volume descriptor at all.
pub fn parse_boot_record(sector: &[u8], offset: u64) -> Result<Option<u32>> {
    if sector.len() < CATALOG_POINTER + 4 {
        return Err(Error::corrupt(
            offset,
            format!(
                "boot record is {} bytes, shorter than {}",
                sector.len(),
                CATALOG_POINTER + 4
            ),
        ));
    }
    if sector[0] != VD_BOOT_RECORD {
        return Err(Error::corrupt(
            offset,
            format!(
                "volume descriptor type {} is not a boot record (0)",
                sector[0]
            ),
        ));
    }
    if sector[VD_ID] != *STANDARD_ID {
        return Err(Error::corrupt(
            offset + 1,
            "boot record lacks the standard identifier CD001",
        ));
    }
    if sector[VD_VERSION] != 1 {
        return Err(Error::corrupt(
            offset + 6,
            format!("boot record version {} is not 1", sector[6]),
        ));
    }
    let system_id = &sector[BOOT_SYSTEM_ID];
    let is_el_torito = system_id.starts_with(EL_TORITO_ID)
        && system_id[EL_TORITO_ID.len()..].iter().all(|&b| b == 0);
    if !is_el_torito {
        return Ok(None);
    }
    Ok(Some(u32_le(sector, CATALOG_POINTER)))
}

/// Parse a default (table 3) or section (table 5) entry slot. The caller has checked the
/// boot indicator.
fn parse_entry(
    slot: &[u8],
    platform: Platform,
    section: Option<usize>,
    offset: u64,
) -> ElToritoEntry {
    let (media_flags, selection_criteria_type, selection_criteria) = match section {
        None => (0, 0, Vec::new()),
        Some(_) => (
            slot[1] & 0xF0,
            slot[12],
            slot[13..13 + SECTION_CRITERIA].to_vec(),
        ),
    };
    ElToritoEntry {
        platform,
        bootable: slot[0] == BOOTABLE,
        media: Media::from_nibble(slot[1]),
        media_flags,
        load_segment: u16_le(slot, 2),
        system_type: slot[4],
        sector_count: u16_le(slot, 6),
        load_lba: u32_le(slot, 8),
        selection_criteria_type,
        selection_criteria,
        section,
        catalog_offset: offset,
    }
}

/// Reads catalog slots one at a time, never past [`MAX_CATALOG_SECTORS`].
struct SlotReader<'a> {
    src: &'a Source,
    base: u64,
    next: usize,
}

impl SlotReader<'_> {
    const LIMIT: usize = MAX_CATALOG_SECTORS as usize * SECTOR as usize / ENTRY;

    /// The next slot and its byte offset.
    fn next(&mut self) -> Result<([u8; ENTRY], u64)> {
        let index = self.next;
        let offset = self.offset_of(index);
        if index >= Self::LIMIT {
            return Err(Error::corrupt(
                offset,
                format!("boot catalog continues past {MAX_CATALOG_SECTORS} sectors"),
            ));
        }
        let mut slot = [0u8; ENTRY];
        self.src
            .read_exact_at(offset, &mut slot, "El Torito boot catalog entry")?;
        self.next += 1;
        Ok((slot, offset))
    }

    /// Offset of slot `index`; cannot overflow: `base` is an LBA × 2048 and `index` is bounded.
    fn offset_of(&self, index: usize) -> u64 {
        self.base + (index * ENTRY) as u64
    }
}

/// Read and check the boot catalog at `catalog_lba`.
///
/// A bad validation checksum or key bytes, an unknown header indicator, or a catalog that
/// runs past `MAX_CATALOG_SECTORS` or the end of the file is a `Corrupt` error carrying
/// the offset of the slot at fault.
pub fn read_boot_catalog(src: &Source, catalog_lba: u32) -> Result<BootCatalog> {
    parse_catalog(src, catalog_lba).map_err(|e| e.in_file(src.path()))
}

fn parse_catalog(src: &Source, catalog_lba: u32) -> Result<BootCatalog> {
    let base = u64::from(catalog_lba) * SECTOR;
    let mut slots = SlotReader { src, base, next: 0 };

    // Validation entry (table 2).
    let (v, voff) = slots.next()?;
    if v[0] != 1 {
        return Err(Error::corrupt(
            voff,
            format!(
                "boot catalog validation entry header id is {:#04x}, not 0x01",
                v[0]
            ),
        ));
    }
    if v[30] != 0x55 || v[31] != 0xAA {
        return Err(Error::corrupt(
            voff + 30,
            format!(
                "boot catalog validation entry key bytes are {:02x} {:02x}, not 55 aa",
                v[30], v[31]
            ),
        ));
    }
    let sum = word_sum(&v);
    if sum != 0 {
        return Err(Error::corrupt(
            voff + 28,
            format!(
                "boot catalog validation entry checksum is wrong (words sum to {sum:#06x}, not 0)"
            ),
        ));
    }
    let validation_platform = Platform::from_byte(v[1]);
    let id = id_string(&v[4..28]);

    // Initial/default entry (table 3).
    let (d, doff) = slots.next()?;
    if d[0] != BOOTABLE && d[0] != 0 {
        return Err(Error::corrupt(
            doff,
            format!(
                "boot catalog default entry boot indicator is {:#04x}, not 0x88 or 0x00",
                d[0]
            ),
        ));
    }
    let mut entries = vec![parse_entry(&d, validation_platform, None, doff)];
    let mut sections: Vec<SectionHeader> = Vec::new();

    // Sections (tables 4-6): stop at a 0x00 slot where a header is due or after the final one.
    loop {
        let (h, hoff) = slots.next()?;
        match h[0] {
            0 => break,
            HEADER_MORE | HEADER_FINAL => {}
            EXTENSION => {
                return Err(Error::corrupt(
                    hoff,
                    "boot catalog extension entry (0x44) where a section header is due",
                ))
            }
            other => {
                return Err(Error::corrupt(
                    hoff,
                    format!("boot catalog header indicator {other:#04x} is not 0x90, 0x91 or 0x00"),
                ))
            }
        }
        let section_index = sections.len();
        let header = SectionHeader {
            platform: Platform::from_byte(h[1]),
            entry_count: u16_le(&h, 2),
            id: id_string(&h[4..32]),
            final_header: h[0] == HEADER_FINAL,
            catalog_offset: hoff,
        };
        for _ in 0..header.entry_count {
            let (e, eoff) = slots.next()?;
            if e[0] != BOOTABLE && e[0] != 0 {
                return Err(Error::corrupt(
                    eoff,
                    format!(
                        "boot catalog section entry boot indicator is {:#04x}, not 0x88 or 0x00 \
                         (section header at {hoff} declares {} entries)",
                        e[0], header.entry_count
                    ),
                ));
            }
            let mut entry = parse_entry(&e, header.platform, Some(section_index), eoff);
            // Extension entries (table 6) follow while the previous one says so.
            let mut more = e[1] & CONTINUATION != 0;
            while more {
                let (x, xoff) = slots.next()?;
                if x[0] != EXTENSION {
                    return Err(Error::corrupt(
                        xoff,
                        format!("boot catalog entry at {eoff} announces an extension entry, found indicator {:#04x}", x[0]),
                    ));
                }
                entry
                    .selection_criteria
                    .extend_from_slice(&x[2..2 + EXTENSION_CRITERIA]);
                more = x[1] & CONTINUATION != 0;
            }
            entries.push(entry);
        }
        let last = header.final_header;
        sections.push(header);
        if last {
            break;
        }
    }

    let used = slots.next as u64 * ENTRY as u64;
    let sectors = u32::try_from(used.div_ceil(SECTOR)).unwrap_or(MAX_CATALOG_SECTORS);
    Ok(BootCatalog {
        lba: catalog_lba,
        sectors,
        validation_platform,
        id,
        entries,
        sections,
    })
}
