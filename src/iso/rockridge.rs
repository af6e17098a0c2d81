//! System Use Sharing Protocol (SUSP 1.12) and Rock Ridge (RRIP 1.12) entries
//! in a directory record's system use area: POSIX names, modes, owners, links,
//! device numbers and times.

use super::time::record_date_to_unix;
use crate::error::{Error, Result};
use crate::source::{Source, SECTOR};

/// Bound on continuation areas followed for one record (CE chains can loop).
const MAX_CONTINUATIONS: usize = 32;

/// What Rock Ridge says about one directory record.
#[derive(Debug, Default, Clone)]
pub(crate) struct RrInfo {
    /// POSIX name from NM (None when absent).
    pub name: Option<String>,
    /// PX: st_mode, st_nlink, st_uid, st_gid, st_ino (RRIP 1.12 has the inode).
    pub mode: Option<u32>,
    /// Link count.
    pub nlink: Option<u32>,
    /// Owner.
    pub uid: Option<u32>,
    /// Group.
    pub gid: Option<u32>,
    /// Serial number, when PX has it.
    pub ino: Option<u32>,
    /// SL: symlink target.
    pub symlink: Option<String>,
    /// PN: device number (high, low).
    pub rdev: Option<(u32, u32)>,
    /// TF modify time (Unix seconds).
    pub mtime: Option<i64>,
    /// RE: the record is a relocated directory (hidden from its parent listing).
    pub relocated: bool,
    /// CL: the record stands for a directory relocated to this LBA.
    pub child_link: Option<u32>,
    /// SP seen (only meaningful on the root's "." record): bytes to skip in each system use area.
    pub sp_skip: Option<u8>,
    /// Any RRIP entry seen at all.
    pub any: bool,
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Parse the system use area `area` (already past the SP skip) of the record at `offset`.
pub(crate) fn parse(src: &Source, area: &[u8], offset: u64) -> Result<RrInfo> {
    let mut info = RrInfo::default();
    let mut name = Vec::<u8>::new();
    let mut link = String::new();
    let mut link_continues = false;
    let mut owned;
    let mut cur: &[u8] = area;
    let mut cur_offset = offset;
    let mut continuations = 0;
    loop {
        let mut next: Option<(u32, u32, u32)> = None;
        let mut i = 0usize;
        while i + 4 <= cur.len() {
            let sig = [cur[i], cur[i + 1]];
            let len = usize::from(cur[i + 2]);
            if len < 4 || i + len > cur.len() {
                // Padding or a damaged tail: SUSP 5.1 allows a zero pad byte; stop here.
                break;
            }
            let e = &cur[i..i + len];
            match &sig {
                b"SP" if len >= 7 && e[4] == 0xBE && e[5] == 0xEF => info.sp_skip = Some(e[6]),
                b"CE" if len >= 28 => {
                    next = Some((
                        le32(e, 4).unwrap_or(0),
                        le32(e, 12).unwrap_or(0),
                        le32(e, 20).unwrap_or(0),
                    ))
                }
                b"ST" => break,
                b"PX" if len >= 36 => {
                    info.any = true;
                    info.mode = le32(e, 4);
                    info.nlink = le32(e, 12);
                    info.uid = le32(e, 20);
                    info.gid = le32(e, 28);
                    if len >= 44 {
                        info.ino = le32(e, 36);
                    }
                }
                b"PN" if len >= 20 => {
                    info.any = true;
                    info.rdev = Some((le32(e, 4).unwrap_or(0), le32(e, 12).unwrap_or(0)));
                }
                b"NM" if len >= 5 => {
                    info.any = true;
                    let flags = e[4];
                    if flags & 0x06 == 0 {
                        name.extend_from_slice(&e[5..]);
                    }
                }
                b"SL" if len >= 5 => {
                    info.any = true;
                    let mut j = 5;
                    while j + 2 <= e.len() {
                        let cflags = e[j];
                        let clen = usize::from(e[j + 1]);
                        let Some(content) = e.get(j + 2..j + 2 + clen) else {
                            break;
                        };
                        if !link_continues && !link.is_empty() && !link.ends_with('/') {
                            link.push('/');
                        }
                        match cflags & 0x0E {
                            0x02 => link.push('.'),
                            0x04 => link.push_str(".."),
                            0x08 => {
                                if link.is_empty() {
                                    link.push('/');
                                }
                            }
                            _ => link.push_str(&String::from_utf8_lossy(content)),
                        }
                        link_continues = cflags & 0x01 != 0;
                        j += 2 + clen;
                    }
                    info.symlink = Some(link.clone());
                }
                b"TF" if len >= 5 => {
                    info.any = true;
                    let flags = e[4];
                    let width = if flags & 0x80 != 0 { 17 } else { 7 };
                    // Order per RRIP 4.1.6: creation, modify, access, attributes, ...
                    let mut at = 5;
                    for bit in 0..7 {
                        if flags & (1 << bit) == 0 {
                            continue;
                        }
                        if bit == 1 && width == 7 {
                            info.mtime = e.get(at..at + 7).and_then(record_date_to_unix);
                        } else if bit == 1 {
                            info.mtime = e.get(at..at + 17).and_then(|b| {
                                let arr: [u8; 17] = b.try_into().ok()?;
                                super::time::VolumeDate::parse(&arr).unix
                            });
                        }
                        at += width;
                    }
                }
                b"RE" => {
                    info.any = true;
                    info.relocated = true;
                }
                b"CL" if len >= 12 => {
                    info.any = true;
                    info.child_link = le32(e, 4);
                }
                b"RR" | b"PL" | b"ER" | b"ES" | b"SF" | b"ZF" => info.any = true,
                _ => {}
            }
            i += len;
        }
        let Some((lba, off, len)) = next else { break };
        continuations += 1;
        if continuations > MAX_CONTINUATIONS {
            return Err(Error::corrupt(
                cur_offset,
                "Rock Ridge continuation (CE) chain too long or looping",
            ));
        }
        if len == 0 || len > SECTOR as u32 * 4 {
            return Err(Error::corrupt(
                cur_offset,
                format!("Rock Ridge continuation area of {len} bytes"),
            ));
        }
        let at = u64::from(lba) * SECTOR + u64::from(off);
        owned = src.read_vec(at, len as usize, "Rock Ridge continuation area")?;
        cur = &owned;
        cur_offset = at;
    }
    if !name.is_empty() {
        info.name = Some(String::from_utf8_lossy(&name).into_owned());
    }
    Ok(info)
}
