//! The write tracker (pycdlib's `PYCDLIB_TRACK_WRITES` idea): every structure the
//! writer emits declares the byte range the layout gave it, and the stream records
//! the bytes that really went out for it. At the end the declared ranges must be
//! disjoint, lie inside the image (the volume's structures inside the volume space),
//! cover it without a gap, and each must match what was written.
//!
//! On in debug builds, and in any build when `XISO_TRACK_WRITES` is set to a value
//! other than `0` (the test helpers set it, so release test runs check every pack).
//! A violation is an error: the writer has a layout bug, and its output is not used.

use crate::error::{Error, ErrorKind, Result};

/// Whether this process tracks writes.
pub(crate) fn enabled() -> bool {
    cfg!(debug_assertions) || std::env::var_os("XISO_TRACK_WRITES").is_some_and(|v| v != "0")
}

/// One declared structure and the bytes written for it.
#[derive(Debug, Clone)]
struct Region {
    what: String,
    /// Declared by the layout: `start..start + len`.
    start: u64,
    len: u64,
    /// Really written: `actual.0..actual.1` in the output stream.
    actual: (u64, u64),
}

/// Declared and written byte ranges of one output image.
#[derive(Debug, Default)]
pub(crate) struct WriteTracker {
    regions: Vec<Region>,
}

fn violation(msg: String) -> Error {
    Error::new(
        ErrorKind::Io,
        format!("internal write-tracker error (a writer bug; the output is not usable): {msg}"),
    )
}

impl WriteTracker {
    /// Start the structure `what`, which the layout places at `start..start + len`;
    /// the output stream is at `pos` (which also ends the previous structure).
    pub(crate) fn begin(&mut self, what: &str, start: u64, len: u64, pos: u64) {
        self.end(pos);
        self.regions.push(Region {
            what: what.to_string(),
            start,
            len,
            actual: (pos, pos),
        });
    }

    /// The output stream reached `pos`: the open structure ends here.
    pub(crate) fn end(&mut self, pos: u64) {
        if let Some(last) = self.regions.last_mut() {
            last.actual.1 = pos;
        }
    }

    /// Check the whole image: `volume_end` is the volume space size in bytes,
    /// `image_len` the length of the output. `volume` tells, per structure name,
    /// whether it belongs to the ISO volume (everything but the alignment padding
    /// and the tail).
    pub(crate) fn check(
        &self,
        volume_end: u64,
        image_len: u64,
        volume: impl Fn(&str) -> bool,
    ) -> Result<()> {
        for r in &self.regions {
            let end = r.start.checked_add(r.len).ok_or_else(|| {
                violation(format!("{} at byte {}: length overflows", r.what, r.start))
            })?;
            let limit = if volume(&r.what) {
                volume_end
            } else {
                image_len
            };
            if end > limit {
                return Err(violation(format!(
                    "{} (bytes {}..{end}) runs past the end of the {} ({limit} bytes)",
                    r.what,
                    r.start,
                    if limit == volume_end {
                        "volume"
                    } else {
                        "image"
                    }
                )));
            }
        }
        let mut sorted: Vec<&Region> = self.regions.iter().filter(|r| r.len > 0).collect();
        sorted.sort_by_key(|r| r.start);
        let mut covered = 0u64;
        let mut prev: Option<&Region> = None;
        for r in sorted {
            if r.start < covered {
                let p = prev.expect("covered > 0 means a previous region");
                return Err(violation(format!(
                    "{} (bytes {}..{}) overlaps {} (bytes {}..{covered}): written twice",
                    r.what,
                    r.start,
                    r.start + r.len,
                    p.what,
                    p.start
                )));
            }
            if r.start > covered {
                return Err(violation(format!(
                    "bytes {covered}..{} were never written (gap before {})",
                    r.start, r.what
                )));
            }
            covered = r.start + r.len;
            prev = Some(r);
        }
        if covered != image_len {
            return Err(violation(format!(
                "the structures end at byte {covered} but the image is {image_len} bytes"
            )));
        }
        for r in &self.regions {
            if (r.actual.1 - r.actual.0) != r.len || (r.len > 0 && r.actual.0 != r.start) {
                return Err(violation(format!(
                    "{} was laid out at bytes {}..{} but written at {}..{}",
                    r.what,
                    r.start,
                    r.start + r.len,
                    r.actual.0,
                    r.actual.1
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracker(regions: &[(&str, u64, u64)]) -> WriteTracker {
        let mut t = WriteTracker::default();
        for &(what, start, len) in regions {
            // A well-behaved writer: written exactly where declared.
            t.begin(what, start, len, start);
            t.end(start + len);
        }
        t
    }

    fn all_volume(what: &str) -> bool {
        what != "tail"
    }

    #[test]
    fn a_complete_image_passes() {
        let t = tracker(&[("system area", 0, 100), ("pvd", 100, 50), ("tail", 150, 10)]);
        t.check(150, 160, all_volume).unwrap();
    }

    #[test]
    fn an_overlapping_write_is_caught() {
        let t = tracker(&[("system area", 0, 100), ("a.txt", 90, 60)]);
        let e = t.check(150, 150, all_volume).unwrap_err();
        assert!(e.to_string().contains("overlaps system area"), "{e}");
        assert!(e.to_string().contains("written twice"), "{e}");
    }

    #[test]
    fn a_gap_is_caught() {
        let t = tracker(&[("system area", 0, 100), ("a.txt", 120, 30)]);
        let e = t.check(150, 150, all_volume).unwrap_err();
        assert!(
            e.to_string().contains("bytes 100..120 were never written"),
            "{e}"
        );
    }

    #[test]
    fn a_write_past_the_volume_is_caught() {
        let t = tracker(&[("system area", 0, 100), ("a.txt", 100, 60)]);
        let e = t.check(150, 200, all_volume).unwrap_err();
        assert!(e.to_string().contains("past the end of the volume"), "{e}");
        let e = tracker(&[("system area", 0, 100), ("tail", 100, 60)])
            .check(100, 150, all_volume)
            .unwrap_err();
        assert!(e.to_string().contains("past the end of the image"), "{e}");
    }

    #[test]
    fn bytes_written_elsewhere_than_declared_are_caught() {
        let mut t = WriteTracker::default();
        t.begin("system area", 0, 100, 0);
        t.begin("pvd", 100, 50, 100);
        t.begin("file", 150, 50, 150);
        // The file's bytes are one short: its successor starts early.
        t.begin("tail", 200, 10, 199);
        t.end(209);
        let e = t.check(200, 210, all_volume).unwrap_err();
        assert!(
            e.to_string()
                .contains("file was laid out at bytes 150..200 but written at 150..199"),
            "{e}"
        );
    }
}
