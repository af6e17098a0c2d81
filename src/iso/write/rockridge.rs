//! Rock Ridge (RRIP) system use entries, in the form `genisoimage -r` writes:
//! `SP` (SUSP 5.3) and `ER` (SUSP 5.5, "RRIP_1991A") on the root's `.`
//! record, then on every record `RR` (RRIP 1.09 4.1.1 flags), `NM` (4.1.4),
//! `PX` (4.1.1, 36 bytes without serial number, as genisoimage), `SL`
//! (4.1.3) and `TF` (4.1.6: modify, access, attributes).
//!
//! Entries that do not fit the 255-byte directory record go to continuation
//! areas (SUSP 5.1 `CE`). Linux (`fs/isofs/rock.c`) requires a continuation
//! area to lie within one logical block, so an area is at most 2048 bytes and
//! longer chains link several areas with further `CE` entries.

use super::dirrec::{both32, date7};
use super::tree::Meta;

/// Length of a `CE` entry.
pub(crate) const CE_LEN: usize = 28;
/// Largest continuation area: one logical block.
pub(crate) const AREA_MAX: usize = 2048;
/// Largest SUSP entry (its length is one byte).
const ENTRY_MAX: usize = 255;

const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;
const S_IFLNK: u32 = 0o120_000;

const ER_ID: &[u8] = b"RRIP_1991A";
const ER_DES: &[u8] =
    b"THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS";
const ER_SRC: &[u8] = b"PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  SEE PUBLISHER IDENTIFIER IN PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION.";

/// What a directory record describes, for Rock Ridge purposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A directory.
    Dir,
    /// A regular file.
    File,
    /// A symbolic link.
    Symlink,
}

/// Everything the entries of one record depend on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RrRecord<'a> {
    /// Node kind.
    pub kind: Kind,
    /// Metadata.
    pub meta: &'a Meta,
    /// Link count for `PX` (directories: 2 + subdirectories).
    pub nlink: u32,
    /// Real name; `None` for `.` and `..`.
    pub name: Option<&'a str>,
    /// Symlink target.
    pub target: Option<&'a str>,
    /// The root's `.` record, which carries `SP` and `ER`.
    pub root_dot: bool,
}

fn entry(sig: &[u8; 2], body: &[u8]) -> Vec<u8> {
    let mut e = Vec::with_capacity(4 + body.len());
    e.extend_from_slice(sig);
    e.push((4 + body.len()) as u8);
    e.push(1); // entry version
    e.extend_from_slice(body);
    e
}

/// `NM` entries: chunks of at most 250 bytes, all but the last flagged CONTINUE.
fn nm_entries(name: &[u8]) -> Vec<Vec<u8>> {
    let chunk = ENTRY_MAX - 5;
    let n = name.len().div_ceil(chunk).max(1);
    (0..n)
        .map(|i| {
            let part = &name[i * chunk..((i + 1) * chunk).min(name.len())];
            let mut body = vec![u8::from(i + 1 < n)];
            body.extend_from_slice(part);
            entry(b"NM", &body)
        })
        .collect()
}

/// A component of a symlink target (RRIP 4.1.3.1).
enum Comp<'a> {
    Root,
    Current,
    Parent,
    Text(&'a [u8]),
}

/// `SL` entries for a target, each at most 255 bytes; an entry continued by
/// the next has flag 1.
///
/// Readers disagree on a split between two whole components: Linux inserts
/// a `/`, libarchive does not. So an entry only ever ends after the last
/// component or inside a text component (component flag CONTINUE, understood
/// alike by both). `.`/`..` that would end an entry are written as text.
fn sl_entries(target: &str) -> Vec<Vec<u8>> {
    const BODY_MAX: usize = ENTRY_MAX - 4; // flag byte + component records
    /// Room a non-final record must leave: the smallest next record that can
    /// still carry a continuation (2-byte header + 2 bytes).
    const KEEP: usize = 4;
    let mut comps: Vec<Comp<'_>> = Vec::new();
    if target.starts_with('/') {
        comps.push(Comp::Root);
    }
    for part in target.split('/').filter(|p| !p.is_empty()) {
        comps.push(match part {
            "." => Comp::Current,
            ".." => Comp::Parent,
            _ => Comp::Text(part.as_bytes()),
        });
    }
    let mut bodies: Vec<Vec<u8>> = vec![vec![0]];
    let n = comps.len();
    for (i, comp) in comps.into_iter().enumerate() {
        let last = i + 1 == n;
        let mut text: &[u8] = match comp {
            Comp::Text(t) => t,
            Comp::Current | Comp::Parent | Comp::Root => {
                let flag = match comp {
                    Comp::Root => 0x08,
                    Comp::Current => 0x02,
                    _ => 0x04,
                };
                let body = bodies.last_mut().expect("starts with one body");
                let rem = BODY_MAX - body.len();
                if rem >= 2 && (last || rem - 2 >= KEEP) {
                    body.extend_from_slice(&[flag, 0]);
                    continue;
                }
                if matches!(comp, Comp::Current) {
                    b"."
                } else {
                    b".."
                }
            }
        };
        loop {
            let body = bodies.last_mut().expect("starts with one body");
            let rem = BODY_MAX - body.len();
            let whole = 2 + text.len();
            if whole <= rem && (last || rem - whole >= KEEP) {
                body.push(0);
                body.push(text.len() as u8);
                body.extend_from_slice(text);
                break;
            }
            // Split: this piece ends the entry with a continued component.
            let piece = (rem - 2).min(text.len().saturating_sub(1));
            body.push(0x01);
            body.push(piece as u8);
            body.extend_from_slice(&text[..piece]);
            body[0] = 1; // SL continues in the next SL entry
            text = &text[piece..];
            bodies.push(vec![0]);
        }
    }
    bodies.iter().map(|b| entry(b"SL", b)).collect()
}

/// The system use entries of one record, in the order genisoimage writes them.
pub(crate) fn entries(r: &RrRecord<'_>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if r.root_dot {
        out.push(entry(b"SP", &[0xBE, 0xEF, 0]));
    }
    let mut rr_flags = 0x01 | 0x80; // PX, TF
    if r.name.is_some() {
        rr_flags |= 0x08;
    }
    if r.target.is_some() {
        rr_flags |= 0x04;
    }
    out.push(entry(b"RR", &[rr_flags]));
    if let Some(name) = r.name {
        out.extend(nm_entries(name.as_bytes()));
    }
    let ftype = match r.kind {
        Kind::Dir => S_IFDIR,
        Kind::File => S_IFREG,
        Kind::Symlink => S_IFLNK,
    };
    let mut px = Vec::with_capacity(32);
    px.extend_from_slice(&both32(ftype | (r.meta.mode & 0o7777)));
    px.extend_from_slice(&both32(r.nlink));
    px.extend_from_slice(&both32(r.meta.uid));
    px.extend_from_slice(&both32(r.meta.gid));
    out.push(entry(b"PX", &px));
    if let Some(t) = r.target {
        out.extend(sl_entries(t));
    }
    let mut tf = vec![0x0E]; // MODIFY | ACCESS | ATTRIBUTES, short form
    tf.extend_from_slice(&date7(r.meta.mtime));
    tf.extend_from_slice(&date7(r.meta.atime));
    tf.extend_from_slice(&date7(r.meta.ctime));
    out.push(entry(b"TF", &tf));
    if r.root_dot {
        let mut er = vec![ER_ID.len() as u8, ER_DES.len() as u8, ER_SRC.len() as u8, 1];
        er.extend_from_slice(ER_ID);
        er.extend_from_slice(ER_DES);
        er.extend_from_slice(ER_SRC);
        out.push(entry(b"ER", &er));
    }
    out
}

/// A continuation area's bytes and, if it is continued, where its `CE` entry is.
#[derive(Debug, Clone, Default)]
pub(crate) struct Area {
    /// Entries recorded in the area.
    pub bytes: Vec<u8>,
    /// Offset of the `CE` entry pointing to the next area of the chain.
    pub ce_at: Option<usize>,
}

/// System use entries split between the record and a chain of continuation areas.
#[derive(Debug, Clone, Default)]
pub(crate) struct SuPlan {
    /// Bytes recorded in the directory record.
    pub inline: Vec<u8>,
    /// Offset in `inline` of the `CE` entry pointing to `areas[0]`.
    pub inline_ce: Option<usize>,
    /// Continuation areas, in chain order.
    pub areas: Vec<Area>,
}

/// Place `entries` into a record with `room` bytes of system use, spilling
/// into continuation areas. `CE` entries are written with zero location and
/// patched by [`patch_ce`] once the areas have addresses.
pub(crate) fn place(entries: Vec<Vec<u8>>, room: usize) -> SuPlan {
    let mut plan = SuPlan::default();
    let mut rest = entries.as_slice();
    let (taken, ce) = fill(&mut plan.inline, rest, room);
    rest = &rest[taken..];
    plan.inline_ce = ce;
    while !rest.is_empty() {
        let mut area = Area::default();
        let (taken, ce) = fill(&mut area.bytes, rest, AREA_MAX);
        rest = &rest[taken..];
        area.ce_at = ce;
        plan.areas.push(area);
    }
    plan
}

/// Fill `buf` with entries while they fit in `room`, keeping space for a `CE`
/// entry if not everything fits. Returns how many were taken and the `CE` offset.
fn fill(buf: &mut Vec<u8>, entries: &[Vec<u8>], room: usize) -> (usize, Option<usize>) {
    let total: usize = entries.iter().map(Vec::len).sum();
    if total <= room {
        for e in entries {
            buf.extend_from_slice(e);
        }
        return (entries.len(), None);
    }
    let mut taken = 0;
    for e in entries {
        if buf.len() + e.len() + CE_LEN > room {
            break;
        }
        buf.extend_from_slice(e);
        taken += 1;
    }
    let at = buf.len();
    buf.extend_from_slice(&entry(b"CE", &[0u8; 24]));
    (taken, Some(at))
}

/// Write the location of a continuation area into the `CE` entry at `at`.
pub(crate) fn patch_ce(buf: &mut [u8], at: usize, lba: u32, offset: u32, len: u32) {
    buf[at + 4..at + 12].copy_from_slice(&both32(lba));
    buf[at + 12..at + 20].copy_from_slice(&both32(offset));
    buf[at + 20..at + 28].copy_from_slice(&both32(len));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_symlink_is_split() {
        let target = format!("/very/long/{}/target", "s".repeat(300));
        let sl = sl_entries(&target);
        assert!(sl.len() >= 2);
        assert!(sl.iter().all(|e| e.len() <= 255));
        assert_eq!(sl[0][4], 1);
        assert_eq!(sl.last().map(|e| e[4]), Some(0));
    }

    /// Decode `SL` entries as libarchive (`parse_rockridge_SL1`) does.
    fn decode_libarchive(entries: &[Vec<u8>]) -> String {
        let mut out = String::new();
        for e in entries {
            let mut sep = "";
            let mut d = &e[5..];
            while d.len() >= 2 {
                let (flag, len) = (d[0], d[1] as usize);
                out.push_str(sep);
                sep = "/";
                match flag {
                    0 => out.push_str(std::str::from_utf8(&d[2..2 + len]).unwrap()),
                    1 => {
                        out.push_str(std::str::from_utf8(&d[2..2 + len]).unwrap());
                        sep = "";
                    }
                    2 => out.push('.'),
                    4 => out.push_str(".."),
                    8 => {
                        out.push('/');
                        sep = "";
                    }
                    _ => panic!("flag {flag}"),
                }
                d = &d[2 + len..];
            }
        }
        out
    }

    /// Decode `SL` entries as Linux (`get_symlink_chunk`) does.
    fn decode_linux(entries: &[Vec<u8>]) -> String {
        let mut out = String::new();
        for e in entries {
            let continues = e[4] & 1 != 0;
            let mut d = &e[5..];
            while d.len() > 1 {
                let (flag, len) = (d[0], d[1] as usize);
                let mut root = false;
                match flag & !1 {
                    0 => out.push_str(std::str::from_utf8(&d[2..2 + len]).unwrap()),
                    2 => out.push('.'),
                    4 => out.push_str(".."),
                    8 => {
                        root = true;
                        out.push('/');
                    }
                    _ => panic!("flag {flag}"),
                }
                d = &d[2 + len..];
                if d.len() < 2 {
                    if !root && continues && flag & 1 == 0 {
                        out.push('/');
                    }
                    break;
                }
                if !root && flag & 1 == 0 {
                    out.push('/');
                }
            }
        }
        out
    }

    #[test]
    fn split_symlinks_read_alike_in_linux_and_libarchive() {
        for pad in 1..260 {
            for shape in [
                format!("/{}/b/../c", "a".repeat(pad)),
                format!("../{}/./..", "x".repeat(pad)),
                format!("{}/{}/..", "y".repeat(pad % 250 + 1), "z".repeat(245)),
                format!("/{}", "q".repeat(pad + 250)),
            ] {
                let sl = sl_entries(&shape);
                assert!(sl.iter().all(|e| e.len() <= 255), "{shape}");
                assert_eq!(decode_libarchive(&sl), shape);
                assert_eq!(decode_linux(&sl), shape);
            }
        }
    }

    #[test]
    fn placement_spills_with_ce() {
        let meta = Meta::dir(0);
        let r = RrRecord {
            kind: Kind::Dir,
            meta: &meta,
            nlink: 2,
            name: None,
            target: None,
            root_dot: true,
        };
        let plan = place(entries(&r), 220);
        assert_eq!(&plan.inline[..2], b"SP");
        assert!(plan.inline_ce.is_some());
        assert_eq!(plan.areas.len(), 1);
        assert_eq!(&plan.areas[0].bytes[..2], b"ER");
    }
}
