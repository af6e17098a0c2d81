//! `xiso diff A.iso B.iso`: what a remaster changed, in the domain's words.
//!
//! Four views of the two images, each computed by streaming, never holding a whole
//! file of either image in memory:
//!
//! - **files** (`files`): paths added, removed, or whose content changed (sizes,
//!   then both extents compared chunk by chunk), and metadata-only changes (mode,
//!   owner; the modification time only with [`DiffOptions::all`]). Bytes a writer
//!   places by position are not content: the boot catalog is compared as its
//!   entries with their LBAs replaced by the files they name, and an isolinux image
//!   with a boot info table (El Torito, `-boot-info-table`) modulo that table.
//! - **packages** (`packages`): the repository's `primary.xml` on each side, by
//!   NEVRA: added, removed, updated (old → new EVR of a name.arch), rebuilt (same
//!   NEVRA, other checksum).
//! - **boot** (`boot`): the El Torito entries, and the kernel arguments of every
//!   boot menu (`isolinux.cfg`, the tree's `EFI/*/grub*.cfg`, and the grub configs
//!   inside `efiboot.img`): entries added/removed, argument words added/removed/changed.
//! - **installer** (`installer`): the files of `install.img` (decoded and read as
//!   cpio, later entries winning as in the kernel; one small summary with a sha256
//!   per path), skipped when the two images' `install.img` bytes are identical.
//!
//! ```no_run
//! use xiso::diff::{diff, DiffOptions};
//! use xiso::iso::IsoImage;
//! let a = IsoImage::open("xcp-ng-8.3.0.iso")?;
//! let b = IsoImage::open("xcp-ng-8.3.0-custom.iso")?;
//! let report = diff(&a, &b, &DiffOptions::default())?;
//! print!("{}", report.to_text());
//! # Ok::<(), xiso::Error>(())
//! ```

mod boot;
mod files;
mod installer;
mod packages;
mod text;

use serde::Serialize;

use crate::error::Result;
use crate::iso::IsoImage;
use crate::workspace::MAX_EXPANDED_DEFAULT;

/// What [`diff`] compares and how far.
#[derive(Debug, Clone)]
pub struct DiffOptions {
    /// Report modification-time-only changes too (files and installer files).
    pub all: bool,
    /// Cap on the uncompressed size of each `install.img` (a decompression bomb
    /// stops the diff with an error).
    pub max_expanded: u64,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            all: false,
            max_expanded: MAX_EXPANDED_DEFAULT,
        }
    }
}

/// One field that differs: its name and both values as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// What differs (`volume_id`, `mode`, `uid`, an argument key…).
    pub field: String,
    /// The value in A.
    pub before: String,
    /// The value in B.
    pub after: String,
}

impl FieldChange {
    fn new(field: &str, before: impl ToString, after: impl ToString) -> FieldChange {
        FieldChange {
            field: field.to_string(),
            before: before.to_string(),
            after: after.to_string(),
        }
    }
}

/// A path whose metadata, but not content, differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetadataChange {
    /// Path (no leading `/`).
    pub path: String,
    /// The fields that differ.
    pub changes: Vec<FieldChange>,
}

/// Paths added, removed, changed (a tree of the ISO or of the installer root).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PathChanges {
    /// Only in B.
    pub added: Vec<String>,
    /// Only in A.
    pub removed: Vec<String>,
    /// In both, with other content (size, bytes, type or symlink target).
    pub changed: Vec<String>,
    /// In both with other mode/owner (installer: also device numbers; the mtime only
    /// with `--all`), whether or not the content changed too.
    pub metadata: Vec<MetadataChange>,
}

impl PathChanges {
    /// Nothing differs.
    pub(crate) fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.metadata.is_empty()
    }
}

/// A package present in both repositories with another version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageUpdate {
    /// Package name.
    pub name: String,
    /// Architecture.
    pub arch: String,
    /// `[epoch:]version-release` in A.
    pub from: String,
    /// `[epoch:]version-release` in B.
    pub to: String,
}

/// Repository differences by NEVRA (`name-[epoch:]version-release.arch`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PackageChanges {
    /// NEVRAs only in B (and not an update of a name.arch of A).
    pub added: Vec<String>,
    /// NEVRAs only in A.
    pub removed: Vec<String>,
    /// Same name.arch, other EVR.
    pub updated: Vec<PackageUpdate>,
    /// Same NEVRA, another package checksum (a rebuild).
    pub rebuilt: Vec<String>,
}

impl PackageChanges {
    /// Nothing differs.
    pub(crate) fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.updated.is_empty()
            && self.rebuilt.is_empty()
    }
}

/// One boot menu entry: the menu file and the entry title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MenuEntry {
    /// The menu: `boot/isolinux/isolinux.cfg`, `EFI/xenserver/grub.cfg`, or
    /// `boot/efiboot.img:EFI/xenserver/grub.cfg` for a copy inside the FAT image.
    pub menu: String,
    /// The isolinux `LABEL` or GRUB `menuentry` title (`#2`… appended when an entry
    /// has several kernel lines).
    pub entry: String,
}

/// The kernel arguments of one entry that differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArgsChange {
    /// Where.
    #[serde(flatten)]
    pub at: MenuEntry,
    /// Words only in B (by key: `console=…` and `console` share the key `console`).
    pub added: Vec<String>,
    /// Words only in A.
    pub removed: Vec<String>,
    /// Keys in both with other values (`field` is the key, the values are the words).
    pub changed: Vec<FieldChange>,
}

/// Boot differences.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BootChanges {
    /// The El Torito entries (platform, media, image file, sectors), when they
    /// differ other than by LBA.
    pub el_torito: Option<FieldChange>,
    /// Menus only in B.
    pub menus_added: Vec<String>,
    /// Menus only in A.
    pub menus_removed: Vec<String>,
    /// Entries only in B (menus in both).
    pub entries_added: Vec<MenuEntry>,
    /// Entries only in A (menus in both).
    pub entries_removed: Vec<MenuEntry>,
    /// Entries in both whose dom0 kernel arguments differ.
    pub args: Vec<ArgsChange>,
    /// Entries in both whose Xen arguments differ (an entry that gains Xen has all
    /// its words added).
    pub xen_args: Vec<ArgsChange>,
}

impl BootChanges {
    /// Nothing differs.
    pub(crate) fn is_empty(&self) -> bool {
        self.el_torito.is_none()
            && self.menus_added.is_empty()
            && self.menus_removed.is_empty()
            && self.entries_added.is_empty()
            && self.entries_removed.is_empty()
            && self.args.is_empty()
            && self.xen_args.is_empty()
    }
}

/// The whole comparison.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DiffReport {
    /// Volume descriptor fields that differ (`volume_id`).
    pub volume: Vec<FieldChange>,
    /// The ISO tree.
    pub files: PathChanges,
    /// The repository.
    pub packages: PackageChanges,
    /// Boot records and menus.
    pub boot: BootChanges,
    /// The files of `install.img` (empty when its bytes are identical or it is absent).
    pub installer: PathChanges,
    /// What could not be compared and why (not differences).
    pub notes: Vec<String>,
}

impl DiffReport {
    /// True when nothing differs (notes aside).
    pub fn is_empty(&self) -> bool {
        self.volume.is_empty()
            && self.files.is_empty()
            && self.packages.is_empty()
            && self.boot.is_empty()
            && self.installer.is_empty()
    }

    /// The human form: one line per difference, grouped and sorted
    /// (`+ Packages/foo.rpm`, `package updated: foo 1.0-1 → 1.1-1`, …).
    pub fn to_text(&self) -> String {
        text::render(self)
    }
}

/// Compare image `a` (before) with image `b` (after).
///
/// Errors: a damaged tree, repository metadata or `install.img` on either side,
/// or an `install.img` expanding past [`DiffOptions::max_expanded`]. What cannot be
/// compared but is not damage (no repository, a non-FAT `efiboot.img`) is a note.
pub fn diff(a: &IsoImage, b: &IsoImage, opts: &DiffOptions) -> Result<DiffReport> {
    let mut report = DiffReport::default();
    let (pa, pb) = (a.primary(), b.primary());
    if pa.volume_id != pb.volume_id {
        report
            .volume
            .push(FieldChange::new("volume_id", &pa.volume_id, &pb.volume_id));
    }
    let ta = files::Tree::read(a)?;
    let tb = files::Tree::read(b)?;
    let el_torito = boot::el_torito(&ta, &tb)?;
    report.files = files::compare(&ta, &tb, &el_torito, opts)?;
    report.boot = boot::compare(&ta, &tb, el_torito.change.clone(), &mut report.notes)?;
    report.packages = packages::compare(&ta, &tb, &mut report.notes)?;
    report.installer = installer::compare(&ta, &tb, &report.files, opts, &mut report.notes)?;
    Ok(report)
}
