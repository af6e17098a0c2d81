//! `install.img` read straight from an installer ISO: its codec told by the magic
//! bytes of its first extent, the decoded cpio streamed from the image's extents
//! (never the whole image in memory), and one file looked up in it.
//!
//! `inspect` (the `add-rpm --installer` record), `diff` (the whole installer root)
//! and `verify` (an embedded answerfile) read the installer this way.

use std::io::{BufReader, Read};

use super::codec::DETECT_LEN;
use super::cpio::CpioReader;
use super::stream::{self, Compression};
use super::{detect, Codec};
use crate::error::{Error, Result};
use crate::iso::{Entry, IsoImage};
use crate::workspace::installer::normalize_name;

/// The decoded cpio stream of an ISO's `install.img`.
pub(crate) type InstallerCpio = CpioReader<BufReader<Box<dyn Read + Send>>>;

/// Tag an error with the ISO and `install.img`.
pub(crate) fn in_install_img(iso: &IsoImage, e: Error) -> Error {
    e.in_file(iso.source().path()).in_path("install.img")
}

/// The codec of `img` (an entry of `iso`), from the first bytes of its data.
pub(crate) fn codec_of(iso: &IsoImage, img: &Entry) -> Result<Codec> {
    let n = img.size.min(DETECT_LEN as u64) as usize;
    let head = match img.extents.first() {
        Some(x) => iso.source().read_vec(x.offset(), n, "install.img head")?,
        None => Vec::new(),
    };
    Ok(detect(&head))
}

/// `img` decoded as a cpio stream, or `Err(codec)` when xiso does not decode its
/// codec (the caller says so in its own words).
pub(crate) fn open_cpio(
    iso: &IsoImage,
    img: &Entry,
) -> Result<std::result::Result<InstallerCpio, Codec>> {
    let codec = codec_of(iso, img)?;
    if Compression::of(codec).is_none() {
        return Ok(Err(codec));
    }
    let decoded =
        stream::decoder(codec, iso.file_reader(img)?).map_err(|e| in_install_img(iso, e))?;
    Ok(Ok(CpioReader::new(BufReader::with_capacity(
        1 << 20,
        decoded,
    ))))
}

/// The data of the file at `path` (relative to the installer root, e.g.
/// `answerfile.xml`) inside `img`, at most `limit` bytes, with the offset of its cpio
/// header in the decoded stream; `None` when there is no such entry. Later entries of the same name win, as when the kernel unpacks the
/// archive. The stream is read to its end, refusing past `max_expanded` bytes of
/// file data (a decompression bomb); an undecodable codec is `Unsupported`.
pub(crate) fn read_installer_file(
    iso: &IsoImage,
    img: &Entry,
    path: &str,
    limit: u32,
    max_expanded: u64,
) -> Result<Option<(u64, Vec<u8>)>> {
    let ctx = |e: Error| in_install_img(iso, e);
    let mut reader = open_cpio(iso, img)?.map_err(|codec| {
        ctx(Error::unsupported(format!(
            "install.img is {}: xiso cannot read its files",
            codec.name()
        )))
    })?;
    let want = normalize_name(path).unwrap_or_else(|_| path.to_string());
    let mut found = None;
    let mut expanded = 0u64;
    while let Some(e) = reader.next_entry().map_err(ctx)? {
        expanded = expanded.saturating_add(u64::from(e.header.filesize));
        if expanded > max_expanded {
            return Err(ctx(Error::corrupt(
                e.offset,
                format!(
                    "install.img expands beyond {max_expanded} bytes: refusing (decompression bomb?)"
                ),
            )));
        }
        let name = String::from_utf8_lossy(&e.name);
        if normalize_name(&name).is_ok_and(|n| n == want) {
            found = Some((e.offset, reader.read_data(limit).map_err(ctx)?));
        }
    }
    Ok(found)
}
