//! Netinstall media: the variant XCP-ng's `create-iso.sh --netinstall` makes. It
//! carries no package repository: no `Packages/`, no `repodata/`, no `.treeinfo`
//! (the installer then asks for a network repository), and every installer line
//! of every boot menu gets `netinstall` right after the kernel path
//! (`sed s@/vmlinuz@/vmlinuz netinstall@` over isolinux.cfg and the grub configs,
//! whose copy inside efiboot.img is made from the tree's). The menu edit is
//! [`boot_args`], so all copies (the grub.cfg inside `efiboot.img` included) change
//! together.

use std::fs;
use std::path::Path;

use serde::Serialize;

use super::boot_args::{boot_args, BootArgsOptions, BootArgsReport};
use super::handle::Workspace;
use super::manifest::TREE_DIR;
use crate::bootcfg::ArgEdit;
use crate::error::{Error, Result};

/// The installer option that selects a network repository.
pub(crate) const NETINSTALL: &str = "netinstall";

/// What netinstall media lacks, relative to the ISO root: the repository and the
/// file that announces it.
pub(crate) const REPOSITORY_PATHS: [&str; 3] = ["Packages", "repodata", ".treeinfo"];

/// Options for `netinstall`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetinstallOptions {
    /// Modification time for the grub.cfg inside efiboot.img (see [`BootArgsOptions`]).
    pub date: Option<i64>,
}

/// What `netinstall` did.
#[derive(Debug, Clone, Serialize)]
pub struct NetinstallReport {
    /// Paths removed (of `REPOSITORY_PATHS`, those the media had).
    pub removed: Vec<String>,
    /// The boot menu edit (`netinstall` first on every installer line).
    pub boot: BootArgsReport,
}

/// Turn the workspace `dir` into netinstall media (see the module docs). The menus
/// are edited first: a workspace without a kernel line is refused with nothing removed.
pub(crate) fn netinstall(dir: &Path, opts: &NetinstallOptions) -> Result<NetinstallReport> {
    let root = dir.join(TREE_DIR);
    let boot = boot_args(
        dir,
        &BootArgsOptions {
            edit: ArgEdit::default().first(NETINSTALL)?,
            entry: None,
            date: opts.date,
            dry_run: false,
            ..Default::default()
        },
    )?;
    let mut removed = Vec::new();
    for rel in REPOSITORY_PATHS {
        let path = root.join(rel);
        let md = match fs::symlink_metadata(&path) {
            Ok(md) => md,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io(e, "cannot stat").in_file(&path)),
        };
        let gone = if md.is_dir() {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        gone.map_err(|e| Error::io(e, "cannot remove").in_file(&path))?;
        removed.push(rel.to_string());
    }
    Ok(NetinstallReport { removed, boot })
}

/// The `netinstall` edit (see `netinstall`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Netinstall {
    /// The boot menus' date.
    pub options: NetinstallOptions,
}

impl Netinstall {
    /// Make `ws` netinstall media (see [`netinstall`]).
    pub(crate) fn apply(&self, ws: &mut Workspace) -> Result<NetinstallReport> {
        let report = netinstall(ws.dir(), &self.options);
        // The repository is gone (or half gone on an error).
        ws.repo_changed();
        report
    }
}
