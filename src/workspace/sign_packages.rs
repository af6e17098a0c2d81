//! The package half of `xiso sign`: every package of the workspace's repository
//! that no key of the new key file verifies is signed with the user's key
//! ([`crate::rpm::sign`]), the repository metadata follows the new bytes
//! (checksum, size, header range), and the others stay byte for byte.
//!
//! Signed packages are staged as temporary files next to their final names
//! ([`stage`]); [`commit`] writes the metadata and renames them into place.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use super::add_rpm::pristine_packages;
use super::handle::Workspace;
use crate::error::{Error, ErrorKind, Result, ResultExt};
use crate::fs::StagedFile;
use crate::openpgp::{KeyRing, SecretKey};
use crate::repo::update::{replace_repodata, scan, RepodataReport};
use crate::repo::{package_files, MetadataOptions, PackageEntry};
use crate::rpm::signature::{check_package, SignatureStatus};
use crate::rpm::Package;
use crate::source::SECTOR;

/// A package signed into a temporary file.
pub(super) struct SignedPackage {
    /// Below `DIR/iso/`.
    pub href: String,
    file: StagedFile,
    entry: PackageEntry,
}

/// What [`stage`] found and did.
pub(super) struct Staged {
    /// Packages signed (staged).
    pub signed: Vec<SignedPackage>,
    /// Packages a key of the ring verifies.
    pub verified: usize,
    /// With `no_sign`: packages the ring does not verify, with why.
    pub unverified: Vec<String>,
}

/// Check every package against `ring` and sign (into temporary files) those it
/// does not verify, except those a key of `dropped` (the old key files'
/// keys `--replace-keys` leaves out) verifies: a vendor's signature is never
/// replaced. A package with a wrong digest is an error: signing it would vouch for
/// damaged bytes.
pub(super) fn stage(
    ws: &Workspace,
    root: &Path,
    (ring, dropped): (&KeyRing, &KeyRing),
    key: &SecretKey,
    created: u32,
    no_sign: bool,
) -> Result<Staged> {
    let mut staged = Staged {
        signed: Vec::new(),
        verified: 0,
        unverified: Vec::new(),
    };
    for (href, path) in package_files(root)? {
        let bytes = package_bytes(&path, &href, ws)?;
        let why = match check_package(&bytes, ring).in_file(&path)? {
            SignatureStatus::Good { .. } => {
                staged.verified += 1;
                continue;
            }
            SignatureStatus::Bad { reason } if reason.contains("digest") => {
                return Err(Error::new(
                    ErrorKind::Corrupt,
                    format!("{reason}: refusing to sign a damaged package"),
                )
                .in_file(&path));
            }
            SignatureStatus::Bad { reason } => reason,
            SignatureStatus::Unsigned => "not signed".to_string(),
            SignatureStatus::MissingKey { key_id } => {
                format!("signed with key {key_id}, which the key file does not hold")
            }
        };
        if no_sign {
            staged.unverified.push(format!("{href}: {why}"));
            continue;
        }
        if let Ok(SignatureStatus::Good { key_id, .. }) = check_package(&bytes, dropped) {
            staged.unverified.push(format!(
                "{href}: signed by {key_id} of the replaced key file (--replace-keys): left as it is"
            ));
            continue;
        }
        let signed = crate::rpm::sign::sign_package(&bytes, key, created).in_file(&path)?;
        let pkg = Package::from_reader(&signed[..], i64::from(created)).in_file(&path)?;
        let entry = PackageEntry::from_package(&pkg, &href).in_file(&path)?;
        let mut file = StagedFile::new(&path)?;
        crate::rpm::sign::write_with_mtime(&mut file, &signed, created)?;
        staged.signed.push(SignedPackage { href, file, entry });
    }
    Ok(staged)
}

/// A package's bytes: the workspace file, or for a placeholder of a private
/// remaster workspace (`Manifest::sparse`) its extents in the source image.
pub(super) fn package_bytes(path: &Path, href: &str, ws: &Workspace) -> Result<Vec<u8>> {
    let sparse = ws
        .manifest_if_any()
        .filter(|m| m.sparse.iter().any(|s| s == href));
    let record = sparse.and_then(|m| m.entries.iter().find(|e| e.path == href).map(|r| (m, r)));
    let Some((m, record)) = record else {
        return fs::read(path)
            .map_err(|e| Error::io(e, "reading the package"))
            .in_file(path);
    };
    let src = ws.source().ok_or_else(|| {
        Error::invalid(format!(
            "{href} is a placeholder for data that only the source image {} holds, and that image is gone or changed",
            m.source.path.display()
        ))
        .in_file(path)
    })?;
    let mut out = Vec::new();
    for &(lba, len) in &record.extents {
        let offset = u64::from(lba)
            .checked_mul(SECTOR)
            .ok_or_else(|| Error::corrupt(u64::from(lba), "extent LBA overflows").in_file(path))?;
        let len = usize::try_from(len)
            .map_err(|_| Error::corrupt(offset, "extent too large").in_file(path))?;
        out.extend(src.read_vec(offset, len, href)?);
    }
    Ok(out)
}

/// Write repodata for the staged packages, rename them into place, and record in
/// the manifest that their bytes are no longer the source image's.
pub(super) fn commit(
    ws: &mut Workspace,
    root: &Path,
    staged: Staged,
    created: u32,
) -> Result<RepodataReport> {
    let mut old = ws.take_old_repo()?;
    let known: HashMap<String, PackageEntry> = staged
        .signed
        .iter()
        .map(|p| (p.href.clone(), p.entry.clone()))
        .collect();
    let current = scan(root, &mut old, &known, &pristine_packages(ws))?;
    let report = replace_repodata(root, &current.entries, &old, &MetadataOptions::from_env()?)?;
    let signed: Vec<String> = staged.signed.iter().map(|p| p.href.clone()).collect();
    for p in staged.signed {
        p.file.commit()?;
    }
    if let Some(m) = ws.manifest_mut() {
        m.sparse.retain(|s| !signed.contains(s));
        for e in m.entries.iter_mut().filter(|e| signed.contains(&e.path)) {
            // New bytes: pack must not copy the source's extents, even when size
            // and mtime happen to equal the record's.
            e.extents.clear();
            e.mtime = Some(i64::from(created));
        }
    }
    Ok(report)
}
