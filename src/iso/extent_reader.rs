//! Streaming a file's data out of the image, extent after extent, for decoders that
//! pull (`Read`); nothing is held in memory.

use std::borrow::Borrow;
use std::io::{BufReader, Read};

use super::{Entry, IsoImage};
use crate::error::Result;
use crate::source::Source;

/// Reads a file's extents in order from a [`Source`], borrowed (`ExtentReader<&Source>`,
/// see [`ExtentReader::new`]) or owned ([`IsoImage::file_reader`]).
///
/// A failed read is an `std::io::Error` whose inner error is the [`crate::Error`] (file,
/// offset, what was read): `Display` shows it, and `get_ref`/`into_inner` give it back.
#[derive(Debug)]
pub(crate) struct ExtentReader<S> {
    src: S,
    /// `(byte offset, length)` of each extent.
    extents: Vec<(u64, u64)>,
    idx: usize,
    pos: u64,
}

impl<'a> ExtentReader<&'a Source> {
    /// A reader over `entry`'s data in `iso`.
    pub(crate) fn new(iso: &'a IsoImage, entry: &Entry) -> Self {
        ExtentReader::over(iso.source(), entry)
    }
}

impl<S: Borrow<Source>> ExtentReader<S> {
    /// A reader over `entry`'s data in `src`, the image the entry was read from.
    pub(crate) fn over(src: S, entry: &Entry) -> Self {
        ExtentReader {
            src,
            extents: entry.extents.iter().map(|x| (x.offset(), x.len)).collect(),
            idx: 0,
            pos: 0,
        }
    }
}

impl<S: Borrow<Source>> Read for ExtentReader<S> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while let Some(&(off, len)) = self.extents.get(self.idx) {
            if self.pos >= len {
                self.idx += 1;
                self.pos = 0;
                continue;
            }
            let n = usize::try_from(len - self.pos)
                .unwrap_or(usize::MAX)
                .min(buf.len());
            self.src
                .borrow()
                .read_exact_at(off + self.pos, &mut buf[..n], "file data")
                .map_err(std::io::Error::other)?;
            self.pos += n as u64;
            return Ok(n);
        }
        Ok(0)
    }
}

impl IsoImage {
    /// An owned reader over a file's extents, in order (a decoder may hand it to
    /// threads): its own handle on the image file, read through a 1 MiB buffer.
    pub(crate) fn file_reader(&self, e: &Entry) -> Result<Box<dyn Read + Send + 'static>> {
        let src = Source::open(self.source().path())?;
        Ok(Box::new(BufReader::with_capacity(
            1 << 20,
            ExtentReader::over(src, e),
        )))
    }
}
