//! The system area (first 32 KiB): MBR partition table and GPT as isohybrid writes them.
//!
//! ECMA-119 leaves sectors 0..15 to the system. A hybrid ISO puts there what a firmware
//! booting the file as a *disk* needs (syslinux `isohybrid.c`, xorriso `-isohybrid-mbr`):
//!
//! ```text
//! bytes   0..432   MBR boot code (isohdpfx.bin), which chains to isolinux.bin
//! bytes 432..436   boot pointer: isolinux.bin's LBA × 4 (isohybrid) or the BIOS boot
//!                  image's LBA × 4 + 4 (grub2-mbr, as grub-mkrescue and memtest86+ ship)
//! bytes 440..444   disk id
//! bytes 446..510   four partition entries (16 bytes each)
//! bytes 510..512   55 AA
//! byte  512        GPT header ("EFI PART", UEFI §5.3.2) when built with --uefi / -isohybrid-gpt-basdat
//! byte 1024        GPT partition entries (isohybrid: 128 × 128 bytes)
//! ```
//!
//! with a backup GPT header in the last 512-byte block of the (padded) image. xorriso's
//! `-isohybrid-apm-hfsplus` adds an Apple Partition Map ("ER" at byte 0, "PM" entries).
//!
//! Tables in the wild are often not quite right (isohybrid's GPT overlaps the ISO; a
//! truncated download loses the backup), so nothing here fails after the first 512 bytes
//! were read: every oddity is recorded in [`SystemArea::problems`].

use serde::Serialize;

use crate::error::{Error, Result};
use crate::iso::eltorito::{BootCatalog, ElToritoEntry};
use crate::source::Source;

mod gpt;
pub use gpt::{Gpt, GptHeader, GptPartition, Guid, BASIC_DATA};

/// The 512-byte block of MBR and GPT addressing.
pub(crate) const BLOCK: u64 = 512;

/// One of the four MBR partition entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MbrPartition {
    /// 1..4.
    pub number: u8,
    /// 0x80 active, 0x00 inactive.
    pub status: u8,
    /// Raw CHS address of the first sector.
    pub chs_start: [u8; 3],
    /// Partition type (isohybrid: 0x00 or 0x17 for the ISO, 0xEF for efiboot.img).
    pub partition_type: u8,
    /// Raw CHS address of the last sector.
    pub chs_end: [u8; 3],
    /// First 512-byte block.
    pub start_lba: u32,
    /// Length in 512-byte blocks.
    pub sector_count: u32,
}

impl MbrPartition {
    /// An all-zero entry describes no partition.
    pub(crate) fn is_empty(&self) -> bool {
        self.status == 0
            && self.partition_type == 0
            && self.start_lba == 0
            && self.sector_count == 0
            && self.chs_start == [0; 3]
            && self.chs_end == [0; 3]
    }

    /// One past the last 512-byte block.
    pub(crate) fn end_lba(&self) -> u64 {
        u64::from(self.start_lba) + u64::from(self.sector_count)
    }
}

/// Which boot code convention the MBR's boot pointer follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum BootPointer {
    /// syslinux isohybrid (isohdpfx.bin): pointer = isolinux.bin LBA × 4.
    Isohybrid,
    /// GRUB 2 `boot_hybrid.img` ("grub2-mbr" in xorriso): pointer = boot image LBA × 4 + 4.
    Grub2,
}

/// The master boot record (block 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mbr {
    /// Bytes 0..432 are not all zero.
    pub boot_code_present: bool,
    /// Bytes 0..432, the boot code a rebuilt image reuses. Not serialized.
    #[serde(skip)]
    pub boot_code: Vec<u8>,
    /// Bytes 432..436 (u32 LE): the boot code's pointer to the BIOS boot image in 512-byte
    /// blocks; see [`Mbr::boot_pointer`].
    pub boot_pointer_block: u32,
    /// Bytes 440..444 (u32 LE).
    pub disk_id: u32,
    /// The four entries in table order, empty ones included.
    pub partitions: Vec<MbrPartition>,
}

impl Mbr {
    /// How bytes 432..436 point at the BIOS boot image stored at ISO LBA `bios_lba`:
    /// isohybrid stores `bios_lba × 4` (isolinux.bin's first 512-byte block), GRUB 2's
    /// `boot_hybrid.img` stores `bios_lba × 4 + 4` (libisofs `grub2_boot_info`: the block
    /// after the first 2048 bytes of the image). `None` when it is neither, or no boot
    /// code is present.
    pub fn boot_pointer(&self, bios_lba: u32) -> Option<BootPointer> {
        if !self.boot_code_present {
            return None;
        }
        let base = u64::from(bios_lba) * 4;
        let value = u64::from(self.boot_pointer_block);
        if value == base {
            Some(BootPointer::Isohybrid)
        } else if value == base + 4 {
            Some(BootPointer::Grub2)
        } else {
            None
        }
    }

    /// Entries that describe a partition.
    pub fn used_partitions(&self) -> impl Iterator<Item = &MbrPartition> {
        self.partitions.iter().filter(|p| !p.is_empty())
    }

    /// True when an entry of type 0xEE (protective MBR) is present.
    pub fn has_protective_entry(&self) -> bool {
        self.used_partitions().any(|p| p.partition_type == 0xEE)
    }
}

/// Everything the system area says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SystemArea {
    /// The MBR, when bytes 510..512 are 55 AA.
    pub mbr: Option<Mbr>,
    /// The GPT, when block 1 starts with "EFI PART".
    pub gpt: Option<Gpt>,
    /// An Apple Partition Map is present (driver descriptor "ER" at byte 0 and a "PM"
    /// entry in the following block).
    pub apm: bool,
    /// Everything odd that did not stop the read: bad CRCs, arrays or backups outside
    /// the file, headers that disagree.
    pub problems: Vec<String>,
}

/// Where the hybrid tables put an El Torito image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PartitionCoverage {
    /// MBR partition number starting exactly at the image.
    pub mbr: Option<u8>,
    /// GPT partition number starting exactly at the image.
    pub gpt: Option<u32>,
}

impl SystemArea {
    /// How the MBR's boot code finds the catalog's BIOS boot image, if it does: the
    /// fact that tells an isohybrid (or grub2-mbr) image from a plain one, and what a
    /// rebuilt image must patch when the boot image moves.
    pub fn boot_pointer(&self, catalog: &BootCatalog) -> Option<BootPointer> {
        let bios = catalog.bios_entry()?;
        self.mbr.as_ref()?.boot_pointer(bios.load_lba)
    }

    /// The MBR and GPT partitions that start where `entry`'s image starts, as
    /// `isohybrid --uefi` and `-isohybrid-gpt-basdat` make one for `efiboot.img`.
    pub fn partitions_for(&self, entry: &ElToritoEntry) -> PartitionCoverage {
        let start = entry.start_block512();
        PartitionCoverage {
            mbr: self.mbr.as_ref().and_then(|m| {
                m.used_partitions()
                    .find(|p| u64::from(p.start_lba) == start)
                    .map(|p| p.number)
            }),
            gpt: self.gpt.as_ref().and_then(|g| {
                g.partitions
                    .iter()
                    .find(|p| p.first_lba == start)
                    .map(|p| p.number)
            }),
        }
    }
}

fn u32_le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn parse_mbr(block: &[u8; 512]) -> Option<Mbr> {
    if block[510] != 0x55 || block[511] != 0xAA {
        return None;
    }
    let partitions = (0u8..4)
        .map(|i| {
            let e = &block[446 + 16 * usize::from(i)..446 + 16 * usize::from(i) + 16];
            MbrPartition {
                number: i + 1,
                status: e[0],
                chs_start: [e[1], e[2], e[3]],
                partition_type: e[4],
                chs_end: [e[5], e[6], e[7]],
                start_lba: u32_le(e, 8),
                sector_count: u32_le(e, 12),
            }
        })
        .collect();
    Some(Mbr {
        boot_code_present: block[..432].iter().any(|&b| b != 0),
        boot_code: block[..432].to_vec(),
        boot_pointer_block: u32_le(block, 432),
        disk_id: u32_le(block, 440),
        partitions,
    })
}

/// Apple Partition Map (Inside Macintosh: Devices): a driver descriptor map "ER" with a
/// big-endian block size at byte 2, then "PM" entries from block 1.
fn detect_apm(src: &Source, block0: &[u8; 512]) -> bool {
    if &block0[..2] != b"ER" {
        return false;
    }
    let size = u64::from(u16::from_be_bytes([block0[2], block0[3]]));
    if !matches!(size, 512 | 1024 | 2048) {
        return false;
    }
    let mut sig = [0u8; 2];
    src.read_exact_at(size, &mut sig, "Apple partition map entry")
        .is_ok()
        && &sig == b"PM"
}

/// Read the system area of `src`. Only a file shorter than 512 bytes is an error;
/// malformed tables are reported in [`SystemArea::problems`].
pub fn read_system_area(src: &Source) -> Result<SystemArea> {
    if src.len() < BLOCK {
        return Err(Error::corrupt(
            0,
            format!(
                "file of {} bytes is too short for a system area (512)",
                src.len()
            ),
        )
        .in_file(src.path()));
    }
    let mut block0 = [0u8; 512];
    src.read_exact_at(0, &mut block0, "MBR")?;
    let mut problems = Vec::new();
    let mbr = parse_mbr(&block0);

    let gpt = gpt::read_gpt(src, &mut problems)?;
    if gpt.is_some() && mbr.is_none() {
        problems.push("GPT present without an MBR signature (55 AA)".to_string());
    }
    if let Some(m) = &mbr {
        // isohybrid pads the image to the end of partition 1; a shorter file was truncated.
        let blocks = src.len() / BLOCK;
        for p in m.used_partitions() {
            if p.end_lba() > blocks {
                problems.push(format!(
                    "MBR partition {} ends at block {}, past the end of the file ({blocks} blocks)",
                    p.number,
                    p.end_lba()
                ));
            }
        }
    }
    Ok(SystemArea {
        mbr,
        gpt,
        apm: detect_apm(src, &block0),
        problems,
    })
}
