//! A minimal read-only reader of a Berkeley DB hash database, the format of the
//! EL7 rpmdb (`var/lib/rpm/Packages`): every key/data pair.
//!
//! Layout (Berkeley DB `dbinc/db_page.h`): page 0 is the hash metadata page,
//! whose common `DBMETA` part holds the magic `0x061561` (in the byte order of
//! the machine that made the file, which is how that order is told), the page
//! size at offset 20 and flags at 26. Every other page starts with a 26-byte
//! header: page number at 8, next page at 16, entry count at 20, `hf_offset`
//! at 22, type at 25. Hash pages (`P_HASH` 13, `P_HASH_UNSORTED` 2) hold an
//! index of item offsets after the header, keys and data alternating; an item
//! is a type byte then either the bytes themselves (`H_KEYDATA` 1, up to the
//! previous item) or a reference to a chain of overflow pages (`H_OFFPAGE` 3:
//! page at 4, total length at 8). Overflow pages (`P_OVERFLOW` 7) carry
//! `hf_offset` bytes each after their header.
//!
//! All pages are scanned in file order; free pages carry no items. Everything
//! is bounds-checked; damage is [`ErrorKind::Corrupt`](crate::ErrorKind) with
//! the byte offset. Nothing is ever written.

use crate::error::{Error, Result};

const HASH_MAGIC: u32 = 0x0006_1561;
const PAGE_HEADER: usize = 26;
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASH: u8 = 13;
const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;
/// `DBMETA_CHKSUM`: pages carry a checksum (and a different header size).
const DBMETA_CHKSUM: u8 = 0x01;

/// Every `(key, data)` pair of the hash database in `data`.
pub fn hash_pairs(data: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    if data.len() < 512 {
        return Err(Error::corrupt(0, "too short for a Berkeley DB file"));
    }
    let le = u32::from_le_bytes([data[12], data[13], data[14], data[15]]);
    let be = u32::from_be_bytes([data[12], data[13], data[14], data[15]]);
    let little = match (le, be) {
        (HASH_MAGIC, _) => true,
        (_, HASH_MAGIC) => false,
        _ => {
            return Err(Error::corrupt(
                12,
                "not a Berkeley DB hash database (no magic 0x061561)",
            ))
        }
    };
    let db = Db { data, little };
    let page_size = db.u32(20).unwrap_or(0) as usize;
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(Error::corrupt(
            20,
            format!("page size {page_size} is not valid"),
        ));
    }
    if data[24] != 0 || data[26] & DBMETA_CHKSUM != 0 {
        return Err(
            Error::unsupported("encrypted or checksummed Berkeley DB pages are not read").at(24),
        );
    }
    let pages = data.len() / page_size;
    let mut out = Vec::new();
    for n in 1..pages {
        let base = n * page_size;
        let page = &data[base..base + page_size];
        if page[25] != P_HASH && page[25] != P_HASH_UNSORTED {
            continue;
        }
        let bad = |at: usize, msg: String| Error::corrupt((base + at) as u64, msg);
        let entries = db.u16(base + 20).unwrap_or(0) as usize;
        let mut items = Vec::with_capacity(entries);
        for i in 0..entries {
            let at = PAGE_HEADER + 2 * i;
            let off = db
                .u16(base + at)
                .map(usize::from)
                .filter(|&o| o >= PAGE_HEADER + 2 * entries && o < page_size)
                .ok_or_else(|| bad(at, format!("item {i} offset is outside the page")))?;
            // Items are laid out from the end of the page backwards.
            let end = if i == 0 {
                page_size
            } else {
                db.u16(base + at - 2).map_or(page_size, usize::from)
            };
            if end <= off || end > page_size {
                return Err(bad(at, format!("item {i} has a bad extent {off}..{end}")));
            }
            let item = &page[off..end];
            items.push(match item[0] {
                H_KEYDATA => item[1..].to_vec(),
                H_OFFPAGE => {
                    if item.len() < 12 {
                        return Err(bad(off, "short off-page item".into()));
                    }
                    let pgno = db.u32(base + off + 4).unwrap_or(0);
                    let len = db.u32(base + off + 8).unwrap_or(0) as usize;
                    db.overflow(pgno, len, page_size)
                        .map_err(|e| e.at((base + off) as u64))?
                }
                t => {
                    return Err(bad(
                        off,
                        format!("item type {t} (duplicates) is not expected in an rpmdb"),
                    ))
                }
            });
        }
        let mut it = items.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            out.push((k, v));
        }
    }
    Ok(out)
}

struct Db<'a> {
    data: &'a [u8],
    little: bool,
}

impl Db<'_> {
    fn u16(&self, at: usize) -> Option<u16> {
        let b: [u8; 2] = self.data.get(at..at + 2)?.try_into().ok()?;
        Some(if self.little {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    }

    fn u32(&self, at: usize) -> Option<u32> {
        let b: [u8; 4] = self.data.get(at..at + 4)?.try_into().ok()?;
        Some(if self.little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    /// `len` bytes from the overflow chain starting at page `pgno`.
    fn overflow(&self, mut pgno: u32, len: usize, page_size: usize) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(len.min(1 << 24));
        let mut hops = 0;
        while out.len() < len {
            hops += 1;
            let base = (pgno as usize)
                .checked_mul(page_size)
                .filter(|&b| {
                    pgno != 0
                        && b + page_size <= self.data.len()
                        && hops <= self.data.len() / page_size
                })
                .ok_or_else(|| {
                    Error::corrupt(
                        0,
                        format!("overflow chain reaches page {pgno}, past the file or in a loop"),
                    )
                })?;
            if self.data[base + 25] != P_OVERFLOW {
                return Err(Error::corrupt(
                    base as u64 + 25,
                    format!("page {pgno} is not an overflow page"),
                ));
            }
            let n = self.u16(base + 22).map_or(0, usize::from);
            if n > page_size - PAGE_HEADER || n == 0 {
                return Err(Error::corrupt(
                    base as u64 + 22,
                    format!("overflow page {pgno} claims {n} bytes"),
                ));
            }
            let n = n.min(len - out.len());
            out.extend_from_slice(&self.data[base + PAGE_HEADER..base + PAGE_HEADER + n]);
            pgno = self.u32(base + 16).unwrap_or(0);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_hash_database() {
        assert!(hash_pairs(&[0u8; 100]).is_err());
        let err = hash_pairs(&[0u8; 4096]).unwrap_err();
        assert!(err.message().contains("magic"), "{err}");
    }
}
