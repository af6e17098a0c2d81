//! Directory records (ECMA-119 9.1), both-endian numbers (7.2.3, 7.3.3) and
//! the two date formats (9.1.5 seven-byte, 8.4.26.1 seventeen-byte).
//! All dates are written in UTC (offset 0) so output does not depend on the
//! machine's time zone.

pub(crate) use crate::iso::ecma119::{FLAG_DIR, FLAG_MULTI_EXTENT, RECORD_HEADER};
/// Largest record length; records have even length (genisoimage, libisofs), so 254.
pub(crate) const RECORD_MAX: usize = 254;

/// Both-endian 32-bit (ECMA-119 7.3.3).
pub(crate) fn both32(v: u32) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[..4].copy_from_slice(&v.to_le_bytes());
    b[4..].copy_from_slice(&v.to_be_bytes());
    b
}

/// Both-endian 16-bit (ECMA-119 7.2.3).
pub(crate) fn both16(v: u16) -> [u8; 4] {
    let mut b = [0u8; 4];
    b[..2].copy_from_slice(&v.to_le_bytes());
    b[2..].copy_from_slice(&v.to_be_bytes());
    b
}

/// Broken-down UTC time: (year, month, day, hour, minute, second).
pub(crate) fn utc(t: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (y, m, d) = crate::iso::time::civil_from_days(days);
    (
        y,
        m,
        d,
        (secs / 3600) as u32,
        (secs / 60 % 60) as u32,
        (secs % 60) as u32,
    )
}

/// Seven-byte recording date (ECMA-119 9.1.5); years outside 1900..=2155 are clamped.
pub(crate) fn date7(t: i64) -> [u8; 7] {
    let t = t.clamp(-2_208_988_800, 5_996_851_199); // 1900-01-01 .. 2155-12-31T23:59:59
    let (y, m, d, hh, mm, ss) = utc(t);
    [
        (y - 1900) as u8,
        m as u8,
        d as u8,
        hh as u8,
        mm as u8,
        ss as u8,
        0,
    ]
}

/// Seventeen-byte volume date (ECMA-119 8.4.26.1), hundredths 0, UTC.
pub(crate) fn date17(t: i64) -> [u8; 17] {
    let t = t.clamp(-62_135_596_800, 253_402_300_799); // 0001 .. 9999
    let (y, m, d, hh, mm, ss) = utc(t);
    let s = format!("{y:04}{m:02}{d:02}{hh:02}{mm:02}{ss:02}00");
    let mut b = [0u8; 17];
    b[..16].copy_from_slice(s.as_bytes());
    b
}

/// "Not specified" volume date: sixteen `'0'` digits and a zero offset (8.4.26.1).
pub(crate) const DATE17_UNSET: [u8; 17] = *b"0000000000000000\0";

/// Length of a record with an identifier of `ident_len` bytes and `su_len`
/// bytes of system use, rounded up to even.
pub(crate) fn record_len(ident_len: usize, su_len: usize) -> usize {
    let base = RECORD_HEADER + ident_len + usize::from(ident_len.is_multiple_of(2));
    let len = base + su_len;
    len + len % 2
}

/// Encode one directory record.
pub(crate) fn encode(
    extent: u32,
    size: u32,
    mtime: i64,
    flags: u8,
    ident: &[u8],
    su: &[u8],
) -> Vec<u8> {
    let len = record_len(ident.len(), su.len());
    let mut r = Vec::with_capacity(len);
    r.push(len as u8);
    r.push(0); // extended attribute record length
    r.extend_from_slice(&both32(extent));
    r.extend_from_slice(&both32(size));
    r.extend_from_slice(&date7(mtime));
    r.push(flags);
    r.push(0); // file unit size (not interleaved)
    r.push(0); // interleave gap
    r.extend_from_slice(&both16(1)); // volume sequence number
    r.push(ident.len() as u8);
    r.extend_from_slice(ident);
    if ident.len().is_multiple_of(2) {
        r.push(0);
    }
    r.extend_from_slice(su);
    r.resize(len, 0);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The writer lays a record out field by field; the reader finds the fields at
    /// `ecma119`'s offsets: both agree.
    #[test]
    fn records_put_fields_where_the_reader_looks() {
        use crate::iso::ecma119::{DR_DATE, DR_EXTENT, DR_FLAGS, DR_LEN, DR_NAME_LEN, DR_SIZE};
        let r = encode(
            0x1234_5678,
            0x0a0b_0c0d,
            1_700_000_000,
            FLAG_DIR,
            b"NAME",
            b"SU",
        );
        assert_eq!(usize::from(r[DR_LEN]), r.len());
        assert_eq!(r[DR_EXTENT..DR_EXTENT + 4], 0x1234_5678u32.to_le_bytes());
        assert_eq!(r[DR_SIZE..DR_SIZE + 4], 0x0a0b_0c0du32.to_le_bytes());
        assert_eq!(r[DR_DATE], date7(1_700_000_000));
        assert_eq!(r[DR_FLAGS], FLAG_DIR);
        assert_eq!(usize::from(r[DR_NAME_LEN]), 4);
        assert_eq!(&r[RECORD_HEADER..RECORD_HEADER + 4], b"NAME");
    }

    #[test]
    fn dates() {
        assert_eq!(date7(0), [70, 1, 1, 0, 0, 0, 0]);
        assert_eq!(&date17(1_700_000_000)[..16], b"2023111422132000");
        assert_eq!(utc(951_782_400), (2000, 2, 29, 0, 0, 0));
    }

    #[test]
    fn record_is_even() {
        assert_eq!(record_len(1, 0), 34);
        assert_eq!(record_len(12, 0), 46);
        assert_eq!(encode(20, 2048, 0, FLAG_DIR, &[0], &[]).len(), 34);
    }
}
