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
    pub(crate) fn path(&self) -> &Path {
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
    pub(crate) fn file(&self) -> Option<&File> {
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

    /// `len` bytes at `offset` lie inside the source, or an error naming `what`.
    fn check_range(&self, offset: u64, len: u64, what: &str) -> Result<()> {
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
        Ok(())
    }

    /// Copy `len` bytes from `offset` into the regular file `out` at its current
    /// position (which moves past them), letting the kernel move the data
    /// (`copy_file_range`) where it can. The source's own file offset is not used.
    pub(crate) fn copy_range_to_file(
        &self,
        offset: u64,
        len: u64,
        out: &mut File,
        what: &str,
    ) -> Result<()> {
        use std::os::unix::fs::FileExt;
        self.check_range(offset, len, what)?;
        let file = match &self.data {
            Backing::File(file) => file,
            Backing::Memory(_) => {
                let bytes = self.memory(offset, len).expect("memory source");
                return out
                    .write_all(bytes)
                    .map_err(|e| Error::new(ErrorKind::Io, format!("writing {what}: {e}")));
            }
        };
        // The input offset is explicit (copy_file_range's `off_in`, then pread), so
        // the source's file offset, which other copies move, is never used.
        let err = |e: std::io::Error, at: u64| {
            Error::io(e, format!("copying {what}"))
                .at(at)
                .in_file(&self.path)
        };
        let short = |at: u64| {
            Error::corrupt(
                offset,
                format!("{what}: file ended after {} of {len} bytes", at - offset),
            )
            .in_file(&self.path)
        };
        let end = offset + len;
        let mut at = offset;
        while at < end {
            let want = usize::try_from(end - at).unwrap_or(usize::MAX).min(1 << 30);
            match rustix::fs::copy_file_range(file, Some(&mut at), &*out, None, want) {
                Ok(0) => return Err(short(at)),
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => {}
                Err(
                    rustix::io::Errno::XDEV
                    | rustix::io::Errno::INVAL
                    | rustix::io::Errno::OPNOTSUPP
                    | rustix::io::Errno::NOSYS,
                ) => break,
                Err(e) => return Err(err(e.into(), at)),
            }
        }
        // What the kernel would not copy, through a bounded buffer.
        let mut buf = vec![0u8; usize::try_from(end - at).unwrap_or(usize::MAX).min(1 << 20)];
        while at < end {
            let n = usize::try_from(end - at)
                .unwrap_or(usize::MAX)
                .min(buf.len());
            let got = match FileExt::read_at(file, &mut buf[..n], at) {
                Ok(0) => return Err(short(at)),
                Ok(got) => got,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(err(e, at)),
            };
            out.write_all(&buf[..got]).map_err(|e| err(e, at))?;
            at += got as u64;
        }
        Ok(())
    }

    /// Stream `len` bytes from `offset` into `out` with a bounded buffer.
    pub(crate) fn copy_range(
        &self,
        offset: u64,
        len: u64,
        out: &mut dyn Write,
        what: &str,
    ) -> Result<()> {
        self.check_range(offset, len, what)?;
        let end = offset + len;
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

    /// Ranges copied into a file land one after the other at its position, and
    /// the source's own file offset plays no part (it is never read or moved).
    #[test]
    fn ranges_copied_into_a_file_follow_each_other() {
        use std::io::{Read, Seek, SeekFrom};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("src.iso");
        let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        let src = Source::open(&path).unwrap();
        let mut out = tempfile::tempfile().unwrap();
        out.write_all(b"head").unwrap();
        src.copy_range_to_file(200_000, 50_000, &mut out, "second half")
            .unwrap();
        src.copy_range_to_file(7, 100_000, &mut out, "first part")
            .unwrap();
        let e = src
            .copy_range_to_file(299_000, 2_000, &mut out, "past the end")
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt);
        let mut got = Vec::new();
        out.seek(SeekFrom::Start(0)).unwrap();
        out.read_to_end(&mut got).unwrap();
        let mut want = b"head".to_vec();
        want.extend_from_slice(&bytes[200_000..250_000]);
        want.extend_from_slice(&bytes[7..100_007]);
        assert!(got == want, "{} bytes, want {}", got.len(), want.len());
    }
}
