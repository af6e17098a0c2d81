//! The dependency closure of the install target ([`crate::repo::closure`]): every
//! Requires of what the installer installs must be provided inside the repository,
//! or the installation stops half-way with a depsolving error.
//!
//! primary, filelists and other stream from the ISO through their repomd.xml
//! records into [`read_entries`]; the comps file (`group`, else `group_gz`) chooses
//! the start set when there is no `xcp-ng-deps` package. Each unresolved require is
//! an error finding with the chain that reached it, when the install target is
//! defined (`xcp-ng-deps`, or the comps mandatory packages). A repository with
//! neither has no install target: the walk then starts from every package, and
//! what it finds unresolved is reported in the notes, not as findings — such a
//! repository (a test fixture, a partial mirror) is not broken by a package the
//! installer never installs.

use super::{check, Ctx};
use crate::error::{ErrorKind, Result};
use crate::iso::Entry;
use crate::iso::ExtentReader;
use crate::repo::closure::{self, StartFrom, INSTALL_TARGET};
use crate::repo::{read_entries, Repomd};

/// Largest comps file read (held in memory; XCP-ng's is ~100 KiB).
const MAX_COMPS: u64 = 64 << 20;
/// Unresolved requires listed in the notes when there is no install target.
const MAX_NOTES: usize = 20;

pub(super) fn check(ctx: &mut Ctx<'_>, repomd: &Repomd) -> Result<()> {
    let mut files: Vec<(String, Entry)> = Vec::new();
    for data_type in ["primary", "filelists", "other"] {
        let found = repomd.record(data_type).and_then(|r| {
            let path = format!("/{}", r.location_href.trim_start_matches('/'));
            ctx.file(&path).cloned().map(|e| (path, e))
        });
        let Some(f) = found else {
            // A missing record or file is a repodata finding already.
            ctx.notes.push(format!(
                "dependency closure: not checked, no {data_type} metadata on the media"
            ));
            return Ok(());
        };
        files.push(f);
    }
    let iso = ctx.iso;
    let mut readers: Vec<ExtentReader<&crate::source::Source>> = files
        .iter()
        .map(|(_, e)| ExtentReader::new(iso, e))
        .collect();
    let [p, f, o] = &mut readers[..] else {
        unreachable!("three metadata files")
    };
    let entries = match read_entries(p, f, o) {
        Ok(v) => v,
        Err(e) if e.kind() == ErrorKind::Io => return Err(e),
        Err(e) if e.kind() == ErrorKind::Unsupported => {
            // Not gzip: the package check reports that as an error.
            ctx.notes
                .push(format!("dependency closure: not checked ({e})"));
            return Ok(());
        }
        Err(e) => {
            let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
            ctx.error(
                check::PACKAGE_CLOSURE,
                Some(&files[0].0),
                None,
                format!(
                    "cannot read the package metadata ({}): {e}",
                    paths.join(", ")
                ),
            );
            return Ok(());
        }
    };

    let comps = match repomd.record("group").or_else(|| repomd.record("group_gz")) {
        None => None,
        Some(r) => {
            let path = format!("/{}", r.location_href.trim_start_matches('/'));
            match ctx.file(&path).map(|e| e.size) {
                // Missing: a repodata.record finding already.
                None => None,
                Some(size) if size > MAX_COMPS => {
                    ctx.error(
                        check::PACKAGE_CLOSURE,
                        Some(&path),
                        None,
                        format!("{path} is {size} bytes, too large for a comps file"),
                    );
                    return Ok(());
                }
                Some(_) => Some((path.clone(), ctx.iso.read_file(&path, MAX_COMPS)?)),
            }
        }
    };
    let report = match closure::check(&entries, comps.as_ref().map(|(_, b)| &b[..])) {
        Ok(r) => r,
        Err(e) => {
            let path = comps.as_ref().map(|(p, _)| p.as_str());
            ctx.error(
                check::PACKAGE_CLOSURE,
                path,
                None,
                format!("{}: {e}", path.unwrap_or("comps")),
            );
            return Ok(());
        }
    };

    let target = match report.start_from {
        StartFrom::InstallTarget => INSTALL_TARGET.to_string(),
        StartFrom::CompsMandatory => format!(
            "the {} mandatory packages of the comps groups",
            report.start.len()
        ),
        StartFrom::AllPackages => {
            let n = report.unresolved.len();
            ctx.notes.push(format!(
                "dependency closure: no {INSTALL_TARGET} package and no comps mandatory \
                 packages, so no install target; walked from all {} packages: {n} unresolved \
                 require{} (not findings)",
                report.start.len(),
                if n == 1 { "" } else { "s" }
            ));
            for u in report.unresolved.iter().take(MAX_NOTES) {
                ctx.notes.push(format!("dependency closure: {u}"));
            }
            if n > MAX_NOTES {
                ctx.notes
                    .push(format!("dependency closure: … and {} more", n - MAX_NOTES));
            }
            return Ok(());
        }
    };
    if report.unresolved.is_empty() {
        ctx.notes.push(format!(
            "dependency closure of {target}: complete ({} packages reached)",
            report.reached
        ));
    }
    for u in &report.unresolved {
        if ctx.driver_disk.is_some() && !u.chain.is_empty() {
            // A driver's requires (the kernel, firmware tools) are the host's: the
            // installer installs @drivers into the system it has just installed.
            ctx.notes.push(format!(
                "dependency closure of {target}: {u}: left to the installed host"
            ));
            continue;
        }
        ctx.error(
            check::PACKAGE_CLOSURE,
            None,
            None,
            format!("dependency closure of {target}: {u}"),
        );
    }
    Ok(())
}
