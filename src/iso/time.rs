//! ISO 9660 date formats (ECMA-119 8.4.26.1 and 9.1.5) and conversion to Unix time.

use serde::Serialize;

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month, day) of a day count since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Unix seconds of a 7-byte directory record date (ECMA-119 9.1.5), `None` when all zero.
pub(crate) fn record_date_to_unix(b: &[u8]) -> Option<i64> {
    if b.len() < 7 || b[..6].iter().all(|&x| x == 0) {
        return None;
    }
    let (month, day) = (u32::from(b[1]), u32::from(b[2]));
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || b[3] > 23 || b[4] > 59 || b[5] > 60
    {
        return None;
    }
    let days = days_from_civil(1900 + i64::from(b[0]), month, day);
    let offset_minutes = i64::from(b[6] as i8) * 15;
    Some(
        days * 86_400 + i64::from(b[3]) * 3600 + i64::from(b[4]) * 60 + i64::from(b[5])
            - offset_minutes * 60,
    )
}

/// A 17-byte volume descriptor date (ECMA-119 8.4.26.1), kept raw for exact replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VolumeDate {
    /// `YYYYMMDDHHMMSScc` as stored (may be all `0` for "not specified").
    pub text: String,
    /// Offset from GMT in 15-minute intervals.
    pub gmt_offset: i8,
    /// Unix seconds, when the date is specified and valid.
    pub unix: Option<i64>,
}

impl VolumeDate {
    /// Parse the 17 bytes of a volume descriptor date.
    pub(crate) fn parse(b: &[u8; 17]) -> VolumeDate {
        let text: String = b[..16]
            .iter()
            .map(|&c| if c.is_ascii_graphic() { c as char } else { '?' })
            .collect();
        let gmt_offset = b[16] as i8;
        let num = |r: std::ops::Range<usize>| -> Option<u32> { text.get(r)?.parse().ok() };
        let unix = (|| {
            let (y, mo, d, h, mi, s) = (
                num(0..4)?,
                num(4..6)?,
                num(6..8)?,
                num(8..10)?,
                num(10..12)?,
                num(12..14)?,
            );
            if y == 0
                || !(1..=12).contains(&mo)
                || !(1..=31).contains(&d)
                || h > 23
                || mi > 59
                || s > 60
            {
                return None;
            }
            let days = days_from_civil(i64::from(y), mo, d);
            Some(
                days * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s)
                    - i64::from(gmt_offset) * 15 * 60,
            )
        })();
        VolumeDate {
            text,
            gmt_offset,
            unix,
        }
    }

    /// A Unix time, as the writer puts it in a volume descriptor (UTC, years clamped
    /// to 0001..9999).
    pub fn from_unix(t: i64) -> VolumeDate {
        VolumeDate::parse(&super::write::dirrec::date17(t))
    }

    /// "Not specified": sixteen `'0'` digits and offset 0 (ECMA-119 8.4.26.1).
    pub fn unset() -> VolumeDate {
        VolumeDate::parse(&super::write::dirrec::DATE17_UNSET)
    }

    /// The raw 17 bytes again.
    pub fn to_bytes(&self) -> [u8; 17] {
        let mut out = [b'0'; 17];
        for (o, c) in out.iter_mut().zip(self.text.bytes()).take(16) {
            *o = c;
        }
        out[16] = self.gmt_offset as u8;
        out
    }
}

/// `YYYY-MM-DD HH:MM:SS` in UTC for display.
pub fn format_unix(t: i64) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(86_400));
    let s = t.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for days in [-1_000_000i64, -1, 0, 1, 19_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(format_unix(1_700_000_000), "2023-11-14 22:13:20");
    }

    #[test]
    fn record_date_with_offset() {
        // 2023-11-14 22:13:20 at GMT+1 (4 quarter hours) is 21:13:20 UTC.
        let b = [123, 11, 14, 22, 13, 20, 4];
        assert_eq!(record_date_to_unix(&b), Some(1_700_000_000 - 3600));
        assert_eq!(record_date_to_unix(&[0; 7]), None);
    }

    #[test]
    fn volume_date_parse() {
        let mut b = [0u8; 17];
        b[..16].copy_from_slice(b"2023111422132000");
        let d = VolumeDate::parse(&b);
        assert_eq!(d.unix, Some(1_700_000_000));
        assert_eq!(d.to_bytes(), b);
    }
}
