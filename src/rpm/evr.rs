//! Version comparison: rpm's `rpmvercmp` and `epoch:version-release` ordering.
//!
//! The algorithm is rpm's (`rpmio/rpmvercmp.c`), written down from its
//! documented behaviour: strings split into runs of ASCII digits or ASCII
//! letters, everything else separates; numeric runs compare as numbers
//! (leading zeros ignored) and beat alphabetic ones; `~` sorts before
//! everything, even the end of the string (pre-releases); `^` sorts after the
//! end of the string but before any other run (post-release snapshots).

use std::cmp::Ordering;
use std::fmt;

/// Compare two version (or release) strings the way rpm does.
pub(crate) fn rpmvercmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a == b {
        return Ordering::Equal;
    }
    let (mut i, mut j) = (0usize, 0usize);
    let at = |s: &[u8], k: usize| s.get(k).copied().unwrap_or(0);
    let separator = |c: u8| c != 0 && !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    while at(a, i) != 0 || at(b, j) != 0 {
        while separator(at(a, i)) {
            i += 1;
        }
        while separator(at(b, j)) {
            j += 1;
        }
        let (ca, cb) = (at(a, i), at(b, j));
        if ca == b'~' || cb == b'~' {
            if ca != b'~' {
                return Ordering::Greater;
            }
            if cb != b'~' {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if ca == b'^' || cb == b'^' {
            if ca == 0 {
                return Ordering::Less;
            }
            if cb == 0 {
                return Ordering::Greater;
            }
            if ca != b'^' {
                return Ordering::Greater;
            }
            if cb != b'^' {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if ca == 0 || cb == 0 {
            break;
        }
        let numeric = ca.is_ascii_digit();
        let run = |s: &[u8], mut k: usize| {
            let start = k;
            while k < s.len()
                && (if numeric {
                    s[k].is_ascii_digit()
                } else {
                    s[k].is_ascii_alphabetic()
                })
            {
                k += 1;
            }
            (start, k)
        };
        let (sa, ea) = run(a, i);
        let (sb, eb) = run(b, j);
        i = ea;
        j = eb;
        if sb == eb {
            // Different kinds of run: a number is newer than letters.
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let (mut ra, mut rb) = (&a[sa..ea], &b[sb..eb]);
        if numeric {
            while ra.first() == Some(&b'0') {
                ra = &ra[1..];
            }
            while rb.first() == Some(&b'0') {
                rb = &rb[1..];
            }
            match ra.len().cmp(&rb.len()) {
                Ordering::Equal => {}
                other => return other,
            }
        }
        match ra.cmp(rb) {
            Ordering::Equal => {}
            other => return other,
        }
    }
    match (at(a, i) != 0, at(b, j) != 0) {
        (false, false) => Ordering::Equal,
        (true, _) => Ordering::Greater,
        (false, true) => Ordering::Less,
    }
}

/// An `epoch:version-release`, ordered as rpm orders installed packages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Evr {
    /// The epoch; a missing epoch is 0.
    pub epoch: u64,
    /// The version.
    pub version: String,
    /// The release; `None` (only in dependency versions) matches any release.
    pub release: Option<String>,
}

impl Evr {
    /// A package's EVR.
    pub(crate) fn new(epoch: u64, version: impl Into<String>, release: impl Into<String>) -> Evr {
        Evr {
            epoch,
            version: version.into(),
            release: Some(release.into()),
        }
    }

    /// Parse `[epoch:]version[-release]`; `None` when the epoch is not a number.
    pub(crate) fn parse(s: &str) -> Option<Evr> {
        let (epoch, rest) = match s.split_once(':') {
            Some((e, rest)) => (if e.is_empty() { 0 } else { e.parse().ok()? }, rest),
            None => (0, s),
        };
        let (version, release) = match rest.rsplit_once('-') {
            Some((v, r)) => (v, Some(r.to_string())),
            None => (rest, None),
        };
        Some(Evr {
            epoch,
            version: version.to_string(),
            release,
        })
    }

    /// rpm's `rpmverCmp`: epoch, then version, then release when both have one.
    pub(crate) fn compare(&self, other: &Evr) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| rpmvercmp(&self.version, &other.version))
            .then_with(|| match (&self.release, &other.release) {
                (Some(a), Some(b)) => rpmvercmp(a, b),
                _ => Ordering::Equal,
            })
    }
}

impl fmt::Display for Evr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.epoch != 0 {
            write!(f, "{}:", self.epoch)?;
        }
        f.write_str(&self.version)?;
        if let Some(r) = &self.release {
            write!(f, "-{r}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vectors of rpm's `tests/rpmvercmp.at` (expected -1, 0 or 1).
    const RPM_VECTORS: &[(&str, &str, i8)] = &[
        ("1.0", "1.0", 0),
        ("1.0", "2.0", -1),
        ("2.0", "1.0", 1),
        ("2.0.1", "2.0.1", 0),
        ("2.0", "2.0.1", -1),
        ("2.0.1", "2.0", 1),
        ("2.0.1a", "2.0.1a", 0),
        ("2.0.1a", "2.0.1", 1),
        ("2.0.1", "2.0.1a", -1),
        ("5.5p1", "5.5p1", 0),
        ("5.5p1", "5.5p2", -1),
        ("5.5p2", "5.5p1", 1),
        ("5.5p10", "5.5p10", 0),
        ("5.5p1", "5.5p10", -1),
        ("5.5p10", "5.5p1", 1),
        ("10xyz", "10.1xyz", -1),
        ("10.1xyz", "10xyz", 1),
        ("xyz10", "xyz10", 0),
        ("xyz10", "xyz10.1", -1),
        ("xyz10.1", "xyz10", 1),
        ("xyz.4", "xyz.4", 0),
        ("xyz.4", "8", -1),
        ("8", "xyz.4", 1),
        ("xyz.4", "2", -1),
        ("2", "xyz.4", 1),
        ("5.5p2", "5.6p1", -1),
        ("5.6p1", "5.5p2", 1),
        ("5.6p1", "6.5p1", -1),
        ("6.5p1", "5.6p1", 1),
        ("6.0.rc1", "6.0", 1),
        ("6.0", "6.0.rc1", -1),
        ("10b2", "10a1", 1),
        ("10a2", "10b2", -1),
        ("1.0aa", "1.0aa", 0),
        ("1.0a", "1.0aa", -1),
        ("1.0aa", "1.0a", 1),
        ("10.0001", "10.0001", 0),
        ("10.0001", "10.1", 0),
        ("10.1", "10.0001", 0),
        ("10.0001", "10.0039", -1),
        ("10.0039", "10.0001", 1),
        ("4.999.9", "5.0", -1),
        ("5.0", "4.999.9", 1),
        ("20101121", "20101121", 0),
        ("20101121", "20101122", -1),
        ("20101122", "20101121", 1),
        ("2_0", "2_0", 0),
        ("2.0", "2_0", 0),
        ("2_0", "2.0", 0),
        // RhBug:178798
        ("a", "a", 0),
        ("a+", "a+", 0),
        ("a+", "a_", 0),
        ("a_", "a+", 0),
        ("+a", "+a", 0),
        ("+a", "_a", 0),
        ("_a", "+a", 0),
        ("+_", "+_", 0),
        ("_+", "+_", 0),
        ("_+", "_+", 0),
        ("+", "_", 0),
        ("_", "+", 0),
        // tilde
        ("1.0~rc1", "1.0~rc1", 0),
        ("1.0~rc1", "1.0", -1),
        ("1.0", "1.0~rc1", 1),
        ("1.0~rc1", "1.0~rc2", -1),
        ("1.0~rc2", "1.0~rc1", 1),
        ("1.0~rc1~git123", "1.0~rc1~git123", 0),
        ("1.0~rc1~git123", "1.0~rc1", -1),
        ("1.0~rc1", "1.0~rc1~git123", 1),
        // caret
        ("1.0^", "1.0^", 0),
        ("1.0^", "1.0", 1),
        ("1.0", "1.0^", -1),
        ("1.0^git1", "1.0^git1", 0),
        ("1.0^git1", "1.0", 1),
        ("1.0", "1.0^git1", -1),
        ("1.0^git1", "1.0^git2", -1),
        ("1.0^git2", "1.0^git1", 1),
        ("1.0^git1", "1.01", -1),
        ("1.01", "1.0^git1", 1),
        ("1.0^20160101", "1.0^20160101", 0),
        ("1.0^20160101", "1.0.1", -1),
        ("1.0.1", "1.0^20160101", 1),
        ("1.0^20160101^git1", "1.0^20160101^git1", 0),
        ("1.0^20160102", "1.0^20160101^git1", 1),
        ("1.0^20160101^git1", "1.0^20160102", -1),
        // tilde and caret
        ("1.0~rc1^git1", "1.0~rc1^git1", 0),
        ("1.0~rc1^git1", "1.0~rc1", 1),
        ("1.0~rc1", "1.0~rc1^git1", -1),
        ("1.0^git1~pre", "1.0^git1~pre", 0),
        ("1.0^git1", "1.0^git1~pre", 1),
        ("1.0^git1~pre", "1.0^git1", -1),
    ];

    #[test]
    fn rpm_test_vectors() {
        for &(a, b, want) in RPM_VECTORS {
            let want = want.cmp(&0);
            assert_eq!(rpmvercmp(a, b), want, "rpmvercmp({a:?}, {b:?})");
        }
    }

    #[test]
    fn non_ascii_is_a_separator() {
        // rpm's own "oddities": non-ASCII letters compare equal (documented, kept).
        assert_eq!(rpmvercmp("1.1.α", "1.1.β"), Ordering::Equal);
    }

    #[test]
    fn evr_orders_epoch_then_version_then_release() {
        let e = |s: &str| Evr::parse(s).unwrap();
        assert_eq!(e("1:1.0-1").compare(&e("2.0-1")), Ordering::Greater);
        assert_eq!(e("1.0-2").compare(&e("1.0-10")), Ordering::Less);
        assert_eq!(e("1.0~rc1-1").compare(&e("1.0-1")), Ordering::Less);
        assert_eq!(e("1.0").compare(&e("1.0-5")), Ordering::Equal);
        assert_eq!(e(":1.0-1"), Evr::new(0, "1.0", "1"));
        assert_eq!(e("3:1.0-1-2").release.as_deref(), Some("2"));
        assert!(Evr::parse("x:1.0").is_none());
        assert_eq!(e("2:1.0-1").to_string(), "2:1.0-1");
    }
}
