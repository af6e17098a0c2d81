//! The files of an RPM: the file list of the main header and the payload after it.
//!
//! The payload is a cpio newc archive (`070701`), compressed as the
//! `PAYLOADCOMPRESSOR` tag says (gzip when absent; rpm's `lib/psm.c`), whose
//! member names are the header's paths with a leading `.` (`./etc/foo`). It
//! carries the data; the metadata that counts comes from the header
//! (`FILEMODES`, `FILEUSERNAME`, `FILEGROUPNAME`, `FILEMTIMES`, `FILERDEVS`…),
//! as rpm's `rpmfiArchiveReadHeader` takes it. `%ghost` files are listed in
//! the header but have no payload member. Hard links share `FILEDEVICES` and
//! `FILEINODES`; rpm's `cpio` writer puts the data on the last member of the
//! set and gives the others a size of 0.
//!
//! Payloads in rpm's stripped cpio format (`07070X`) are read too
//! (`super::stripped`).
//!
//! Everything read is checked: header arrays must all have one value per
//! file, no path may hold a `..` component, and every payload member must be a
//! file of the header. Errors name the offset: in the file for the header, in
//! the decompressed cpio stream for the payload (with the `payload` inner path).

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use super::header::Header;
use super::package::read_headers;
use super::stripped::{StrippedReader, STRIPPED_MAGIC};
use super::tag::{file as fflag, main as t};
use crate::error::{Error, Result, ResultExt};
use crate::initrd::cpio::{mode, CpioHeader, CpioReader, MAX_LINK_TARGET};
use crate::initrd::stream::decoder;
use crate::initrd::{detect, Codec};

/// The inner path errors about the payload name: their offsets count bytes of
/// the decompressed cpio stream, not of the file.
pub(crate) const PAYLOAD: &str = "payload (decompressed)";

/// One file of a package, as the main header describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpmFile {
    /// Absolute path as the header states it (`/etc/foo`).
    pub path: String,
    /// Type and permission bits (`FILEMODES`).
    pub mode: u32,
    /// Owner name (`FILEUSERNAME`; `root` when absent).
    pub user: String,
    /// Group name (`FILEGROUPNAME`; `root` when absent).
    pub group: String,
    /// `RPMFILE_*` flags (`FILEFLAGS`).
    pub flags: u64,
    /// Symlink target (`FILELINKTOS`), empty for other types.
    pub link_to: String,
    /// Modification time (`FILEMTIMES`).
    pub mtime: u32,
    /// Device number of a device node (`FILERDEVS`).
    pub rdev: u64,
    /// Device and inode numbers (`FILEDEVICES`, `FILEINODES`): hard links share both.
    pub inode: (u64, u64),
    /// Size (`LONGFILESIZES` or `FILESIZES`).
    pub size: u64,
}

impl RpmFile {
    /// `%ghost`: owned but not in the payload.
    pub(crate) fn is_ghost(&self) -> bool {
        self.flags & fflag::GHOST != 0
    }

    /// `%config`.
    pub(crate) fn is_config(&self) -> bool {
        self.flags & fflag::CONFIG != 0
    }
}

/// The file list of a main header. Old packages list `OLDFILENAMES` instead of
/// `BASENAMES`/`DIRNAMES`/`DIRINDEXES`; both are read.
pub(crate) fn file_list(h: &Header) -> Result<Vec<RpmFile>> {
    let at = h.start();
    let bad = |msg: String| Error::corrupt(at, format!("main header: {msg}"));
    let paths: Vec<Vec<u8>> = match h.strings(t::BASENAMES)? {
        Some(base) => {
            let dirs = h
                .strings(t::DIRNAMES)?
                .ok_or_else(|| bad("BASENAMES without DIRNAMES".into()))?;
            let idx = h
                .numbers(t::DIRINDEXES)?
                .ok_or_else(|| bad("BASENAMES without DIRINDEXES".into()))?;
            if idx.len() != base.len() {
                return Err(bad(format!(
                    "{} DIRINDEXES for {} BASENAMES",
                    idx.len(),
                    base.len()
                )));
            }
            let mut v = Vec::with_capacity(base.len());
            for (b, &i) in base.iter().zip(&idx) {
                let d = usize::try_from(i)
                    .ok()
                    .and_then(|i| dirs.get(i))
                    .ok_or_else(|| {
                        bad(format!("DIRINDEX {i} is past the {} DIRNAMES", dirs.len()))
                    })?;
                let mut p = d.to_vec();
                p.extend_from_slice(b);
                v.push(p);
            }
            v
        }
        None => h
            .strings(t::OLDFILENAMES)?
            .unwrap_or_default()
            .into_iter()
            .map(<[u8]>::to_vec)
            .collect(),
    };
    let n = paths.len();
    let numbers = |tag: u32, name: &str| -> Result<Option<Vec<u64>>> {
        match h.numbers(tag)? {
            Some(v) if v.len() != n => Err(bad(format!("{} {name} for {n} files", v.len()))),
            other => Ok(other),
        }
    };
    let strings = |tag: u32, name: &str| -> Result<Option<Vec<String>>> {
        match h.strings(tag)? {
            Some(v) if v.len() != n => Err(bad(format!("{} {name} for {n} files", v.len()))),
            Some(v) => Ok(Some(
                v.into_iter()
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect(),
            )),
            None => Ok(None),
        }
    };
    let modes = numbers(t::FILEMODES, "FILEMODES")?;
    let flags = numbers(t::FILEFLAGS, "FILEFLAGS")?;
    let mtimes = numbers(t::FILEMTIMES, "FILEMTIMES")?;
    let rdevs = numbers(t::FILERDEVS, "FILERDEVS")?;
    let devices = numbers(t::FILEDEVICES, "FILEDEVICES")?;
    let inodes = numbers(t::FILEINODES, "FILEINODES")?;
    let sizes = match numbers(t::LONGFILESIZES, "LONGFILESIZES")? {
        Some(v) => Some(v),
        None => numbers(t::FILESIZES, "FILESIZES")?,
    };
    let users = strings(t::FILEUSERNAME, "FILEUSERNAME")?;
    let groups = strings(t::FILEGROUPNAME, "FILEGROUPNAME")?;
    let links = strings(t::FILELINKTOS, "FILELINKTOS")?;
    if n > 0 && modes.is_none() {
        return Err(bad(format!("{n} files but no FILEMODES")));
    }
    let num = |v: &Option<Vec<u64>>, i: usize| v.as_ref().map_or(0, |v| v[i]);
    let text = |v: &Option<Vec<String>>, i: usize, d: &str| {
        v.as_ref().map_or_else(|| d.to_string(), |v| v[i].clone())
    };
    let mut out = Vec::with_capacity(n);
    for (i, p) in paths.into_iter().enumerate() {
        let path = String::from_utf8(p).map_err(|e| {
            bad(format!(
                "file name {:?} is not UTF-8",
                String::from_utf8_lossy(e.as_bytes())
            ))
        })?;
        if path.split('/').any(|c| c == "..") {
            return Err(bad(format!("file {path:?} climbs out with '..'")));
        }
        out.push(RpmFile {
            path,
            // FILEMODES is INT16: the type and permission bits fit.
            mode: num(&modes, i) as u32 & 0xffff,
            user: text(&users, i, "root"),
            group: text(&groups, i, "root"),
            flags: num(&flags, i),
            link_to: text(&links, i, ""),
            mtime: num(&mtimes, i).min(u64::from(u32::MAX)) as u32,
            rdev: num(&rdevs, i),
            // Without FILEINODES (rpm 3) no two files are links of each other.
            inode: match &inodes {
                Some(v) => (num(&devices, i), v[i]),
                None => (u64::MAX, i as u64),
            },
            size: num(&sizes, i),
        });
    }
    Ok(out)
}

/// One payload member, matched with its file of the header.
#[derive(Debug, Clone)]
pub struct PayloadEntry {
    /// Index in [`Payload::files`].
    pub file: usize,
    /// The cpio header as stored (sizes, hard-link counts, device numbers).
    pub header: CpioHeader,
    /// Offset of the member's header in the decompressed cpio stream.
    pub offset: u64,
}

/// An RPM file opened at its payload.
pub struct Payload {
    /// The main header.
    pub header: Header,
    /// Its file list.
    pub files: Vec<RpmFile>,
    /// The payload compressor (`gzip`, `bzip2`, `xz`, `lzma`, `zstd`).
    pub compressor: String,
    /// File offset where the compressed payload starts.
    pub start: u64,
    by_path: HashMap<String, usize>,
    members: Members,
    /// For stripped payloads: the data length of each file index.
    content: Vec<u64>,
}

type Stream = BufReader<Box<dyn Read + Send>>;

enum Members {
    Newc(CpioReader<Stream>),
    Stripped(StrippedReader<Stream>),
}

impl Payload {
    /// Open `path` and position it at the first payload member. Errors name the file.
    pub(crate) fn open(path: &Path) -> Result<Payload> {
        let file = File::open(path)
            .map_err(|e| Error::io(e, "opening the package"))
            .in_file(path)?;
        Payload::from_reader(Box::new(BufReader::new(file))).in_file(path)
    }

    /// Read an RPM from a stream, up to its payload.
    pub fn from_reader(mut reader: Box<dyn Read + Send>) -> Result<Payload> {
        let (_signature, header) = read_headers(&mut reader)?;
        let start = header.end();
        if let Some(f) = header.string(t::PAYLOADFORMAT)? {
            if f != b"cpio" {
                return Err(Error::unsupported(format!(
                    "payload format {:?} (xiso reads cpio payloads)",
                    String::from_utf8_lossy(f)
                ))
                .at(start));
            }
        }
        let mut reader = BufReader::new(reader);
        let head = reader
            .fill_buf()
            .map_err(|e| Error::io(e, "reading the payload").at(start))?;
        let compressor = match header.string(t::PAYLOADCOMPRESSOR)? {
            // rpm reads an absent compressor as gzip through zlib, which passes
            // uncompressed data through: rpm-rs writes such packages.
            None if detect(head) == Codec::Uncompressed || head.starts_with(STRIPPED_MAGIC) => {
                "none".to_string()
            }
            Some(c) => String::from_utf8_lossy(c).into_owned(),
            None => "gzip".to_string(),
        };
        let reader: Box<dyn Read + Send> = Box::new(reader);
        let stream: Box<dyn Read + Send> = match compressor.as_str() {
            "none" => reader,
            "gzip" => decoder(Codec::Gzip, reader)?,
            "bzip2" => decoder(Codec::Bzip2 { level: 9 }, reader)?,
            "xz" => decoder(Codec::Xz, reader)?,
            "zstd" => decoder(Codec::Zstd, reader)?,
            "lzma" => {
                let s = liblzma::stream::Stream::new_lzma_decoder(u64::MAX)
                    .map_err(|e| Error::io(e.into(), "cannot start the lzma decoder"))?;
                Box::new(liblzma::read::XzDecoder::new_stream(reader, s))
            }
            other => {
                return Err(Error::unsupported(format!(
                    "payload compressor {other:?} (xiso reads gzip, bzip2, xz, lzma and zstd)"
                ))
                .at(start))
            }
        };
        let stream: Box<dyn Read + Send> = Box::new(Labelled {
            inner: stream,
            codec: compressor.clone(),
        });
        let files = file_list(&header)?;
        let by_path = files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.path.clone(), i))
            .collect();
        let mut stream = BufReader::with_capacity(1 << 16, stream);
        let stripped = stream
            .fill_buf()
            .map(|b| b.starts_with(STRIPPED_MAGIC))
            .unwrap_or(false);
        let (members, content) = if stripped {
            let content = stripped_content(&files);
            (Members::Stripped(StrippedReader::new(stream)), content)
        } else {
            (Members::Newc(CpioReader::new(stream)), Vec::new())
        };
        Ok(Payload {
            header,
            files,
            compressor,
            start,
            by_path,
            members,
            content,
        })
    }

    /// The next member, `None` after the trailer. A member the header does not
    /// list, or a `..` in a name, is damage.
    pub fn next_entry(&mut self) -> Result<Option<PayloadEntry>> {
        let cpio = match &mut self.members {
            Members::Newc(c) => c,
            Members::Stripped(r) => {
                let content = &self.content;
                let next = r
                    .next_entry(&|i| content.get(i).copied())
                    .map_err(|e| e.in_path(PAYLOAD))?;
                let Some((file, offset)) = next else {
                    return Ok(None);
                };
                let f = &self.files[file];
                let (rdevmajor, rdevminor) = split_dev(f.rdev);
                return Ok(Some(PayloadEntry {
                    file,
                    header: CpioHeader {
                        mode: f.mode,
                        filesize: u32::try_from(self.content[file]).unwrap_or(u32::MAX),
                        nlink: 1,
                        mtime: f.mtime,
                        rdevmajor,
                        rdevminor,
                        ..CpioHeader::default()
                    },
                    offset,
                }));
            }
        };
        let Some(e) = cpio.next_entry().map_err(|e| e.in_path(PAYLOAD))? else {
            if cpio.archives_ended() == 0 {
                // rpm always writes a trailer, even for a package without files.
                return Err(Error::corrupt(
                    cpio.position(),
                    "the payload ends before its cpio trailer (truncated)",
                )
                .in_path(PAYLOAD));
            }
            return Ok(None);
        };
        let bad = |msg: String| Error::corrupt(e.offset, msg).in_path(PAYLOAD);
        let name = String::from_utf8(e.name.clone()).map_err(|_| {
            bad(format!(
                "member name {:?} is not UTF-8",
                String::from_utf8_lossy(&e.name)
            ))
        })?;
        if name.split('/').any(|c| c == "..") {
            return Err(bad(format!("member {name:?} climbs out with '..'")));
        }
        // rpm writes `./etc/foo` for `/etc/foo` (older builds: `etc/foo`).
        let path = format!("/{}", name.trim_start_matches('.').trim_start_matches('/'));
        let file = *self.by_path.get(&path).ok_or_else(|| {
            bad(format!(
                "member {name:?} is not a file of the package's header"
            ))
        })?;
        Ok(Some(PayloadEntry {
            file,
            header: e.header,
            offset: e.offset,
        }))
    }

    /// The data of the current member.
    pub fn data(&mut self) -> Box<dyn Read + '_> {
        match &mut self.members {
            Members::Newc(c) => Box::new(c.data()),
            Members::Stripped(r) => Box::new(r.data()),
        }
    }

    /// A symlink member's target (the data, at most `PATH_MAX`).
    pub(crate) fn link_target(&mut self, at: u64) -> Result<String> {
        let d = match &mut self.members {
            Members::Newc(c) => c
                .read_data(MAX_LINK_TARGET)
                .map_err(|e| e.at(at).in_path(PAYLOAD))?,
            Members::Stripped(r) => {
                let mut v = Vec::new();
                r.data()
                    .take(u64::from(MAX_LINK_TARGET))
                    .read_to_end(&mut v)
                    .map_err(|e| {
                        Error::corrupt(at, format!("symlink target: {e}")).in_path(PAYLOAD)
                    })?;
                v
            }
        };
        String::from_utf8(d)
            .map_err(|_| Error::corrupt(at, "symlink target is not UTF-8").in_path(PAYLOAD))
    }

    /// Offset of the next byte in the decompressed cpio stream.
    pub(crate) fn position(&self) -> u64 {
        match &self.members {
            Members::Newc(c) => c.position(),
            Members::Stripped(r) => r.position(),
        }
    }
}

/// Data length of each file in a stripped payload: symlinks (their target) and
/// regular files, and of a hard-link set (same device and inode, `%ghost`
/// aside) only the last.
fn stripped_content(files: &[RpmFile]) -> Vec<u64> {
    let mut last: HashMap<(u64, u64), usize> = HashMap::new();
    for (i, f) in files.iter().enumerate() {
        if f.mode & mode::S_IFMT == mode::S_IFREG && !f.is_ghost() {
            last.insert(f.inode, i);
        }
    }
    files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let kind = f.mode & mode::S_IFMT;
            if kind == mode::S_IFLNK || (kind == mode::S_IFREG && last.get(&f.inode) == Some(&i)) {
                f.size
            } else {
                0
            }
        })
        .collect()
}

/// glibc's `major()`/`minor()` of a device number.
fn split_dev(rdev: u64) -> (u32, u32) {
    let major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & !0xfff);
    let minor = (rdev & 0xff) | ((rdev >> 12) & !0xff);
    (major as u32, minor as u32)
}

/// Says which codec failed: a decoder error reaches the user through the cpio reader.
struct Labelled {
    inner: Box<dyn Read + Send>,
    codec: String,
}

impl Read for Labelled {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "{} payload is damaged or truncated (the offset counts decompressed bytes): {e}",
                    self.codec
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A main header with these (tag, type, count, value bytes) entries.
    fn header(entries: &[(u32, u32, u32, Vec<u8>)]) -> Header {
        let mut store = Vec::new();
        let mut index = Vec::new();
        for (tag, ty, count, value) in entries {
            // Align integers as rpm does (not needed by the reader, but realistic).
            while *ty == 4 && store.len() % 4 != 0 {
                store.push(0);
            }
            for x in [*tag, *ty, store.len() as u32, *count] {
                index.extend(x.to_be_bytes());
            }
            store.extend(value);
        }
        let mut v = vec![0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0];
        v.extend((entries.len() as u32).to_be_bytes());
        v.extend((store.len() as u32).to_be_bytes());
        v.extend(index);
        v.extend(store);
        Header::read(&mut &v[..], 0).unwrap()
    }

    fn strings(v: &[&str]) -> Vec<u8> {
        v.iter().flat_map(|s| s.bytes().chain([0])).collect()
    }

    fn int32(v: &[u32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_be_bytes()).collect()
    }

    fn int16(v: &[u16]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_be_bytes()).collect()
    }

    #[test]
    fn file_list_joins_dirnames_and_defaults_owners() {
        let h = header(&[
            (t::FILEMODES, 3, 2, int16(&[0o100644, 0o120777])),
            (t::DIRINDEXES, 4, 2, int32(&[1, 0])),
            (t::BASENAMES, 8, 2, strings(&["a", "b"])),
            (t::DIRNAMES, 8, 2, strings(&["/usr/", "/etc/"])),
            (t::FILELINKTOS, 8, 2, strings(&["", "a"])),
        ]);
        let f = file_list(&h).unwrap();
        assert_eq!(f[0].path, "/etc/a");
        assert_eq!(f[1].path, "/usr/b");
        assert_eq!(f[1].link_to, "a");
        assert_eq!((f[0].user.as_str(), f[0].group.as_str()), ("root", "root"));
        // No FILEINODES: no hard links.
        assert_ne!(f[0].inode, f[1].inode);
    }

    #[test]
    fn file_list_refuses_inconsistent_arrays_and_dotdot() {
        let bad = [
            // DIRINDEX past DIRNAMES
            vec![
                (t::FILEMODES, 3, 1, int16(&[0o100644])),
                (t::DIRINDEXES, 4, 1, int32(&[5])),
                (t::BASENAMES, 8, 1, strings(&["a"])),
                (t::DIRNAMES, 8, 1, strings(&["/etc/"])),
            ],
            // two modes for one file
            vec![
                (t::FILEMODES, 3, 2, int16(&[0o100644, 0o100644])),
                (t::DIRINDEXES, 4, 1, int32(&[0])),
                (t::BASENAMES, 8, 1, strings(&["a"])),
                (t::DIRNAMES, 8, 1, strings(&["/etc/"])),
            ],
            // a path with ..
            vec![
                (t::FILEMODES, 3, 1, int16(&[0o100644])),
                (t::OLDFILENAMES, 8, 1, strings(&["/etc/../../x"])),
            ],
            // files without modes
            vec![(t::OLDFILENAMES, 8, 1, strings(&["/etc/x"]))],
        ];
        for entries in bad {
            let err = file_list(&header(&entries)).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Corrupt, "{err}");
        }
    }

    #[test]
    fn device_numbers_split_as_glibc() {
        assert_eq!(split_dev(0x0103), (1, 3));
        assert_eq!(split_dev((259 << 8) | 0x12), (259, 0x12));
        assert_eq!(split_dev(0x0010_0103), (1, 0x103));
    }
}
