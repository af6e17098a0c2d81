//! `xiso unpack ISO DIR`.

use std::fs;
use std::io::Read;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::handle::Workspace;
use super::installer::{DiskState, INSTALLER_DIR};
use super::installer_unpack::{
    append_only_manifest, extract_installer, InstallerReport, MAX_EXPANDED_DEFAULT,
};
use super::manifest::{
    hex, EntryRecord, Manifest, RawDescriptor, RecordKind, SourceIdentity, MANIFEST_VERSION,
    SYSTEM_AREA_PATH, TREE_DIR,
};
use crate::error::{Error, Result};
use crate::iso::{Entry, EntryKind, IsoImage};
use crate::source::SECTOR;

/// Options for [`unpack`].
#[derive(Debug, Clone, Default)]
pub struct UnpackOptions {
    /// Write into a non-empty directory.
    pub force: bool,
    /// Do not extract `install.img` into `DIR/installer/`.
    pub skip_installer: bool,
    /// Cap on the uncompressed size of install.img (0: the default,
    /// `super::installer_unpack::MAX_EXPANDED_DEFAULT`).
    pub max_installer_bytes: u64,
}

/// What [`unpack`] did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UnpackReport {
    /// Files written.
    pub files: usize,
    /// Directories created.
    pub dirs: usize,
    /// Symlinks created.
    pub symlinks: usize,
    /// Special files represented by placeholders.
    pub specials: usize,
    /// Bytes of file data written.
    pub bytes: u64,
    /// The installer root extracted from install.img, if any.
    pub installer: Option<InstallerReport>,
}

/// Identity of a source image (see [`SourceIdentity`]).
pub(crate) fn source_identity(iso: &IsoImage) -> Result<SourceIdentity> {
    let src = iso.source();
    let head_len = src.len().min(32 * SECTOR) as usize;
    let head = src.read_vec(0, head_len, "image head")?;
    let mut h = Sha256::new();
    h.update(&head);
    h.update(src.len().to_le_bytes());
    let path = fs::canonicalize(src.path()).unwrap_or_else(|_| src.path().to_path_buf());
    Ok(SourceIdentity {
        path,
        size: src.len(),
        head_sha256: hex(&h.finalize()),
    })
}

/// Build the manifest for an image (no files are written).
pub(crate) fn build_manifest(iso: &IsoImage, entries: &[Entry]) -> Result<Manifest> {
    let d = iso.descriptors();
    let mut descriptors = vec![RawDescriptor {
        lba: d.primary.lba,
        hex: hex(&d.primary.raw),
    }];
    if let Some(j) = &d.joliet {
        descriptors.push(RawDescriptor {
            lba: j.lba,
            hex: hex(&j.raw),
        });
    }
    let boot_entries = crate::iso::boot_entries::boot_entry_records(iso, entries)?;
    let boot_catalog = d.boot_catalog_lba.and_then(|lba| {
        entries
            .iter()
            .find(|e| e.is_file() && e.extents.first().is_some_and(|x| x.lba == lba))
            .map(|e| e.path.trim_start_matches('/').to_string())
    });
    Ok(Manifest {
        format: "xiso-manifest".into(),
        version: MANIFEST_VERSION,
        generator: format!("xiso {}", env!("CARGO_PKG_VERSION")),
        source: source_identity(iso)?,
        namespace: iso.namespace(),
        joliet: d.joliet.is_some(),
        descriptors,
        boot_catalog,
        boot_catalog_lba: d.boot_catalog_lba,
        boot_entries,
        volume_sectors: d.primary.space_size,
        root: entry_record(&iso.root()),
        entries: entries.iter().map(entry_record).collect(),
        sparse: Vec::new(),
    })
}

pub(crate) fn entry_record(e: &Entry) -> EntryRecord {
    let (kind, target, rdev) = match &e.kind {
        EntryKind::File => (RecordKind::File, None, None),
        EntryKind::Directory => (RecordKind::Dir, None, None),
        EntryKind::Symlink { target } => (RecordKind::Symlink, Some(target.clone()), None),
        EntryKind::Special { rdev } => (RecordKind::Special, None, *rdev),
    };
    EntryRecord {
        path: e.path.trim_start_matches('/').to_string(),
        kind,
        mode: e.mode,
        uid: e.uid,
        gid: e.gid,
        nlink: e.nlink,
        mtime: e.mtime,
        size: e.size,
        extents: e.extents.iter().map(|x| (x.lba, x.len)).collect(),
        target,
        rdev,
        hidden: e.hidden,
    }
}

fn is_empty_dir(dir: &Path) -> Result<bool> {
    match fs::read_dir(dir) {
        Ok(mut it) => Ok(it.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(Error::io(e, "cannot read the target directory").in_file(dir)),
    }
}

/// Unpack `iso` into the workspace `dir`. The whole image is validated before
/// anything is written; without `force`, `dir` must be absent or empty, and the
/// workspace is built in a sibling temporary directory then renamed into place, so
/// a failure leaves nothing behind.
pub fn unpack(iso: &IsoImage, dir: &Path, opts: &UnpackOptions) -> Result<UnpackReport> {
    let entries = iso.walk()?;
    let manifest = build_manifest(iso, &entries)?;
    unpack_entries(iso, &entries, manifest, dir, opts, true)
}

/// Files at least this large are left as holes by [`unpack_sparse`].
const SPARSE_MIN: u64 = 64 << 20;

/// Unpack for `remaster`'s private workspace: RPMs, files of 64 MiB and more, and
/// install.img unless `installer` is set are left as holes of the right size and
/// mtime (no data written). `dir` is written in place (the caller owns and removes it). `pack` sees them unchanged and streams them from the
/// source. `materialize` names files that must be written whole anyway.
pub(crate) fn unpack_sparse(
    iso: &IsoImage,
    dir: &Path,
    installer: bool,
    materialize: &dyn Fn(&str) -> bool,
) -> Result<UnpackReport> {
    let entries = iso.walk()?;
    let mut manifest = build_manifest(iso, &entries)?;
    manifest.sparse = entries
        .iter()
        .filter(|e| e.is_file() && e.extents.len() == 1)
        .map(|e| e.path.trim_start_matches('/'))
        .filter(|p| {
            let installer_img = *p == "install.img";
            let bulk = if installer_img {
                !installer
            } else {
                p.ends_with(".rpm")
            };
            !materialize(p) && (bulk || (!installer_img && size_of(&entries, p) >= SPARSE_MIN))
        })
        .map(String::from)
        .collect();
    let opts = UnpackOptions {
        force: false,
        skip_installer: !installer,
        max_installer_bytes: 0,
    };
    fs::create_dir_all(dir).map_err(io_at(dir))?;
    unpack_entries(iso, &entries, manifest, dir, &opts, false)
}

fn size_of(entries: &[Entry], rel: &str) -> u64 {
    entries
        .iter()
        .find(|e| e.path.trim_start_matches('/') == rel)
        .map_or(0, |e| e.size)
}

fn unpack_entries(
    iso: &IsoImage,
    entries: &[Entry],
    manifest: Manifest,
    dir: &Path,
    opts: &UnpackOptions,
    stage: bool,
) -> Result<UnpackReport> {
    let empty = is_empty_dir(dir)?;
    if !empty && !opts.force {
        return Err(Error::invalid(
            "target directory is not empty (use --force to unpack into it anyway)",
        )
        .in_file(dir));
    }
    // An empty target is written as a hidden sibling renamed onto it at the end.
    let staged = if empty && stage {
        Some(crate::fs::StagedDir::sibling(dir, ".xiso-tmp-")?)
    } else {
        None
    };
    let work = staged
        .as_ref()
        .map_or(dir.to_path_buf(), |s| s.path().to_path_buf());
    let result = write_workspace(iso, entries, &manifest, &work).and_then(|mut report| {
        let mut ws = Workspace::create(&work, manifest);
        ws.save()?;
        let image = entries
            .iter()
            .find(|e| e.path == "/install.img" && e.is_file());
        if let (true, Some(img)) = (opts.skip_installer, image) {
            // Not unpacked: record what `pack --installer-append` needs to add
            // `patch-installer` overlays after the image's bytes.
            let rel = img.path.trim_start_matches('/');
            let mut head = Vec::new();
            iso.file_reader(img)?
                .take(crate::initrd::codec::DETECT_LEN as u64)
                .read_to_end(&mut head)
                .map_err(|e| {
                    Error::io(e, "cannot read install.img").in_file(iso.source().path())
                })?;
            let tree_file = work.join(TREE_DIR).join(rel);
            let md = fs::symlink_metadata(&tree_file)
                .map_err(|e| Error::io(e, "cannot stat").in_file(&tree_file))?;
            if let Some(im) = append_only_manifest(&head, rel, DiskState::of(&md)) {
                ws.set_installer(im);
                ws.save()?;
            }
        }
        if !opts.skip_installer {
            if let Some(img) = image {
                let rel = img.path.trim_start_matches('/');
                let cap = match opts.max_installer_bytes {
                    0 => MAX_EXPANDED_DEFAULT,
                    n => n,
                };
                let (im, r) = extract_installer(
                    &work.join(TREE_DIR).join(rel),
                    rel,
                    &work.join(INSTALLER_DIR),
                    cap,
                    iso.source().path(),
                )?;
                ws.set_installer(im);
                ws.save()?;
                report.installer = Some(r);
            }
        }
        Ok(report)
    });
    finish_staging(result, staged, dir)
}

/// Move a staged workspace into place; on error it is removed (dropped).
fn finish_staging(
    result: Result<UnpackReport>,
    staged: Option<crate::fs::StagedDir>,
    dir: &Path,
) -> Result<UnpackReport> {
    let report = result?;
    if let Some(staged) = staged {
        if dir.exists() {
            fs::remove_dir(dir).map_err(|e| {
                Error::io(e, "cannot replace the empty target directory").in_file(dir)
            })?;
        }
        staged.commit_to(dir).map_err(|e| {
            Error::io(e, "cannot move the unpacked workspace into place").in_file(dir)
        })?;
    }
    Ok(report)
}

fn io_at(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::io(e, "cannot write").in_file(path)
}

fn write_workspace(
    iso: &IsoImage,
    entries: &[Entry],
    manifest: &Manifest,
    work: &Path,
) -> Result<UnpackReport> {
    let tree = work.join(TREE_DIR);
    fs::create_dir_all(&tree).map_err(io_at(&tree))?;
    fs::create_dir_all(work.join(".xiso")).map_err(io_at(work))?;
    let mut report = UnpackReport {
        files: 0,
        dirs: 0,
        symlinks: 0,
        specials: 0,
        bytes: 0,
        installer: None,
    };
    let mut dir_times: Vec<(PathBuf, Option<i64>)> = Vec::new();
    let sparse: std::collections::HashSet<&str> =
        manifest.sparse.iter().map(String::as_str).collect();
    for e in entries {
        crate::cleanup::check_interrupted()?;
        let rel = e.path.trim_start_matches('/');
        let target = safe_join(&tree, rel).ok_or_else(|| {
            Error::corrupt(e.record_offset, format!("unsafe path {:?}", e.path))
                .in_file(iso.source().path())
        })?;
        match &e.kind {
            EntryKind::Directory => {
                fs::create_dir_all(&target).map_err(io_at(&target))?;
                report.dirs += 1;
                dir_times.push((target, e.mtime));
            }
            EntryKind::File => {
                let mut f = fs::File::create(&target).map_err(io_at(&target))?;
                if sparse.contains(rel) {
                    f.set_len(e.size).map_err(io_at(&target))?;
                } else {
                    for x in &e.extents {
                        iso.source()
                            .copy_range_to_file(x.offset(), x.len, &mut f, &e.path)?;
                    }
                }
                // Keep the recorded permissions but always let the owner edit: the
                // manifest holds the real mode for pack.
                let perm = (e.mode & 0o7777) | 0o600;
                f.set_permissions(fs::Permissions::from_mode(perm))
                    .map_err(io_at(&target))?;
                crate::fs::set_mtime(&f, e.mtime);
                report.files += 1;
                report.bytes += e.size;
            }
            EntryKind::Symlink { target: to } => {
                symlink(to, &target).map_err(io_at(&target))?;
                report.symlinks += 1;
            }
            EntryKind::Special { .. } => {
                // An ordinary user cannot create device nodes: an empty placeholder,
                // the manifest keeps the type and numbers.
                fs::File::create(&target).map_err(io_at(&target))?;
                report.specials += 1;
            }
        }
    }
    for (d, t) in dir_times.iter().rev() {
        if let Ok(f) = fs::File::open(d) {
            crate::fs::set_mtime(&f, *t);
        }
    }
    let sa_len = iso.source().len().min(16 * SECTOR) as usize;
    let sa = iso.source().read_vec(0, sa_len, "system area")?;
    let sa_path = work.join(SYSTEM_AREA_PATH);
    fs::write(&sa_path, sa).map_err(io_at(&sa_path))?;
    Ok(report)
}

/// Join `rel` under `root`, refusing `..`, absolute components and empty names.
pub(crate) fn safe_join(root: &Path, rel: &str) -> Option<PathBuf> {
    let mut p = root.to_path_buf();
    for comp in rel.split('/') {
        if comp.is_empty() || comp == "." || comp == ".." {
            return None;
        }
        p.push(comp);
    }
    Some(p)
}
