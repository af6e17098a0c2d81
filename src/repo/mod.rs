//! `repodata/`: the package repository metadata on the ISO.
//!
//! [`repomd::Repomd`] reads the index; [`summarize`] builds the report `xiso inspect`
//! prints, counting the packages of `primary.xml.gz` as a stream (a primary file
//! can be tens of megabytes once decompressed; it is never held in memory).
//!
//! [`PackageEntry`] is one package as primary.xml, filelists.xml and other.xml
//! describe it, built from an [`rpm::Package`](crate::rpm::Package) by
//! createrepo_c's rules ([`entry`]) and written as createrepo_c writes it
//! (`primary`, `filelists`, `other`); `write` writes the gzip metadata
//! files and repomd.xml for a set of entries; [`read`](mod@read) reads them back, and
//! `update` regenerates an existing repository, reusing the entries
//! of unchanged packages:
//!
//! ```no_run
//! use xiso::repo::PackageEntry;
//! use xiso::rpm::Package;
//! let pkg = Package::open("Packages/foo-1.0-1.x86_64.rpm")?;
//! let entry = PackageEntry::from_package(&pkg, "Packages/foo-1.0-1.x86_64.rpm")?;
//! entry.write_primary(&mut std::io::stdout())?;
//! # Ok::<(), xiso::Error>(())
//! ```

pub(crate) mod closure;
pub mod comps;
pub mod entry;
pub(crate) mod filelists;
pub(crate) mod listing;
pub(crate) mod other;
pub(crate) mod primary;
pub mod read;
pub mod repomd;
pub(crate) mod richdep;
mod stream;
pub(crate) mod update;
pub(crate) mod write;
pub(crate) mod xml;

use std::io::{BufRead, BufReader, Read};

use flate2::bufread::MultiGzDecoder;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::initrd::codec::{detect, Codec};
pub(crate) use closure::{check as check_closure, ClosureReport};
pub use entry::PackageEntry;
pub(crate) use entry::{is_primary_file, DepKind};
pub use read::read_entries;
pub(crate) use read::read_primary;
pub use repomd::Repomd;
pub(crate) use repomd::{Checksum, RepomdRecord};
pub use update::RepodataReport;
pub(crate) use update::{replace_repodata, scan, OldRepo};
pub use write::{entries_for_dir, repomd_xml, write_metadata, MetadataOptions};
pub(crate) use write::{metadata_files, package_files};

/// One line of the repository summary: a metadata file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordSummary {
    /// `primary`, `filelists`, `other`, `primary_db`, `group`, …
    pub data_type: String,
    /// The file, relative to the repository root.
    pub href: String,
    /// Stored size in bytes, when repomd.xml states it.
    pub size: Option<u64>,
}

/// What `xiso inspect` reports about `repodata/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepoSummary {
    /// `<revision>` of repomd.xml.
    pub revision: Option<String>,
    /// Every record in repomd.xml order.
    pub records: Vec<RecordSummary>,
    /// `<package>` elements counted in primary.xml.gz (`None` when it was not read).
    pub package_count: Option<u64>,
    /// The `packages="N"` attribute of primary's `<metadata>` element.
    pub declared_package_count: Option<u64>,
    /// Whether `repodata/repomd.xml.asc` is present (the caller looks).
    pub signed: bool,
    /// Inconsistencies that do not stop the report (count mismatch, missing primary).
    pub warnings: Vec<String>,
}

/// Packages in a primary.xml: counted, and as its `<metadata packages>` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PackageCount {
    /// `<package>` children of `<metadata>`.
    pub counted: u64,
    /// The `packages` attribute, when present.
    pub declared: Option<u64>,
}

/// Build the repository summary from a parsed repomd.xml, the primary file's
/// stored bytes (gzip, as the installer requires) when the caller has them, and
/// whether a `repomd.xml.asc` signature exists.
pub fn summarize(
    repomd: &Repomd,
    primary_gz: Option<&mut dyn Read>,
    signed: bool,
) -> Result<RepoSummary> {
    let records = repomd
        .records
        .iter()
        .map(|r| RecordSummary {
            data_type: r.data_type.clone(),
            href: r.location_href.clone(),
            size: r.size,
        })
        .collect();
    let mut warnings = Vec::new();
    let primary = repomd.record("primary");
    if primary.is_none() {
        warnings.push("repomd.xml has no primary record".to_string());
    }
    let count = match primary_gz {
        Some(reader) => {
            let href = primary.map_or("primary.xml.gz", |p| p.location_href.as_str());
            Some(count_packages_dyn(reader).map_err(|e| e.in_path(href))?)
        }
        None => None,
    };
    if let Some(PackageCount {
        counted,
        declared: Some(declared),
    }) = count
    {
        if counted != declared {
            warnings.push(format!(
                "primary.xml declares {declared} packages but lists {counted}"
            ));
        }
    }
    Ok(RepoSummary {
        revision: repomd.revision.clone(),
        records,
        package_count: count.map(|c| c.counted),
        declared_package_count: count.and_then(|c| c.declared),
        signed,
        warnings,
    })
}

/// Count the packages of a gzip-compressed primary.xml, streaming.
///
/// A stream that is not gzip is [`Unsupported`](crate::ErrorKind::Unsupported)
/// when it is another known compression (EL7 yum in the installer reads only
/// gzip) and [`Corrupt`](crate::ErrorKind::Corrupt) otherwise; XML errors carry
/// the offset in the decompressed XML.
pub fn count_primary_packages(mut primary_gz: impl Read) -> Result<PackageCount> {
    count_packages_dyn(&mut primary_gz)
}

fn count_packages_dyn(primary_gz: &mut dyn Read) -> Result<PackageCount> {
    let mut compressed = BufReader::new(primary_gz);
    let head = compressed
        .fill_buf()
        .map_err(|e| Error::io(e, "reading primary.xml.gz"))?;
    match detect(head) {
        Codec::Gzip => {}
        Codec::Unknown | Codec::Uncompressed => {
            return Err(Error::corrupt(0, "primary metadata is not gzip-compressed"))
        }
        other => {
            return Err(Error::unsupported(format!(
                "primary metadata is {}-compressed; the installer reads only gzip",
                other.name()
            )))
        }
    }
    let mut xml = BufReader::new(MultiGzDecoder::new(compressed));
    let mut counted = 0u64;
    let mut declared = None;
    let mut saw_root = false;
    stream::for_each_package(
        &mut xml,
        "primary.xml",
        stream::Source::Gzip,
        stream::Detail::Tag,
        Some(&mut |root| {
            if root.local_name() != "metadata" {
                return Err(Error::corrupt(
                    root.offset,
                    format!(
                        "primary.xml: root element is <{}>, not <metadata>",
                        root.local_name()
                    ),
                ));
            }
            saw_root = true;
            declared = packages_attr(root)?;
            Ok(())
        }),
        &mut |_| {
            counted += 1;
            Ok(())
        },
    )?;
    if !saw_root {
        return Err(Error::corrupt(0, "primary.xml: no <metadata> element"));
    }
    Ok(PackageCount { counted, declared })
}

fn packages_attr(root: &stream::Element) -> Result<Option<u64>> {
    let Some((_, v)) = root
        .attrs
        .iter()
        .find(|(k, _)| stream::local(k) == "packages")
    else {
        return Ok(None);
    };
    let v = v.trim().parse::<u64>().map_err(|_| {
        Error::corrupt(
            root.offset,
            "primary.xml: <metadata packages> is not a number",
        )
    })?;
    Ok(Some(v))
}
