//! The installer root in a workspace: `DIR/installer/` (the files of `install.img`,
//! editable) and `DIR/.xiso/installer` (what an ordinary user's file system cannot
//! hold: every cpio header as the source archive had it — owners, modes, device
//! numbers, inode numbers and link counts — plus the state each file had on disk
//! right after unpacking, so `pack` can tell what was edited).
//!
//! Device nodes, FIFOs and sockets are represented on disk by empty regular files
//! (placeholders); the manifest recreates them at pack time. Directories and files
//! are made owner-writable on disk; their real modes live in the manifest.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::initrd::bz2splice::Bz2Index;
use crate::initrd::cpio::{mode, CpioHeader};
use crate::initrd::stream::Compression;

/// Installer manifest format version; bump on incompatible changes.
pub(crate) const INSTALLER_VERSION: u32 = 1;
/// Relative path of the installer manifest inside a workspace.
pub(crate) const INSTALLER_MANIFEST_PATH: &str = ".xiso/installer";
/// Relative path of the installer root inside a workspace.
pub(crate) const INSTALLER_DIR: &str = "installer";

/// What kind of file an installer entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum InstallerKind {
    /// Regular file.
    File,
    /// Directory.
    Dir,
    /// Symbolic link.
    Symlink,
    /// Character device (placeholder on disk).
    CharDevice,
    /// Block device (placeholder on disk).
    BlockDevice,
    /// Named pipe (placeholder on disk).
    Fifo,
    /// Socket (placeholder on disk).
    Socket,
}

impl InstallerKind {
    /// The kind of a cpio `mode`, if it is one newc can carry.
    pub(crate) fn of_mode(m: u32) -> Option<InstallerKind> {
        Some(match m & mode::S_IFMT {
            mode::S_IFREG => InstallerKind::File,
            mode::S_IFDIR => InstallerKind::Dir,
            mode::S_IFLNK => InstallerKind::Symlink,
            mode::S_IFCHR => InstallerKind::CharDevice,
            mode::S_IFBLK => InstallerKind::BlockDevice,
            mode::S_IFIFO => InstallerKind::Fifo,
            mode::S_IFSOCK => InstallerKind::Socket,
            _ => return None,
        })
    }

    /// Whether the workspace holds a placeholder instead of the real thing.
    #[cfg(test)]
    pub(crate) fn is_placeholder(self) -> bool {
        matches!(
            self,
            InstallerKind::CharDevice
                | InstallerKind::BlockDevice
                | InstallerKind::Fifo
                | InstallerKind::Socket
        )
    }
}

/// The state of a path on disk, to notice edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DiskState {
    /// Size in bytes.
    pub size: u64,
    /// Modification time, seconds.
    pub mtime: i64,
    /// Modification time, nanoseconds part.
    pub mtime_nsec: i64,
    /// Permission bits (`st_mode & 07777`).
    pub perm: u32,
    /// Inode number (hard links on disk share it).
    pub ino: u64,
}

impl DiskState {
    /// The state of `md`.
    pub(crate) fn of(md: &fs::Metadata) -> DiskState {
        DiskState {
            size: md.len(),
            mtime: md.mtime(),
            mtime_nsec: md.mtime_nsec(),
            perm: md.mode() & 0o7777,
            ino: md.ino(),
        }
    }

    /// Same content as far as size and time tell.
    pub(crate) fn same_content(&self, other: &DiskState) -> bool {
        self.size == other.size && self.mtime == other.mtime && self.mtime_nsec == other.mtime_nsec
    }
}

/// One entry of the installer archive.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct InstallerEntry {
    /// Normalized path relative to the installer root (`""` for the root itself).
    pub path: String,
    /// The name exactly as the archive stored it (`.`, `./etc`, `etc`…).
    pub name: String,
    /// Entry kind.
    pub kind: InstallerKind,
    /// The cpio header as read (for hard links: as this member carried it).
    pub header: CpioHeader,
    /// Index of the archive it came from (several archives may be concatenated).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub archive: u32,
    /// Symlink target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// A parent directory the archive did not list; created on disk only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub implicit: bool,
    /// State on disk after unpacking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk: Option<DiskState>,
    /// Not in the source image: `add-rpm --installer` created it (removing it
    /// later drops the entry instead of recording a deletion).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub added: bool,
    /// Offset of its header in the source's uncompressed cpio stream (a hint for
    /// reusing the source's compressed blocks at pack time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

impl InstallerEntry {
    /// Key of the hard-link group this entry belongs to (regular files with
    /// `nlink >= 2` and the same device and inode numbers, within one archive, as
    /// the kernel's initramfs unpacker groups them).
    pub(crate) fn link_key(&self) -> Option<(u32, u32, u32, u32)> {
        (self.kind == InstallerKind::File && self.header.nlink >= 2).then_some((
            self.archive,
            self.header.devmajor,
            self.header.devminor,
            self.header.ino,
        ))
    }
}

/// Owner or mode set for a path by `patch-installer` (applies at pack time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Override {
    /// Owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// Group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<u32>,
    /// Permission bits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub perm: Option<u32>,
}

/// A package `add-rpm --installer` put into the installer root. The rpmdb of
/// the root is never changed: this record is where xiso remembers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstalledPackage {
    /// Package name.
    pub name: String,
    /// `[epoch:]version-release`.
    pub evr: String,
    /// Architecture.
    pub arch: String,
    /// Every path the package owns (`%ghost` included), normalized and with
    /// symlinked parents resolved inside the root, as written.
    pub files: Vec<String>,
    /// Scriptlets the package has (not run).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scriptlets: Vec<String>,
}

/// Where, inside the installer root, xiso keeps the list of packages `add-rpm
/// --installer` installed (the rpmdb is never changed): JSON, a list of
/// [`InstalledPackage`]. It travels inside install.img, so a remaster of a remastered
/// image still knows which files an installed package owns.
pub(crate) const INSTALLED_RECORD: &str = "var/lib/xiso/installed-rpms.json";

/// The record at [`INSTALLED_RECORD`] under `root`, when there is a readable one.
pub(crate) fn read_installed_record(root: &Path) -> Option<Vec<InstalledPackage>> {
    let p = root.join(INSTALLED_RECORD);
    let md = fs::symlink_metadata(&p).ok()?;
    if !md.is_file() || md.len() > 64 << 20 {
        return None;
    }
    serde_json::from_slice(&fs::read(&p).ok()?).ok()
}

/// `DIR/.xiso/installer`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct InstallerManifest {
    /// Always "xiso-installer".
    pub format: String,
    /// [`INSTALLER_VERSION`].
    pub version: u32,
    /// Path of the image in the ISO tree (`install.img`).
    pub image: String,
    /// Compression of the source image.
    pub compression: Compression,
    /// Its level (bzip2: the block size from the stream header; others: xiso's default).
    pub level: u32,
    /// How many cpio archives the image held.
    pub archives: u32,
    /// Size of the uncompressed cpio stream.
    pub cpio_bytes: u64,
    /// State of `DIR/iso/<image>` after unpacking (a replaced image is noticed).
    pub image_disk: DiskState,
    /// Entries in archive order (a later duplicate replaced the earlier one in place).
    pub entries: Vec<InstallerEntry>,
    /// Owners and modes set by `patch-installer`, by path.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub overrides: BTreeMap<String, Override>,
    /// Paths `patch-installer` wrote: changed whatever their size and time say.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub touched: BTreeSet<String>,
    /// Packages `add-rpm --installer` installed, in installation order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<InstalledPackage>,
    /// Where the blocks of a bzip2 source image are, so that a rebuild copies the
    /// unchanged ones ([`crate::initrd::bz2splice`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bz2_index: Option<Bz2Index>,
    /// install.img was not unpacked (`unpack --no-installer`, or a remaster whose
    /// only installer edits are appended): `entries` is empty, the installer root
    /// holds only what `patch-installer` put there, and `pack` can only append it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub append_only: bool,
}

impl InstallerManifest {
    /// An edit wrote `rel` on the disk: `pack` takes it from there whatever its size and
    /// time say.
    pub fn touch(&mut self, rel: &str) {
        self.touched.insert(rel.to_string());
    }

    /// `rel`'s owner in the image is `uid:gid`, and its permission bits `perm` when
    /// given (else the disk's): what an unprivileged workspace cannot keep on the disk.
    pub fn set_owner(&mut self, rel: &str, (uid, gid): (u32, u32), perm: Option<u32>) {
        self.overrides.insert(
            rel.to_string(),
            Override {
                uid: Some(uid),
                gid: Some(gid),
                perm: perm.map(|p| p & 0o7777),
            },
        );
    }

    /// Forget what edits recorded about `rel` and everything under it (it was removed).
    pub fn forget_tree(&mut self, rel: &str) {
        let under = format!("{rel}/");
        self.touched.retain(|t| t != rel && !t.starts_with(&under));
        self.overrides
            .retain(|t, _| t != rel && !t.starts_with(&under));
    }

    /// Read `DIR/.xiso/installer`; `None` when the workspace has no installer root.
    pub(crate) fn load(dir: &Path) -> Result<Option<InstallerManifest>> {
        let path = dir.join(INSTALLER_MANIFEST_PATH);
        let text = match fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(e, "cannot read the installer manifest").in_file(&path)),
        };
        let m: InstallerManifest = serde_json::from_slice(&text).map_err(|e| {
            Error::corrupt(0, format!("installer manifest is not valid: {e}")).in_file(&path)
        })?;
        if m.format != "xiso-installer" {
            return Err(Error::corrupt(0, "not an xiso installer manifest").in_file(&path));
        }
        if m.version != INSTALLER_VERSION {
            return Err(Error::unsupported(format!(
                "installer manifest version {} (this xiso reads version {INSTALLER_VERSION})",
                m.version
            ))
            .in_file(&path));
        }
        Ok(Some(m))
    }

    /// Refuse an edit that needs the unpacked installer root (`what` names it) in an
    /// [`append_only`](Self::append_only) workspace.
    pub(crate) fn require_unpacked(&self, dir: &Path, what: &str) -> Result<()> {
        if self.append_only {
            return Err(Error::invalid(format!(
                "{what} needs install.img unpacked, and this workspace was unpacked with --no-installer (only patch-installer overlays can be added, by pack --installer-append): unpack again without --no-installer"
            ))
            .in_file(dir));
        }
        Ok(())
    }

    /// Write it to `DIR/.xiso/installer` atomically (temporary file + rename).
    pub(crate) fn save(&self, dir: &Path) -> Result<()> {
        let path = dir.join(INSTALLER_MANIFEST_PATH);
        let mut staged = crate::fs::StagedFile::new(&path)?;
        let write = |f: &mut fs::File| -> std::io::Result<()> {
            // Buffered: serde_json writes token by token.
            let mut w = std::io::BufWriter::new(f);
            serde_json::to_writer(&mut w, self)?;
            w.write_all(b"\n")?;
            w.into_inner().map_err(|e| e.into_error())?.sync_all()
        };
        write(staged.file())
            .map_err(|e| Error::io(e, "cannot write the installer manifest").in_file(&path))?;
        staged.commit()
    }

    /// The device numbers the source archive's entries carry (cpio `dev`), for new
    /// entries to match; `(0, 0)` for an archive with none.
    pub(crate) fn archive_dev(&self) -> (u32, u32) {
        self.entries
            .iter()
            .find(|e| !e.implicit)
            .map(|e| (e.header.devmajor, e.header.devminor))
            .unwrap_or((0, 0))
    }

    /// Whether the source archive spells its names `./path` (new entries follow it).
    pub(crate) fn uses_dot_slash(&self) -> bool {
        self.entries
            .iter()
            .any(|e| !e.path.is_empty() && e.name.starts_with("./"))
    }
}

/// Normalize an archive name to a path relative to the installer root: `./` and
/// empty components dropped, `.` is the root (`""`). Absolute names and `..`
/// components are refused: nothing may land outside `DIR/installer/`.
pub(crate) fn normalize_name(name: &str) -> std::result::Result<String, String> {
    if name.starts_with('/') {
        return Err(format!("absolute path {name:?} in the archive"));
    }
    let mut parts = Vec::new();
    for comp in name.split('/') {
        match comp {
            "" | "." => {}
            ".." => return Err(format!("path {name:?} climbs out with '..'")),
            c => parts.push(c),
        }
    }
    Ok(parts.join("/"))
}

/// The on-disk path of `rel` under `root` (`rel` already normalized).
pub(crate) fn disk_path(root: &Path, rel: &str) -> PathBuf {
    if rel.is_empty() {
        root.to_path_buf()
    } else {
        root.join(rel)
    }
}

/// Refuse a path whose parents on disk are not plain directories (a symlink on the
/// way would let a write escape the installer root).
pub(crate) fn check_parents_on_disk(root: &Path, rel: &str) -> Result<()> {
    let mut cur = root.to_path_buf();
    let comps: Vec<&str> = rel.split('/').filter(|c| !c.is_empty()).collect();
    for c in comps.iter().take(comps.len().saturating_sub(1)) {
        cur.push(c);
        match fs::symlink_metadata(&cur) {
            Ok(md) if md.is_dir() => {}
            Ok(md) if md.file_type().is_symlink() => {
                return Err(Error::invalid(format!(
                    "{rel}: the path goes through the symlink {}",
                    cur.strip_prefix(root).unwrap_or(&cur).display()
                ))
                .in_file(&cur));
            }
            Ok(_) => {
                return Err(Error::invalid(format!(
                    "{rel}: {} is not a directory",
                    cur.strip_prefix(root).unwrap_or(&cur).display()
                ))
                .in_file(&cur));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::io(e, "cannot stat").in_file(&cur)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(normalize_name(".").unwrap(), "");
        assert_eq!(normalize_name("./").unwrap(), "");
        assert_eq!(normalize_name("./etc//x").unwrap(), "etc/x");
        assert_eq!(normalize_name("etc/x/.").unwrap(), "etc/x");
        assert!(normalize_name("/etc/x").is_err());
        assert!(normalize_name("../x").is_err());
        assert!(normalize_name("a/../../x").is_err());
    }

    #[test]
    fn kinds() {
        assert_eq!(InstallerKind::of_mode(0o100644), Some(InstallerKind::File));
        assert_eq!(
            InstallerKind::of_mode(0o020600),
            Some(InstallerKind::CharDevice)
        );
        assert_eq!(InstallerKind::of_mode(0o000644), None);
        assert!(InstallerKind::Fifo.is_placeholder());
        assert!(!InstallerKind::Symlink.is_placeholder());
    }
}
