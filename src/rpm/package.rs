//! One RPM file: its headers, where the main header lies, and the file's identity.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::header::{read_lead, signature_padding, Header, LEAD_SIZE};
use super::tag;
use crate::error::{Error, Result, ResultExt};

/// An RPM package file as the repository metadata sees it.
///
/// `open` reads the lead and both headers, then streams the rest of the file
/// through SHA-256 without keeping it: the payload is not decompressed.
#[derive(Debug, Clone)]
pub struct Package {
    /// The signature header (sizes, digests, signatures).
    pub signature: Header,
    /// The main header (name, version, dependencies, files, changelog…).
    pub header: Header,
    /// Size of the whole file in bytes.
    pub file_size: u64,
    /// Modification time of the file, seconds since the epoch (0 when read from a stream).
    pub file_mtime: i64,
    /// SHA-256 of the whole file.
    pub sha256: [u8; 32],
}

impl Package {
    /// Read the RPM file at `path`. Errors name the file.
    pub fn open(path: impl AsRef<Path>) -> Result<Package> {
        let path = path.as_ref();
        let (file, meta) = open_file(path)?;
        Package::from_reader(BufReader::new(file), mtime_seconds(&meta)).in_file(path)
    }

    /// Read only the lead and both headers of the RPM file at `path`: name,
    /// version and dependencies without reading the payload (`sha256` is left
    /// zero, `file_size` is the file's length). For choosing among candidate
    /// packages before paying for a full [`Package::open`].
    pub(crate) fn open_headers(path: impl AsRef<Path>) -> Result<Package> {
        let path = path.as_ref();
        let (file, meta) = open_file(path)?;
        let (signature, header) = read_headers(&mut BufReader::new(file)).in_file(path)?;
        Ok(Package {
            signature,
            header,
            file_size: meta.len(),
            file_mtime: mtime_seconds(&meta),
            sha256: [0; 32],
        })
    }

    /// Read an RPM from a stream; `file_mtime` is what metadata should record as
    /// the file's time.
    pub fn from_reader(mut reader: impl Read, file_mtime: i64) -> Result<Package> {
        let mut hashing = HashingReader {
            inner: &mut reader,
            hasher: Sha256::new(),
            count: 0,
        };
        Package::read_dyn(&mut hashing, file_mtime)
    }

    fn read_dyn(r: &mut HashingReader<'_>, file_mtime: i64) -> Result<Package> {
        let (signature, header) = read_headers(r)?;
        io::copy(r, &mut io::sink())
            .map_err(|e| Error::io(e, "reading the payload").at(header.end()))?;
        Ok(Package {
            signature,
            header,
            file_size: r.count,
            file_mtime,
            sha256: r.hasher.clone().finalize().into(),
        })
    }

    /// `(start, end)` byte offsets of the main header, as createrepo_c's
    /// `<rpm:header-range>` states them (`cr_get_header_byte_range`): from its
    /// magic to the end of its data store.
    pub fn header_range(&self) -> (u64, u64) {
        (self.header.start(), self.header.end())
    }

    /// Check that the file is as long as its signature header says: `LONGSIZE`
    /// or `SIZE` count the main header and the payload (rpm's `rpmpkgRead`
    /// fails on a shorter payload only when it unpacks it; the repository must
    /// not list a truncated package). Packages that state neither pass.
    pub fn check_size(&self) -> Result<()> {
        let stated = match self.signature.number(tag::sig::LONGSIZE)? {
            Some(n) => Some(n),
            None => self.signature.number(tag::sig::SIZE)?,
        };
        let Some(stated) = stated else {
            return Ok(());
        };
        let expected = self.header.start().checked_add(stated);
        if expected != Some(self.file_size) {
            return Err(Error::corrupt(
                self.file_size,
                format!(
                    "the package is {} bytes but its signature header says {} (truncated or damaged)",
                    self.file_size,
                    expected.map_or_else(|| "more than 2^64".to_string(), |n| n.to_string())
                ),
            ));
        }
        Ok(())
    }

    /// The SHA-256 of the file as lower-case hex (the repository's `pkgid`).
    pub fn sha256_hex(&self) -> String {
        self.sha256.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Name from the main header (lossy UTF-8; names are ASCII in practice).
    pub fn name(&self) -> Result<String> {
        self.text(tag::main::NAME)
    }

    /// `(epoch, version, release)`: epoch `None` when the header has none.
    pub fn evr(&self) -> Result<(Option<u64>, String, String)> {
        Ok((
            self.header.number(tag::main::EPOCH)?,
            self.text(tag::main::VERSION)?,
            self.text(tag::main::RELEASE)?,
        ))
    }

    /// The architecture, `src` for a source package (as rpm and createrepo_c say).
    pub fn arch(&self) -> Result<String> {
        if self.is_source()? {
            return Ok("src".to_string());
        }
        self.text(tag::main::ARCH)
    }

    /// Whether this is a source package, as rpm 4 decides when it reads one
    /// (`applyRetrofits` in `lib/package.c`): `SOURCEPACKAGE` set; or, when
    /// neither it nor `SOURCERPM` is present, a file list whose only directory
    /// is the empty one (source packages list bare file names).
    pub fn is_source(&self) -> Result<bool> {
        let h = &self.header;
        if let Some(v) = h.number(tag::main::SOURCEPACKAGE)? {
            return Ok(v != 0);
        }
        if h.has(tag::main::SOURCERPM) {
            return Ok(false);
        }
        if let Some(dirs) = h.strings(tag::main::DIRNAMES)? {
            return Ok(dirs.len() == 1 && dirs[0].is_empty());
        }
        Ok(match h.strings(tag::main::OLDFILENAMES)? {
            Some(names) => !names.is_empty() && names.iter().all(|n| !n.contains(&b'/')),
            None => false,
        })
    }

    /// The `SOURCERPM` string; rpm 4 sets `(none)` on binary packages without one.
    pub fn source_rpm(&self) -> Result<Vec<u8>> {
        match self.header.string(tag::main::SOURCERPM)? {
            Some(s) => Ok(s.to_vec()),
            None if self.header.has(tag::main::SOURCEPACKAGE) || self.is_source()? => {
                Ok(Vec::new())
            }
            None => Ok(b"(none)".to_vec()),
        }
    }

    /// Installed size (`LONGSIZE`, else `SIZE`), as rpm's `RPMTAG_LONGSIZE` extension reads it.
    pub fn installed_size(&self) -> Result<u64> {
        Ok(self
            .header
            .number(tag::main::LONGSIZE)?
            .or(self.header.number(tag::main::SIZE)?)
            .unwrap_or(0))
    }

    /// Uncompressed payload size as rpm 4 reads it: `LONGARCHIVESIZE`, else
    /// `ARCHIVESIZE`, each from the main header or, as rpm's
    /// `headerMergeLegacySigs` merges them, the signature header. rpm 6's
    /// `PAYLOADSIZE` (5112) is not consulted, as rpm 4 (and so createrepo_c on
    /// EL and Debian hosts) does not know it: such packages report 0.
    pub fn archive_size(&self) -> Result<u64> {
        let h = &self.header;
        let s = &self.signature;
        let long = match h.number(tag::main::LONGARCHIVESIZE)? {
            Some(v) => Some(v),
            None => s.number(tag::sig::LONGARCHIVESIZE)?,
        };
        let short = match h.number(tag::main::ARCHIVESIZE)? {
            Some(v) => Some(v),
            None => s.number(tag::sig::PAYLOADSIZE)?,
        };
        Ok(long.or(short).unwrap_or(0))
    }

    fn text(&self, tag: u32) -> Result<String> {
        Ok(self
            .header
            .string(tag)?
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default())
    }
}

fn open_file(path: &Path) -> Result<(File, std::fs::Metadata)> {
    let file = File::open(path)
        .map_err(|e| Error::io(e, "opening the package"))
        .in_file(path)?;
    let meta = file
        .metadata()
        .map_err(|e| Error::io(e, "reading the package's metadata"))
        .in_file(path)?;
    Ok((file, meta))
}

/// Read the lead, the signature header and its padding, and the main header,
/// leaving `r` at the first byte of the payload (`main.end()`).
pub(crate) fn read_headers(r: &mut dyn Read) -> Result<(Header, Header)> {
    read_lead(r)?;
    let signature = Header::read(r, LEAD_SIZE)?;
    let mut pad = [0u8; 8];
    let pad_len = signature_padding(signature.end()) as usize;
    read_padding(r, &mut pad[..pad_len], signature.end())?;
    let header = Header::read(r, signature.end() + pad_len as u64)?;
    Ok((signature, header))
}

fn read_padding(r: &mut dyn Read, buf: &mut [u8], offset: u64) -> Result<()> {
    r.read_exact(buf).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            Error::corrupt(offset, "file ends inside the signature padding")
        } else {
            Error::io(e, "reading the signature padding").at(offset)
        }
    })
}

#[cfg(unix)]
fn mtime_seconds(meta: &std::fs::Metadata) -> i64 {
    use std::os::unix::fs::MetadataExt;
    meta.mtime()
}

#[cfg(not(unix))]
fn mtime_seconds(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64)
}

/// Counts and hashes everything read through it.
struct HashingReader<'a> {
    inner: &'a mut dyn Read,
    hasher: Sha256,
    count: u64,
}

impl Read for HashingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}
