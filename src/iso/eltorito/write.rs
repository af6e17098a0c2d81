//! Writing a boot catalog sector (El Torito 1.0 section 2), the inverse of
//! [`read_boot_catalog`](super::read_boot_catalog).

use super::{
    word_sum, BootCatalog, ElToritoEntry, Platform, SectionHeader, BOOTABLE, BOOT_SYSTEM_ID,
    CATALOG_POINTER, CONTINUATION, EL_TORITO_ID, ENTRY, EXTENSION, EXTENSION_CRITERIA,
    HEADER_FINAL, HEADER_MORE, SECTION_CRITERIA,
};
use crate::error::{Error, Result};
use crate::iso::ecma119::{descriptor_header, VD_BOOT_RECORD};
use crate::source::SECTOR;

/// The El Torito boot record volume descriptor (El Torito 1.0 table 1) pointing at the
/// catalog: the inverse of [`parse_boot_record`](super::parse_boot_record).
pub(crate) fn boot_record_sector(catalog_lba: u32) -> [u8; SECTOR as usize] {
    let mut s = [0u8; SECTOR as usize];
    s[..7].copy_from_slice(&descriptor_header(VD_BOOT_RECORD));
    s[BOOT_SYSTEM_ID][..EL_TORITO_ID.len()].copy_from_slice(EL_TORITO_ID);
    s[CATALOG_POINTER..CATALOG_POINTER + 4].copy_from_slice(&catalog_lba.to_le_bytes());
    s
}

/// Write one entry slot (default entry when `section` is false) plus its extensions.
fn put_entry(out: &mut Vec<[u8; ENTRY]>, e: &ElToritoEntry, section: bool) {
    let mut slot = [0u8; ENTRY];
    slot[0] = if e.bootable { BOOTABLE } else { 0 };
    let criteria = &e.selection_criteria;
    let extensions = if section && criteria.len() > SECTION_CRITERIA {
        (criteria.len() - SECTION_CRITERIA).div_ceil(EXTENSION_CRITERIA)
    } else {
        0
    };
    let mut media = e.media.to_nibble();
    if section {
        media |= e.media_flags & 0xD0;
        if extensions > 0 {
            media |= CONTINUATION;
        }
    }
    slot[1] = media;
    slot[2..4].copy_from_slice(&e.load_segment.to_le_bytes());
    slot[4] = e.system_type;
    slot[6..8].copy_from_slice(&e.sector_count.to_le_bytes());
    slot[8..12].copy_from_slice(&e.load_lba.to_le_bytes());
    if section {
        slot[12] = e.selection_criteria_type;
        let n = criteria.len().min(SECTION_CRITERIA);
        slot[13..13 + n].copy_from_slice(&criteria[..n]);
    }
    out.push(slot);
    for i in 0..extensions {
        let mut x = [0u8; ENTRY];
        x[0] = EXTENSION;
        if i + 1 < extensions {
            x[1] = CONTINUATION;
        }
        let start = SECTION_CRITERIA + i * EXTENSION_CRITERIA;
        let end = criteria.len().min(start + EXTENSION_CRITERIA);
        x[2..2 + (end - start)].copy_from_slice(&criteria[start..end]);
        out.push(x);
    }
}

fn put_id(dst: &mut [u8], id: &str) -> Result<()> {
    let bytes = id.as_bytes();
    if bytes.len() > dst.len() {
        return Err(Error::invalid(format!(
            "El Torito id string {id:?} is longer than {} bytes",
            dst.len()
        )));
    }
    dst[..bytes.len()].copy_from_slice(bytes);
    Ok(())
}

/// The validation entry (El Torito table 2) with its checksum.
fn validation_slot(platform: Platform, id: &str) -> Result<[u8; ENTRY]> {
    let mut v = [0u8; ENTRY];
    v[0] = 1;
    v[1] = platform.to_byte();
    put_id(&mut v[4..28], id)?;
    v[30] = 0x55;
    v[31] = 0xAA;
    let sum = word_sum(&v);
    v[28..30].copy_from_slice(&0u16.wrapping_sub(sum).to_le_bytes());
    Ok(v)
}

/// A section header slot (table 4).
fn header_slot(
    final_header: bool,
    platform: Platform,
    count: usize,
    id: &str,
) -> Result<[u8; ENTRY]> {
    let mut h = [0u8; ENTRY];
    h[0] = if final_header {
        HEADER_FINAL
    } else {
        HEADER_MORE
    };
    h[1] = platform.to_byte();
    let count = u16::try_from(count)
        .map_err(|_| Error::invalid("more than 65535 El Torito entries in one section"))?;
    h[2..4].copy_from_slice(&count.to_le_bytes());
    put_id(&mut h[4..32], id)?;
    Ok(h)
}

fn into_sector(slots: &[[u8; ENTRY]]) -> Result<[u8; SECTOR as usize]> {
    if slots.len() * ENTRY > SECTOR as usize {
        return Err(Error::invalid(format!(
            "boot catalog needs {} entry slots; one sector holds {}",
            slots.len(),
            SECTOR as usize / ENTRY
        )));
    }
    let mut sector = [0u8; SECTOR as usize];
    for (chunk, slot) in sector.chunks_exact_mut(ENTRY).zip(slots) {
        chunk.copy_from_slice(slot);
    }
    Ok(sector)
}

/// Serialize a boot catalog into one sector.
///
/// `entries[0]` becomes the default entry (its platform is ignored: the default entry
/// belongs to `validation_platform`); the remaining entries are grouped into one section
/// per run of consecutive entries with the same platform, the last header marked final,
/// as genisoimage and xorriso do. Section id strings are left empty (see
/// [`BootCatalog::to_sector`] to keep them). Fails when there are no entries, `id`
/// exceeds 24 bytes, a run exceeds 65535 entries or the entries do not fit in 2048 bytes.
pub fn write_boot_catalog(
    entries: &[ElToritoEntry],
    validation_platform: Platform,
    id: &str,
) -> Result<[u8; SECTOR as usize]> {
    let (default, rest) = entries
        .split_first()
        .ok_or_else(|| Error::invalid("a boot catalog needs at least the default entry"))?;
    let mut slots = vec![validation_slot(validation_platform, id)?];
    put_entry(&mut slots, default, false);
    let runs: Vec<&[ElToritoEntry]> = rest.chunk_by(|a, b| a.platform == b.platform).collect();
    for (i, run) in runs.iter().enumerate() {
        slots.push(header_slot(
            i + 1 == runs.len(),
            run[0].platform,
            run.len(),
            "",
        )?);
        for e in *run {
            put_entry(&mut slots, e, true);
        }
    }
    into_sector(&slots)
}

impl BootCatalog {
    /// The catalog `genisoimage … -eltorito-alt-boot` writes: the validation entry takes
    /// the first entry's platform, `entries[0]` is the default entry and every further
    /// entry gets a section of its own (header 0x90, the last 0x91) with an empty id.
    /// Entries keep their fields; [`BootCatalog::to_sector`] serializes the result.
    /// Fails when there is no entry or the entries do not fit one sector.
    pub(crate) fn one_section_per_entry(entries: &[ElToritoEntry]) -> Result<BootCatalog> {
        let Some(first) = entries.first() else {
            return Err(Error::invalid("El Torito: no boot entries"));
        };
        // validation + default + (header + entry) per further entry
        if 2 + 2 * (entries.len() - 1) > SECTOR as usize / ENTRY {
            return Err(Error::unsupported(format!(
                "El Torito: {} boot entries do not fit one catalog sector",
                entries.len()
            )));
        }
        let mut sections = Vec::new();
        let mut placed = Vec::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            let mut e = e.clone();
            e.section = (i > 0).then(|| {
                sections.push(SectionHeader {
                    platform: e.platform,
                    entry_count: 1,
                    id: String::new(),
                    final_header: i + 1 == entries.len(),
                    catalog_offset: 0,
                });
                sections.len() - 1
            });
            placed.push(e);
        }
        Ok(BootCatalog {
            lba: 0,
            sectors: 1,
            validation_platform: first.platform,
            id: String::new(),
            entries: placed,
            sections,
        })
    }

    /// Serialize the catalog as it was read, sections and their id strings included,
    /// with the entries' current field values (so a writer can move images by changing
    /// `load_lba` / `sector_count`). Entries are placed in the section their `section`
    /// index names; the final flag goes on the last section that keeps an entry.
    /// Fails like [`write_boot_catalog`], or when an entry names no parsed section.
    pub fn to_sector(&self) -> Result<[u8; SECTOR as usize]> {
        let mut default = None;
        let mut by_section: Vec<Vec<&ElToritoEntry>> = vec![Vec::new(); self.sections.len()];
        for e in &self.entries {
            match e.section {
                None if default.is_none() => default = Some(e),
                None => {
                    return Err(Error::invalid(
                        "boot catalog has two entries without a section (two default entries)",
                    ))
                }
                Some(i) => by_section
                    .get_mut(i)
                    .ok_or_else(|| {
                        Error::invalid(format!(
                            "El Torito entry names section {i}, which does not exist"
                        ))
                    })?
                    .push(e),
            }
        }
        let default =
            default.ok_or_else(|| Error::invalid("a boot catalog needs the default entry"))?;
        let mut slots = vec![validation_slot(self.validation_platform, &self.id)?];
        put_entry(&mut slots, default, false);
        let kept: Vec<(&SectionHeader, &Vec<&ElToritoEntry>)> = self
            .sections
            .iter()
            .zip(&by_section)
            .filter(|(_, entries)| !entries.is_empty())
            .collect();
        for (i, (header, entries)) in kept.iter().enumerate() {
            slots.push(header_slot(
                i + 1 == kept.len(),
                header.platform,
                entries.len(),
                &header.id,
            )?);
            for e in entries.iter() {
                put_entry(&mut slots, e, true);
            }
        }
        into_sector(&slots)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_section_per_entry_matches_genisoimage() {
        // Bytes of genisoimage's catalog for isolinux.bin at 782 and efiboot.img at 62.
        let cat = BootCatalog::one_section_per_entry(&[
            ElToritoEntry::no_emulation(Platform::X86, 782, 4),
            ElToritoEntry::no_emulation(Platform::Efi, 62, 2880),
        ])
        .expect("two entries fit");
        let s = cat.to_sector().expect("serializes");
        let hex: String = s[..128].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "01000000000000000000000000000000000000000000000000000000aa5555aa\
             88000000000004000e0300000000000000000000000000000000000000000000\
             91ef010000000000000000000000000000000000000000000000000000000000\
             880000000000400b3e0000000000000000000000000000000000000000000000"
        );
        assert!(s[128..].iter().all(|&b| b == 0));
    }

    #[test]
    fn boot_record_round_trips() {
        let s = boot_record_sector(33);
        assert_eq!(
            super::super::parse_boot_record(&s, 0).expect("valid"),
            Some(33)
        );
    }
}
