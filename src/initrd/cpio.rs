//! cpio "newc" archives (SVR4 portable format, magic `070701`, and `070702` with
//! checksums), the format of an initramfs.
//!
//! Layout (Linux `Documentation/driver-api/early-userspace/buffer-format.rst`): a
//! 110-byte ASCII header of thirteen 8-digit hex fields, the NUL-terminated name,
//! padding to a multiple of 4, the data, padding to a multiple of 4. An archive ends
//! with an entry named `TRAILER!!!`; an initramfs may hold several archives in a row,
//! separated by any number of NUL bytes, and later entries replace earlier ones.
//!
//! The reader streams: it never holds more than one header and name in memory, and
//! every length it reads is checked before use.

use std::io::{self, Read, Write};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Magic of a newc header.
pub(crate) const NEWC_MAGIC: &[u8; 6] = b"070701";
/// Magic of a newc header whose `check` field holds a data checksum.
pub(crate) const CRC_MAGIC: &[u8; 6] = b"070702";
/// Name of the entry that ends an archive.
pub(crate) const TRAILER: &str = "TRAILER!!!";
/// Header length before the name.
pub(crate) const HEADER_LEN: usize = 110;
/// Longest name accepted (the kernel's `PATH_MAX`, NUL included).
pub(crate) const MAX_NAME: u32 = 4096;
/// Longest symlink target accepted (the kernel's `PATH_MAX`).
pub(crate) const MAX_LINK_TARGET: u32 = 4096;

/// File type bits of `mode` (`S_IFMT`) and the types newc carries.
pub(crate) mod mode {
    /// Type mask.
    pub(crate) const S_IFMT: u32 = 0o170000;
    /// Socket.
    pub(crate) const S_IFSOCK: u32 = 0o140000;
    /// Symbolic link.
    pub(crate) const S_IFLNK: u32 = 0o120000;
    /// Regular file.
    pub(crate) const S_IFREG: u32 = 0o100000;
    /// Block device.
    pub(crate) const S_IFBLK: u32 = 0o060000;
    /// Directory.
    pub(crate) const S_IFDIR: u32 = 0o040000;
    /// Character device.
    pub(crate) const S_IFCHR: u32 = 0o020000;
    /// FIFO.
    pub(crate) const S_IFIFO: u32 = 0o010000;
}

/// The thirteen header fields of a newc entry, as numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CpioHeader {
    /// Inode number (hard links share it).
    pub ino: u32,
    /// Type and permission bits.
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Link count.
    pub nlink: u32,
    /// Modification time, seconds since the epoch.
    pub mtime: u32,
    /// Length of the data that follows the name.
    pub filesize: u32,
    /// Major number of the device the file lived on.
    pub devmajor: u32,
    /// Minor number of the device the file lived on.
    pub devminor: u32,
    /// Major number of a device node.
    pub rdevmajor: u32,
    /// Minor number of a device node.
    pub rdevminor: u32,
    /// Checksum of the data (`070702` archives only; 0 otherwise).
    pub check: u32,
}

impl CpioHeader {
    /// The file type bits (`mode & S_IFMT`).
    pub fn file_type(&self) -> u32 {
        self.mode & mode::S_IFMT
    }
}

/// One entry as read: header, name, and where its header starts in the stream.
#[derive(Debug, Clone)]
pub struct CpioEntry {
    /// The header fields.
    pub header: CpioHeader,
    /// The name without its NUL, as stored (often relative, `.` for the root).
    pub name: Vec<u8>,
    /// Byte offset of the header in the (decompressed) stream.
    pub offset: u64,
    /// Whether the header used the `070702` magic.
    pub crc_format: bool,
    /// Index of the archive (0 for the first; +1 after every trailer).
    pub archive: u32,
}

fn pad4(n: u64) -> u64 {
    (4 - n % 4) % 4
}

/// Streaming reader of one or more concatenated newc archives.
pub struct CpioReader<R: Read> {
    inner: R,
    pos: u64,
    /// Data bytes of the current entry not yet consumed, then its padding.
    data_left: u64,
    pad_left: u64,
    archive: u32,
    /// Entries seen since the last trailer (an empty archive is fine).
    in_archive: bool,
}

impl<R: Read> CpioReader<R> {
    /// Read archives from `inner` (already decompressed).
    pub fn new(inner: R) -> Self {
        CpioReader {
            inner,
            pos: 0,
            data_left: 0,
            pad_left: 0,
            archive: 0,
            in_archive: false,
        }
    }

    /// Offset in the stream of the next byte to read.
    pub(crate) fn position(&self) -> u64 {
        self.pos
    }

    /// How many archives have ended (trailers read) so far.
    pub(crate) fn archives_ended(&self) -> u32 {
        self.archive
    }

    fn read_exact(&mut self, buf: &mut [u8], what: &str) -> Result<()> {
        let at = self.pos;
        self.inner.read_exact(buf).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                Error::corrupt(at, format!("cpio archive truncated in {what}"))
            } else {
                Error::corrupt(at, format!("cannot read cpio {what}: {e}"))
            }
        })?;
        self.pos += buf.len() as u64;
        Ok(())
    }

    /// Skip what is left of the current entry's data and padding.
    fn skip_rest(&mut self) -> Result<()> {
        let n = self.data_left + self.pad_left;
        if n > 0 {
            let at = self.pos;
            let copied = io::copy(&mut (&mut self.inner).take(n), &mut io::sink())
                .map_err(|e| Error::corrupt(at, format!("cannot read cpio data: {e}")))?;
            self.pos += copied;
            if copied != n {
                return Err(Error::corrupt(
                    self.pos,
                    "cpio archive truncated in entry data",
                ));
            }
        }
        self.data_left = 0;
        self.pad_left = 0;
        Ok(())
    }

    /// The next entry, skipping trailers and the NUL padding between archives.
    /// `Ok(None)` at the end of the stream, which must fall between archives.
    pub fn next_entry(&mut self) -> Result<Option<CpioEntry>> {
        self.skip_rest()?;
        let mut first = [0u8; 1];
        loop {
            // Between archives the kernel skips any number of NULs; inside one the
            // next byte must start a header.
            let at = self.pos;
            let n = read_some(&mut self.inner, &mut first)
                .map_err(|e| Error::corrupt(at, format!("cannot read cpio header: {e}")))?;
            if n == 0 {
                if self.in_archive {
                    return Err(Error::corrupt(
                        at,
                        "cpio archive ends without a TRAILER!!! entry (truncated)",
                    ));
                }
                return Ok(None);
            }
            self.pos += 1;
            if first[0] == 0 && !self.in_archive {
                continue;
            }
            let start = at;
            if !self.in_archive && !start.is_multiple_of(4) {
                return Err(Error::corrupt(
                    start,
                    "cpio header does not start on a 4-byte boundary",
                ));
            }
            let mut raw = [0u8; HEADER_LEN];
            raw[0] = first[0];
            self.read_exact(&mut raw[1..], "header")?;
            let (header, crc_format) = parse_header(&raw).map_err(|m| Error::corrupt(start, m))?;
            let namesize = field(&raw, 11).map_err(|m| Error::corrupt(start, m))?;
            if namesize == 0 || namesize > MAX_NAME {
                return Err(Error::corrupt(
                    start,
                    format!("cpio name size {namesize} is out of range 1..={MAX_NAME}"),
                ));
            }
            let mut name = vec![0u8; namesize as usize];
            self.read_exact(&mut name, "entry name")?;
            if name.pop() != Some(0) {
                return Err(Error::corrupt(start, "cpio name is not NUL-terminated"));
            }
            if name.contains(&0) {
                return Err(Error::corrupt(start, "cpio name contains a NUL byte"));
            }
            let name_pad = pad4(HEADER_LEN as u64 + u64::from(namesize));
            let mut pad = [0u8; 3];
            self.read_exact(&mut pad[..name_pad as usize], "name padding")?;
            self.in_archive = true;
            if name == TRAILER.as_bytes() {
                self.data_left = u64::from(header.filesize);
                self.pad_left = pad4(u64::from(header.filesize));
                self.skip_rest()?;
                self.in_archive = false;
                self.archive = self.archive.saturating_add(1);
                continue;
            }
            self.data_left = u64::from(header.filesize);
            self.pad_left = pad4(u64::from(header.filesize));
            return Ok(Some(CpioEntry {
                header,
                name,
                offset: start,
                crc_format,
                archive: self.archive,
            }));
        }
    }

    /// A reader over the current entry's data (`filesize` bytes).
    pub fn data(&mut self) -> EntryData<'_, R> {
        EntryData { reader: self }
    }

    /// Read the whole data of the current entry when it is at most `limit` bytes.
    pub fn read_data(&mut self, limit: u32) -> Result<Vec<u8>> {
        if self.data_left > u64::from(limit) {
            return Err(Error::corrupt(
                self.pos,
                format!("cpio entry data of {} bytes is too long", self.data_left),
            ));
        }
        let mut v = Vec::with_capacity(self.data_left as usize);
        let at = self.pos;
        self.data()
            .read_to_end(&mut v)
            .map_err(|e| Error::corrupt(at, format!("cannot read cpio data: {e}")))?;
        Ok(v)
    }
}

/// `read` that retries on `Interrupted`.
fn read_some(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match r.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// The data of the current entry; reading past `filesize` returns EOF, and a short
/// stream is an `UnexpectedEof` error.
pub struct EntryData<'a, R: Read> {
    reader: &'a mut CpioReader<R>,
}

impl<R: Read> Read for EntryData<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.reader.data_left;
        if left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = read_some(&mut self.reader.inner, &mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "cpio archive truncated in entry data",
            ));
        }
        self.reader.data_left -= n as u64;
        self.reader.pos += n as u64;
        Ok(n)
    }
}

fn field(raw: &[u8; HEADER_LEN], index: usize) -> std::result::Result<u32, String> {
    let s = &raw[6 + index * 8..6 + index * 8 + 8];
    let text =
        std::str::from_utf8(s).map_err(|_| format!("cpio header field {index} is not hex"))?;
    u32::from_str_radix(text, 16)
        .map_err(|_| format!("cpio header field {index} {text:?} is not hex"))
}

fn parse_header(raw: &[u8; HEADER_LEN]) -> std::result::Result<(CpioHeader, bool), String> {
    let crc_format = match &raw[..6] {
        m if m == NEWC_MAGIC => false,
        m if m == CRC_MAGIC => true,
        m if m == b"070707" => {
            return Err("old portable (odc) cpio archive: only newc (070701) is supported".into())
        }
        m => {
            return Err(format!(
                "bad cpio magic {:?} (expected 070701)",
                String::from_utf8_lossy(m)
            ))
        }
    };
    let f = |i| field(raw, i);
    Ok((
        CpioHeader {
            ino: f(0)?,
            mode: f(1)?,
            uid: f(2)?,
            gid: f(3)?,
            nlink: f(4)?,
            mtime: f(5)?,
            filesize: f(6)?,
            devmajor: f(7)?,
            devminor: f(8)?,
            rdevmajor: f(9)?,
            rdevminor: f(10)?,
            check: f(12)?,
        },
        crc_format,
    ))
}

/// Streaming writer of one newc archive.
pub(crate) struct CpioWriter<W: Write> {
    inner: W,
    pos: u64,
}

impl<W: Write> CpioWriter<W> {
    /// Write an archive into `inner`.
    pub(crate) fn new(inner: W) -> Self {
        CpioWriter { inner, pos: 0 }
    }

    /// The writer the archive goes to (entries are written through, unbuffered).
    pub(crate) fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.inner.write_all(bytes)?;
        self.pos += bytes.len() as u64;
        Ok(())
    }

    fn put_header(&mut self, name: &[u8], h: &CpioHeader) -> io::Result<()> {
        let hdr = Self::header_bytes(name, h)?;
        self.put(&hdr)
    }

    /// Bytes [`write_entry`](Self::write_entry) writes before an entry's data: the
    /// header, the name and its NUL, padded to 4 bytes.
    pub(crate) fn header_bytes(name: &[u8], h: &CpioHeader) -> io::Result<Vec<u8>> {
        let namesize = u32::try_from(name.len() + 1)
            .ok()
            .filter(|&n| n <= MAX_NAME)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "cpio name too long"))?;
        let mut hdr = Vec::with_capacity(HEADER_LEN + name.len() + 4);
        hdr.extend_from_slice(NEWC_MAGIC);
        for v in [
            h.ino,
            h.mode,
            h.uid,
            h.gid,
            h.nlink,
            h.mtime,
            h.filesize,
            h.devmajor,
            h.devminor,
            h.rdevmajor,
            h.rdevminor,
            namesize,
            0,
        ] {
            // Eight upper-case hex digits, as `{v:08X}` (without its allocation).
            hdr.extend(
                (0..8)
                    .rev()
                    .map(|i| b"0123456789ABCDEF"[(v >> (4 * i)) as usize & 15]),
            );
        }
        hdr.extend_from_slice(name);
        hdr.push(0);
        let pad = pad4(hdr.len() as u64) as usize;
        hdr.extend(std::iter::repeat_n(0u8, pad));
        Ok(hdr)
    }

    /// Bytes an entry takes in the archive: header, name and data, each padded.
    pub(crate) fn entry_len(name: &[u8], h: &CpioHeader) -> u64 {
        let head = (HEADER_LEN + name.len() + 1) as u64;
        head + pad4(head) + u64::from(h.filesize) + pad4(u64::from(h.filesize))
    }

    /// Count `n` archive bytes that the caller gave [`get_mut`](Self::get_mut)'s
    /// writer directly (whole entries, as [`header_bytes`](Self::header_bytes) and
    /// the padded data make them).
    pub(crate) fn advance(&mut self, n: u64) {
        self.pos += n;
    }

    /// Write one entry: its header (with `filesize` as given) and exactly
    /// `filesize` bytes from `data`. Fewer or more bytes is an error.
    pub(crate) fn write_entry(
        &mut self,
        name: &[u8],
        h: &CpioHeader,
        data: &mut dyn Read,
    ) -> io::Result<()> {
        self.put_header(name, h)?;
        let want = u64::from(h.filesize);
        let mut limited = data.take(want);
        let copied = io::copy(&mut limited, &mut self.inner)?;
        self.pos += copied;
        if copied != want {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "{}: expected {want} bytes of data, got {copied}",
                    String::from_utf8_lossy(name)
                ),
            ));
        }
        let mut probe = [0u8; 1];
        if read_some(data, &mut probe)? != 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{}: data is longer than {want} bytes (file changed while packing?)",
                    String::from_utf8_lossy(name)
                ),
            ));
        }
        let pad = [0u8; 3];
        self.put(&pad[..pad4(want) as usize])
    }

    /// Write the `TRAILER!!!` entry and pad the archive to a multiple of 512 bytes,
    /// as GNU cpio does; returns the writer.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        let h = CpioHeader {
            nlink: 1,
            ..CpioHeader::default()
        };
        self.put_header(TRAILER.as_bytes(), &h)?;
        let pad = ((512 - self.pos % 512) % 512) as usize;
        self.put(&vec![0u8; pad])?;
        Ok(self.inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(w: &mut CpioWriter<Vec<u8>>, name: &str, mode: u32, data: &[u8]) {
        let h = CpioHeader {
            ino: 7,
            mode,
            nlink: 1,
            filesize: data.len() as u32,
            ..CpioHeader::default()
        };
        w.write_entry(name.as_bytes(), &h, &mut &data[..]).unwrap();
    }

    fn archive(entries: &[(&str, u32, &[u8])]) -> Vec<u8> {
        let mut w = CpioWriter::new(Vec::new());
        for (n, m, d) in entries {
            entry(&mut w, n, *m, d);
        }
        w.finish().unwrap()
    }

    fn names(data: &[u8]) -> Result<Vec<(String, Vec<u8>, u32)>> {
        let mut r = CpioReader::new(data);
        let mut out = Vec::new();
        while let Some(e) = r.next_entry()? {
            let d = r.read_data(1 << 20)?;
            out.push((String::from_utf8(e.name).unwrap(), d, e.archive));
        }
        Ok(out)
    }

    #[test]
    fn round_trip_and_concatenation() {
        let a = archive(&[(".", 0o40755, b""), ("etc/x", 0o100644, b"hello")]);
        assert_eq!(a.len() % 512, 0);
        let b = archive(&[("etc/x", 0o100600, b"second!")]);
        let mut both = a.clone();
        both.extend_from_slice(&[0u8; 64]);
        both.extend_from_slice(&b);
        let got = names(&both).unwrap();
        assert_eq!(
            got,
            vec![
                (".".into(), vec![], 0),
                ("etc/x".into(), b"hello".to_vec(), 0),
                ("etc/x".into(), b"second!".to_vec(), 1)
            ]
        );
    }

    #[test]
    fn skipping_data_without_reading_it() {
        let a = archive(&[("a", 0o100644, b"12345"), ("b", 0o100644, b"678")]);
        let mut r = CpioReader::new(&a[..]);
        assert_eq!(r.next_entry().unwrap().unwrap().name, b"a");
        let e = r.next_entry().unwrap().unwrap();
        assert_eq!(e.name, b"b");
        assert_eq!(e.offset, 120); // 110 + "a\0" = 112, 5 bytes of data padded to 8
        assert_eq!(r.read_data(10).unwrap(), b"678");
        assert!(r.next_entry().unwrap().is_none());
    }

    #[test]
    fn truncation_anywhere_is_an_error() {
        let a = archive(&[("etc/x", 0o100644, b"hello world")]);
        // Everything up to the end of the trailer's name must be present.
        let trailer_end = a.iter().rposition(|&b| b == b'!').unwrap() + 1;
        for cut in 1..trailer_end {
            assert!(names(&a[..cut]).is_err(), "cut at {cut} was accepted");
        }
        // The NUL and the name padding complete the trailer; the 512-byte padding is optional.
        assert!(names(&a[..trailer_end + 4]).is_ok());
    }

    #[test]
    fn bad_headers() {
        let mut a = archive(&[("x", 0o100644, b"")]);
        a[5] = b'7';
        let e = names(&a).unwrap_err();
        assert!(e.to_string().contains("odc"), "{e}");
        let mut a = archive(&[("x", 0o100644, b"")]);
        a[20] = b'g';
        assert!(names(&a).unwrap_err().to_string().contains("not hex"));
        // Name size 0.
        let mut a = archive(&[("x", 0o100644, b"")]);
        a[94..102].copy_from_slice(b"00000000");
        assert!(names(&a).unwrap_err().to_string().contains("name size"));
        // Huge file size: truncated, not an allocation.
        let mut a = archive(&[("x", 0o100644, b"")]);
        a[54..62].copy_from_slice(b"FFFFFFFF");
        assert!(names(&a).is_err());
    }

    #[test]
    fn writer_checks_data_length() {
        let mut w = CpioWriter::new(Vec::new());
        let h = CpioHeader {
            filesize: 4,
            ..CpioHeader::default()
        };
        assert!(w.write_entry(b"a", &h, &mut &b"abc"[..]).is_err());
        let mut w = CpioWriter::new(Vec::new());
        assert!(w.write_entry(b"a", &h, &mut &b"abcde"[..]).is_err());
    }
}
