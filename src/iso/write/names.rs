//! Names as the two directory hierarchies record them.
//!
//! * Primary (ECMA-119 7.5, interchange level 1, as `genisoimage -r` without
//!   `-l` writes them): d-characters only, files `NAME8.EXT;1`, directories
//!   `NAME8`. Names that collide after mapping get a decimal counter in the
//!   last characters of the base name (`VERYL000.TXT;1`), like genisoimage.
//!   The real name is in the Rock Ridge `NM` entry.
//! * Joliet (Joliet specification, UCS-2 level 3): UCS-2 big-endian, at most
//!   103 characters (`genisoimage --joliet-long`), no version suffix (as
//!   genisoimage writes), the characters `* / : ; ? \` and controls replaced by
//!   `_`, characters outside the BMP replaced by `_`.

use std::cmp::Ordering;
use std::collections::HashSet;

/// Longest Joliet name in UCS-2 characters (`--joliet-long`: 206 bytes + a
/// 33-byte record header still fit a 255-byte directory record).
pub(crate) const JOLIET_MAX_CHARS: usize = 103;

/// Level-1 limits (ECMA-119 10.1).
const BASE_MAX: usize = 8;
const EXT_MAX: usize = 3;

fn d_char(c: char) -> char {
    match c {
        'a'..='z' => c.to_ascii_uppercase(),
        'A'..='Z' | '0'..='9' | '_' => c,
        _ => '_',
    }
}

/// Split a name into base and extension at the last dot; a dot in first
/// position does not start an extension (`.treeinfo`).
fn split_ext(name: &str) -> (&str, Option<&str>) {
    match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], Some(&name[i + 1..])),
        _ => (name, None),
    }
}

fn map_chars(s: &str, max: usize) -> String {
    s.chars().map(d_char).take(max).collect()
}

/// The comparable key of a primary identifier: the identifier without the
/// version and without a trailing separator, so `A.;1` and `A` collide.
fn collision_key(ident: &str) -> String {
    let no_ver = ident.split(';').next().unwrap_or(ident);
    no_ver.trim_end_matches('.').to_string()
}

/// Assign primary identifiers to the children of one directory.
/// `children` is `(real name, is_dir)` in a deterministic order; the result is
/// in the same order.
pub(crate) fn primary_names(children: &[(&str, bool)]) -> Vec<String> {
    let mut used: HashSet<String> = HashSet::new();
    let mut out = Vec::with_capacity(children.len());
    for (name, is_dir) in children {
        let (base, ext) = if *is_dir {
            (map_chars(name, BASE_MAX), String::new())
        } else {
            let (b, e) = split_ext(name);
            (
                map_chars(b, BASE_MAX),
                e.map(|e| map_chars(e, EXT_MAX)).unwrap_or_default(),
            )
        };
        let base = if base.is_empty() {
            "_".to_string()
        } else {
            base
        };
        let make = |b: &str| {
            if *is_dir {
                b.to_string()
            } else {
                format!("{b}.{ext};1")
            }
        };
        let mut ident = make(&base);
        let mut n: u64 = 0;
        while used.contains(&collision_key(&ident)) {
            let digits = format!("{n:03}");
            let keep = BASE_MAX.saturating_sub(digits.len()).min(base.len());
            ident = make(&format!("{}{digits}", &base[..keep]));
            n += 1;
        }
        used.insert(collision_key(&ident));
        out.push(ident);
    }
    out
}

/// ECMA-119 9.3 order of primary identifiers: by name, then extension, each
/// padded with spaces (which for d-characters is plain byte order), then by
/// version descending (all ours are `;1`).
pub(crate) fn primary_cmp(a: &str, b: &str) -> Ordering {
    let key = |s: &str| -> (Vec<u8>, Vec<u8>) {
        let no_ver = s.split(';').next().unwrap_or(s);
        match no_ver.split_once('.') {
            Some((n, e)) => (n.as_bytes().to_vec(), e.as_bytes().to_vec()),
            None => (no_ver.as_bytes().to_vec(), Vec::new()),
        }
    };
    let (an, ae) = key(a);
    let (bn, be) = key(b);
    pad_cmp(&an, &bn).then_with(|| pad_cmp(&ae, &be))
}

fn pad_cmp(a: &[u8], b: &[u8]) -> Ordering {
    let n = a.len().max(b.len());
    for i in 0..n {
        let x = a.get(i).copied().unwrap_or(b' ');
        let y = b.get(i).copied().unwrap_or(b' ');
        match x.cmp(&y) {
            Ordering::Equal => {}
            o => return o,
        }
    }
    Ordering::Equal
}

fn joliet_unit(c: char) -> u16 {
    match c {
        '*' | '/' | ':' | ';' | '?' | '\\' => u16::from(b'_'),
        c if (c as u32) < 0x20 => u16::from(b'_'),
        c => u16::try_from(c as u32).unwrap_or(u16::from(b'_')),
    }
}

/// Assign Joliet identifiers (UCS-2 code units) to the children of one
/// directory; same input convention as [`primary_names`].
pub(crate) fn joliet_names(children: &[(&str, bool)]) -> Vec<Vec<u16>> {
    let mut used: HashSet<Vec<u16>> = HashSet::new();
    let mut out = Vec::with_capacity(children.len());
    for (name, is_dir) in children {
        let units: Vec<u16> = name.chars().map(joliet_unit).collect();
        let (base, ext): (Vec<u16>, Vec<u16>) = match (is_dir, split_ext(name)) {
            (false, (b, Some(e))) if e.chars().count() < 16 => (
                b.chars().map(joliet_unit).collect(),
                std::iter::once(u16::from(b'.'))
                    .chain(e.chars().map(joliet_unit))
                    .collect(),
            ),
            _ => (units, Vec::new()),
        };
        let fit = |base: &[u16], suffix: &[u16]| -> Vec<u16> {
            let room = JOLIET_MAX_CHARS.saturating_sub(ext.len() + suffix.len());
            let mut v: Vec<u16> = base.iter().copied().take(room).collect();
            v.extend_from_slice(suffix);
            v.extend_from_slice(&ext);
            v.truncate(JOLIET_MAX_CHARS);
            v
        };
        let mut ident = fit(&base, &[]);
        let mut n: u64 = 1;
        while used.contains(&ident) {
            let suffix: Vec<u16> = format!("~{n}").encode_utf16().collect();
            ident = fit(&base, &suffix);
            n += 1;
        }
        used.insert(ident.clone());
        out.push(ident);
    }
    out
}

/// UCS-2 big-endian bytes of a Joliet identifier.
pub(crate) fn ucs2_be(units: &[u16]) -> Vec<u8> {
    units.iter().flat_map(|u| u.to_be_bytes()).collect()
}

/// A string as UCS-2 big-endian for Joliet volume descriptor fields.
pub(crate) fn str_ucs2_be(s: &str) -> Vec<u8> {
    let units: Vec<u16> = s.chars().map(joliet_unit).collect();
    ucs2_be(&units)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primary_like_genisoimage() {
        let names = primary_names(&[
            ("a.b.c.d", false),
            ("empty", false),
            ("verylongname1.txt", false),
            ("verylongname2.txt", false),
            ("Dir.With.Dots", true),
            ("boot", true),
        ]);
        assert_eq!(
            names,
            [
                "A_B_C.D;1",
                "EMPTY.;1",
                "VERYLONG.TXT;1",
                "VERYL000.TXT;1",
                "DIR_WITH",
                "BOOT"
            ]
        );
    }

    #[test]
    fn primary_dir_and_file_collide() {
        assert_eq!(
            primary_names(&[("a", true), ("A", false)]),
            ["A", "A000.;1"]
        );
    }

    #[test]
    fn joliet_truncates_keeping_extension() {
        let long = format!("{}.txt", "L".repeat(120));
        let names = joliet_names(&[(long.as_str(), false), (long.as_str(), false)]);
        assert_eq!(names[0].len(), JOLIET_MAX_CHARS);
        assert!(String::from_utf16_lossy(&names[0]).ends_with("LLL.txt"));
        assert!(String::from_utf16_lossy(&names[1]).ends_with("~1.txt"));
    }
}
