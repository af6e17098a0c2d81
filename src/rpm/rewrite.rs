//! Rewriting a package's header, in pure Rust: `--pull-in` makes the install
//! target also `Requires:` the added packages (ARCHITECTURE.md §1 "Install
//! targets": the installer installs only what `xcp-ng-deps` pulls in).
//!
//! The main header is written again as one immutable region
//! ([`write_region_header`], region tag `RPMTAG_HEADERIMMUTABLE`) with:
//! * `REQUIRENAME`/`REQUIREFLAGS`/`REQUIREVERSION` extended together (flags 0,
//!   empty version: a plain `Requires: NAME`);
//! * a release that sorts after the old one (rpmvercmp): `1` → `1.xiso1`,
//!   `1.xiso1` → `1.xiso2`, so dnf and the installer's yum see an update;
//! * the package's own `NAME = [E:]V-R` provide following the new release.
//!
//! The payload bytes are kept, so `PAYLOADDIGEST` stays right. The signature
//! header keeps its other tags; what rpm checks is recomputed (`lib/rpmvs.c`):
//! SHA-1 (269) and SHA-256 (273) of the main header, MD5 (1004) of header and
//! payload, `SIZE` (1000) / `LONGSIZE` (270). The old signatures no longer
//! match the header and are dropped: `xiso sign` (or `remaster --sign`) signs
//! the new package with the user's key, as it signs any package the key file
//! does not verify.

use pgp::crypto::hash::HashAlgorithm;

use super::evr::rpmvercmp;
use super::header::{signature_padding, write_region_header, NewEntry, TagType, LEAD_SIZE};
use super::package::read_headers;
use super::sign::SIGNATURE_TAGS as SIGNATURES;
use super::tag::{main, sig};
use crate::error::{Error, Result};

/// `RPMTAG_HEADERIMMUTABLE`: the main header's region tag.
const HEADER_IMMUTABLE: u32 = 63;

/// A package rewritten by [`add_requires`].
#[derive(Debug, Clone)]
pub(crate) struct Rewritten {
    /// The whole new file.
    pub bytes: Vec<u8>,
    /// The new release (sorts after the old one).
    pub release: String,
}

/// The release after `release` for a rewritten package: `.xisoN` appended, or
/// its N raised when the package was rewritten by xiso before.
pub(crate) fn bumped_release(release: &str) -> String {
    if let Some((base, n)) = release.rsplit_once(".xiso") {
        let digits = !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit());
        if let (true, Ok(n)) = (digits, n.parse::<u32>()) {
            if n < u32::MAX {
                return format!("{base}.xiso{}", n + 1);
            }
        }
    }
    format!("{release}.xiso1")
}

/// The package `rpm` (the whole file) with a `Requires:` on each of `names`
/// that it does not require already, and a new release (see the module docs).
/// Refused: a file that is not an RPM, a header whose dependency arrays
/// disagree in length.
pub(crate) fn add_requires(rpm: &[u8], names: &[&str]) -> Result<Rewritten> {
    let (signature, header) = read_headers(&mut &rpm[..])?;
    let header_end = usize::try_from(header.end())
        .map_err(|_| Error::corrupt(header.end(), "main header end too large"))?;
    let payload = rpm
        .get(header_end..)
        .ok_or_else(|| Error::corrupt(header.end(), "main header outside the file"))?;
    let text = |tag: u32| -> Result<String> {
        Ok(String::from_utf8_lossy(header.string(tag)?.unwrap_or_default()).into_owned())
    };
    let name = text(main::NAME)?;
    let version = text(main::VERSION)?;
    let old_release = text(main::RELEASE)?;
    let release = bumped_release(&old_release);
    debug_assert_eq!(
        rpmvercmp(&release, &old_release),
        std::cmp::Ordering::Greater
    );
    let epoch = header.number(main::EPOCH)?;
    let evr = |r: &str| match epoch {
        Some(e) => format!("{e}:{version}-{r}"),
        None => format!("{version}-{r}"),
    };

    let mut entries: Vec<NewEntry> = header
        .entries()
        .iter()
        .filter(|e| e.tag != HEADER_IMMUTABLE)
        .map(|e| NewEntry {
            tag: e.tag,
            tag_type: e.tag_type,
            count: e.count,
            data: header.value_bytes(e).to_vec(),
        })
        .collect();
    // Keep only the first of a repeated tag, as rpm's lookup sees it.
    let mut seen = std::collections::HashSet::new();
    entries.retain(|e| seen.insert(e.tag));

    set_string(&mut entries, main::RELEASE, &release);

    let required: Vec<Vec<u8>> = header
        .strings(main::REQUIRENAME)?
        .unwrap_or_default()
        .into_iter()
        .map(<[u8]>::to_vec)
        .collect();
    let flags = header.numbers(main::REQUIREFLAGS)?.unwrap_or_default();
    let versions = header.strings(main::REQUIREVERSION)?.unwrap_or_default();
    if flags.len() != required.len() || versions.len() != required.len() {
        return Err(Error::corrupt(
            header.start(),
            format!(
                "the header's requires disagree: {} names, {} flags, {} versions",
                required.len(),
                flags.len(),
                versions.len()
            ),
        ));
    }
    let mut added = Vec::new();
    for n in names {
        if !required.iter().any(|r| r == n.as_bytes()) && !added.contains(n) {
            added.push(*n);
        }
    }
    for n in &added {
        append(&mut entries, main::REQUIRENAME, TagType::StringArray, &{
            let mut v = n.as_bytes().to_vec();
            v.push(0);
            v
        })?;
        append(&mut entries, main::REQUIREFLAGS, TagType::Int32, &[0; 4])?;
        append(
            &mut entries,
            main::REQUIREVERSION,
            TagType::StringArray,
            &[0],
        )?;
    }

    // The package's own provide `NAME = [E:]V-R` follows the release.
    let provides = header.strings(main::PROVIDENAME)?.unwrap_or_default();
    let provide_versions = header.strings(main::PROVIDEVERSION)?.unwrap_or_default();
    if provides.len() == provide_versions.len() {
        let (old_evr, new_evr) = (evr(&old_release), evr(&release));
        let mut changed = false;
        let mut data = Vec::new();
        for (p, v) in provides.iter().zip(&provide_versions) {
            if *p == name.as_bytes() && *v == old_evr.as_bytes() {
                data.extend(new_evr.as_bytes());
                changed = true;
            } else {
                data.extend(*v);
            }
            data.push(0);
        }
        if changed {
            if let Some(e) = entries.iter_mut().find(|e| e.tag == main::PROVIDEVERSION) {
                e.data = data;
            }
        }
    }

    let main_header = write_region_header(HEADER_IMMUTABLE, &entries)?;
    let mut header_and_payload = Vec::with_capacity(main_header.len() + payload.len());
    header_and_payload.extend(&main_header);
    header_and_payload.extend(payload);

    let hex = |alg: HashAlgorithm, data: &[u8]| -> Result<Vec<u8>> {
        let d = alg
            .digest(data)
            .map_err(|e| Error::unsupported(format!("digest {alg:?}: {e}")))?;
        Ok(d.iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
            .into_bytes())
    };
    let size = header_and_payload.len() as u64;
    let mut sigs: Vec<NewEntry> = Vec::new();
    for e in signature.entries() {
        if e.tag == sig::HEADERSIGNATURES
            || SIGNATURES.contains(&e.tag)
            || sigs.iter().any(|s| s.tag == e.tag)
        {
            continue;
        }
        let data = match e.tag {
            sig::SHA1 => nul_terminated(hex(HashAlgorithm::Sha1, &main_header)?),
            sig::SHA256 => nul_terminated(hex(HashAlgorithm::Sha256, &main_header)?),
            sig::MD5 => HashAlgorithm::Md5
                .digest(&header_and_payload)
                .map_err(|e| Error::unsupported(format!("digest MD5: {e}")))?,
            sig::SIZE => u32::try_from(size)
                .map_err(|_| Error::invalid("the package is too large for RPMSIGTAG_SIZE"))?
                .to_be_bytes()
                .to_vec(),
            sig::LONGSIZE => size.to_be_bytes().to_vec(),
            _ => signature.value_bytes(e).to_vec(),
        };
        sigs.push(NewEntry {
            tag: e.tag,
            tag_type: e.tag_type,
            count: e.count,
            data,
        });
    }
    let sig_header = write_region_header(sig::HEADERSIGNATURES, &sigs)?;

    let lead = rpm
        .get(..LEAD_SIZE as usize)
        .ok_or_else(|| Error::corrupt(0, "file ends inside the lead"))?;
    let pad = signature_padding(LEAD_SIZE + sig_header.len() as u64) as usize;
    let mut bytes = Vec::with_capacity(lead.len() + sig_header.len() + pad + size as usize);
    bytes.extend(lead);
    bytes.extend(&sig_header);
    bytes.resize(bytes.len() + pad, 0);
    bytes.extend(header_and_payload);
    Ok(Rewritten { bytes, release })
}

fn nul_terminated(mut v: Vec<u8>) -> Vec<u8> {
    v.push(0);
    v
}

/// Replace the value of a `STRING` entry (or add one).
fn set_string(entries: &mut Vec<NewEntry>, tag: u32, value: &str) {
    let data = nul_terminated(value.as_bytes().to_vec());
    match entries.iter_mut().find(|e| e.tag == tag) {
        Some(e) => {
            e.tag_type = TagType::String;
            e.count = 1;
            e.data = data;
        }
        None => entries.push(NewEntry {
            tag,
            tag_type: TagType::String,
            count: 1,
            data,
        }),
    }
}

/// Append one element (its stored bytes) to an array entry, creating it when absent.
fn append(entries: &mut Vec<NewEntry>, tag: u32, tag_type: TagType, element: &[u8]) -> Result<()> {
    match entries.iter_mut().find(|e| e.tag == tag) {
        Some(e) if e.tag_type == tag_type => {
            e.count = e
                .count
                .checked_add(1)
                .ok_or_else(|| Error::invalid("too many requires"))?;
            e.data.extend(element);
        }
        Some(e) => {
            return Err(Error::corrupt(
                0,
                format!("tag {tag} is {:?}, not {tag_type:?}", e.tag_type),
            ))
        }
        None => entries.push(NewEntry {
            tag,
            tag_type,
            count: 1,
            data: element.to_vec(),
        }),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_sort_after_the_original() {
        for (old, new) in [
            ("1", "1.xiso1"),
            ("1.xiso1", "1.xiso2"),
            ("1.el7.xiso9", "1.el7.xiso10"),
            ("1.xisoX", "1.xisoX.xiso1"),
            ("3.xcpng8.3", "3.xcpng8.3.xiso1"),
        ] {
            assert_eq!(bumped_release(old), new);
            assert_eq!(rpmvercmp(new, old), std::cmp::Ordering::Greater, "{new}");
        }
    }
}
