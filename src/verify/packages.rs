//! `Packages/*.rpm` against primary.xml: the installer fetches each listed package by
//! `<location href>` and refuses it unless `<size package>` and the sha256
//! `<checksum>` match (ARCHITECTURE.md §1). Each RPM streams from the ISO through
//! [`Package::from_reader`], which parses its headers and hashes the whole file.

use std::collections::HashSet;
use std::io::Cursor;

use super::gpgcheck::GpgConfig;
use super::repodata::primary_entry;
use super::{check, Ctx};
use crate::error::Result;
use crate::initrd::{codec::Codec, detect, stream};
use crate::iso::ExtentReader;
use crate::openpgp::KeyRing;
use crate::repo::listing::{read_primary_packages, ListedPackage};
use crate::repo::Repomd;
use crate::rpm::signature::{check_package, SignatureStatus};
use crate::rpm::Package;

/// Largest primary.xml.gz read (held in memory; a 1,000-package one is ~1 MiB).
const MAX_PRIMARY: u64 = 512 << 20;
const PACKAGES_DIR: &str = "/Packages/";
/// Largest package read into memory for its signature check (a kernel RPM is ~60 MiB).
const MAX_SIGNED_PACKAGE: u64 = 4 << 30;

pub(super) fn check(ctx: &mut Ctx<'_>, repomd: &Repomd, gpg: &GpgConfig) -> Result<()> {
    let Some(listed) = listed_packages(ctx, repomd)? else {
        return Ok(());
    };
    // With gpgcheck on, every package must verify with key1's file.
    let ring = match (&gpg.ring, gpg.gpgcheck) {
        (Some(Ok(ring)), true) => Some(ring),
        (Some(Err(why)), true) => {
            ctx.error(
                check::PACKAGE_SIGNATURE,
                gpg.key_path.as_deref(),
                None,
                format!(
                    "the installer's yum checks every package (gpgcheck=1: {}) with a key it \
                     cannot import: {why}",
                    gpg.why()
                ),
            );
            None
        }
        _ => None,
    };
    let mut hrefs = HashSet::new();
    for p in &listed {
        let path = format!("/{}", p.href.trim_start_matches('/'));
        hrefs.insert(path.clone());
        check_listed(ctx, p, &path, ring.map(|r| (r, gpg)))?;
    }
    let mut unlisted: Vec<String> = ctx
        .files
        .keys()
        .filter(|k| {
            k.strip_prefix(PACKAGES_DIR)
                .is_some_and(|name| !name.contains('/') && name.ends_with(".rpm"))
        })
        .filter(|k| !hrefs.contains(*k))
        .cloned()
        .collect();
    unlisted.sort();
    for path in unlisted {
        let offset = ctx
            .file(&path)
            .and_then(|e| e.extents.first())
            .map(|x| x.offset());
        ctx.error(
            check::PACKAGE_UNLISTED,
            Some(&path),
            offset,
            format!("{path} is not listed in primary.xml: the installer cannot install it"),
        );
    }
    Ok(())
}

/// The packages primary.xml lists, or `None` with a finding when it cannot be read.
fn listed_packages(ctx: &mut Ctx<'_>, repomd: &Repomd) -> Result<Option<Vec<ListedPackage>>> {
    let Some((path, entry)) = primary_entry(ctx, repomd) else {
        ctx.error(
            check::REPOMD,
            Some("/repodata/repomd.xml"),
            None,
            "repomd.xml has no primary record on the media: packages cannot be checked".into(),
        );
        return Ok(None);
    };
    let offset = entry.extents.first().map(|x| x.offset());
    if entry.size > MAX_PRIMARY {
        ctx.error(
            check::REPOMD,
            Some(&path),
            offset,
            format!("{path} is {} bytes, too large to check", entry.size),
        );
        return Ok(None);
    }
    let mut stored = Vec::with_capacity(entry.size as usize);
    ctx.iso.copy_file(&entry, &mut stored)?;
    let codec = detect(&stored);
    if codec != Codec::Gzip {
        ctx.error(
            check::REPOMD,
            Some(&path),
            offset,
            format!(
                "{path} is {}, not gzip: EL7 yum in the installer reads only gzip",
                codec.name()
            ),
        );
        return Ok(None);
    }
    let parsed =
        stream::decoder(codec, Box::new(Cursor::new(stored))).and_then(read_primary_packages);
    match parsed {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            ctx.error(check::REPOMD, Some(&path), offset, format!("{path}: {e}"));
            Ok(None)
        }
    }
}

fn check_listed(
    ctx: &mut Ctx<'_>,
    p: &ListedPackage,
    path: &str,
    gpg: Option<(&KeyRing, &GpgConfig)>,
) -> Result<()> {
    let Some(entry) = ctx.file(path).cloned() else {
        ctx.error(
            check::PACKAGE_MISSING,
            Some(path),
            None,
            format!(
                "primary.xml lists {} at {}, which is not on the media",
                p.name, p.href
            ),
        );
        return Ok(());
    };
    let offset = entry.extents.first().map(|x| x.offset());
    let read = match gpg {
        // The signatures cover the whole file: read it once, check both.
        Some((ring, gpg)) if entry.size <= MAX_SIGNED_PACKAGE => {
            let mut bytes = Vec::with_capacity(entry.size as usize);
            ctx.iso
                .copy_file(&entry, &mut bytes)
                .map_err(|e| e.in_path(path))?;
            check_signature(ctx, path, offset, &bytes, ring, gpg);
            Package::from_reader(&bytes[..], 0)
        }
        _ => Package::from_reader(ExtentReader::new(ctx.iso, &entry), 0),
    };
    let package = match read {
        Ok(pkg) => pkg,
        Err(e) if e.kind() == crate::ErrorKind::Io => return Err(e.in_path(path)),
        Err(e) => {
            ctx.error(
                check::PACKAGE_CHECKSUM,
                Some(path),
                offset,
                format!("{path} is not a readable RPM: {e}"),
            );
            return Ok(());
        }
    };
    if let Some(size) = p.size {
        if size != package.file_size {
            ctx.error(
                check::PACKAGE_CHECKSUM,
                Some(path),
                offset,
                format!(
                    "{path}: primary.xml says {size} bytes, the file has {}",
                    package.file_size
                ),
            );
        }
    }
    match &p.checksum {
        Some(c) if c.algorithm.eq_ignore_ascii_case("sha256") => {
            let hex = package.sha256_hex();
            if !hex.eq_ignore_ascii_case(c.value.trim()) {
                ctx.error(
                    check::PACKAGE_CHECKSUM,
                    Some(path),
                    offset,
                    format!(
                        "{path}: primary.xml says sha256 {}, the file hashes to {hex}",
                        c.value
                    ),
                );
            }
        }
        Some(c) => ctx.error(
            check::PACKAGE_CHECKSUM,
            Some(path),
            offset,
            format!(
                "{path}: primary.xml gives a {} checksum; the installer needs sha256",
                c.algorithm
            ),
        ),
        None => ctx.error(
            check::PACKAGE_CHECKSUM,
            Some(path),
            offset,
            format!("{path}: primary.xml gives no checksum"),
        ),
    }
    Ok(())
}

/// The check yum's gpgcheck makes (rpm's signature and digest checks with only the
/// keys of key1's file imported), as a finding when it fails.
fn check_signature(
    ctx: &mut Ctx<'_>,
    path: &str,
    offset: Option<u64>,
    bytes: &[u8],
    ring: &KeyRing,
    gpg: &GpgConfig,
) {
    let key = gpg.key_path.as_deref().unwrap_or("key1's file");
    let why = match check_package(bytes, ring) {
        Ok(SignatureStatus::Good { .. }) => return,
        // An unreadable RPM is reported by the checksum check.
        Err(_) => return,
        Ok(SignatureStatus::Unsigned) => "is not signed".to_string(),
        Ok(SignatureStatus::MissingKey { key_id }) => {
            format!("is signed with key ID {key_id}, which {key} does not hold")
        }
        Ok(SignatureStatus::Bad { reason }) => format!("fails its signature check: {reason}"),
    };
    ctx.error(
        check::PACKAGE_SIGNATURE,
        Some(path),
        offset,
        format!(
            "{path} {why}: the installer's yum refuses it (gpgcheck=1: {})",
            gpg.why()
        ),
    );
}
