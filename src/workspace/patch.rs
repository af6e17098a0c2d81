//! `xiso patch-installer DIR OVERLAY/`: copy an overlay tree into the installer root
//! and delete paths, recording in the manifest what `pack` must know (new files are
//! root:root unless `--owner` says otherwise; their modes are the overlay's; files
//! that replace existing ones keep the recorded owner and mode).
//!
//! Everything is checked before anything is written: an overlay path that would go
//! through a symlink in the installer root, replace a directory by a file (or the
//! reverse), or a `--remove` of a path that is not there fails with nothing changed.

use std::fs;
use std::io;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

use super::handle::Workspace;
use super::installer::{
    check_parents_on_disk, disk_path, normalize_name, InstallerManifest, INSTALLER_DIR,
};
use crate::error::{Error, Result};

/// Options for [`patch_installer`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatchOptions {
    /// Installer paths to delete (relative, or absolute inside the installer root).
    pub remove: Vec<String>,
    /// Owner for the files the overlay adds or replaces (default: new files root:root,
    /// replaced files keep theirs).
    pub owner: Option<(u32, u32)>,
}

/// What [`patch_installer`] changed.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PatchReport {
    /// Paths the overlay created.
    pub added: Vec<String>,
    /// Existing files the overlay replaced.
    pub replaced: Vec<String>,
    /// Paths deleted.
    pub removed: Vec<String>,
    /// install.img is not unpacked (`unpack --no-installer`): the paths await
    /// `pack --installer-append`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub append_only: bool,
}

impl PatchReport {
    /// The overlay wrote `rel`: replaced when it `existed`, else added.
    fn written(&mut self, rel: String, existed: bool) {
        if existed {
            self.replaced.push(rel);
        } else {
            self.added.push(rel);
        }
    }
}

enum Step {
    Dir {
        rel: String,
        perm: u32,
        exists: bool,
    },
    File {
        rel: String,
        src: PathBuf,
        perm: u32,
        exists: bool,
        was_link: bool,
    },
    Symlink {
        rel: String,
        target: PathBuf,
        exists: bool,
    },
}

/// Apply `overlay` (if any) and `opts.remove` to the installer root of `dir`.
pub fn patch_installer(
    dir: &Path,
    overlay: Option<&Path>,
    opts: &PatchOptions,
) -> Result<PatchReport> {
    Workspace::edit(dir, |ws| patch(ws, overlay, opts))
}

/// The `patch-installer` edit: an overlay for the installer root and paths to delete.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatchInstaller {
    /// Directory copied onto the installer root, if any.
    pub overlay: Option<PathBuf>,
    /// Paths to delete and the owner of the overlay's files.
    pub options: PatchOptions,
}

impl PatchInstaller {
    /// Apply the overlay and removals to `ws`'s installer root (see [`patch_installer`]).
    pub(crate) fn apply(&self, ws: &mut Workspace) -> Result<PatchReport> {
        patch(ws, self.overlay.as_deref(), &self.options)
    }
}

fn patch(ws: &mut Workspace, overlay: Option<&Path>, opts: &PatchOptions) -> Result<PatchReport> {
    let dir = &ws.dir().to_path_buf();
    let m = ws.require_installer(
        "this workspace has no installer root (.xiso/installer): the ISO had no install.img xiso can unpack",
    )?;
    let root = dir.join(INSTALLER_DIR);
    let mut report = PatchReport {
        append_only: m.append_only,
        ..PatchReport::default()
    };
    if m.append_only {
        // install.img was not unpacked: the overlay goes into an empty root, from
        // which `pack --installer-append` appends every path.
        if !opts.remove.is_empty() {
            return Err(Error::invalid(
                "--remove needs install.img unpacked, and this workspace was unpacked with --no-installer (an appended archive cannot delete): unpack again without --no-installer",
            )
            .in_file(dir));
        }
        fs::create_dir_all(&root).map_err(|e| Error::io(e, "cannot create").in_file(&root))?;
    }

    // Plan and check everything first.
    let mut removes = Vec::new();
    for r in &opts.remove {
        let rel = normalize_name(r.trim_start_matches('/'))
            .map_err(|msg| Error::invalid(format!("--remove {r}: {msg}")))?;
        if rel.is_empty() {
            return Err(Error::invalid(
                "--remove: refusing to remove the installer root",
            ));
        }
        check_parents_on_disk(&root, &rel)?;
        let p = disk_path(&root, &rel);
        let md = fs::symlink_metadata(&p).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                Error::new(
                    crate::error::ErrorKind::NotFound,
                    format!("--remove {r}: no such path in the installer root"),
                )
                .in_file(&p)
            } else {
                Error::io(e, "cannot stat").in_file(&p)
            }
        })?;
        removes.push((rel, p, md.is_dir()));
    }
    let mut steps = Vec::new();
    if let Some(ov) = overlay {
        let md =
            fs::metadata(ov).map_err(|e| Error::io(e, "cannot read the overlay").in_file(ov))?;
        if !md.is_dir() {
            return Err(Error::invalid("the overlay must be a directory").in_file(ov));
        }
        plan_overlay(ov, "", &root, &mut steps)?;
    }

    for (rel, p, is_dir) in removes {
        let r = if is_dir {
            fs::remove_dir_all(&p)
        } else {
            fs::remove_file(&p)
        };
        r.map_err(|e| Error::io(e, "cannot remove").in_file(&p))?;
        m.forget_tree(&rel);
        report.removed.push(rel);
    }
    for step in steps {
        match step {
            Step::Dir { rel, perm, exists } => {
                if !exists {
                    let p = disk_path(&root, &rel);
                    fs::create_dir(&p).map_err(|e| Error::io(e, "cannot create").in_file(&p))?;
                    fs::set_permissions(&p, fs::Permissions::from_mode(perm | 0o700))
                        .map_err(|e| Error::io(e, "cannot set permissions").in_file(&p))?;
                    record_new(m, &rel, perm, opts.owner);
                    report.added.push(rel);
                }
            }
            Step::File {
                rel,
                src,
                perm,
                exists,
                was_link,
            } => {
                let p = disk_path(&root, &rel);
                if was_link {
                    fs::remove_file(&p).map_err(|e| Error::io(e, "cannot replace").in_file(&p))?;
                }
                let mut from =
                    fs::File::open(&src).map_err(|e| Error::io(e, "cannot read").in_file(&src))?;
                // Truncate in place: a file that is one of a hard-link pair stays linked.
                let mut to = fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .open(&p)
                    .map_err(|e| Error::io(e, "cannot write").in_file(&p))?;
                io::copy(&mut from, &mut to)
                    .map_err(|e| Error::io(e, "cannot copy").in_file(&p))?;
                m.touch(&rel);
                if exists && !was_link {
                    // A replaced file keeps the image's mode; only a given owner changes.
                    if let Some(owner) = opts.owner {
                        m.set_owner(&rel, owner, None);
                    }
                } else {
                    to.set_permissions(fs::Permissions::from_mode(perm | 0o600))
                        .map_err(|e| Error::io(e, "cannot set permissions").in_file(&p))?;
                    record_new(m, &rel, perm, opts.owner);
                }
                report.written(rel, exists);
            }
            Step::Symlink {
                rel,
                target,
                exists,
            } => {
                let p = disk_path(&root, &rel);
                if exists {
                    fs::remove_file(&p).map_err(|e| Error::io(e, "cannot replace").in_file(&p))?;
                }
                symlink(&target, &p).map_err(|e| Error::io(e, "cannot create").in_file(&p))?;
                m.touch(&rel);
                if let Some(owner) = opts.owner {
                    m.set_owner(&rel, owner, None);
                }
                report.written(rel, exists);
            }
        }
    }
    Ok(report)
}

/// A path new to the installer root: the overlay's mode, root:root or `--owner`.
fn record_new(m: &mut InstallerManifest, rel: &str, perm: u32, owner: Option<(u32, u32)>) {
    m.set_owner(rel, owner.unwrap_or((0, 0)), Some(perm));
}

fn plan_overlay(ov_root: &Path, rel: &str, root: &Path, steps: &mut Vec<Step>) -> Result<()> {
    let abs = disk_path(ov_root, rel);
    let mut names: Vec<String> = Vec::new();
    for d in fs::read_dir(&abs).map_err(|e| Error::io(e, "cannot read directory").in_file(&abs))? {
        let d = d.map_err(|e| Error::io(e, "cannot read directory").in_file(&abs))?;
        names.push(d.file_name().into_string().map_err(|n| {
            Error::unsupported(format!("overlay file name {n:?} is not UTF-8")).in_file(&abs)
        })?);
    }
    names.sort();
    for name in names {
        let child = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let src = ov_root.join(&child);
        let md =
            fs::symlink_metadata(&src).map_err(|e| Error::io(e, "cannot stat").in_file(&src))?;
        check_parents_on_disk(root, &child)?;
        let dest = disk_path(root, &child);
        let existing = match fs::symlink_metadata(&dest) {
            Ok(d) => Some(d),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io(e, "cannot stat").in_file(&dest)),
        };
        let ft = md.file_type();
        let perm = md.permissions().mode() & 0o7777;
        if ft.is_dir() {
            if let Some(d) = &existing {
                if !d.is_dir() {
                    return Err(Error::invalid(format!(
                        "{child}: the overlay has a directory where the installer root has a file"
                    ))
                    .in_file(&src));
                }
            }
            steps.push(Step::Dir {
                rel: child.clone(),
                perm,
                exists: existing.is_some(),
            });
            plan_overlay(ov_root, &child, root, steps)?;
        } else if ft.is_file() || ft.is_symlink() {
            if existing.as_ref().is_some_and(|d| d.is_dir()) {
                return Err(Error::invalid(format!(
                    "{child}: the overlay has a file where the installer root has a directory"
                ))
                .in_file(&src));
            }
            if ft.is_file() {
                steps.push(Step::File {
                    rel: child,
                    src,
                    perm,
                    exists: existing.is_some(),
                    was_link: existing
                        .as_ref()
                        .is_some_and(|d| d.file_type().is_symlink()),
                });
            } else {
                let target = fs::read_link(&src)
                    .map_err(|e| Error::io(e, "cannot read link").in_file(&src))?;
                steps.push(Step::Symlink {
                    rel: child,
                    target,
                    exists: existing.is_some(),
                });
            }
        } else {
            return Err(Error::unsupported(
                "the overlay may hold files, directories and symlinks only",
            )
            .in_file(&src));
        }
    }
    Ok(())
}
