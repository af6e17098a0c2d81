//! Random-access reading of the source image.
//!
//! The ISO is never loaded whole: every structure is read at its offset with
//! `pread`, and a read that would run past the end of the file is reported as
//! corruption at that offset rather than as a short read. A source can also be
//! a buffer in memory ([`Source::from_bytes`]), for fuzzing and for callers that
//! already hold a small image.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};

/// ISO 9660 logical sector size (ECMA-119 6.1.2); xiso handles no other.
pub const SECTOR: u64 = 2048;

/// An open, read-only source file with its path for error messages.
#[derive(Debug)]
pub struct Source {
    data: Backing,
    path: PathBuf,
    len: u64,
}

/// Where a source's bytes live.
#[derive(Debug)]
enum Backing {
    File(File),
    Memory(Vec<u8>),
}

impl Source {
    /// Open `path` read-only.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = File::open(&path).map_err(|e| Error::io(e, "cannot open").in_file(&path))?;
        let meta = file
            .metadata()
            .map_err(|e| Error::io(e, "cannot stat").in_file(&path))?;
        if meta.is_dir() {
            return Err(Error::invalid("is a directory, not an ISO image").in_file(&path));
        }
        Ok(Source {
            len: meta.len(),
            data: Backing::File(file),
            path,
        })
    }

    /// A source over bytes in memory; `name` stands in for the path in error messages.
    pub fn from_bytes(name: impl Into<PathBuf>, bytes: Vec<u8>) -> Self {
        Source {
            len: bytes.len() as u64,
            data: Backing::Memory(bytes),
            path: name.into(),
        }
    }

    /// The bytes `offset..offset + len` of an in-memory source (the caller has
    /// checked the range against `self.len`).
    fn memory(&self, offset: u64, len: u64) -> Option<&[u8]> {
        match &self.data {
            Backing::Memory(v) => Some(&v[offset as usize..(offset + len) as usize]),
            Backing::File(_) => None,
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's size in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True for an empty file.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Fill `buf` from `offset`; `what` names the structure for the error message.
    pub fn read_exact_at(&self, offset: u64, buf: &mut [u8], what: &str) -> Result<()> {
        let end = offset.checked_add(buf.len() as u64).ok_or_else(|| {
            Error::corrupt(offset, format!("{what}: offset overflows")).in_file(&self.path)
        })?;
        if end > self.len {
            return Err(Error::corrupt(
                offset,
                format!(
                    "{what} ({} bytes) runs past the end of the file ({} bytes): truncated image?",
                    buf.len(),
                    self.len
                ),
            )
            .in_file(&self.path));
        }
        match &self.data {
            Backing::File(file) => file.read_exact_at(buf, offset).map_err(|e| {
                Error::io(e, format!("reading {what}"))
                    .at(offset)
                    .in_file(&self.path)
            }),
            Backing::Memory(v) => {
                buf.copy_from_slice(&v[offset as usize..end as usize]);
                Ok(())
            }
        }
    }

    /// The open file, for a source backed by one (`None` in memory).
    pub fn file(&self) -> Option<&File> {
        match &self.data {
            Backing::File(f) => Some(f),
            Backing::Memory(_) => None,
        }
    }

    /// Read `len` bytes at `offset` into a new buffer.
    pub fn read_vec(&self, offset: u64, len: usize, what: &str) -> Result<Vec<u8>> {
        let mut v = vec![0u8; len];
        self.read_exact_at(offset, &mut v, what)?;
        Ok(v)
    }

    /// Read one 2048-byte sector.
    pub fn read_sector(&self, lba: u32, what: &str) -> Result<[u8; SECTOR as usize]> {
        let mut buf = [0u8; SECTOR as usize];
        self.read_exact_at(u64::from(lba) * SECTOR, &mut buf, what)?;
        Ok(buf)
    }

    /// Copy `len` bytes from `offset` into the regular file `out` at its current
    /// position, letting the kernel move the data (`copy_file_range`) where it can.
    pub fn copy_range_to_file(
        &self,
        offset: u64,
        len: u64,
        out: &mut File,
        what: &str,
    ) -> Result<()> {
        use std::io::{Read, Seek, SeekFrom};
        if offset.saturating_add(len) > self.len {
            return Err(Error::corrupt(
                offset,
                format!(
                    "{what} ({len} bytes) runs past the end of the file ({} bytes)",
                    self.len
                ),
            )
            .in_file(&self.path));
        }
        let file = match &self.data {
            Backing::File(file) => file,
            Backing::Memory(_) => {
                let bytes = self.memory(offset, len).expect("memory source");
                return out
                    .write_all(bytes)
                    .map_err(|e| Error::new(ErrorKind::Io, format!("writing {what}: {e}")));
            }
        };
        let mut f = file
            .try_clone()
            .map_err(|e| Error::io(e, "cannot reopen").in_file(&self.path))?;
        f.seek(SeekFrom::Start(offset)).map_err(|e| {
            Error::io(e, format!("seeking to {what}"))
                .at(offset)
                .in_file(&self.path)
        })?;
        let copied = std::io::copy(&mut Read::take(&mut f, len), out).map_err(|e| {
            Error::io(e, format!("copying {what}"))
                .at(offset)
                .in_file(&self.path)
        })?;
        if copied != len {
            return Err(Error::corrupt(
                offset,
                format!("{what}: file ended after {copied} of {len} bytes"),
            )
            .in_file(&self.path));
        }
        Ok(())
    }

    /// Stream `len` bytes from `offset` into `out` with a bounded buffer.
    pub fn copy_range(&self, offset: u64, len: u64, out: &mut dyn Write, what: &str) -> Result<()> {
        let end = offset.saturating_add(len);
        if end > self.len {
            return Err(Error::corrupt(
                offset,
                format!(
                    "{what} ({len} bytes) runs past the end of the file ({} bytes)",
                    self.len
                ),
            )
            .in_file(&self.path));
        }
        if let Some(bytes) = self.memory(offset, len) {
            return out
                .write_all(bytes)
                .map_err(|e| Error::new(ErrorKind::Io, format!("writing {what}: {e}")));
        }
        let mut buf = vec![0u8; 1 << 20];
        let mut pos = offset;
        while pos < end {
            let n = ((end - pos) as usize).min(buf.len());
            self.read_exact_at(pos, &mut buf[..n], what)?;
            out.write_all(&buf[..n])
                .map_err(|e| Error::new(ErrorKind::Io, format!("writing {what}: {e}")))?;
            pos += n as u64;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_in_memory_source_reads_like_a_file() {
        let src = Source::from_bytes("mem.iso", (0..=255u8).cycle().take(5000).collect());
        assert_eq!(src.len(), 5000);
        assert_eq!(src.read_vec(256, 3, "x").unwrap(), [0, 1, 2]);
        let e = src.read_vec(4999, 2, "tail").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt);
        assert!(e.to_string().contains("mem.iso"), "{e}");
        let mut out = Vec::new();
        src.copy_range(10, 20, &mut out, "range").unwrap();
        assert_eq!(out, (10..30u8).collect::<Vec<_>>());
        assert!(src.copy_range(4990, 20, &mut out, "range").is_err());
    }
}
