//! The output stream: counts bytes so the writer can check each structure
//! lands at its laid-out address, and, when the output is a regular file,
//! seeks over all-zero blocks instead of writing them so sparse inputs (and
//! padding) stay sparse. With write tracking on (see [`super::track`]) it also
//! records which structure each byte was written for.

use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};

use super::track::{self, WriteTracker};
use crate::error::Result;

/// Granularity of hole detection: a multiple of common file-system blocks.
const HOLE_BLOCK: usize = 64 * 1024;

static ZEROS: [u8; HOLE_BLOCK] = [0; HOLE_BLOCK];

enum Target<'a> {
    Plain(BufWriter<&'a mut dyn Write>),
    Sparse { file: &'a mut File, hole: u64 },
}

/// Position-tracking, optionally hole-punching output.
pub(crate) struct Sink<'a> {
    target: Target<'a>,
    pos: u64,
    tracker: Option<WriteTracker>,
}

fn all_zero(b: &[u8]) -> bool {
    // Slice equality is a `memcmp`, fast even in unoptimized test builds.
    b.len() <= HOLE_BLOCK && b == &ZEROS[..b.len()]
}

impl<'a> Sink<'a> {
    /// A sink writing every byte to `out`.
    pub fn plain(out: &'a mut dyn Write) -> Sink<'a> {
        Sink {
            target: Target::Plain(BufWriter::with_capacity(1 << 20, out)),
            pos: 0,
            tracker: track::enabled().then(WriteTracker::default),
        }
    }

    /// A sink writing into a regular file from offset 0, leaving holes for
    /// zero blocks. The file is truncated first so holes read as zeros.
    pub fn sparse(file: &'a mut File) -> io::Result<Sink<'a>> {
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        Ok(Sink {
            target: Target::Sparse { file, hole: 0 },
            pos: 0,
            tracker: track::enabled().then(WriteTracker::default),
        })
    }

    /// Bytes emitted so far.
    pub fn pos(&self) -> u64 {
        self.pos
    }

    /// The next bytes are the structure `what`, laid out at `start..start + len`.
    pub fn track(&mut self, what: &str, start: u64, len: u64) {
        if let Some(t) = &mut self.tracker {
            t.begin(what, start, len, self.pos);
        }
    }

    /// Check every structure was written once, where laid out, inside the image
    /// (see [`WriteTracker::check`]); a no-op when tracking is off.
    pub fn check_writes(
        &mut self,
        volume_end: u64,
        image_len: u64,
        volume: impl Fn(&str) -> bool,
    ) -> Result<()> {
        let pos = self.pos;
        match &mut self.tracker {
            Some(t) => {
                t.end(pos);
                t.check(volume_end, image_len, volume)
            }
            None => Ok(()),
        }
    }

    /// Emit `n` zero bytes.
    pub fn zeros(&mut self, mut n: u64) -> io::Result<()> {
        match &mut self.target {
            Target::Plain(w) => {
                while n > 0 {
                    let k = n.min(HOLE_BLOCK as u64) as usize;
                    w.write_all(&ZEROS[..k])?;
                    n -= k as u64;
                    self.pos += k as u64;
                }
            }
            Target::Sparse { hole, .. } => {
                *hole += n;
                self.pos += n;
            }
        }
        Ok(())
    }

    /// Flush; a sparse file gets its final length.
    pub fn finish(self) -> io::Result<()> {
        match self.target {
            Target::Plain(mut w) => w.flush(),
            Target::Sparse { file, hole } => {
                if hole > 0 {
                    let h = i64::try_from(hole)
                        .map_err(|_| io::Error::other("hole larger than i64"))?;
                    file.seek(SeekFrom::Current(h))?;
                }
                file.set_len(self.pos)?;
                file.flush()
            }
        }
    }
}

impl Write for Sink<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.target {
            Target::Plain(w) => w.write_all(buf)?,
            Target::Sparse { file, hole } => {
                // Runs of non-zero blocks go out in one write (fewer syscalls);
                // all-zero blocks become a seek, so the file stays sparse.
                let mut run_start: Option<usize> = None;
                let mut at = 0usize;
                for chunk in buf.chunks(HOLE_BLOCK) {
                    if all_zero(chunk) {
                        if let Some(start) = run_start.take() {
                            file.write_all(&buf[start..at])?;
                        }
                        *hole += chunk.len() as u64;
                    } else if run_start.is_none() {
                        if *hole > 0 {
                            let h = i64::try_from(*hole)
                                .map_err(|_| io::Error::other("hole larger than i64"))?;
                            file.seek(SeekFrom::Current(h))?;
                            *hole = 0;
                        }
                        run_start = Some(at);
                    }
                    at += chunk.len();
                }
                if let Some(start) = run_start {
                    file.write_all(&buf[start..])?;
                }
            }
        }
        self.pos += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.target {
            Target::Plain(w) => w.flush(),
            Target::Sparse { file, .. } => file.flush(),
        }
    }
}
