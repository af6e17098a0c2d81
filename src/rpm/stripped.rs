//! rpm's "stripped" cpio payload (magic `07070X`, rpm ≥ 4.12 for packages with
//! files of 4 GiB or more, and every rpm 6 package): each member is the magic
//! and the file's index in the header as 8 hex digits, padded to 4 bytes, then
//! its data padded to 4. Sizes and everything else come from the header
//! (`lib/cpio.c` `rpmcpioStrippedHeaderWrite`); regular files have data (of a
//! hard-link set only the last member, `rpmfiArchiveHasContent`) and symlinks
//! their target, as rpm-rs writes them. The
//! archive ends with an ordinary newc `TRAILER!!!` entry.

use std::io::{self, Read};

use crate::error::{Error, Result};
use crate::initrd::cpio::{HEADER_LEN, NEWC_MAGIC, TRAILER};

/// Magic of a stripped member.
pub(crate) const STRIPPED_MAGIC: &[u8; 6] = b"07070X";

/// Streaming reader of a stripped payload.
pub(crate) struct StrippedReader<R: Read> {
    inner: R,
    pos: u64,
    data_left: u64,
    pad_left: u64,
    done: bool,
}

impl<R: Read> StrippedReader<R> {
    /// Read members from `inner` (decompressed).
    pub(crate) fn new(inner: R) -> Self {
        StrippedReader {
            inner,
            pos: 0,
            data_left: 0,
            pad_left: 0,
            done: false,
        }
    }

    /// Offset of the next byte in the stream.
    pub(crate) fn position(&self) -> u64 {
        self.pos
    }

    fn read_exact(&mut self, buf: &mut [u8], what: &str) -> Result<()> {
        let at = self.pos;
        self.inner.read_exact(buf).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                Error::corrupt(at, format!("payload truncated in {what}"))
            } else {
                Error::corrupt(at, format!("cannot read the payload's {what}: {e}"))
            }
        })?;
        self.pos += buf.len() as u64;
        Ok(())
    }

    fn skip(&mut self, n: u64) -> Result<()> {
        let at = self.pos;
        let copied = io::copy(&mut (&mut self.inner).take(n), &mut io::sink())
            .map_err(|e| Error::corrupt(at, format!("cannot read the payload: {e}")))?;
        self.pos += copied;
        if copied != n {
            return Err(Error::corrupt(self.pos, "payload truncated in member data"));
        }
        Ok(())
    }

    /// The next member: `(file index, offset of its header)`; `None` after the
    /// trailer. `size` gives the data length of a file index (from the header).
    pub(crate) fn next_entry(
        &mut self,
        size: &dyn Fn(usize) -> Option<u64>,
    ) -> Result<Option<(usize, u64)>> {
        if self.done {
            return Ok(None);
        }
        self.skip(self.data_left + self.pad_left)?;
        self.data_left = 0;
        self.pad_left = 0;
        let at = self.pos;
        let mut magic = [0u8; 6];
        self.read_exact(&mut magic, "member header")?;
        if &magic == NEWC_MAGIC {
            let mut rest = [0u8; HEADER_LEN - 6];
            self.read_exact(&mut rest, "trailer")?;
            let namesize = hex(&rest[88..96])
                .filter(|&n| n as usize == TRAILER.len() + 1)
                .ok_or_else(|| {
                    Error::corrupt(
                        at,
                        "a newc entry other than the trailer in a stripped payload",
                    )
                })?;
            let mut name =
                vec![0u8; namesize as usize + ((4 - (HEADER_LEN + namesize as usize) % 4) % 4)];
            self.read_exact(&mut name, "trailer")?;
            if !name.starts_with(TRAILER.as_bytes()) {
                return Err(Error::corrupt(
                    at,
                    "a newc entry other than the trailer in a stripped payload",
                ));
            }
            self.done = true;
            return Ok(None);
        }
        if &magic != STRIPPED_MAGIC {
            return Err(Error::corrupt(
                at,
                format!(
                    "bad stripped cpio magic {:?}",
                    String::from_utf8_lossy(&magic)
                ),
            ));
        }
        let mut fx = [0u8; 10]; // 8 hex digits, 2 bytes of padding to 16
        self.read_exact(&mut fx, "member header")?;
        let index = hex(&fx[..8])
            .ok_or_else(|| Error::corrupt(at, "stripped member index is not hex"))?
            as usize;
        let len = size(index).ok_or_else(|| {
            Error::corrupt(
                at,
                format!("stripped member index {index} is past the header's file list"),
            )
        })?;
        self.data_left = len;
        self.pad_left = (4 - len % 4) % 4;
        Ok(Some((index, at)))
    }

    /// A reader over the current member's data.
    pub(crate) fn data(&mut self) -> StrippedData<'_, R> {
        StrippedData { reader: self }
    }
}

fn hex(b: &[u8]) -> Option<u32> {
    u32::from_str_radix(std::str::from_utf8(b).ok()?, 16).ok()
}

/// The data of the current stripped member.
pub(crate) struct StrippedData<'a, R: Read> {
    reader: &'a mut StrippedReader<R>,
}

impl<R: Read> Read for StrippedData<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.reader.data_left;
        if left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.reader.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "payload truncated in member data",
            ));
        }
        self.reader.data_left -= n as u64;
        self.reader.pos += n as u64;
        Ok(n)
    }
}
