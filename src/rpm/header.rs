//! RPM header structures: the lead, the signature header and the main header.
//!
//! An RPM file is a 96-byte lead, the signature header padded to a multiple of
//! 8 bytes, the main header, then the compressed payload (rpm's
//! `docs/manual/format_v4.md`, `lib/rpmlead.c`, `lib/header.c`). A header is a
//! 16-byte intro (magic `8E AD E8 01`, 4 reserved bytes, index count, data
//! size, big-endian), `count` 16-byte index entries (tag, type, offset, count)
//! and the data store they point into.
//!
//! This is a small parser of our own rather than the `rpm` crate: the
//! repository metadata needs only header values, the exact byte offsets of the
//! main header (createrepo_c's `header-range`) and the raw bytes of strings
//! (createrepo_c re-encodes strings that are not UTF-8 as Latin-1), while the
//! `rpm` crate reads whole payloads into memory and its xz support links a
//! second liblzma (`links = "lzma"`) next to ours. Everything read from the
//! file is bounds-checked; damage is [`ErrorKind::Corrupt`](crate::ErrorKind)
//! with the file offset.

use std::io::Read;

use crate::error::{Error, Result};

/// Size of the lead, the obsolete fixed-size preamble of every RPM file.
pub(crate) const LEAD_SIZE: u64 = 96;
const LEAD_MAGIC: [u8; 4] = [0xed, 0xab, 0xee, 0xdb];
/// `RPMSIGTYPE_HEADERSIG`: the only signature type rpm has written since 1997.
const SIGTYPE_HEADERSIG: u16 = 5;
const HEADER_MAGIC: [u8; 4] = [0x8e, 0xad, 0xe8, 0x01];
/// rpm's `HEADER_TAGS_MAX` and `HEADER_DATA_MAX` (`lib/header_internal.h`): larger
/// headers are refused by rpm itself, so they are damage, not a big package.
const MAX_INDEX_ENTRIES: u32 = 0x0000_ffff;
const MAX_DATA_SIZE: u32 = 0x0fff_ffff;

/// The type of a header entry (`rpmTagType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TagType {
    /// `RPM_NULL_TYPE`.
    Null,
    /// `RPM_CHAR_TYPE`: one byte per element.
    Char,
    /// `RPM_INT8_TYPE`.
    Int8,
    /// `RPM_INT16_TYPE`, big-endian.
    Int16,
    /// `RPM_INT32_TYPE`, big-endian.
    Int32,
    /// `RPM_INT64_TYPE`, big-endian.
    Int64,
    /// `RPM_STRING_TYPE`: one NUL-terminated string.
    String,
    /// `RPM_BIN_TYPE`: `count` bytes.
    Bin,
    /// `RPM_STRING_ARRAY_TYPE`: `count` NUL-terminated strings.
    StringArray,
    /// `RPM_I18NSTRING_TYPE`: one string per locale of the `HEADERI18NTABLE` tag.
    I18nString,
}

impl TagType {
    fn from_raw(raw: u32) -> Option<TagType> {
        Some(match raw {
            0 => TagType::Null,
            1 => TagType::Char,
            2 => TagType::Int8,
            3 => TagType::Int16,
            4 => TagType::Int32,
            5 => TagType::Int64,
            6 => TagType::String,
            7 => TagType::Bin,
            8 => TagType::StringArray,
            9 => TagType::I18nString,
            _ => return None,
        })
    }

    /// The type's number in the index (`rpmTagType`).
    pub(crate) fn to_raw(self) -> u32 {
        match self {
            TagType::Null => 0,
            TagType::Char => 1,
            TagType::Int8 => 2,
            TagType::Int16 => 3,
            TagType::Int32 => 4,
            TagType::Int64 => 5,
            TagType::String => 6,
            TagType::Bin => 7,
            TagType::StringArray => 8,
            TagType::I18nString => 9,
        }
    }

    /// Where a value of this type starts in the data store: integers on a
    /// multiple of their size, everything else anywhere (rpm's `typeAlign`).
    fn alignment(self) -> usize {
        match self {
            TagType::Int16 => 2,
            TagType::Int32 => 4,
            TagType::Int64 => 8,
            _ => 1,
        }
    }

    /// Bytes per element of the fixed-size types.
    fn element_size(self) -> Option<u64> {
        match self {
            TagType::Null => Some(0),
            TagType::Char | TagType::Int8 | TagType::Bin => Some(1),
            TagType::Int16 => Some(2),
            TagType::Int32 => Some(4),
            TagType::Int64 => Some(8),
            TagType::String | TagType::StringArray | TagType::I18nString => None,
        }
    }
}

/// One index entry of a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IndexEntry {
    /// The tag number (`RPMTAG_*`, `RPMSIGTAG_*`).
    pub tag: u32,
    /// The value type.
    pub tag_type: TagType,
    /// Offset of the value in the data store.
    pub offset: u32,
    /// Number of elements.
    pub count: u32,
}

/// A parsed header: its index and data store, and where it lies in the file.
#[derive(Debug, Clone)]
pub struct Header {
    entries: Vec<IndexEntry>,
    store: Vec<u8>,
    start: u64,
    store_start: u64,
}

impl Header {
    /// Read one header whose intro starts at file offset `start`.
    ///
    /// The index is checked as a whole (types known, every value inside the
    /// data store); values are decoded on access.
    pub(crate) fn read(reader: &mut dyn Read, start: u64) -> Result<Header> {
        let mut intro = [0u8; 16];
        read_exact(reader, &mut intro, start, "header intro")?;
        if intro[..4] != HEADER_MAGIC {
            return Err(Error::corrupt(
                start,
                format!("no RPM header magic (found {:02x?})", &intro[..4]),
            ));
        }
        let count = be32(&intro[8..12]);
        let data_size = be32(&intro[12..16]);
        if count > MAX_INDEX_ENTRIES || data_size > MAX_DATA_SIZE {
            return Err(Error::corrupt(
                start,
                format!("header claims {count} index entries and {data_size} data bytes, more than rpm allows"),
            ));
        }
        let index_start = start + 16;
        let mut index = vec![0u8; count as usize * 16];
        read_exact(reader, &mut index, index_start, "header index")?;
        let store_start = index_start + index.len() as u64;
        let mut store = vec![0u8; data_size as usize];
        read_exact(reader, &mut store, store_start, "header data store")?;
        let mut entries = Vec::with_capacity(count as usize);
        for (i, raw) in index.chunks_exact(16).enumerate() {
            let at = index_start + i as u64 * 16;
            let raw_type = be32(&raw[4..8]);
            let tag_type = TagType::from_raw(raw_type).ok_or_else(|| {
                Error::corrupt(at, format!("index entry has unknown type {raw_type}"))
            })?;
            let entry = IndexEntry {
                tag: be32(&raw[0..4]),
                tag_type,
                offset: be32(&raw[8..12]),
                count: be32(&raw[12..16]),
            };
            check_extent(&entry, &store).map_err(|msg| {
                Error::corrupt(at, format!("index entry for tag {}: {msg}", entry.tag))
            })?;
            entries.push(entry);
        }
        Ok(Header {
            entries,
            store,
            start,
            store_start,
        })
    }

    /// File offset of the header's magic.
    pub(crate) fn start(&self) -> u64 {
        self.start
    }

    /// File offset just past the header's data store.
    pub fn end(&self) -> u64 {
        self.store_start + self.store.len() as u64
    }

    /// The index entries in file order.
    pub(crate) fn entries(&self) -> &[IndexEntry] {
        &self.entries
    }

    /// The entry for `tag`, if present (the first one, as rpm's lookup finds it).
    pub(crate) fn entry(&self, tag: u32) -> Option<&IndexEntry> {
        self.entries.iter().find(|e| e.tag == tag)
    }

    /// Whether `tag` is present.
    pub(crate) fn has(&self, tag: u32) -> bool {
        self.entry(tag).is_some()
    }

    /// The strings of a `STRING`, `STRING_ARRAY` or `I18NSTRING` entry, without
    /// their NUL terminators. An I18N entry yields one string per locale,
    /// the untranslated (`C`) one first.
    pub(crate) fn strings(&self, tag: u32) -> Result<Option<Vec<&[u8]>>> {
        let Some(e) = self.entry(tag) else {
            return Ok(None);
        };
        let count = match e.tag_type {
            TagType::String => 1,
            TagType::StringArray | TagType::I18nString => e.count,
            other => return Err(self.wrong_type(e, other, "a string")),
        };
        // check_extent proved the strings are in the store, NUL-terminated.
        let mut out = Vec::with_capacity(count as usize);
        let mut rest = &self.store[e.offset as usize..];
        for _ in 0..count {
            let nul = rest
                .iter()
                .position(|&b| b == 0)
                .expect("check_extent found every terminator");
            out.push(&rest[..nul]);
            rest = &rest[nul + 1..];
        }
        Ok(Some(out))
    }

    /// One string, as rpm's `headerGetString` returns it in the C locale: a
    /// `STRING`, the first (untranslated) string of an `I18NSTRING`, or a
    /// `STRING_ARRAY` of exactly one element.
    pub(crate) fn string(&self, tag: u32) -> Result<Option<&[u8]>> {
        let Some(e) = self.entry(tag) else {
            return Ok(None);
        };
        if e.tag_type == TagType::StringArray && e.count != 1 {
            return Ok(None);
        }
        Ok(self.strings(tag)?.and_then(|v| v.into_iter().next()))
    }

    /// The values of an integer (or `CHAR`) entry, widened to `u64`.
    pub(crate) fn numbers(&self, tag: u32) -> Result<Option<Vec<u64>>> {
        let Some(e) = self.entry(tag) else {
            return Ok(None);
        };
        let size = match e.tag_type {
            TagType::Char | TagType::Int8 => 1,
            TagType::Int16 => 2,
            TagType::Int32 => 4,
            TagType::Int64 => 8,
            other => return Err(self.wrong_type(e, other, "a number")),
        };
        let start = e.offset as usize;
        let bytes = &self.store[start..start + e.count as usize * size];
        Ok(Some(
            bytes
                .chunks_exact(size)
                .map(|c| c.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
                .collect(),
        ))
    }

    /// The first value of an integer entry (rpm's `headerGetNumber`).
    pub(crate) fn number(&self, tag: u32) -> Result<Option<u64>> {
        Ok(self.numbers(tag)?.and_then(|v| v.first().copied()))
    }

    /// The stored bytes of an entry's value (strings with their NUL terminators),
    /// as a writer copies them into another header.
    pub(crate) fn value_bytes(&self, e: &IndexEntry) -> &[u8] {
        let start = e.offset as usize;
        let rest = &self.store[start..];
        let len = match e.tag_type.element_size() {
            // check_extent proved count × size fits in the store.
            Some(size) => e.count as usize * size as usize,
            None => {
                let mut len = 0;
                for _ in 0..e.count {
                    len += rest[len..]
                        .iter()
                        .position(|&b| b == 0)
                        .expect("check_extent found every terminator")
                        + 1;
                }
                len
            }
        };
        &rest[..len]
    }

    fn wrong_type(&self, e: &IndexEntry, found: TagType, wanted: &str) -> Error {
        Error::corrupt(
            self.store_start + u64::from(e.offset),
            format!("tag {} is {found:?}, not {wanted}", e.tag),
        )
    }
}

/// Check that an entry's value lies inside the data store (and that its
/// strings are NUL-terminated there), so accessors can slice without checks.
fn check_extent(e: &IndexEntry, store: &[u8]) -> Result<(), String> {
    let start = e.offset as usize;
    if start > store.len() {
        return Err(format!(
            "offset {} is past the {}-byte data store",
            e.offset,
            store.len()
        ));
    }
    match e.tag_type.element_size() {
        Some(size) => {
            let end = u64::from(e.count) * size + start as u64;
            if end > store.len() as u64 {
                return Err(format!(
                    "{} elements at offset {} run past the {}-byte data store",
                    e.count,
                    e.offset,
                    store.len()
                ));
            }
        }
        None => {
            if e.tag_type == TagType::String && e.count != 1 {
                return Err(format!("a STRING entry with count {}", e.count));
            }
            let mut rest = &store[start..];
            for i in 0..e.count {
                let nul = rest.iter().position(|&b| b == 0).ok_or_else(|| {
                    format!(
                        "string {i} of {} at offset {} has no terminator in the data store",
                        e.count, e.offset
                    )
                })?;
                rest = &rest[nul + 1..];
            }
        }
    }
    Ok(())
}

/// One entry for [`write_region_header`]: its value as the data store holds it
/// (big-endian integers, NUL-terminated strings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewEntry {
    /// The tag number.
    pub tag: u32,
    /// The value type.
    pub tag_type: TagType,
    /// Number of elements.
    pub count: u32,
    /// The stored bytes.
    pub data: Vec<u8>,
}

/// A header whose entries all lie in one immutable region, laid out as rpm's
/// `headerExport` writes a reloaded header (`lib/header.c`): the region entry
/// (`region_tag`, BIN, count 16) first, the other entries sorted by tag, their
/// values in that order, each integer aligned to its size with zero bytes, and
/// the region trailer last: 16 bytes naming the region tag with the negative
/// offset `-16 × index count`. This is how `rpmsign` leaves the signature header
/// (`RPMTAG_HEADERSIGNATURES`).
pub(crate) fn write_region_header(region_tag: u32, entries: &[NewEntry]) -> Result<Vec<u8>> {
    let mut sorted: Vec<&NewEntry> = entries.iter().filter(|e| e.tag != region_tag).collect();
    sorted.sort_by_key(|e| e.tag);
    let count = sorted.len() + 1;
    let too_big = || Error::invalid("the header would be larger than rpm allows");
    let mut store = Vec::new();
    let mut index = Vec::with_capacity(count * 16);
    for e in &sorted {
        let pad = (e.tag_type.alignment() - store.len() % e.tag_type.alignment())
            % e.tag_type.alignment();
        store.resize(store.len() + pad, 0);
        let offset = u32::try_from(store.len()).map_err(|_| too_big())?;
        for x in [e.tag, e.tag_type.to_raw(), offset, e.count] {
            index.extend(x.to_be_bytes());
        }
        store.extend(&e.data);
    }
    let trailer_offset = u32::try_from(store.len()).map_err(|_| too_big())?;
    let back = i32::try_from(count * 16).map_err(|_| too_big())?;
    store.extend(region_tag.to_be_bytes());
    store.extend(TagType::Bin.to_raw().to_be_bytes());
    store.extend((-back).to_be_bytes());
    store.extend(16u32.to_be_bytes());
    let il = u32::try_from(count).map_err(|_| too_big())?;
    let dl = u32::try_from(store.len()).map_err(|_| too_big())?;
    if il > MAX_INDEX_ENTRIES || dl > MAX_DATA_SIZE {
        return Err(too_big());
    }
    let mut out = Vec::with_capacity(16 + index.len() + 16 + store.len());
    out.extend(HEADER_MAGIC);
    out.extend([0; 4]);
    out.extend(il.to_be_bytes());
    out.extend(dl.to_be_bytes());
    for x in [region_tag, TagType::Bin.to_raw(), trailer_offset, 16] {
        out.extend(x.to_be_bytes());
    }
    out.extend(index);
    out.extend(store);
    Ok(out)
}

/// The lead: checked for its magic and signature type, otherwise ignored
/// (rpm takes name, version and arch from the main header).
pub(crate) fn read_lead(reader: &mut dyn Read) -> Result<()> {
    let mut lead = [0u8; LEAD_SIZE as usize];
    // The magic first, so that a short file that is not an RPM says so.
    read_exact(reader, &mut lead[..4], 0, "lead")?;
    if lead[..4] != LEAD_MAGIC {
        return Err(Error::corrupt(
            0,
            "not an RPM file (no lead magic ED AB EE DB)",
        ));
    }
    read_exact(reader, &mut lead[4..], 4, "lead")?;
    let sigtype = u16::from_be_bytes([lead[78], lead[79]]);
    if sigtype != SIGTYPE_HEADERSIG {
        return Err(Error::unsupported(format!(
            "RPM lead names signature type {sigtype}; only header signatures (5) exist since rpm 2.1"
        ))
        .at(78));
    }
    Ok(())
}

/// Bytes of padding after a signature header that ends at `end`: the main
/// header starts on an 8-byte boundary (rpm's `rpmReadSignature`).
pub(crate) fn signature_padding(end: u64) -> u64 {
    (8 - end % 8) % 8
}

fn read_exact(reader: &mut dyn Read, buf: &mut [u8], offset: u64, what: &str) -> Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => {
                return Err(Error::corrupt(
                    offset + filled as u64,
                    format!(
                        "file ends inside the {what} ({} of {} bytes)",
                        filled,
                        buf.len()
                    ),
                ))
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(e, format!("reading the {what}")).at(offset)),
        }
    }
    Ok(())
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header with the given (tag, type, offset, count) entries over `store`.
    fn header_bytes(entries: &[(u32, u32, u32, u32)], store: &[u8]) -> Vec<u8> {
        let mut v = HEADER_MAGIC.to_vec();
        v.extend([0; 4]);
        v.extend((entries.len() as u32).to_be_bytes());
        v.extend((store.len() as u32).to_be_bytes());
        for &(t, ty, off, n) in entries {
            for x in [t, ty, off, n] {
                v.extend(x.to_be_bytes());
            }
        }
        v.extend(store);
        v
    }

    #[test]
    fn reads_strings_arrays_i18n_and_numbers() {
        // Strings at 0..16, an int32 at 16, an int16 at 20.
        let store = b"name\0a\0bb\0C\0de\0\0\0\0\x01\x02\x02\x03";
        let bytes = header_bytes(
            &[
                (1000, 6, 0, 1),
                (1001, 8, 5, 2),
                (1004, 9, 0, 1),
                (1005, 4, 16, 1),
                (1006, 3, 20, 1),
            ],
            store,
        );
        let h = Header::read(&mut &bytes[..], 200).unwrap();
        assert_eq!(h.start(), 200);
        assert_eq!(h.end(), 200 + 16 + 5 * 16 + store.len() as u64);
        assert_eq!(h.string(1000).unwrap(), Some(&b"name"[..]));
        assert_eq!(
            h.strings(1001).unwrap().unwrap(),
            vec![&b"a"[..], &b"bb"[..]]
        );
        // A two-element array is not one string.
        assert_eq!(h.string(1001).unwrap(), None);
        assert_eq!(h.string(1004).unwrap(), Some(&b"name"[..]));
        assert_eq!(h.number(1005).unwrap(), Some(0x0000_0102));
        assert_eq!(h.numbers(1006).unwrap(), Some(vec![0x0203]));
        assert_eq!(h.string(9999).unwrap(), None);
        assert!(h.numbers(1000).is_err());
    }

    #[test]
    fn refuses_values_outside_the_store() {
        for entry in [
            (1000, 6, 3, 1),        // string without terminator
            (1000, 4, 2, 1),        // int32 past the end
            (1000, 8, 0, 3),        // third string missing
            (1000, 4, 99, 0),       // offset past the end
            (1000, 42, 0, 1),       // unknown type
            (1000, 4, 0, u32::MAX), // count overflow
        ] {
            let bytes = header_bytes(&[entry], b"abcd");
            let err = Header::read(&mut &bytes[..], 96).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Corrupt, "{entry:?}: {err}");
            assert_eq!(err.offset(), Some(96 + 16), "{entry:?}: {err}");
        }
    }

    #[test]
    fn truncation_and_bad_magic_name_the_offset() {
        let bytes = header_bytes(&[(1000, 6, 0, 1)], b"abc\0");
        for cut in [0, 5, 16, 20, bytes.len() - 1] {
            let err = Header::read(&mut &bytes[..cut], 1000).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Corrupt, "{err}");
            assert_eq!(err.offset(), Some(1000 + cut as u64), "{err}");
        }
        let mut bad = bytes.clone();
        bad[0] = 0;
        let err = Header::read(&mut &bad[..], 0).unwrap_err();
        assert!(err.message().contains("magic"), "{err}");
    }

    #[test]
    fn padding_aligns_to_eight() {
        assert_eq!(signature_padding(96 + 16), 0);
        assert_eq!(signature_padding(113), 7);
        assert_eq!(signature_padding(119), 1);
    }
}
