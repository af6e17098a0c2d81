//! Volume descriptors (ECMA-119 8): the primary volume descriptor, Joliet's
//! supplementary descriptor, the El Torito boot record and the set terminator.

use serde::Serialize;

use super::ecma119::VD_IDENTIFIERS;
use super::time::VolumeDate;
use crate::error::{Error, Result};
use crate::source::{Source, SECTOR};

/// First volume descriptor sector (ECMA-119 6.2.1: sectors 0–15 are the system area).
pub(crate) const FIRST_DESCRIPTOR_LBA: u32 = 16;
/// Bound on the descriptor set so a missing terminator cannot make us read the whole image.
const MAX_DESCRIPTORS: u32 = 64;

/// A primary or supplementary volume descriptor's fields.
#[derive(Debug, Clone, Serialize)]
pub struct VolumeDescriptor {
    /// Descriptor type: 1 primary, 2 supplementary.
    pub kind: u8,
    /// LBA of the descriptor.
    pub lba: u32,
    /// System identifier.
    pub system_id: String,
    /// Volume identifier (the "label").
    pub volume_id: String,
    /// Volume space size in logical blocks.
    pub space_size: u32,
    /// Logical block size (always 2048 here).
    pub block_size: u16,
    /// Volume set size.
    pub set_size: u16,
    /// Volume sequence number.
    pub sequence: u16,
    /// Path table size in bytes.
    pub path_table_size: u32,
    /// Type-L path table LBA.
    pub path_table_l: u32,
    /// Type-M path table LBA.
    pub path_table_m: u32,
    /// The identifier fields (volume set, publisher, preparer, application and the
    /// three file identifiers).
    #[serde(flatten)]
    pub ids: VolumeIds,
    /// Volume creation date.
    pub created: VolumeDate,
    /// Volume modification date.
    pub modified: VolumeDate,
    /// Volume expiration date.
    pub expires: VolumeDate,
    /// Volume effective date.
    pub effective: VolumeDate,
    /// File structure version.
    pub file_structure_version: u8,
    /// Joliet UCS-2 level (1–3) for a supplementary descriptor with a Joliet escape sequence.
    pub joliet_level: Option<u8>,
    /// The root directory's extent LBA.
    pub root_lba: u32,
    /// The root directory's size in bytes.
    pub root_size: u32,
    /// The raw 2048 bytes, kept so `pack` can replay fields xiso does not model.
    #[serde(skip)]
    pub raw: Vec<u8>,
}

/// The seven identifier fields of a volume descriptor that describe the volume rather
/// than lay it out (ECMA-119 8.4.19–8.4.25; positions in
/// `ecma119::VD_IDENTIFIERS`): read from a source and written back by `pack`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VolumeIds {
    /// Volume set identifier.
    pub volume_set_id: String,
    /// Publisher identifier.
    pub publisher_id: String,
    /// Data preparer identifier.
    pub preparer_id: String,
    /// Application identifier.
    pub application_id: String,
    /// Copyright file identifier.
    pub copyright_file_id: String,
    /// Abstract file identifier.
    pub abstract_file_id: String,
    /// Bibliographic file identifier.
    pub bibliographic_file_id: String,
}

impl VolumeIds {
    /// The fields in `ecma119::VD_IDENTIFIERS` order.
    pub fn fields(&self) -> [&str; 7] {
        [
            &self.volume_set_id,
            &self.publisher_id,
            &self.preparer_id,
            &self.application_id,
            &self.copyright_file_id,
            &self.abstract_file_id,
            &self.bibliographic_file_id,
        ]
    }

    /// The fields of `sector`, each decoded by `text`.
    fn read(sector: &[u8], text: impl Fn(&[u8]) -> String) -> VolumeIds {
        let [volume_set_id, publisher_id, preparer_id, application_id, copyright_file_id, abstract_file_id, bibliographic_file_id] =
            VD_IDENTIFIERS.map(|r| text(&sector[r]));
        VolumeIds {
            volume_set_id,
            publisher_id,
            preparer_id,
            application_id,
            copyright_file_id,
            abstract_file_id,
            bibliographic_file_id,
        }
    }
}

/// All descriptors found in the volume descriptor set.
#[derive(Debug, Clone, Serialize)]
pub struct DescriptorSet {
    /// The primary volume descriptor.
    pub primary: VolumeDescriptor,
    /// The Joliet supplementary descriptor, if any.
    pub joliet: Option<VolumeDescriptor>,
    /// LBA of the El Torito boot catalog named by the boot record, if any.
    pub boot_catalog_lba: Option<u32>,
    /// LBA of the El Torito boot record volume descriptor, if any.
    pub boot_record_lba: Option<u32>,
    /// LBA of the set terminator.
    pub terminator_lba: u32,
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .trim_end_matches([' ', '\0'])
        .to_string()
}

fn ucs2_text(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16_lossy(&units)
        .trim_end_matches([' ', '\0'])
        .to_string()
}

fn u16le(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u32be(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn date(b: &[u8], at: usize) -> VolumeDate {
    let mut d = [0u8; 17];
    d.copy_from_slice(&b[at..at + 17]);
    VolumeDate::parse(&d)
}

/// Parse a primary (type 1) or supplementary (type 2) descriptor sector.
pub(crate) fn parse_volume(sector: &[u8], lba: u32) -> Result<VolumeDescriptor> {
    let offset = u64::from(lba) * SECTOR;
    let joliet_level = if sector[0] == 2 && sector[88] == b'%' && sector[89] == b'/' {
        match sector[90] {
            b'@' => Some(1),
            b'C' => Some(2),
            b'E' => Some(3),
            _ => None,
        }
    } else {
        None
    };
    let s = if joliet_level.is_some() {
        ucs2_text
    } else {
        text
    };
    let block_size = u16le(sector, 128);
    if block_size != SECTOR as u16 {
        return Err(Error::unsupported(format!(
            "logical block size {block_size} (only 2048 is supported)"
        ))
        .at(offset + 128));
    }
    let root = &sector[156..190];
    if root[0] != 34 {
        return Err(Error::corrupt(
            offset + 156,
            format!("root directory record length {} (expected 34)", root[0]),
        ));
    }
    Ok(VolumeDescriptor {
        kind: sector[0],
        lba,
        system_id: s(&sector[8..40]),
        volume_id: s(&sector[40..72]),
        space_size: u32le(sector, 80),
        block_size,
        set_size: u16le(sector, 120),
        sequence: u16le(sector, 124),
        path_table_size: u32le(sector, 132),
        path_table_l: u32le(sector, 140),
        path_table_m: u32be(sector, 148),
        ids: VolumeIds::read(sector, s),
        created: date(sector, 813),
        modified: date(sector, 830),
        expires: date(sector, 847),
        effective: date(sector, 864),
        file_structure_version: sector[881],
        joliet_level,
        root_lba: u32le(root, 2),
        root_size: u32le(root, 10),
        raw: sector.to_vec(),
    })
}

/// Read the volume descriptor set starting at LBA 16.
pub(crate) fn read_descriptors(src: &Source) -> Result<DescriptorSet> {
    let first = u64::from(FIRST_DESCRIPTOR_LBA) * SECTOR;
    if src.len() < first + SECTOR {
        return Err(Error::corrupt(
            src.len(),
            format!(
                "file is {} bytes, too small for an ISO 9660 image (truncated? the first volume descriptor is at byte {first})",
                src.len()
            ),
        )
        .in_file(src.path()));
    }
    let mut primary = None;
    let mut joliet = None;
    let mut boot_catalog_lba = None;
    let mut boot_record_lba = None;
    for lba in FIRST_DESCRIPTOR_LBA..FIRST_DESCRIPTOR_LBA + MAX_DESCRIPTORS {
        let offset = u64::from(lba) * SECTOR;
        let sector = src.read_sector(lba, "volume descriptor")?;
        if &sector[1..6] != b"CD001" {
            let what = if sector.iter().all(|&b| b == 0) {
                "an all-zero sector"
            } else {
                "wrong magic"
            };
            return Err(Error::corrupt(
                offset + 1,
                format!("no ISO 9660 volume descriptor (expected \"CD001\", found {what}); not an ISO image or damaged"),
            )
            .in_file(src.path()));
        }
        let located = |e: Error| e.at(offset).in_file(src.path());
        match sector[0] {
            0 => {
                if let Some(cat) =
                    super::eltorito::parse_boot_record(&sector, offset).map_err(located)?
                {
                    boot_catalog_lba = Some(cat);
                    boot_record_lba = Some(lba);
                }
            }
            1 if primary.is_none() => primary = Some(parse_volume(&sector, lba).map_err(located)?),
            2 => {
                let v = parse_volume(&sector, lba).map_err(located)?;
                if v.joliet_level.is_some() && joliet.is_none() {
                    joliet = Some(v);
                }
            }
            255 => {
                let primary = primary.ok_or_else(|| {
                    Error::corrupt(
                        offset,
                        "volume descriptor set ends without a primary volume descriptor",
                    )
                    .in_file(src.path())
                })?;
                return Ok(DescriptorSet {
                    primary,
                    joliet,
                    boot_catalog_lba,
                    boot_record_lba,
                    terminator_lba: lba,
                });
            }
            _ => {}
        }
    }
    Err(Error::corrupt(
        first,
        format!("no volume descriptor set terminator in the first {MAX_DESCRIPTORS} descriptors"),
    )
    .in_file(src.path()))
}
