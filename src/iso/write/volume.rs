//! Volume descriptors (ECMA-119 8.4 primary, 8.5 supplementary as Joliet
//! uses it, 8.3 terminator) and path tables (ECMA-119 9.4).

use super::dirrec::{both16, both32};
use super::names::str_ucs2_be;
use super::{VolumeDate, WriteOptions};
use crate::iso::ecma119::VD_IDENTIFIERS;
use crate::source::SECTOR;

/// Where a hierarchy's structures are, for its volume descriptor.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HierarchyPlace {
    /// Path table size in bytes.
    pub path_table_size: u32,
    /// LBA of the type L (little-endian) path table.
    pub l_table: u32,
    /// LBA of the type M (big-endian) path table.
    pub m_table: u32,
    /// The root directory record (34 bytes).
    pub root_record: [u8; 34],
}

/// One row of a path table.
#[derive(Debug, Clone)]
pub(crate) struct PathRow {
    /// Directory identifier (`[0]` for the root).
    pub ident: Vec<u8>,
    /// Extent LBA.
    pub lba: u32,
    /// 1-based number of the parent directory (1 for the root).
    pub parent: u16,
}

/// Serialize a path table (ECMA-119 9.4), little- or big-endian.
pub(crate) fn path_table(rows: &[PathRow], big_endian: bool) -> Vec<u8> {
    let mut t = Vec::new();
    for r in rows {
        t.push(r.ident.len() as u8);
        t.push(0);
        if big_endian {
            t.extend_from_slice(&r.lba.to_be_bytes());
            t.extend_from_slice(&r.parent.to_be_bytes());
        } else {
            t.extend_from_slice(&r.lba.to_le_bytes());
            t.extend_from_slice(&r.parent.to_le_bytes());
        }
        t.extend_from_slice(&r.ident);
        if r.ident.len() % 2 == 1 {
            t.push(0);
        }
    }
    t
}

/// Size of a path table without building it.
pub(crate) fn path_table_size(rows: &[PathRow]) -> usize {
    rows.iter()
        .map(|r| 8 + r.ident.len() + r.ident.len() % 2)
        .sum()
}

fn date(d: &VolumeDate) -> [u8; 17] {
    d.to_bytes()
}

/// Copy an ASCII identifier into a space-padded field (non-ASCII bytes become `_`).
fn put_a(field: &mut [u8], s: &str) {
    field.fill(b' ');
    for (d, c) in field.iter_mut().zip(s.bytes()) {
        *d = if c.is_ascii() && c >= 0x20 { c } else { b'_' };
    }
}

/// Copy an identifier as UCS-2 big-endian, padded with UCS-2 spaces (Joliet).
fn put_j(field: &mut [u8], s: &str) {
    for pair in field.chunks_mut(2) {
        if pair.len() == 2 {
            pair.copy_from_slice(&[0, b' ']);
        } else {
            pair[0] = 0;
        }
    }
    let enc = str_ucs2_be(s);
    let n = enc.len().min(field.len() & !1);
    field[..n].copy_from_slice(&enc[..n]);
}

/// Primary (`joliet == false`) or Joliet supplementary volume descriptor.
pub(crate) fn descriptor(
    opts: &WriteOptions,
    volume_sectors: u32,
    place: &HierarchyPlace,
    joliet: bool,
) -> [u8; SECTOR as usize] {
    let mut s = [0u8; SECTOR as usize];
    s[0] = if joliet { 2 } else { 1 };
    s[1..6].copy_from_slice(b"CD001");
    s[6] = 1;
    let put: fn(&mut [u8], &str) = if joliet { put_j } else { put_a };
    put(&mut s[8..40], &opts.system_id);
    put(&mut s[40..72], &opts.volume_id);
    s[80..88].copy_from_slice(&both32(volume_sectors));
    if joliet {
        // Joliet UCS-2 level 3 escape sequence.
        s[88..91].copy_from_slice(b"%/E");
    }
    s[120..124].copy_from_slice(&both16(1)); // volume set size
    s[124..128].copy_from_slice(&both16(1)); // volume sequence number
    s[128..132].copy_from_slice(&both16(SECTOR as u16));
    s[132..140].copy_from_slice(&both32(place.path_table_size));
    s[140..144].copy_from_slice(&place.l_table.to_le_bytes());
    s[148..152].copy_from_slice(&place.m_table.to_be_bytes());
    s[156..190].copy_from_slice(&place.root_record);
    for (range, id) in VD_IDENTIFIERS.into_iter().zip(opts.ids.fields()) {
        put(&mut s[range], id);
    }
    s[813..830].copy_from_slice(&date(&opts.dates.creation));
    s[830..847].copy_from_slice(&date(&opts.dates.modification));
    s[847..864].copy_from_slice(&date(&opts.dates.expiration));
    s[864..881].copy_from_slice(&date(&opts.dates.effective));
    s[881] = 1; // file structure version
    s
}

/// Volume descriptor set terminator (ECMA-119 8.3).
pub(crate) fn terminator() -> [u8; SECTOR as usize] {
    let mut s = [0u8; SECTOR as usize];
    s[0] = 255;
    s[1..6].copy_from_slice(b"CD001");
    s[6] = 1;
    s
}
