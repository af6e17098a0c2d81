//! `xiso overlay DIR SRC/`: copy a directory tree onto the ISO tree of a workspace
//! (`DIR/iso/`), e.g. a branded EULA, extra docs or a replacement `.treeinfo`.
//!
//! Files replace files, directories merge, symlinks are copied as symlinks. New
//! entries get root:root and the overlay's permissions in the packed ISO; replaced
//! files keep the owner the manifest recorded. Everything is checked before anything
//! is written: a path through a symlink in the tree, or a file where the tree has a
//! directory (or the reverse), fails with nothing changed.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

use super::handle::{tree_root, Workspace};
use super::installer::check_parents_on_disk;
use crate::error::{Error, Result};

/// What [`overlay`] changed (tree paths, relative to the ISO root).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct OverlayReport {
    /// Paths the overlay created.
    pub added: Vec<String>,
    /// Files the overlay replaced.
    pub replaced: Vec<String>,
}

enum Step {
    Dir(String, u32),
    File(String, PathBuf, u32),
    Symlink(String, PathBuf),
}

/// Copy `src` onto `DIR/iso/`.
pub fn overlay(dir: &Path, src: &Path) -> Result<OverlayReport> {
    let root = tree_root(dir)?;
    let md = fs::metadata(src).map_err(|e| Error::io(e, "cannot read the overlay").in_file(src))?;
    if !md.is_dir() {
        return Err(Error::invalid("the overlay must be a directory").in_file(src));
    }
    let mut steps = Vec::new();
    plan(src, "", &root, &mut steps)?;
    let mut report = OverlayReport::default();
    for step in steps {
        match step {
            Step::Dir(rel, perm) => {
                let p = root.join(&rel);
                if !p.is_dir() {
                    fs::create_dir(&p).map_err(|e| Error::io(e, "cannot create").in_file(&p))?;
                    fs::set_permissions(&p, fs::Permissions::from_mode(perm | 0o700))
                        .map_err(|e| Error::io(e, "cannot set permissions").in_file(&p))?;
                    report.added.push(rel);
                }
            }
            Step::File(rel, from, perm) => {
                let p = root.join(&rel);
                let existed = remove_existing(&p)?;
                fs::copy(&from, &p).map_err(|e| Error::io(e, "cannot copy").in_file(&p))?;
                fs::set_permissions(&p, fs::Permissions::from_mode(perm | 0o600))
                    .map_err(|e| Error::io(e, "cannot set permissions").in_file(&p))?;
                if existed {
                    report.replaced.push(rel);
                } else {
                    report.added.push(rel);
                }
            }
            Step::Symlink(rel, target) => {
                let p = root.join(&rel);
                let existed = remove_existing(&p)?;
                symlink(&target, &p).map_err(|e| Error::io(e, "cannot create").in_file(&p))?;
                if existed {
                    report.replaced.push(rel);
                } else {
                    report.added.push(rel);
                }
            }
        }
    }
    Ok(report)
}

/// The `overlay` edit: a directory copied onto the ISO tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlay {
    /// The directory to copy.
    pub dir: PathBuf,
}

impl Overlay {
    /// Copy the directory onto `ws`'s ISO tree (see [`overlay`]).
    pub(crate) fn apply(&self, ws: &mut Workspace) -> Result<OverlayReport> {
        let report = overlay(ws.dir(), &self.dir)?;
        let repodata = |rel: &String| rel == "repodata" || rel.starts_with("repodata/");
        if report.added.iter().chain(&report.replaced).any(repodata) {
            ws.repo_changed();
        }
        Ok(report)
    }
}

fn remove_existing(p: &Path) -> Result<bool> {
    match fs::symlink_metadata(p) {
        Ok(_) => {
            fs::remove_file(p).map_err(|e| Error::io(e, "cannot replace").in_file(p))?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io(e, "cannot stat").in_file(p)),
    }
}

/// Walk the overlay (sorted, parents first) and check each path against the tree.
fn plan(src_dir: &Path, rel_dir: &str, root: &Path, steps: &mut Vec<Step>) -> Result<()> {
    let mut names: Vec<_> = fs::read_dir(src_dir)
        .map_err(|e| Error::io(e, "cannot read the overlay").in_file(src_dir))?
        .map(|r| r.map(|d| d.file_name()))
        .collect::<std::io::Result<_>>()
        .map_err(|e| Error::io(e, "cannot read the overlay").in_file(src_dir))?;
    names.sort();
    for name in names {
        let name_s = name.to_str().ok_or_else(|| {
            Error::unsupported(format!("file name {name:?} is not UTF-8")).in_file(src_dir)
        })?;
        let rel = if rel_dir.is_empty() {
            name_s.to_string()
        } else {
            format!("{rel_dir}/{name_s}")
        };
        let from = src_dir.join(&name);
        let md =
            fs::symlink_metadata(&from).map_err(|e| Error::io(e, "cannot stat").in_file(&from))?;
        check_parents_on_disk(root, &rel)?;
        let dest = root.join(&rel);
        let existing = fs::symlink_metadata(&dest).ok();
        let ft = md.file_type();
        if ft.is_dir() {
            if existing.as_ref().is_some_and(|m| !m.is_dir()) {
                return Err(Error::invalid(format!(
                    "{rel}: the overlay has a directory where the tree has a file"
                ))
                .in_file(&from));
            }
            steps.push(Step::Dir(rel.clone(), md.permissions().mode() & 0o7777));
            plan(&from, &rel, root, steps)?;
        } else if existing.as_ref().is_some_and(|m| m.is_dir()) {
            return Err(Error::invalid(format!(
                "{rel}: the overlay has a file where the tree has a directory"
            ))
            .in_file(&from));
        } else if ft.is_symlink() {
            let target = fs::read_link(&from)
                .map_err(|e| Error::io(e, "cannot read link").in_file(&from))?;
            steps.push(Step::Symlink(rel, target));
        } else if ft.is_file() {
            steps.push(Step::File(rel, from, md.permissions().mode() & 0o7777));
        } else {
            return Err(Error::unsupported(
                "device nodes, FIFOs and sockets cannot go into the ISO tree",
            )
            .in_file(&from));
        }
    }
    Ok(())
}
