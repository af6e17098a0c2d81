//! A minimal read-only SQLite reader: enough to list the rows of one table.
//!
//! From the file format (<https://www.sqlite.org/fileformat2.html>): a 100-byte
//! header (page size at offset 16, reserved bytes per page at 20), page 1 holds
//! the `sqlite_master` table b-tree whose rows `(type, name, tbl_name, rootpage,
//! sql)` name every table's root page. A table b-tree page starts with a flag
//! (`0x0d` leaf, `0x05` interior), cell count and, on interior pages, the
//! right-most child; cells are varint payload size + varint rowid + the record
//! (leaf) or child page + rowid (interior). A payload larger than the page
//! keeps its start in the cell and the rest on a chain of overflow pages
//! (§1.6 "B-tree Pages"). A record is a header of serial types, then values.
//!
//! Everything is bounds-checked; damage is [`ErrorKind::Corrupt`](crate::ErrorKind)
//! with the byte offset. Nothing is ever written.

use std::collections::HashSet;

use crate::error::{Error, Result};

/// One value of a record.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// NULL (also an `INTEGER PRIMARY KEY` column: the rowid is the value).
    Null,
    /// An integer.
    Int(i64),
    /// A float.
    Real(f64),
    /// Text (bytes as stored).
    Text(Vec<u8>),
    /// A blob.
    Blob(Vec<u8>),
}

/// An SQLite database held in memory.
pub struct Database {
    data: Vec<u8>,
    page_size: usize,
    usable: usize,
}

impl Database {
    /// Parse the header of a database file's bytes.
    pub fn new(data: Vec<u8>) -> Result<Database> {
        if data.len() < 100 || &data[..16] != b"SQLite format 3\0" {
            return Err(Error::corrupt(0, "not an SQLite 3 database"));
        }
        let raw = u16::from_be_bytes([data[16], data[17]]) as usize;
        let page_size = if raw == 1 { 65536 } else { raw };
        if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
            return Err(Error::corrupt(16, format!("page size {raw} is not valid")));
        }
        let reserved = data[20] as usize;
        let usable = page_size
            .checked_sub(reserved)
            .filter(|&u| u >= 480)
            .ok_or_else(|| Error::corrupt(20, "reserved space leaves too little of a page"))?;
        Ok(Database {
            data,
            page_size,
            usable,
        })
    }

    /// The bytes of page `n` (1-based).
    fn page(&self, n: u32) -> Result<&[u8]> {
        let start = (n as usize)
            .checked_sub(1)
            .and_then(|i| i.checked_mul(self.page_size))
            .filter(|_| n > 0)
            .ok_or_else(|| Error::corrupt(0, format!("page number {n} is not valid")))?;
        self.data.get(start..start + self.page_size).ok_or_else(|| {
            Error::corrupt(
                start as u64,
                format!("page {n} is past the end of the file"),
            )
        })
    }

    /// The root page of table `name`, from `sqlite_master`.
    pub fn table_root(&self, name: &str) -> Result<Option<u32>> {
        for (_, row) in self.rows(1)? {
            if let (Some(Value::Text(t)), Some(Value::Text(n)), Some(Value::Int(root))) =
                (row.first(), row.get(1), row.get(3))
            {
                if t == b"table" && n.eq_ignore_ascii_case(name.as_bytes()) {
                    let root = u32::try_from(*root).map_err(|_| {
                        Error::corrupt(0, format!("table {name} has root page {root}"))
                    })?;
                    return Ok(Some(root));
                }
            }
        }
        Ok(None)
    }

    /// Every row `(rowid, values)` of the table b-tree rooted at `root`.
    pub fn rows(&self, root: u32) -> Result<Vec<(i64, Vec<Value>)>> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        self.walk(root, 0, &mut seen, &mut out)?;
        Ok(out)
    }

    fn walk(
        &self,
        n: u32,
        depth: u32,
        seen: &mut HashSet<u32>,
        out: &mut Vec<(i64, Vec<Value>)>,
    ) -> Result<()> {
        let base = (n as u64).saturating_sub(1) * self.page_size as u64;
        if depth > 40 || !seen.insert(n) {
            return Err(Error::corrupt(
                base,
                format!("b-tree page {n} is reached twice (a loop)"),
            ));
        }
        let page = self.page(n)?;
        // Page 1 starts with the 100-byte file header.
        let h = if n == 1 { 100 } else { 0 };
        let bad = |at: usize, msg: String| Error::corrupt(base + at as u64, msg);
        let flag = *page
            .get(h)
            .ok_or_else(|| bad(h, "page header past the page".into()))?;
        let cells = be16(page, h + 3).ok_or_else(|| bad(h, "page header past the page".into()))?;
        let (leaf, header_len) = match flag {
            0x0d => (true, 8),
            0x05 => (false, 12),
            f => {
                return Err(bad(
                    h,
                    format!("page {n} is not a table b-tree page (flag {f:#04x})"),
                ))
            }
        };
        for i in 0..cells as usize {
            let ptr_at = h + header_len + 2 * i;
            let cell = be16(page, ptr_at)
                .ok_or_else(|| bad(ptr_at, "cell pointer past the page".into()))?
                as usize;
            if cell >= page.len() {
                return Err(bad(ptr_at, format!("cell pointer {cell} past the page")));
            }
            if leaf {
                let (size, a) =
                    varint(page, cell).ok_or_else(|| bad(cell, "bad payload size".into()))?;
                let (rowid, b) =
                    varint(page, cell + a).ok_or_else(|| bad(cell, "bad rowid".into()))?;
                let payload = self
                    .payload(page, cell + a + b, size, base)
                    .map_err(|e| e.at(base + cell as u64))?;
                let values = record(&payload).map_err(|m| bad(cell, m))?;
                out.push((rowid as i64, values));
            } else {
                let child = be32(page, cell)
                    .ok_or_else(|| bad(cell, "child pointer past the page".into()))?;
                self.walk(child, depth + 1, seen, out)?;
            }
        }
        if !leaf {
            let right =
                be32(page, h + 8).ok_or_else(|| bad(h, "page header past the page".into()))?;
            self.walk(right, depth + 1, seen, out)?;
        }
        Ok(())
    }

    /// A cell's payload of `size` bytes starting at `at` in `page`, with its overflow chain.
    fn payload(&self, page: &[u8], at: usize, size: u64, base: u64) -> Result<Vec<u8>> {
        let u = self.usable as u64;
        let x = u - 35;
        let local = if size <= x {
            size
        } else {
            let m = ((u - 12) * 32 / 255) - 23;
            let k = m + ((size - m) % (u - 4));
            if k <= x {
                k
            } else {
                m
            }
        } as usize;
        let end = at
            .checked_add(local)
            .filter(|&e| e <= page.len())
            .ok_or_else(|| Error::corrupt(base + at as u64, "cell payload runs past the page"))?;
        let mut out = page[at..end].to_vec();
        if local as u64 == size {
            return Ok(out);
        }
        let mut next = be32(page, end)
            .ok_or_else(|| Error::corrupt(base + end as u64, "overflow pointer past the page"))?;
        let mut hops = 0usize;
        while (out.len() as u64) < size {
            hops += 1;
            if next == 0 || hops > self.data.len() / self.page_size + 1 {
                return Err(Error::corrupt(
                    base + end as u64,
                    "overflow chain ends early or loops",
                ));
            }
            let p = self.page(next)?;
            let want = ((size - out.len() as u64) as usize).min(self.usable - 4);
            out.extend_from_slice(&p[4..4 + want]);
            next = be32(p, 0).unwrap_or(0);
        }
        Ok(out)
    }
}

/// Decode a record: header size, serial types, values.
fn record(p: &[u8]) -> std::result::Result<Vec<Value>, String> {
    let (hlen, mut i) = varint(p, 0).ok_or("bad record header size")?;
    let hlen = usize::try_from(hlen).map_err(|_| "record header too long")?;
    if hlen > p.len() {
        return Err(format!(
            "record header of {hlen} bytes in a {}-byte payload",
            p.len()
        ));
    }
    let mut body = hlen;
    let mut out = Vec::new();
    while i < hlen {
        let (t, n) = varint(p, i).ok_or("bad serial type")?;
        i += n;
        let len = match t {
            0 | 8 | 9 => 0,
            1..=4 => t as usize,
            5 => 6,
            6 | 7 => 8,
            10 | 11 => return Err(format!("reserved serial type {t}")),
            t => ((t - 12) / 2) as usize,
        };
        let v = p
            .get(body..body + len)
            .ok_or_else(|| format!("record value of {len} bytes past the payload"))?;
        body += len;
        out.push(match t {
            0 => Value::Null,
            8 => Value::Int(0),
            9 => Value::Int(1),
            1..=6 => {
                let mut x = if v[0] & 0x80 != 0 { -1i64 } else { 0 };
                for &b in v {
                    x = (x << 8) | i64::from(b);
                }
                Value::Int(x)
            }
            7 => Value::Real(f64::from_be_bytes(v.try_into().map_err(|_| "bad float")?)),
            t if t % 2 == 0 => Value::Blob(v.to_vec()),
            _ => Value::Text(v.to_vec()),
        });
    }
    Ok(out)
}

/// SQLite's big-endian varint (1..=9 bytes): `(value, length)`.
fn varint(p: &[u8], at: usize) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for i in 0..9 {
        let b = *p.get(at + i)?;
        if i == 8 {
            return Some(((v << 8) | u64::from(b), 9));
        }
        v = (v << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

fn be16(p: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(p.get(at..at + 2)?.try_into().ok()?))
}

fn be32(p: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(p.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints() {
        assert_eq!(varint(&[0x05], 0), Some((5, 1)));
        assert_eq!(varint(&[0x81, 0x00], 0), Some((128, 2)));
        assert_eq!(varint(&[0xff; 9], 0), Some((u64::MAX, 9)));
        assert_eq!(varint(&[0x81], 0), None);
    }

    #[test]
    fn records() {
        // header 4 bytes: NULL, int8, text "ab" (13+2*2=17)
        let p = [4, 0, 1, 17, 0xfe, b'a', b'b'];
        assert_eq!(
            record(&p).unwrap(),
            vec![Value::Null, Value::Int(-2), Value::Text(b"ab".to_vec())]
        );
        assert!(record(&[4, 0, 1, 17, 0xfe]).is_err());
    }

    #[test]
    fn refuses_what_is_not_sqlite() {
        assert!(Database::new(b"hello".to_vec()).is_err());
        let mut d = b"SQLite format 3\0".to_vec();
        d.resize(100, 0);
        d[16] = 0x03; // 768: not a power of two
        assert!(Database::new(d).is_err());
    }
}
