//! `add-rpm --pull-in`: make the install target require the added packages the
//! installer would not otherwise install (ARCHITECTURE.md §1 "Install
//! targets"; the XCP-ng guide: "you can add the dependency to the xcp-ng-deps
//! RPM").
//!
//! The target is the package the closure walk starts from: `xcp-ng-deps`, or on
//! comps media the first mandatory package. It is rewritten in pure Rust
//! ([`crate::rpm::rewrite::add_requires`]): one more `Requires:` per added
//! package, a release that sorts after the old one, digests recomputed, old
//! signatures dropped (`xiso sign` / `remaster --sign` signs it with the user's
//! key). The rewritten package replaces the old one under its new file name.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::handle::Workspace;
use super::sign_packages::package_bytes;
use crate::error::{Error, Result, ResultExt};
use crate::repo::closure::{StartFrom, INSTALL_TARGET};
use crate::repo::{ClosureReport, PackageEntry};
use crate::rpm::rewrite::add_requires;
use crate::rpm::Package;

/// What `--pull-in` changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PullInReport {
    /// The install target before (`name-[epoch:]version-release.arch`).
    pub target: String,
    /// The rewritten install target.
    pub rewritten: String,
    /// The names it now requires in addition.
    pub requires: Vec<String>,
}

/// The rewritten install target, not yet written.
pub(super) struct RewrittenTarget {
    /// The old package's entry (its file is removed).
    pub old: PackageEntry,
    /// The new package's entry (`Packages/NAME-VERSION-RELEASE.ARCH.rpm`).
    pub entry: PackageEntry,
    /// The new file's bytes.
    pub bytes: Vec<u8>,
    /// What to report.
    pub report: PullInReport,
}

/// Rewrite the install target of `entries` (the package set after the change,
/// with `reach` its closure) to require every package of `added` (hrefs) the
/// installer does not reach yet. `None` when all are reached already.
/// `sources` maps hrefs of packages not yet in the workspace to their files.
/// The new file's time is `mtime`.
pub(super) fn rewrite_target(
    ws: &Workspace,
    entries: &[&PackageEntry],
    added: &[&str],
    sources: &[(&str, &Path)],
    reach: &ClosureReport,
    mtime: i64,
) -> Result<Option<RewrittenTarget>> {
    let target = match reach.start_from {
        StartFrom::AllPackages => {
            return Err(Error::invalid(format!(
                "--pull-in: the repository has no install target to pull packages in with \
                 (no {INSTALL_TARGET} package, no comps mandatory packages)"
            )))
        }
        StartFrom::InstallTarget | StartFrom::CompsMandatory => reach
            .start
            .iter()
            .find_map(|name| {
                entries
                    .iter()
                    .copied()
                    .find(|e| &e.name == name && e.arch != "src")
            })
            .ok_or_else(|| {
                Error::invalid("--pull-in: the install target is not in the repository")
            })?,
    };
    let mut names: Vec<&str> = Vec::new();
    for href in added {
        let Some(e) = entries.iter().find(|e| e.location_href == *href) else {
            continue;
        };
        if e.name != target.name && !reach.installs(href) && !names.contains(&e.name.as_str()) {
            names.push(&e.name);
        }
    }
    if names.is_empty() {
        return Ok(None);
    }

    let root = ws.tree();
    let old_path = root.join(&target.location_href);
    let bytes = match sources.iter().find(|(h, _)| *h == target.location_href) {
        Some((_, src)) => std::fs::read(src)
            .map_err(|e| Error::io(e, "reading the package"))
            .in_file(src)?,
        None => package_bytes(&old_path, &target.location_href, ws)?,
    };
    let rewritten = add_requires(&bytes, &names).in_file(&old_path)?;
    let file = format!(
        "{}-{}-{}.{}.rpm",
        target.name, target.version, rewritten.release, target.arch
    );
    let href = match target.location_href.rsplit_once('/') {
        Some((parent, _)) => format!("{parent}/{file}"),
        None => file,
    };
    if let Some(e) = entries.iter().find(|e| e.location_href == href) {
        return Err(Error::invalid(format!(
            "--pull-in: the rewritten {} would overwrite {href} ({}-{}-{})",
            target.name, e.name, e.version, e.release
        )));
    }
    let new_path: PathBuf = root.join(&href);
    let pkg = Package::from_reader(&rewritten.bytes[..], mtime).in_file(&new_path)?;
    let entry = PackageEntry::from_package(&pkg, &href).in_file(&new_path)?;
    let report = PullInReport {
        target: nevra(target),
        rewritten: nevra(&entry),
        requires: names.iter().map(|n| n.to_string()).collect(),
    };
    Ok(Some(RewrittenTarget {
        old: target.clone(),
        entry,
        bytes: rewritten.bytes,
        report,
    }))
}

fn nevra(e: &PackageEntry) -> String {
    if e.epoch.is_empty() || e.epoch == "0" {
        format!("{}-{}-{}.{}", e.name, e.version, e.release, e.arch)
    } else {
        format!(
            "{}-{}:{}-{}.{}",
            e.name, e.epoch, e.version, e.release, e.arch
        )
    }
}
