//! Signing an RPM package as `rpmsign --addsign --rpmv3` does (rpm's
//! `sign/rpmgensig.c`), in pure Rust.
//!
//! Two OpenPGP v4 binary signatures go into the signature header: `RPMSIGTAG_RSA`
//! (268) over the main header (from its magic to the end of its data store: what
//! rpm ≥ 4.1 checks on install) and `RPMSIGTAG_PGP` (1002) over the main header and
//! the payload (the "v3" signature EL7's rpm 4.11 also checks with `rpm -K`). Older
//! signatures (RSA, DSA, PGP, GPG, PGP5, rpm 6's OPENPGP) are dropped; the digests
//! (SHA1, SHA256, MD5), sizes and every other tag are kept. The signature header
//! is written as rpm writes it (one immutable region, entries sorted by tag, see
//! `write_region_header`); when it has rpmbuild's reserved space
//! (`RPMSIGTAG_RESERVEDSPACE`), the space shrinks by what the signatures add, so
//! the file keeps its size and the main header its offset, as with rpmsign. The
//! lead, the main header and the payload are copied byte for byte.
//!
//! The signature time is a parameter: with the same key, package and time the
//! output is the same bytes (RSA PKCS#1 v1.5 signatures are deterministic).

use pgp::ser::Serialize;

use super::header::{signature_padding, write_region_header, NewEntry, TagType, LEAD_SIZE};
use super::package::read_headers;
use super::tag::sig;
use crate::error::{Error, ErrorKind, Result};
use crate::openpgp::SecretKey;

/// Signature tags replaced when a package is signed again (rpm's `deleteSigs`).
pub(crate) const SIGNATURE_TAGS: [u32; 6] = [
    sig::DSA,
    sig::RSA,
    sig::PGP,
    sig::GPG,
    sig::PGP5,
    sig::OPENPGP,
];

/// The package `rpm` (the whole file) signed with `key` at `created` (Unix seconds;
/// see `SecretKey::signature_time`). Refused: a file that is not an RPM, a key the
/// XCP-ng 8.3 installer cannot check (`SecretKey::check_el7`).
pub fn sign_package(rpm: &[u8], key: &SecretKey, created: u32) -> Result<Vec<u8>> {
    key.check_el7()?;
    let (signature, header) = read_headers(&mut &rpm[..])?;
    let header_start = usize::try_from(header.start())
        .map_err(|_| Error::corrupt(header.start(), "main header offset too large"))?;
    let header_end = usize::try_from(header.end())
        .map_err(|_| Error::corrupt(header.end(), "main header end too large"))?;
    let main_header = rpm
        .get(header_start..header_end)
        .ok_or_else(|| Error::corrupt(header.start(), "main header outside the file"))?;
    let header_and_payload = &rpm[header_start..];

    let header_sig = packet(key, created, main_header)?;
    let v3_sig = packet(key, created, header_and_payload)?;

    let mut entries: Vec<NewEntry> = Vec::new();
    let mut reserved = None;
    for e in signature.entries() {
        if e.tag == sig::HEADERSIGNATURES || SIGNATURE_TAGS.contains(&e.tag) {
            continue;
        }
        let data = signature.value_bytes(e).to_vec();
        if e.tag == sig::RESERVEDSPACE && e.tag_type == TagType::Bin {
            reserved = Some(data.len());
        }
        entries.push(NewEntry {
            tag: e.tag,
            tag_type: e.tag_type,
            count: e.count,
            data,
        });
    }
    for (tag, data) in [(sig::RSA, header_sig), (sig::PGP, v3_sig)] {
        entries.push(NewEntry {
            tag,
            tag_type: TagType::Bin,
            count: u32::try_from(data.len()).map_err(|_| Error::invalid("signature too large"))?,
            data,
        });
    }
    let old_size = signature.end() - LEAD_SIZE;
    let mut new_header = write_region_header(sig::HEADERSIGNATURES, &entries)?;
    // rpmsign: "Adjust reserved size for added/removed signatures".
    if let Some(space) = reserved {
        let grew = (new_header.len() as u64).saturating_sub(old_size);
        if grew > 0 && grew < space as u64 {
            let e = entries
                .iter_mut()
                .find(|e| e.tag == sig::RESERVEDSPACE)
                .expect("reserved space was kept");
            let left = space - grew as usize;
            e.data.truncate(left);
            e.count = left as u32;
            new_header = write_region_header(sig::HEADERSIGNATURES, &entries)?;
        }
    }

    let lead = &rpm[..LEAD_SIZE as usize];
    let sig_end = LEAD_SIZE + new_header.len() as u64;
    let pad = signature_padding(sig_end) as usize;
    let mut out =
        Vec::with_capacity(lead.len() + new_header.len() + pad + header_and_payload.len());
    out.extend(lead);
    out.extend(&new_header);
    out.resize(out.len() + pad, 0);
    out.extend(header_and_payload);
    Ok(out)
}

/// Write `bytes` into a staged package file, with modification time `mtime`.
pub(crate) fn write_with_mtime(
    staged: &mut crate::fs::StagedFile,
    bytes: &[u8],
    mtime: u32,
) -> Result<()> {
    staged.write_all_synced(bytes, None)?;
    crate::fs::set_mtime(staged.file(), Some(i64::from(mtime)));
    Ok(())
}

/// One signature packet over `data`, with the old-format packet header GnuPG
/// writes (`gpg -sbo`, RFC 4880 §4.2.1: tag 2, the shortest length type).
fn packet(key: &SecretKey, created: u32, data: &[u8]) -> Result<Vec<u8>> {
    let sig = key.detached_signature(created, data)?;
    let body = sig.signature.to_bytes().map_err(|e| {
        Error::new(
            ErrorKind::Corrupt,
            format!("cannot serialize the signature: {e}"),
        )
    })?;
    let mut out = Vec::with_capacity(body.len() + 5);
    match u16::try_from(body.len()) {
        Ok(n) if n < 256 => out.extend([0x88, n as u8]),
        Ok(n) => {
            out.push(0x89);
            out.extend(n.to_be_bytes());
        }
        Err(_) => {
            out.push(0x8a);
            out.extend((body.len() as u32).to_be_bytes());
        }
    }
    out.extend(body);
    Ok(out)
}
