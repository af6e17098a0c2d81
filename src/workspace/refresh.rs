//! `add-rpm --refresh-from DIR`: for each package of the repository, the newest
//! package of the same name and arch under DIR (recursive, e.g. a reposync of
//! the updates repository) replaces it when its EVR is newer (rpm's
//! `rpmvercmp`). Packages of other names are left out.
//!
//! Only the headers of the candidates are read ([`Package::open_headers`], while
//! `add-rpm` loads the old metadata on another thread); the chosen ones are then
//! read in full by `add-rpm` like packages given on the command line, so the cost
//! is that of the changed packages.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::add_rpm::evr_of;
use crate::error::{Error, Result, ResultExt};
use crate::repo::PackageEntry;
use crate::rpm::{Evr, Package};

/// One package replaced by a newer one from the refresh directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refreshed {
    /// `name.arch`.
    pub package: String,
    /// The EVR on the media before.
    pub old: String,
    /// The EVR from the directory.
    pub new: String,
    /// The file it came from.
    pub source: PathBuf,
}

/// A package found under the refresh directory: its name, arch and EVR from its
/// header, and its file.
#[derive(Debug)]
pub(super) struct Candidate {
    name: String,
    arch: String,
    evr: Evr,
    path: PathBuf,
}

/// The packages under `from`, in path order, from their headers alone. Independent of
/// the repository, so `add-rpm` reads them while it loads the old metadata.
pub(super) fn candidates(from: &Path) -> Result<Vec<Candidate>> {
    if !from.is_dir() {
        return Err(Error::new(
            crate::error::ErrorKind::NotFound,
            "--refresh-from: no such directory",
        )
        .in_file(from));
    }
    rpm_files(from)?
        .into_iter()
        .map(|path| {
            let pkg = Package::open_headers(&path)?;
            let name = pkg.name().in_file(&path)?;
            let arch = pkg.arch().in_file(&path)?;
            let (epoch, version, release) = pkg.evr().in_file(&path)?;
            let evr = Evr::new(epoch.unwrap_or(0), version, release);
            Ok(Candidate {
                name,
                arch,
                evr,
                path,
            })
        })
        .collect()
}

/// Of `candidates` (from [`candidates`]), the newer packages for the packages of
/// `current`, leaving out the names.arch of `given` (packages the user named
/// explicitly win).
pub(super) fn newer_packages(
    candidates: Vec<Candidate>,
    current: &[PackageEntry],
    given: &[(String, String)],
) -> Vec<Refreshed> {
    let mut on_media: HashMap<(&str, &str), Evr> = HashMap::new();
    for e in current.iter().filter(|e| e.arch != "src") {
        let evr = evr_of(e);
        let slot = on_media
            .entry((e.name.as_str(), e.arch.as_str()))
            .or_insert_with(|| evr.clone());
        if evr.compare(slot).is_gt() {
            *slot = evr;
        }
    }
    let mut best: HashMap<(String, String), (Evr, PathBuf)> = HashMap::new();
    for Candidate {
        name,
        arch,
        evr,
        path,
    } in candidates
    {
        let Some(media_evr) = on_media.get(&(name.as_str(), arch.as_str())) else {
            continue;
        };
        if given.iter().any(|(n, a)| *n == name && *a == arch) {
            continue;
        }
        if !evr.compare(media_evr).is_gt() {
            continue;
        }
        match best.get(&(name.clone(), arch.clone())) {
            // Files are visited in path order: the first of equal versions wins.
            Some((b, _)) if !evr.compare(b).is_gt() => {}
            _ => {
                best.insert((name, arch), (evr, path));
            }
        }
    }
    let mut out: Vec<Refreshed> = best
        .into_iter()
        .map(|((name, arch), (evr, source))| {
            let old = &on_media[&(name.as_str(), arch.as_str())];
            Refreshed {
                package: format!("{name}.{arch}"),
                old: old.to_string(),
                new: evr.to_string(),
                source,
            }
        })
        .collect();
    out.sort_by(|a, b| a.package.cmp(&b.package));
    out
}

/// Every `*.rpm` file below `dir`, sorted by path (symlinks to files followed,
/// symlinked directories not, so a loop cannot recur).
fn rpm_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let list = fs::read_dir(&d)
            .map_err(|e| Error::io(e, "reading the directory"))
            .in_file(&d)?;
        for entry in list {
            let entry = entry
                .map_err(|e| Error::io(e, "reading the directory"))
                .in_file(&d)?;
            let path = entry.path();
            let kind = entry
                .file_type()
                .map_err(|e| Error::io(e, "reading the directory"))
                .in_file(&path)?;
            if kind.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|x| x == "rpm") && path.is_file() {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}
