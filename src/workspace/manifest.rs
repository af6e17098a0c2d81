//! `DIR/.xiso/manifest`: what `pack` needs to replay the source image.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
pub(crate) use crate::iso::boot_entries::BootEntryRecord;
use crate::iso::Namespace;

/// Manifest format version; bump on incompatible changes.
pub(crate) const MANIFEST_VERSION: u32 = 1;
/// Relative path of the manifest inside a workspace.
pub(crate) const MANIFEST_PATH: &str = ".xiso/manifest";
/// Relative path of the saved system area.
pub(crate) const SYSTEM_AREA_PATH: &str = ".xiso/system-area";
/// Relative path of the ISO tree.
pub(crate) const TREE_DIR: &str = "iso";

/// The identity of the source image, so `pack` can tell whether it may still copy
/// extents from it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SourceIdentity {
    /// Absolute path when unpacked.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the first 64 KiB (system area and volume descriptors) plus the
    /// size: cheap, and it changes whenever the image is rebuilt.
    pub head_sha256: String,
}

/// One volume descriptor, raw, for replay.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RawDescriptor {
    /// LBA in the source.
    pub lba: u32,
    /// The 2048 bytes as hex.
    pub hex: String,
}

/// The kind of a tree entry, as [`EntryRecord::kind`] stores it: [`EntryKind`] without
/// its data (the symlink target and device numbers are fields of the record).
///
/// [`EntryKind`]: crate::iso::EntryKind
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RecordKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
    /// A device node, FIFO or socket.
    Special,
}

impl RecordKind {
    /// The name the manifest stores.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::File => "file",
            RecordKind::Dir => "dir",
            RecordKind::Symlink => "symlink",
            RecordKind::Special => "special",
        }
    }
}

impl std::fmt::Display for RecordKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compares with the stored name, as code written against the string field did.
impl PartialEq<&str> for RecordKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Metadata of one tree entry, as the ISO records it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EntryRecord {
    /// Path relative to the tree root, `/`-separated, no leading slash.
    pub path: String,
    /// What the entry is (`file`, `dir`, `symlink`, `special` on disk).
    pub kind: RecordKind,
    /// POSIX mode (type and permission bits).
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Link count as recorded.
    pub nlink: u32,
    /// Modification time.
    pub mtime: Option<i64>,
    /// Size in bytes.
    pub size: u64,
    /// Source extents `(lba, len)`: pack copies from here when the file is unchanged.
    pub extents: Vec<(u32, u64)>,
    /// Symlink target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Device numbers for special files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rdev: Option<(u32, u32)>,
    /// ISO 9660 hidden flag.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hidden: bool,
}

/// The whole manifest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Always "xiso-manifest".
    pub format: String,
    /// `MANIFEST_VERSION`.
    pub version: u32,
    /// xiso version that wrote it.
    pub generator: String,
    /// The source image.
    pub source: SourceIdentity,
    /// Name space the tree was read from (`rock-ridge`, `joliet`, `iso9660` on disk).
    pub namespace: Namespace,
    /// Whether the source had a Joliet tree.
    pub joliet: bool,
    /// Primary, supplementary and boot record descriptors, raw.
    pub descriptors: Vec<RawDescriptor>,
    /// Path of the boot catalog file in the tree, if the catalog is a visible file.
    pub boot_catalog: Option<String>,
    /// LBA of the boot catalog in the source.
    pub boot_catalog_lba: Option<u32>,
    /// El Torito entries in catalog order.
    pub boot_entries: Vec<BootEntryRecord>,
    /// Volume space size of the source in sectors.
    pub volume_sectors: u32,
    /// The root directory's own metadata (path "").
    pub root: EntryRecord,
    /// Every tree entry, parents before children.
    pub entries: Vec<EntryRecord>,
    /// Tree files left on disk as holes of the right size and mtime (`remaster`'s
    /// private workspace): their data is only in the source, so `pack` streams them
    /// from it and refuses to run when the source is gone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sparse: Vec<String>,
}

impl Manifest {
    /// Read `DIR/.xiso/manifest`.
    pub fn load(dir: &Path) -> Result<Manifest> {
        let path = dir.join(MANIFEST_PATH);
        let text = std::fs::read(&path)
            .map_err(|e| Error::io(e, "cannot read the workspace manifest").in_file(&path))?;
        let m: Manifest = serde_json::from_slice(&text)
            .map_err(|e| Error::corrupt(0, format!("manifest is not valid: {e}")).in_file(&path))?;
        if m.format != "xiso-manifest" {
            return Err(Error::corrupt(0, "not an xiso manifest").in_file(&path));
        }
        if m.version != MANIFEST_VERSION {
            return Err(Error::unsupported(format!(
                "manifest version {} (this xiso reads version {MANIFEST_VERSION})",
                m.version
            ))
            .in_file(&path));
        }
        Ok(m)
    }

    /// Write `DIR/.xiso/manifest` (temporary file, then rename).
    pub(crate) fn save(&self, dir: &Path) -> Result<()> {
        let path = dir.join(MANIFEST_PATH);
        let mut staged = crate::fs::StagedFile::new(&path)?;
        staged.write_all_synced(self.to_json().as_bytes(), None)?;
        staged.commit()
    }

    /// Serialize as pretty JSON.
    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("manifest serializes")
    }
}

/// Lower-case hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes of a hex string.
pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iso::eltorito::{Media, Platform};

    /// Typed fields keep the version-1 text: an old workspace loads, and saving it again
    /// writes the same bytes.
    #[test]
    fn typed_fields_keep_the_on_disk_text() {
        let boot = r#"{
  "platform": 239,
  "bootable": true,
  "media": 0,
  "load_segment": 0,
  "system_type": 0,
  "sector_count": 2880,
  "load_lba": 62,
  "file": "boot/efiboot.img",
  "boot_info_table": false
}"#;
        let r: BootEntryRecord = serde_json::from_str(boot).expect("old record loads");
        assert_eq!(r.entry.platform, Platform::Efi);
        assert_eq!(r.entry.media, Media::NoEmulation);
        assert_eq!(r.entry.load_lba, 62);
        assert_eq!(serde_json::to_string_pretty(&r).expect("serializes"), boot);

        let odd: BootEntryRecord = serde_json::from_str(
            r#"{"platform":7,"bootable":false,"media":4,"load_segment":1984,"system_type":6,
                "sector_count":1,"load_lba":9,"file":null,"boot_info_table":true}"#,
        )
        .expect("loads");
        assert_eq!(odd.entry.platform, Platform::Other(7));
        assert_eq!(odd.entry.media, Media::HardDisk);
        let back: serde_json::Value = serde_json::to_value(&odd).expect("serializes");
        assert_eq!(back["platform"], 7);
        assert_eq!(back["media"], 4);

        for (kind, text) in [
            (RecordKind::File, "\"file\""),
            (RecordKind::Dir, "\"dir\""),
            (RecordKind::Symlink, "\"symlink\""),
            (RecordKind::Special, "\"special\""),
        ] {
            assert_eq!(serde_json::to_string(&kind).expect("kind"), text);
            assert_eq!(format!("\"{kind}\""), text);
            assert_eq!(
                serde_json::from_str::<RecordKind>(text).expect("kind"),
                kind
            );
        }
        for (ns, text) in [
            (Namespace::RockRidge, "\"rock-ridge\""),
            (Namespace::Joliet, "\"joliet\""),
            (Namespace::Iso9660, "\"iso9660\""),
        ] {
            assert_eq!(serde_json::to_string(&ns).expect("namespace"), text);
            assert_eq!(serde_json::from_str::<Namespace>(text).expect("ns"), ns);
        }
    }
}
