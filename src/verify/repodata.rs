//! `repodata/`: every repomd.xml record's file against its `<size>`, `<checksum>`,
//! `<open-size>` and `<open-checksum>` (createrepo_c `cr_repomd_record_fill`: the
//! first two of the stored file, the others of its decompressed content).

use std::io::{self, Cursor, Read, Write};

use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

use super::{check, closure, gpgcheck, packages, signature, Ctx, Severity};
use crate::error::{Error, Result};
use crate::initrd::{codec::Codec, detect, stream};
use crate::iso::Entry;
use crate::iso::ExtentReader;
use crate::repo::{Checksum, Repomd, RepomdRecord};

const REPOMD: &str = "/repodata/repomd.xml";
/// Largest repomd.xml read.
const MAX_REPOMD: u64 = 16 << 20;
/// Largest metadata file decompressed for its open checksum (held in memory).
const MAX_METADATA: u64 = 1 << 30;

pub(super) fn check(ctx: &mut Ctx<'_>) -> Result<()> {
    let Some(entry) = ctx.file(REPOMD).cloned() else {
        ctx.error(
            check::REPOMD,
            Some(REPOMD),
            None,
            "no /repodata/repomd.xml: the installer will not accept this media".into(),
        );
        return Ok(());
    };
    let offset = entry.extents.first().map(|x| x.offset());
    let parsed = if entry.size > MAX_REPOMD {
        Err(Error::unsupported(format!(
            "{} bytes is too large",
            entry.size
        )))
    } else {
        ctx.iso
            .read_file(REPOMD, MAX_REPOMD)
            .and_then(|b| Repomd::parse(&b).map(|r| (b, r)))
    };
    let (bytes, repomd) = match parsed {
        Ok(r) => r,
        Err(e) => {
            ctx.error(
                check::REPOMD,
                Some(REPOMD),
                offset,
                format!("{REPOMD}: {e}"),
            );
            return Ok(());
        }
    };
    for record in &repomd.records {
        check_record(ctx, record)?;
    }
    let gpg = gpgcheck::config(ctx)?;
    signature::check(ctx, &bytes, &gpg)?;
    packages::check(ctx, &repomd, &gpg)?;
    closure::check(ctx, &repomd)
}

/// Hex digest of the bytes written, for the algorithms repomd.xml uses.
enum Hasher {
    Sha224(Sha224),
    Sha256(Sha256),
    Sha384(Sha384),
    Sha512(Sha512),
}

impl Hasher {
    /// `None` for algorithms this build cannot compute (sha1, md5).
    pub(super) fn new(algorithm: &str) -> Option<Hasher> {
        Some(match algorithm.to_ascii_lowercase().as_str() {
            "sha224" => Hasher::Sha224(Sha224::new()),
            "sha256" => Hasher::Sha256(Sha256::new()),
            "sha384" => Hasher::Sha384(Sha384::new()),
            "sha512" => Hasher::Sha512(Sha512::new()),
            _ => return None,
        })
    }

    fn hex(self) -> String {
        let bytes: Vec<u8> = match self {
            Hasher::Sha224(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Sha384(h) => h.finalize().to_vec(),
            Hasher::Sha512(h) => h.finalize().to_vec(),
        };
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Hasher::Sha224(h) => h.update(buf),
            Hasher::Sha256(h) => h.update(buf),
            Hasher::Sha384(h) => h.update(buf),
            Hasher::Sha512(h) => h.update(buf),
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn check_record(ctx: &mut Ctx<'_>, r: &RepomdRecord) -> Result<()> {
    let path = format!("/{}", r.location_href.trim_start_matches('/'));
    let what = format!("repomd.xml record {:?} ({path})", r.data_type);
    let Some(entry) = ctx.file(&path).cloned() else {
        ctx.error(
            check::REPOMD_RECORD,
            Some(&path),
            None,
            format!("{what}: the file is not on the media"),
        );
        return Ok(());
    };
    let offset = entry.extents.first().map(|x| x.offset());
    if let Some(size) = r.size {
        if size != entry.size {
            ctx.error(
                check::REPOMD_RECORD,
                Some(&path),
                offset,
                format!(
                    "{what}: <size> is {size}, the file has {} bytes",
                    entry.size
                ),
            );
        }
    }
    if let Some(c) = &r.checksum {
        let mut reader = ExtentReader::new(ctx.iso, &entry);
        let got = digest(&mut reader, &c.algorithm)?;
        compare(ctx, &path, offset, &format!("{what}: <checksum>"), c, got);
    }
    if r.open_checksum.is_none() && r.open_size.is_none() {
        return Ok(());
    }
    // The open checksum needs the decompressed bytes; the decoders want owned input.
    if entry.size > MAX_METADATA {
        return Ok(());
    }
    let mut stored = Vec::with_capacity(entry.size as usize);
    ctx.iso.copy_file(&entry, &mut stored)?;
    let codec = detect(&stored);
    if codec == Codec::Uncompressed || codec == Codec::Unknown {
        // An uncompressed record (e.g. a comps group file): open = stored.
        return Ok(());
    }
    let opened = stream::decoder(codec, Box::new(Cursor::new(stored))).and_then(|mut d| {
        let mut open_hash = r
            .open_checksum
            .as_ref()
            .and_then(|c| Hasher::new(&c.algorithm));
        let mut buf = vec![0u8; 1 << 16];
        let mut n_total = 0u64;
        loop {
            let n = d
                .read(&mut buf)
                .map_err(|e| Error::io(e, "decompressing"))?;
            if n == 0 {
                break;
            }
            n_total += n as u64;
            if let Some(h) = open_hash.as_mut() {
                h.update_bytes(&buf[..n]);
            }
        }
        Ok((n_total, open_hash.map(Hasher::hex)))
    });
    let (open_size, open_hex) = match opened {
        Ok(v) => v,
        Err(e) => {
            ctx.error(
                check::REPOMD_RECORD,
                Some(&path),
                offset,
                format!("{what}: cannot decompress ({}): {e}", codec.name()),
            );
            return Ok(());
        }
    };
    if let Some(expected) = r.open_size {
        if expected != open_size {
            ctx.error(
                check::REPOMD_RECORD,
                Some(&path),
                offset,
                format!("{what}: <open-size> is {expected}, the content has {open_size} bytes"),
            );
        }
    }
    if let Some(c) = &r.open_checksum {
        compare(
            ctx,
            &path,
            offset,
            &format!("{what}: <open-checksum>"),
            c,
            open_hex,
        );
    }
    Ok(())
}

impl Hasher {
    fn update_bytes(&mut self, b: &[u8]) {
        // Writing into a hasher cannot fail.
        let _ = self.write(b);
    }
}

/// Stream `reader` through the algorithm; `None` when the algorithm is unknown.
pub(super) fn digest(reader: &mut dyn Read, algorithm: &str) -> Result<Option<String>> {
    let Some(mut h) = Hasher::new(algorithm) else {
        return Ok(None);
    };
    io::copy(reader, &mut h).map_err(|e| Error::io(e, "reading file data"))?;
    Ok(Some(h.hex()))
}

/// A finding when `got` differs from `expected`; a warning when it could not be computed.
fn compare(
    ctx: &mut Ctx<'_>,
    path: &str,
    offset: Option<u64>,
    what: &str,
    expected: &Checksum,
    got: Option<String>,
) {
    match got {
        None => ctx.push(
            check::REPOMD_RECORD,
            Severity::Warning,
            Some(path),
            offset,
            format!("{what}: {} checksums cannot be checked", expected.algorithm),
        ),
        Some(hex) if !hex.eq_ignore_ascii_case(expected.value.trim()) => ctx.error(
            check::REPOMD_RECORD,
            Some(path),
            offset,
            format!(
                "{what} is {} {}, the bytes hash to {hex}",
                expected.algorithm, expected.value
            ),
        ),
        Some(_) => {}
    }
}

/// The stored primary metadata, for the package check.
pub(super) fn primary_entry(ctx: &Ctx<'_>, repomd: &Repomd) -> Option<(String, Entry)> {
    let r = repomd.record("primary")?;
    let path = format!("/{}", r.location_href.trim_start_matches('/'));
    ctx.file(&path).cloned().map(|e| (path, e))
}
