//! The isohybrid system area: MBR partition table, primary GPT and backup GPT exactly as
//! `isohybrid --uefi` (syslinux 6.04, `utils/isohybrid.c`, shipped by Debian's
//! `syslinux-utils`) writes them. This is the layout XCP-ng's installer ISOs carry.
//!
//! isohybrid patches an existing image in place; here the same bytes are computed from a
//! handful of numbers so the writer can lay them down while streaming the new image:
//!
//! | bytes | content (isohybrid `initialise_mbr` / `initialise_gpt` / `main`) |
//! | --- | --- |
//! | 0..432 | MBR boot code (isohdpfx template; xiso reuses the source ISO's) |
//! | 432..436 | LBA of `isolinux.bin` in 512-byte sectors (2048-byte LBA × 4), LE |
//! | 436..440 | zero |
//! | 440..444 | disk id (NT disk signature), LE |
//! | 444..446 | zero |
//! | 446..462 | partition 1: active 0x80, CHS 0/0/1, type 0x00 with `--uefi` (0x17 without), end CHS from the cylinder count, start 0, size = padded image in 512-byte sectors |
//! | 462..478 | partition 2 (`--uefi` only): status 0, CHS fe/ff/ff, type 0xEF, start = EFI image LBA × 4, size = El Torito sector count |
//! | 478..510 | zero (partitions 3 and 4; `--mac` would use 3) |
//! | 510..512 | 0x55 0xAA |
//! | 512..1024 | GPT header (`--uefi` only), LBA 1 |
//! | 1024..17408 | 128 GPT entries of 128 bytes, LBA 2..33 |
//! | end − 16896..end | backup GPT: 128 entries, then the header in the last 512-byte sector |
//!
//! The image is padded with zeros to a whole "cylinder" of 64 heads × 32 sectors × 512 bytes
//! = 1 MiB. With `--uefi`, when neither the unused space after the volume nor that padding can
//! hold the 16,896-byte backup GPT, isohybrid adds one more MiB — after it has already written
//! the MBR, so partition 1 then covers the image *without* that extra MiB. Both quirks are
//! reproduced.

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Length of the MBR boot code that precedes the isohybrid fields (isohybrid's `MBRSIZE`).
pub const MBR_BOOT_CODE_LEN: usize = 432;

/// isohybrid's default geometry: heads per cylinder (`-h`).
const HEADS: u32 = 64;
/// isohybrid's default geometry: sectors per track (`-s`).
const SECTORS: u32 = 32;
/// One cylinder in bytes: 64 × 32 × 512 = 1 MiB; the image is padded to a multiple of it.
const CYLINDER_BYTES: u64 = HEADS as u64 * SECTORS as u64 * 512;

/// GPT header: one 512-byte sector, of which the first 92 bytes are defined (UEFI §5.3.2).
const GPT_HEADER_SIZE: usize = 92;
/// isohybrid always writes 128 entries of 128 bytes (16 KiB, 32 sectors).
const GPT_ENTRIES: usize = 128;
const GPT_ENTRY_SIZE: usize = 128;
const GPT_ENTRIES_BYTES: usize = GPT_ENTRIES * GPT_ENTRY_SIZE;
/// Header sector + entry array: what isohybrid writes after the MBR and at the image end.
const GPT_BYTES: usize = 512 + GPT_ENTRIES_BYTES;
/// 1 (MBR) + 1 (header) + 32 (entries): isohybrid's `gptsize`, used for first/last usable LBA.
const GPT_RESERVED_SECTORS: u64 = (GPT_ENTRIES_BYTES / 512) as u64 + 2;

/// Basic Data partition type EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, in GPT's mixed-endian
/// byte order. isohybrid uses it for both partitions, the EFI one included (not the EFI
/// System type C12A7328-…).
const BASIC_DATA_TYPE: [u8; 16] = [
    0xA2, 0xA0, 0xD0, 0xEB, 0xE5, 0xB9, 0x33, 0x44, 0x87, 0xC0, 0x68, 0xB6, 0xB7, 0x26, 0x99, 0xC7,
];

/// The El Torito EFI boot image as the catalog describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EfiBootImage {
    /// LBA of `efiboot.img` in 2048-byte sectors (catalog "load RBA").
    pub lba: u32,
    /// The catalog's sector count: 512-byte virtual sectors, copied into MBR partition 2 and
    /// GPT entry 2 as is (isohybrid's `efi_count`).
    pub sectors: u16,
}

/// Disk identifiers isohybrid draws at random; xiso derives them from a seed instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HybridIds {
    /// MBR disk signature at byte 440. isohybrid keeps a non-zero value already there and
    /// otherwise uses `rand()`.
    pub disk_id: u32,
    /// GPT disk GUID, in on-disk (mixed-endian) byte order.
    pub disk_guid: [u8; 16],
    /// Unique GUID of GPT entry 1 ("ISOHybrid ISO"), on-disk byte order (isohybrid's `iso_uuid`).
    pub iso_part_guid: [u8; 16],
    /// Unique GUID of GPT entry 2 ("ISOHybrid", the EFI image), on-disk byte order
    /// (isohybrid's `part_uuid`).
    pub efi_part_guid: [u8; 16],
}

/// Everything the isohybrid layout depends on.
#[derive(Debug, Clone)]
pub struct HybridParams {
    /// MBR boot code, bytes 0..432: the source ISO's own, or a template such as Debian's
    /// `/usr/lib/ISOLINUX/isohdpfx.bin`.
    pub boot_code: [u8; MBR_BOOT_CODE_LEN],
    /// Volume space size from the primary volume descriptor, in 2048-byte sectors. Sets the
    /// size of GPT entry 1.
    pub iso_sectors: u64,
    /// Length in bytes of the image before hybrid padding (isohybrid's `st_size`); normally
    /// `iso_sectors × 2048`. Sets the padding and everything derived from it.
    pub image_len: u64,
    /// LBA (2048-byte sectors) of `isolinux.bin`, the El Torito default entry.
    pub bios_boot_lba: u32,
    /// The EFI boot image; `Some` gives `isohybrid --uefi`, `None` plain `isohybrid`
    /// (MBR only, partition type 0x17, no GPT).
    pub efi_image: Option<EfiBootImage>,
    /// Disk id and GUIDs, see `ids_from_seed`.
    pub ids: HybridIds,
    /// Apple partition map (`isohybrid --mac`). Not supported; must be `false`.
    pub mac: bool,
}

/// The bytes that make an ISO image hybrid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HybridLayout {
    /// Bytes to overlay at offset 0 of the image: the 512-byte MBR, followed with `--uefi`
    /// by the GPT header sector and the entry array (17,408 bytes in all). Bytes after it in
    /// the 32 KiB system area are left as they are, like isohybrid leaves them.
    pub system_area: Vec<u8>,
    /// Final image length in bytes: `image_len` plus zero padding.
    pub padded_len: u64,
    /// Where `tail` goes: `padded_len − tail.len()`.
    pub tail_offset: u64,
    /// Backup GPT (entry array, then the header in the very last sector); empty without EFI.
    pub tail: Vec<u8>,
}

impl HybridLayout {
    /// Everything that follows a volume of `volume_len` bytes: zero padding up to
    /// `padded_len` with the backup GPT at its end (the writer's "tail").
    pub(crate) fn bytes_after(&self, volume_len: u64) -> Result<Vec<u8>> {
        let total = self.padded_len.checked_sub(volume_len);
        let at = self.tail_offset.checked_sub(volume_len);
        let (Some(total), Some(at)) = (total, at) else {
            return Err(Error::invalid(format!(
                "hybrid layout starts its padding before the end of the {volume_len}-byte volume"
            )));
        };
        let mut out = vec![
            0u8;
            usize::try_from(total)
                .map_err(|_| Error::invalid("hybrid padding too large"))?
        ];
        let at = at as usize;
        out[at..at + self.tail.len()].copy_from_slice(&self.tail);
        Ok(out)
    }

    /// Make an unpadded image file hybrid: overlay the system area, pad with zeros to
    /// [`padded_len`](Self::padded_len) and write the backup GPT. Equivalent to running
    /// isohybrid on it.
    pub fn apply_to_file(&self, file: &mut std::fs::File) -> Result<()> {
        use std::io::{Seek, SeekFrom, Write};
        let len = file
            .metadata()
            .map_err(|e| Error::io(e, "reading image length"))?
            .len();
        if len > self.padded_len {
            return Err(Error::invalid(format!(
                "image is {len} bytes, longer than the hybrid layout's {} bytes",
                self.padded_len
            )));
        }
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.write_all(&self.system_area))
            .map_err(|e| Error::io(e, "writing hybrid system area").at(0))?;
        file.set_len(self.padded_len)
            .map_err(|e| Error::io(e, "padding image to cylinder size").at(self.padded_len))?;
        file.seek(SeekFrom::Start(self.tail_offset))
            .and_then(|_| file.write_all(&self.tail))
            .and_then(|_| file.flush())
            .map_err(|e| Error::io(e, "writing backup GPT").at(self.tail_offset))
    }
}

/// Compute the hybrid system area, padding and backup GPT exactly as `isohybrid --uefi`
/// (or plain `isohybrid` when `efi_image` is `None`) with default geometry would.
///
/// The caller has already checked what isohybrid checks on the catalog: the default entry
/// is bootable no-emulation with a load count of 4, and `isolinux.bin` carries the hybrid
/// signature `FB C0 78 70` at offset 0x40.
///
/// One deliberate difference: isohybrid computes the volume size in 32 bits and so gets
/// GPT entry 1 wrong for volumes of 4 GiB or more; here it is computed in 64 bits.
pub fn isohybrid_uefi(p: &HybridParams) -> Result<HybridLayout> {
    if p.mac {
        return Err(Error::unsupported(
            "isohybrid --mac (Apple partition map) layout is not supported",
        ));
    }
    let iso_bytes = p
        .iso_sectors
        .checked_mul(2048)
        .filter(|&b| b > 0)
        .ok_or_else(|| Error::invalid(format!("bad volume size {} sectors", p.iso_sectors)))?;
    if p.image_len < iso_bytes {
        return Err(Error::invalid(format!(
            "image length {} is shorter than its volume ({iso_bytes} bytes)",
            p.image_len
        )));
    }
    let boot_lba_512 = p
        .bios_boot_lba
        .checked_mul(4)
        .ok_or_else(|| Error::invalid(format!("isolinux.bin LBA {} too large", p.bios_boot_lba)))?;

    // isohybrid `main`: pad the file to a whole cylinder; the cylinder count `c` sets the
    // size of MBR partition 1 and, clamped to 1024 (`cc`), its end CHS.
    let frac = p.image_len % CYLINDER_BYTES;
    let mut padding = if frac > 0 { CYLINDER_BYTES - frac } else { 0 };
    let cylinders = (p.image_len + padding) / CYLINDER_BYTES;
    let part1_sectors = cylinders
        .checked_mul(u64::from(HEADS * SECTORS))
        .and_then(|s| u32::try_from(s).ok())
        .ok_or_else(|| {
            Error::unsupported(format!(
                "image of {} bytes is too large for an MBR partition",
                p.image_len
            ))
        })?;
    let chs_cylinders = cylinders.min(1024) as u32;

    let efi = match p.efi_image {
        Some(e) => {
            if e.lba == 0 {
                return Err(Error::invalid("EFI boot image at LBA 0"));
            }
            let lba_512 = e
                .lba
                .checked_mul(4)
                .ok_or_else(|| Error::invalid(format!("EFI boot image LBA {} too large", e.lba)))?;
            Some((lba_512, e.sectors))
        }
        None => None,
    };

    let mut system_area = vec![0u8; if efi.is_some() { 512 + GPT_BYTES } else { 512 }];
    write_mbr(
        &mut system_area[..512],
        p,
        boot_lba_512,
        part1_sectors,
        chs_cylinders,
        efi,
    );

    let Some((efi_lba_512, efi_sectors)) = efi else {
        return Ok(HybridLayout {
            system_area,
            padded_len: p.image_len + padding,
            tail_offset: p.image_len + padding,
            tail: Vec::new(),
        });
    };

    // The backup GPT needs 16,896 bytes at the end: if neither the space after the volume
    // nor the padding has them, isohybrid adds a MiB (after the MBR is written).
    let free_space = p.image_len - iso_bytes;
    let gpt_bytes = GPT_BYTES as u64;
    if free_space < gpt_bytes && padding < gpt_bytes {
        padding += CYLINDER_BYTES;
    }
    let padded_len = p.image_len + padding;
    let total_sectors = padded_len / 512;
    let last_lba = total_sectors - 1;

    let entries = gpt_entries(p, efi_lba_512, efi_sectors);
    let entries_crc = crc32fast::hash(&entries);
    let geometry = GptGeometry {
        first_usable: GPT_RESERVED_SECTORS,
        last_usable: total_sectors - GPT_RESERVED_SECTORS,
        entries_crc,
        disk_guid: p.ids.disk_guid,
    };

    let primary = geometry.header(1, last_lba, 2);
    system_area[512..512 + 512].copy_from_slice(&primary);
    system_area[1024..].copy_from_slice(&entries);

    // Backup: entries directly before the header, which sits in the last sector.
    let entries_sectors = (GPT_ENTRIES_BYTES / 512) as u64;
    let backup = geometry.header(last_lba, 1, last_lba - entries_sectors);
    let mut tail = Vec::with_capacity(GPT_BYTES);
    tail.extend_from_slice(&entries);
    tail.extend_from_slice(&backup);

    Ok(HybridLayout {
        system_area,
        padded_len,
        tail_offset: padded_len - gpt_bytes,
        tail,
    })
}

/// isohybrid `initialise_mbr`: boot code, isolinux LBA, disk id, partition table.
fn write_mbr(
    mbr: &mut [u8],
    p: &HybridParams,
    boot_lba_512: u32,
    part1_sectors: u32,
    chs_cylinders: u32,
    efi: Option<(u32, u16)>,
) {
    mbr[..MBR_BOOT_CODE_LEN].copy_from_slice(&p.boot_code);
    mbr[432..436].copy_from_slice(&boot_lba_512.to_le_bytes());
    mbr[436..440].fill(0);
    mbr[440..444].copy_from_slice(&p.ids.disk_id.to_le_bytes());
    mbr[444..446].fill(0);

    // Partition 1 starts at offset 0 (`--offset` is refused with `--uefi`), so its start CHS
    // is 0/0/1; the end is the last head and sector of the last (clamped) cylinder, with
    // cylinder bits 8–9 in the top of the sector byte.
    let last_cyl = chs_cylinders - 1;
    let part1 = &mut mbr[446..462];
    part1[0] = 0x80;
    part1[1] = 0;
    part1[2] = 1;
    part1[3] = 0;
    // `--uefi` forces type 0; plain isohybrid uses 0x17.
    part1[4] = if efi.is_some() { 0x00 } else { 0x17 };
    part1[5] = (HEADS - 1) as u8;
    part1[6] = (SECTORS + ((last_cyl & 0x300) >> 2)) as u8;
    part1[7] = (last_cyl & 0xFF) as u8;
    part1[8..12].copy_from_slice(&0u32.to_le_bytes());
    part1[12..16].copy_from_slice(&part1_sectors.to_le_bytes());

    if let Some((efi_lba_512, efi_sectors)) = efi {
        // Partition 2: CHS fields saturated ("use LBA"), type 0xEF over efiboot.img.
        let part2 = &mut mbr[462..478];
        part2[..8].copy_from_slice(&[0x00, 0xFE, 0xFF, 0xFF, 0xEF, 0xFE, 0xFF, 0xFF]);
        part2[8..12].copy_from_slice(&efi_lba_512.to_le_bytes());
        part2[12..16].copy_from_slice(&u32::from(efi_sectors).to_le_bytes());
    }
    mbr[510] = 0x55;
    mbr[511] = 0xAA;
}

/// isohybrid `initialise_gpt`, entry array: both partitions typed Basic Data, attributes 0.
fn gpt_entries(p: &HybridParams, efi_lba_512: u32, efi_sectors: u16) -> Vec<u8> {
    let mut entries = vec![0u8; GPT_ENTRIES_BYTES];
    let efi_first = u64::from(efi_lba_512);
    // efi_first >= 4, so a zero sector count yields first − 1 like isohybrid, without wrapping.
    let efi_last = efi_first + u64::from(efi_sectors) - 1;
    write_entry(
        &mut entries[..GPT_ENTRY_SIZE],
        &p.ids.iso_part_guid,
        0,
        p.iso_sectors * 4 - 1,
        "ISOHybrid ISO",
    );
    write_entry(
        &mut entries[GPT_ENTRY_SIZE..2 * GPT_ENTRY_SIZE],
        &p.ids.efi_part_guid,
        efi_first,
        efi_last,
        "ISOHybrid",
    );
    entries
}

/// One GPT partition entry (UEFI §5.3.3): type GUID, unique GUID, first/last LBA,
/// attributes, UTF-16LE name (isohybrid writes ASCII names with a terminating NUL).
fn write_entry(e: &mut [u8], guid: &[u8; 16], first: u64, last: u64, name: &str) {
    e[0..16].copy_from_slice(&BASIC_DATA_TYPE);
    e[16..32].copy_from_slice(guid);
    e[32..40].copy_from_slice(&first.to_le_bytes());
    e[40..48].copy_from_slice(&last.to_le_bytes());
    e[48..56].fill(0);
    for (i, unit) in name.encode_utf16().enumerate() {
        e[56 + 2 * i..58 + 2 * i].copy_from_slice(&unit.to_le_bytes());
    }
}

/// What the primary and backup GPT headers share.
struct GptGeometry {
    first_usable: u64,
    last_usable: u64,
    entries_crc: u32,
    disk_guid: [u8; 16],
}

impl GptGeometry {
    /// A GPT header sector (UEFI §5.3.2): revision 1.0, header size 92, 128 entries of 128
    /// bytes, header CRC over the first 92 bytes with the CRC field zero.
    fn header(&self, current: u64, alternate: u64, entries_lba: u64) -> [u8; 512] {
        let mut h = [0u8; 512];
        h[0..8].copy_from_slice(b"EFI PART");
        h[8..12].copy_from_slice(&0x0001_0000u32.to_le_bytes());
        h[12..16].copy_from_slice(&(GPT_HEADER_SIZE as u32).to_le_bytes());
        h[24..32].copy_from_slice(&current.to_le_bytes());
        h[32..40].copy_from_slice(&alternate.to_le_bytes());
        h[40..48].copy_from_slice(&self.first_usable.to_le_bytes());
        h[48..56].copy_from_slice(&self.last_usable.to_le_bytes());
        h[56..72].copy_from_slice(&self.disk_guid);
        h[72..80].copy_from_slice(&entries_lba.to_le_bytes());
        h[80..84].copy_from_slice(&(GPT_ENTRIES as u32).to_le_bytes());
        h[84..88].copy_from_slice(&(GPT_ENTRY_SIZE as u32).to_le_bytes());
        h[88..92].copy_from_slice(&self.entries_crc.to_le_bytes());
        let crc = crc32fast::hash(&h[..GPT_HEADER_SIZE]);
        h[16..20].copy_from_slice(&crc.to_le_bytes());
        h
    }
}

/// Derive the disk id and GUIDs deterministically from `seed` (for instance
/// `SOURCE_DATE_EPOCH` or a content hash), shaped like isohybrid's random ones: the disk id
/// is non-zero and below 2³¹ like `rand()`, and each GUID is an RFC 4122 version-4 UUID from
/// `uuid_generate` stored the way isohybrid's `reverse_uuid` stores it (first three fields
/// little-endian), so the version nibble lands in byte 7 and the variant bits in byte 8.
pub(crate) fn ids_from_seed(seed: &[u8]) -> HybridIds {
    let digest = |label: &[u8]| -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"xiso isohybrid ");
        h.update(label);
        h.update([0]);
        h.update(seed);
        h.finalize().into()
    };
    let guid = |label: &[u8]| -> [u8; 16] {
        let d = digest(label);
        let mut u = [0u8; 16];
        u.copy_from_slice(&d[..16]);
        u[6] = (u[6] & 0x0F) | 0x40;
        u[8] = (u[8] & 0x3F) | 0x80;
        // reverse_uuid: big-endian RFC fields to GPT's mixed-endian order.
        u[0..4].reverse();
        u[4..6].reverse();
        u[6..8].reverse();
        u
    };
    let d = digest(b"disk id");
    let raw = u32::from_le_bytes([d[0], d[1], d[2], d[3]]) & 0x7FFF_FFFF;
    HybridIds {
        // Zero would make a later isohybrid run draw a new id, so avoid it.
        disk_id: raw.max(1),
        disk_guid: guid(b"disk guid"),
        iso_part_guid: guid(b"iso partition guid"),
        efi_part_guid: guid(b"efi partition guid"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(image_len: u64, efi: Option<EfiBootImage>) -> HybridParams {
        HybridParams {
            boot_code: [0xAB; MBR_BOOT_CODE_LEN],
            iso_sectors: image_len / 2048,
            image_len,
            bios_boot_lba: 30,
            efi_image: efi,
            ids: ids_from_seed(b"test"),
            mac: false,
        }
    }

    #[test]
    fn ids_are_deterministic_v4_guids() {
        let a = ids_from_seed(b"seed");
        assert_eq!(a, ids_from_seed(b"seed"));
        assert_ne!(a, ids_from_seed(b"other"));
        assert!(a.disk_id != 0 && a.disk_id < 0x8000_0000);
        for g in [a.disk_guid, a.iso_part_guid, a.efi_part_guid] {
            assert_eq!(g[7] >> 4, 4, "version nibble in byte 7 (mixed-endian)");
            assert_eq!(g[8] >> 6, 0b10, "RFC 4122 variant in byte 8");
        }
        assert_ne!(a.disk_guid, a.iso_part_guid);
        assert_ne!(a.iso_part_guid, a.efi_part_guid);
    }

    #[test]
    fn end_chs_clamps_at_1024_cylinders() {
        // 2000 MiB: 2000 cylinders, end CHS uses cylinder 1023 = 0x3FF.
        let l = isohybrid_uefi(&params(2000 << 20, None)).unwrap();
        assert_eq!(&l.system_area[446..462][5..8], &[63, 32 | 0xC0, 0xFF]);
        let size = u32::from_le_bytes(l.system_area[458..462].try_into().unwrap());
        assert_eq!(size, 2000 * 2048);
        assert_eq!(l.system_area[450], 0x17);
        assert!(l.tail.is_empty());
    }

    #[test]
    fn exact_mib_image_gets_an_extra_mib_for_the_backup_gpt() {
        let efi = Some(EfiBootImage {
            lba: 40,
            sectors: 2880,
        });
        let l = isohybrid_uefi(&params(3 << 20, efi)).unwrap();
        assert_eq!(l.padded_len, 4 << 20);
        // The MBR partition was sized before the extra MiB was added.
        let size = u32::from_le_bytes(l.system_area[458..462].try_into().unwrap());
        assert_eq!(size, 3 * 2048);
        assert_eq!(l.tail_offset + l.tail.len() as u64, l.padded_len);
        assert_eq!(
            &l.tail[GPT_ENTRIES_BYTES..GPT_ENTRIES_BYTES + 8],
            b"EFI PART"
        );
    }

    #[test]
    fn mac_is_refused() {
        let mut p = params(1 << 20, None);
        p.mac = true;
        assert!(isohybrid_uefi(&p).is_err());
    }
}
