//! The El Torito boot record volume descriptor and boot catalog (El Torito
//! 1.0, sections 2.0–2.4) as `genisoimage … -eltorito-alt-boot` writes them,
//! and the isolinux boot info table.
//!
//! Catalog: validation entry (platform of the first entry, checksum so the
//! 16-bit words sum to zero, key 55 AA), the default entry, then every further
//! entry in its own section: header 0x90 (more follow) or 0x91 (final) with
//! the entry's platform id and one entry.

use crate::error::{Error, Result};
use crate::source::SECTOR;

/// One laid-out boot entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogEntry {
    /// Platform id (0 x86, 0xEF EFI).
    pub platform_id: u8,
    /// Boot indicator 0x88 (bootable) when true, 0x00 otherwise.
    pub bootable: bool,
    /// Boot media type (0 no emulation, 1–3 floppy, 4 hard disk).
    pub media: u8,
    /// Load segment (0 means the BIOS default 0x7C0).
    pub load_segment: u16,
    /// System type (partition type of a hard-disk image).
    pub system_type: u8,
    /// Sectors (512 bytes) loaded by the BIOS.
    pub sector_count: u16,
    /// LBA of the boot image.
    pub lba: u32,
}

fn entry_bytes(e: &CatalogEntry) -> [u8; 32] {
    let mut b = [0u8; 32];
    b[0] = if e.bootable { 0x88 } else { 0x00 };
    b[1] = e.media;
    b[2..4].copy_from_slice(&e.load_segment.to_le_bytes());
    b[4] = e.system_type;
    b[6..8].copy_from_slice(&e.sector_count.to_le_bytes());
    b[8..12].copy_from_slice(&e.lba.to_le_bytes());
    b
}

/// Serialize the catalog into one sector.
pub fn catalog_sector(entries: &[CatalogEntry]) -> Result<[u8; SECTOR as usize]> {
    let Some((first, rest)) = entries.split_first() else {
        return Err(Error::invalid("El Torito: no boot entries"));
    };
    // validation + default + (header + entry) per further entry
    if 2 + 2 * rest.len() > SECTOR as usize / 32 {
        return Err(Error::unsupported(format!(
            "El Torito: {} boot entries do not fit one catalog sector",
            entries.len()
        )));
    }
    let mut s = [0u8; SECTOR as usize];
    s[0] = 1;
    s[1] = first.platform_id;
    s[30] = 0x55;
    s[31] = 0xAA;
    let sum = s[..32].chunks(2).fold(0u16, |acc, w| {
        acc.wrapping_add(u16::from_le_bytes([w[0], w[1]]))
    });
    s[28..30].copy_from_slice(&0u16.wrapping_sub(sum).to_le_bytes());
    s[32..64].copy_from_slice(&entry_bytes(first));
    let mut off = 64;
    for (i, e) in rest.iter().enumerate() {
        s[off] = if i + 1 == rest.len() { 0x91 } else { 0x90 };
        s[off + 1] = e.platform_id;
        s[off + 2..off + 4].copy_from_slice(&1u16.to_le_bytes());
        s[off + 32..off + 64].copy_from_slice(&entry_bytes(e));
        off += 64;
    }
    Ok(s)
}

/// Boot record volume descriptor (El Torito 2.0) pointing at the catalog.
pub fn boot_record(catalog_lba: u32) -> [u8; SECTOR as usize] {
    let mut s = [0u8; SECTOR as usize];
    s[0] = 0;
    s[1..6].copy_from_slice(b"CD001");
    s[6] = 1;
    let id = b"EL TORITO SPECIFICATION";
    s[7..7 + id.len()].copy_from_slice(id);
    s[0x47..0x4B].copy_from_slice(&catalog_lba.to_le_bytes());
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_matches_genisoimage() {
        // Bytes of genisoimage's catalog for isolinux.bin at 782 and efiboot.img at 62.
        let s = catalog_sector(&[
            CatalogEntry {
                platform_id: 0,
                bootable: true,
                media: 0,
                load_segment: 0,
                system_type: 0,
                sector_count: 4,
                lba: 782,
            },
            CatalogEntry {
                platform_id: 0xEF,
                bootable: true,
                media: 0,
                load_segment: 0,
                system_type: 0,
                sector_count: 2880,
                lba: 62,
            },
        ])
        .expect("two entries fit");
        let hex: String = s[..128].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "01000000000000000000000000000000000000000000000000000000aa5555aa\
             88000000000004000e0300000000000000000000000000000000000000000000\
             91ef010000000000000000000000000000000000000000000000000000000000\
             880000000000400b3e0000000000000000000000000000000000000000000000"
        );
    }
}
