//! [`Workspace`]: one open workspace, the only owner of its manifests.
//!
//! Edits take `&mut Workspace` and change `DIR/.xiso/manifest` and
//! `DIR/.xiso/installer` through it; [`Workspace::save`] is the only code that writes
//! them back. Each is read at most once per handle (the installer manifest only when
//! an edit or `pack` first asks for it), and the source image is opened at most once:
//! `remaster` hands in the one it unpacked from, a plain [`Workspace::open`] opens it
//! when an edit or `pack` first needs its extents.

use std::cell::OnceCell;
use std::path::{Path, PathBuf};

use super::installer::InstallerManifest;
use super::manifest::{Manifest, TREE_DIR};
use super::unpack::UnpackReport;
use crate::error::{Error, Result};
use crate::iso::IsoImage;
use crate::repo::update::OldRepo;
use crate::source::Source;

/// An open workspace (see the module docs).
pub struct Workspace {
    dir: PathBuf,
    /// `None` when `DIR/.xiso/manifest` could not be read: edits that can do
    /// without it (a bare `iso/` tree) still run; [`Workspace::manifest`] reports why.
    manifest: Option<Manifest>,
    manifest_changed: bool,
    /// Loaded on first use; `Some(None)` when the workspace has no installer root.
    installer: OnceCell<Option<InstallerManifest>>,
    installer_changed: bool,
    /// The source image, when it is still the one the manifest names; opened on
    /// first use unless handed in.
    source: OnceCell<Option<IsoImage>>,
    /// The repository's metadata as the last reader left it, kept so that a
    /// remaster reads it once for the reuse check and `add-rpm`.
    old_repo: Option<OldRepo>,
}

impl Workspace {
    /// Open the workspace `dir`: its manifest is read now (a missing or unreadable
    /// one is reported by [`Workspace::manifest`] to the edits that need it).
    pub fn open(dir: &Path) -> Result<Workspace> {
        Ok(Workspace {
            dir: dir.to_path_buf(),
            manifest: Manifest::load(dir).ok(),
            manifest_changed: false,
            installer: OnceCell::new(),
            installer_changed: false,
            source: OnceCell::new(),
            old_repo: None,
        })
    }

    /// A new workspace at `dir` (made by `unpack`) whose manifest is `manifest`:
    /// [`Workspace::save`] writes it.
    pub(super) fn create(dir: &Path, manifest: Manifest) -> Workspace {
        Workspace {
            dir: dir.to_path_buf(),
            manifest: Some(manifest),
            manifest_changed: true,
            installer: OnceCell::new(),
            installer_changed: false,
            source: OnceCell::new(),
            old_repo: None,
        }
    }

    /// Give the workspace an installer manifest (`unpack`); [`Workspace::save`]
    /// writes it.
    pub(super) fn set_installer(&mut self, im: InstallerManifest) {
        self.installer = OnceCell::from(Some(im));
        self.installer_changed = true;
    }

    /// Unpack `iso` sparsely into `dir` (`remaster`'s private workspace, see
    /// `workspace::unpack::unpack_sparse`) and keep `iso` open as the workspace's source.
    pub(crate) fn unpack_sparse(
        iso: IsoImage,
        dir: &Path,
        installer: bool,
        materialize: &dyn Fn(&str) -> bool,
    ) -> Result<(Workspace, UnpackReport)> {
        let report = super::unpack::unpack_sparse(&iso, dir, installer, materialize)?;
        let ws = Workspace::open(dir)?;
        ws.manifest()?;
        let _ = ws.source.set(Some(iso));
        Ok((ws, report))
    }

    /// The workspace directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `DIR/iso/`.
    pub fn tree(&self) -> PathBuf {
        self.dir.join(TREE_DIR)
    }

    /// `DIR/iso/`, or the error every edit gives for a directory that is no workspace.
    pub(crate) fn checked_tree(&self) -> Result<PathBuf> {
        tree_root(&self.dir)
    }

    /// Open the workspace `dir`, run `edit` on it and save what it changed: each
    /// `xiso EDIT DIR …` entry point (`add_rpms`, `sign`, …) is this around its edit.
    pub(crate) fn edit<T>(dir: &Path, edit: impl FnOnce(&mut Workspace) -> Result<T>) -> Result<T> {
        let mut ws = Workspace::open(dir)?;
        let report = edit(&mut ws)?;
        ws.save()?;
        Ok(report)
    }

    /// The workspace manifest; the error names the file when it could not be read.
    pub fn manifest(&self) -> Result<&Manifest> {
        match &self.manifest {
            Some(m) => Ok(m),
            // Read again only to report why it failed the first time.
            None => Manifest::load(&self.dir).and_then(|_| {
                Err(
                    Error::invalid("the workspace manifest changed while in use")
                        .in_file(self.dir.join(super::manifest::MANIFEST_PATH)),
                )
            }),
        }
    }

    /// The workspace manifest when it could be read (edits that work on a bare
    /// `iso/` tree too).
    pub(crate) fn manifest_if_any(&self) -> Option<&Manifest> {
        self.manifest.as_ref()
    }

    /// The manifest to change, when it could be read; [`Workspace::save`] writes it.
    pub(crate) fn manifest_mut(&mut self) -> Option<&mut Manifest> {
        self.manifest_changed |= self.manifest.is_some();
        self.manifest.as_mut()
    }

    /// The installer manifest (`None`: the workspace has no installer root).
    pub(crate) fn installer(&self) -> Result<Option<&InstallerManifest>> {
        if self.installer.get().is_none() {
            let _ = self.installer.set(InstallerManifest::load(&self.dir)?);
        }
        Ok(self.installer.get().and_then(Option::as_ref))
    }

    /// The installer manifest to change; [`Workspace::save`] writes it.
    pub(crate) fn installer_mut(&mut self) -> Result<Option<&mut InstallerManifest>> {
        self.installer()?;
        self.installer_changed = true;
        Ok(self.installer.get_mut().and_then(Option::as_mut))
    }

    /// The installer manifest to change, or the error `missing` names the edit by.
    pub(crate) fn require_installer(&mut self, missing: &str) -> Result<&mut InstallerManifest> {
        let dir = self.dir.clone();
        self.installer_mut()?
            .ok_or_else(|| Error::invalid(missing.to_string()).in_file(&dir))
    }

    /// The source image, when it is still the one the workspace was unpacked from
    /// (same path, size and head hash); `None` when it is gone or changed.
    pub(crate) fn source(&self) -> Option<&Source> {
        self.source
            .get_or_init(|| {
                let m = self.manifest.as_ref()?;
                let iso = IsoImage::open(&m.source.path).ok()?;
                let id = super::unpack::source_identity(&iso).ok()?;
                (id == m.source).then_some(iso)
            })
            .as_ref()
            .map(IsoImage::source)
    }

    /// The source image when this workspace holds it open.
    pub(crate) fn source_image(&self) -> Option<&IsoImage> {
        self.source.get().and_then(Option::as_ref)
    }

    /// The repository's metadata under `DIR/iso/`, for an edit about to rewrite it:
    /// the copy an earlier reader kept ([`Workspace::keep_old_repo`]), else read now.
    pub(crate) fn take_old_repo(&mut self) -> Result<OldRepo> {
        match self.old_repo.take() {
            Some(old) => Ok(old),
            None => OldRepo::load(&self.tree()),
        }
    }

    /// Keep `old` (read from `DIR/iso/` and still current) for the next
    /// [`Workspace::take_old_repo`].
    pub(crate) fn keep_old_repo(&mut self, old: OldRepo) {
        self.old_repo = Some(old);
    }

    /// The repository's metadata was (or may have been) rewritten: read it again
    /// when next asked.
    pub(crate) fn repo_changed(&mut self) {
        self.old_repo = None;
    }

    /// Write each changed manifest once, atomically (temporary sibling + rename).
    pub fn save(&mut self) -> Result<()> {
        if self.manifest_changed {
            if let Some(m) = &self.manifest {
                m.save(&self.dir)?;
            }
            self.manifest_changed = false;
        }
        if self.installer_changed {
            if let Some(Some(im)) = self.installer.get() {
                im.save(&self.dir)?;
            }
            self.installer_changed = false;
        }
        Ok(())
    }
}

/// `dir/iso/`, checked: the one message for a directory that `xiso unpack` did not make.
pub(crate) fn tree_root(dir: &Path) -> Result<PathBuf> {
    let root = dir.join(TREE_DIR);
    if !root.is_dir() {
        return Err(Error::invalid(
            "not a workspace: no iso/ directory (make one with xiso unpack)",
        )
        .in_file(dir));
    }
    Ok(root)
}
