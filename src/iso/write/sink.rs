//! The output stream: counts bytes so the writer can check each structure
//! lands at its laid-out address, and, when the output is a regular file,
//! seeks over all-zero blocks instead of writing them so sparse inputs (and
//! padding) stay sparse. With write tracking on (see [`super::track`]) it also
//! records which structure each byte was written for.

use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};

use super::track::{self, WriteTracker};
use crate::error::{Error, Result};
use crate::source::Source;

/// Granularity of hole detection: a multiple of common file-system blocks.
const HOLE_BLOCK: usize = 64 * 1024;

static ZEROS: [u8; HOLE_BLOCK] = [0; HOLE_BLOCK];

enum Target<'a> {
    Plain(BufWriter<&'a mut dyn Write>),
    Sparse { file: &'a mut File, hole: u64 },
}

/// Bytes written between two writeback hints (see [`Sink::start_writeback`]).
const WRITEBACK_STEP: u64 = 32 << 20;

/// Position-tracking, optionally hole-punching output.
pub(crate) struct Sink<'a> {
    target: Target<'a>,
    pos: u64,
    tracker: Option<WriteTracker>,
    /// With early writeback on: where the bytes not yet handed to writeback start.
    writeback_from: Option<u64>,
}

fn all_zero(b: &[u8]) -> bool {
    // Slice equality is a `memcmp`, fast even in unoptimized test builds.
    b.len() <= HOLE_BLOCK && b == &ZEROS[..b.len()]
}

impl<'a> Sink<'a> {
    /// A sink writing every byte to `out`.
    pub(crate) fn plain(out: &'a mut dyn Write) -> Sink<'a> {
        Sink {
            target: Target::Plain(BufWriter::with_capacity(1 << 20, out)),
            pos: 0,
            tracker: track::enabled().then(WriteTracker::default),
            writeback_from: None,
        }
    }

    /// A sink writing into a regular file from offset 0, leaving holes for
    /// zero blocks. The file is truncated first so holes read as zeros.
    pub(crate) fn sparse(file: &'a mut File) -> io::Result<Sink<'a>> {
        // Only when needed: ext4 treats a truncate to 0 as "replacing the file" and
        // flushes all of it on close (auto_da_alloc), ~0.4 s for an XCP-ng ISO.
        if file.metadata()?.len() != 0 {
            file.set_len(0)?;
        }
        file.seek(SeekFrom::Start(0))?;
        Ok(Sink {
            target: Target::Sparse { file, hole: 0 },
            pos: 0,
            tracker: track::enabled().then(WriteTracker::default),
            writeback_from: None,
        })
    }

    /// Hand written data to the kernel's writeback every few MiB
    /// (`POSIX_FADV_DONTNEED`, which starts writing dirty pages and drops clean
    /// ones), so a final `fsync` overlaps the writing instead of following it.
    /// Only for a file sink.
    pub(crate) fn start_writeback(&mut self) {
        if matches!(self.target, Target::Sparse { .. }) {
            self.writeback_from = Some(self.pos);
        }
    }

    fn writeback_hint(&mut self) {
        let (Some(from), Target::Sparse { file, .. }) = (self.writeback_from, &self.target) else {
            return;
        };
        if self.pos - from >= WRITEBACK_STEP {
            // A hint: if the kernel ignores it, the final fsync does the work.
            let _ = rustix::fs::fadvise(
                &**file,
                from,
                std::num::NonZeroU64::new(self.pos - from),
                rustix::fs::Advice::DontNeed,
            );
            self.writeback_from = Some(self.pos);
        }
    }

    /// Bytes emitted so far.
    pub(crate) fn pos(&self) -> u64 {
        self.pos
    }

    /// The next bytes are the structure `what`, laid out at `start..start + len`.
    pub(crate) fn track(&mut self, what: &str, start: u64, len: u64) {
        if let Some(t) = &mut self.tracker {
            t.begin(what, start, len, self.pos);
        }
    }

    /// Check every structure was written once, where laid out, inside the image
    /// (see [`WriteTracker::check`]); a no-op when tracking is off.
    pub(crate) fn check_writes(
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
    pub(crate) fn zeros(&mut self, mut n: u64) -> io::Result<()> {
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

    /// Emit `len` bytes of `src` from `offset`. Into a regular file from a file
    /// source the kernel moves the data (`copy_file_range`), skipping the source's
    /// holes (`SEEK_DATA`/`SEEK_HOLE`) so they stay holes; otherwise, or where the
    /// file system refuses, through a buffer.
    pub(crate) fn copy_source(
        &mut self,
        src: &Source,
        offset: u64,
        len: u64,
        what: &str,
    ) -> Result<()> {
        let end = offset.saturating_add(len);
        if end > src.len() {
            return Err(Error::corrupt(
                offset,
                format!(
                    "{what} ({len} bytes) runs past the end of the file ({} bytes)",
                    src.len()
                ),
            )
            .in_file(src.path()));
        }
        let Some(input) = src.file().filter(|_| self.is_file()) else {
            return src.copy_range(offset, len, self, what);
        };
        let copied = self.copy_file_at(input, offset, len).map_err(|e| {
            if output_full(&e) {
                Error::io(e, "writing the image")
            } else {
                Error::io(e, format!("copying {what}"))
                    .at(offset)
                    .in_file(src.path())
            }
        })?;
        if copied < len {
            // The file system cannot copy_file_range: the rest through a buffer.
            src.copy_range(offset + copied, len - copied, self, what)?;
        }
        Ok(())
    }

    /// Whether the output is a regular file (where [`Sink::copy_file`] can work).
    pub(crate) fn is_file(&self) -> bool {
        matches!(self.target, Target::Sparse { .. })
    }

    /// Emit the first `len` bytes of `input` with `copy_file_range` (holes kept).
    /// Returns how many were copied: `len`, or fewer (maybe 0) where the kernel
    /// cannot, for the caller to write the rest; `UnexpectedEof` if `input` is shorter.
    pub(crate) fn copy_file(&mut self, input: &File, len: u64) -> io::Result<u64> {
        self.copy_file_at(input, 0, len)
    }

    /// [`Sink::copy_file`] from offset `from` of `input`: the one place the kernel
    /// copies, the output's offset and pending hole then follow.
    fn copy_file_at(&mut self, input: &File, from: u64, len: u64) -> io::Result<u64> {
        let Target::Sparse { file, hole } = &mut self.target else {
            return Ok(0);
        };
        let base = self.pos;
        let copied = kernel_copy(input, from, file, base, len)?;
        // The file's offset is where the next write goes.
        *hole = 0;
        file.seek(SeekFrom::Start(base + copied))?;
        self.pos = base + copied;
        self.writeback_hint();
        Ok(copied)
    }

    /// Flush; a sparse file gets its final length.
    pub(crate) fn finish(self) -> io::Result<()> {
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

/// copy_file_range reports both sides' errors: whether this one is the output's
/// (file too large, disk or quota full).
pub(crate) fn output_full(e: &io::Error) -> bool {
    use rustix::io::Errno;
    [Errno::FBIG, Errno::NOSPC, Errno::DQUOT]
        .iter()
        .any(|n| e.raw_os_error() == Some(n.raw_os_error()))
}

/// Copy `len` bytes at `from` in `input` to `to` in `out` with `copy_file_range`,
/// data segments only (the output starts empty, so a skipped hole reads as zeros).
/// Returns how many bytes were done: all of them, or fewer when the kernel refuses
/// the call for these files (`EXDEV`, `EINVAL`, `EOPNOTSUPP`, `ENOSYS`) before
/// copying anything of a segment.
fn kernel_copy(input: &File, from: u64, out: &File, to: u64, len: u64) -> io::Result<u64> {
    use rustix::fs::{copy_file_range, seek, SeekFrom as At};
    use rustix::io::Errno;
    let end = from
        .checked_add(len)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "range past 2^64"))?;
    // Past the end of the file SEEK_DATA finds no data, which must not read as a hole.
    let size = input.metadata()?.len();
    if end > size {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("the file has {size} bytes, {end} were expected"),
        ));
    }
    let mut at = from;
    while at < end {
        // The next data segment: [data, hole_at) clipped to the range.
        let data = match seek(input, At::Data(at)) {
            Ok(d) => d.min(end),
            Err(Errno::NXIO) => end,
            Err(_) => at, // no SEEK_DATA here: treat everything as data
        };
        let hole_at = match seek(input, At::Hole(data)) {
            Ok(h) if h > data => h.min(end),
            _ => end,
        };
        let mut off_in = data;
        let mut off_out = to + (data - from);
        while off_in < hole_at {
            let want = usize::try_from(hole_at - off_in)
                .unwrap_or(usize::MAX)
                .min(16 << 20);
            match copy_file_range(input, Some(&mut off_in), out, Some(&mut off_out), want) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("the source ended at byte {off_in}"),
                    ))
                }
                Ok(_) => {}
                Err(Errno::XDEV | Errno::INVAL | Errno::OPNOTSUPP | Errno::NOSYS) => {
                    return Ok(off_in - from)
                }
                Err(Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        at = hole_at;
    }
    Ok(len)
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
        self.writeback_hint();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.target {
            Target::Plain(w) => w.flush(),
            Target::Sparse { file, .. } => file.flush(),
        }
    }
}
