//! Turning a workspace back into a tree to write: which files are untouched (and
//! can be copied from the source image's extents) and what metadata each entry gets.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use super::manifest::{EntryRecord, Manifest, RecordKind, TREE_DIR};
use crate::error::{Error, Result};
use crate::iso::write::{FileData, IsoTree, Meta};
use crate::source::{Source, SECTOR};

/// How the tree was assembled.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct TreeStats {
    /// Files whose bytes are copied from the source image.
    pub from_source: usize,
    /// Files read from the workspace (changed or new).
    pub from_workspace: usize,
    /// Entries not in the manifest.
    pub added: usize,
    /// Manifest entries no longer in the workspace.
    pub removed: usize,
    /// Paths of changed or new files.
    pub changed: Vec<String>,
}

fn mtime_of(meta: &fs::Metadata) -> i64 {
    meta.mtime()
}

/// Build the tree from `DIR/iso/`. `skip` names tree paths that the writer
/// generates itself (the boot catalog). `default_mtime` stamps new entries.
pub(crate) fn build_tree(
    dir: &Path,
    m: &Manifest,
    source: Option<&Source>,
    skip: &[String],
    default_mtime: i64,
) -> Result<(IsoTree, TreeStats)> {
    let by_path: HashMap<&str, &EntryRecord> =
        m.entries.iter().map(|e| (e.path.as_str(), e)).collect();
    let root = dir.join(TREE_DIR);
    let root_meta = fs::metadata(&root)
        .map_err(|e| Error::io(e, "workspace has no iso/ tree").in_file(&root))?;
    if !root_meta.is_dir() {
        return Err(Error::invalid("workspace iso/ is not a directory").in_file(&root));
    }
    let r = &m.root;
    let mut tree = IsoTree::new(Meta::new(
        r.mode & 0o7777,
        r.uid,
        r.gid,
        r.mtime.unwrap_or(default_mtime),
    ));
    let mut stats = TreeStats::default();
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![String::new()];
    while let Some(rel_dir) = stack.pop() {
        let abs_dir = if rel_dir.is_empty() {
            root.clone()
        } else {
            root.join(&rel_dir)
        };
        let mut names: Vec<_> = fs::read_dir(&abs_dir)
            .map_err(|e| Error::io(e, "cannot read directory").in_file(&abs_dir))?
            .map(|r| r.map(|d| d.file_name()))
            .collect::<std::io::Result<_>>()
            .map_err(|e| Error::io(e, "cannot read directory").in_file(&abs_dir))?;
        names.sort();
        for name in names {
            let name = name.into_string().map_err(|n| {
                Error::unsupported(format!(
                    "file name {n:?} is not UTF-8 (Rock Ridge and Joliet names must be)"
                ))
                .in_file(&abs_dir)
            })?;
            let rel = if rel_dir.is_empty() {
                name.clone()
            } else {
                format!("{rel_dir}/{name}")
            };
            if skip.contains(&rel) {
                continue;
            }
            let abs = abs_dir.join(&name);
            let md = fs::symlink_metadata(&abs)
                .map_err(|e| Error::io(e, "cannot stat").in_file(&abs))?;
            let rec = by_path.get(rel.as_str()).copied();
            seen.insert(rel.clone());
            if rec.is_none() {
                stats.added += 1;
            }
            // Recorded metadata wins; new entries get root:root and their disk
            // permissions. A permission change made in the workspace is kept.
            let meta_for = |kind_default: u32| -> Meta {
                match rec {
                    Some(r) => {
                        let disk_perm = md.permissions().mode() & 0o7777;
                        let recorded = r.mode & 0o7777;
                        // Symlink permissions cannot be changed on Linux: keep the recorded ones.
                        let mode = if md.file_type().is_symlink()
                            || disk_perm == recorded | 0o600
                            || disk_perm == recorded
                        {
                            recorded
                        } else {
                            disk_perm
                        };
                        Meta::new(mode, r.uid, r.gid, r.mtime.unwrap_or(default_mtime))
                    }
                    None => Meta::new(
                        md.permissions().mode() & 0o7777 & kind_default,
                        0,
                        0,
                        default_mtime,
                    ),
                }
            };
            let ft = md.file_type();
            if ft.is_dir() {
                tree.add_dir(&rel, meta_for(0o7777))?;
                stack.push(rel);
            } else if ft.is_symlink() {
                let target = fs::read_link(&abs)
                    .map_err(|e| Error::io(e, "cannot read link").in_file(&abs))?;
                let target = target.into_os_string().into_string().map_err(|t| {
                    Error::unsupported(format!("symlink target {t:?} is not UTF-8")).in_file(&abs)
                })?;
                tree.add_symlink(&rel, &target, meta_for(0o7777))?;
            } else if ft.is_file() {
                let untouched = rec.filter(|r| {
                    r.kind == RecordKind::File
                        && r.size == md.len()
                        && r.mtime.is_none_or(|t| t == mtime_of(&md))
                        && r.extents.len() == 1
                });
                let data = match (untouched, source) {
                    (Some(r), Some(_)) => {
                        stats.from_source += 1;
                        let (lba, len) = r.extents[0];
                        FileData::SourceExtent {
                            offset: u64::from(lba) * SECTOR,
                            len,
                        }
                    }
                    (Some(_), None) if m.sparse.contains(&rel) => {
                        return Err(Error::invalid(format!(
                            "{rel} is a placeholder for data that only the source image {} holds, and that image is gone or changed",
                            m.source.path.display()
                        ))
                        .in_file(&abs));
                    }
                    _ => {
                        stats.from_workspace += 1;
                        if untouched.is_none() {
                            stats.changed.push(rel.clone());
                        }
                        FileData::Path(abs.clone())
                    }
                };
                tree.add_file(&rel, data, meta_for(0o7777))?;
            } else {
                return Err(Error::unsupported(
                    "device nodes, FIFOs and sockets cannot be written to the ISO tree",
                )
                .in_file(&abs));
            }
        }
    }
    stats.removed = m
        .entries
        .iter()
        .filter(|e| !seen.contains(&e.path) && !skip.contains(&e.path))
        .count();
    Ok((tree, stats))
}
