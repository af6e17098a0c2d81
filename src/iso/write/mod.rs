//! Streaming ISO 9660 writer with Rock Ridge, Joliet and El Torito.
//!
//! Two phases, so a hybrid MBR/GPT can be built from final addresses:
//!
//! 1. [`Layout::new`] assigns every logical block address (system area,
//!    descriptors, path tables, directories, boot catalog, boot images, other
//!    files) and returns a [`WriteReport`]: each file's LBA and size, the
//!    volume size, the boot catalog and boot image LBAs.
//! 2. [`Layout::write`] (any `Write`) or [`Layout::write_file`] (a regular
//!    file, kept sparse) streams the image: the caller's system area (the
//!    first 32 KiB, e.g. an isohybrid MBR + GPT), the volume, zero padding to
//!    [`WriteOptions::align`], and a tail (e.g. the backup GPT) ending exactly
//!    at [`WriteReport::image_len`].
//!
//! File bytes are copied in bounded chunks from the source image, from disk,
//! or from memory; only a boot image whose boot info table is patched is read
//! whole (it is small). Identical inputs give identical bytes.
//!
//! What is written, and how it differs from `genisoimage -r -J --joliet-long`:
//! * Primary names are ISO 9660 level 1 (`NAME8.EXT;1`, colliding names numbered like
//!   genisoimage: `VERYL000.TXT;1`); the
//!   real names are in Rock Ridge `NM`. Joliet names hold up to 103 UCS-2
//!   characters (not 64 as `hadris-iso`).
//! * Deep directories (more than 8 levels) are not relocated (no `RE`/`CL`,
//!   no `rr_moved`): Linux, libisofs/xorriso, libarchive and isoinfo read
//!   them as they are.
//! * Files of 4 GiB and more get several directory records (multi-extent,
//!   ECMA-119 6.5.1) in both hierarchies; every record repeats the Rock Ridge
//!   entries, as Linux takes the name from the last record and the
//!   attributes from the first.
//! * Files given as the same [`FileData::SourceExtent`] share one extent (as
//!   hard links or deduplicated files did in the source); a boot image whose
//!   boot info table is patched always gets its own. Other hard links,
//!   device nodes, sockets and FIFOs are not represented.
//! * Rock Ridge: `PX` without serial number, `TF` in short form, `NM`/`SL`
//!   split over several entries and continuation areas when long; each
//!   directory's continuation areas follow its extent directly, because
//!   libarchive reads directories as a stream.
//!
//! ```no_run
//! use xiso::iso::write::{BootEntrySpec, BootSpec, FileData, IsoTree, Layout, Meta, WriteOptions};
//! let t = 1_700_000_000;
//! let mut tree = IsoTree::new(Meta::dir(t));
//! tree.add_dir("boot", Meta::dir(t))?;
//! tree.add_file("boot/isolinux.bin", FileData::Path("isolinux.bin".into()), Meta::file(t))?;
//! let mut opts = WriteOptions::new("MY_VOLUME", t);
//! opts.boot = Some(BootSpec {
//!     catalog_path: "boot/boot.cat".into(),
//!     entries: vec![BootEntrySpec::bios_no_emulation("boot/isolinux.bin", 4, true)],
//! });
//! let layout = Layout::new(&tree, &opts)?;
//! let mbr = [0u8; 512]; // built from layout.report()
//! let mut out = std::fs::File::create("new.iso").map_err(|e| xiso::Error::io(e, "create"))?;
//! layout.write_file(None, &mbr, &[], &mut out)?;
//! # Ok::<(), xiso::Error>(())
//! ```

pub(in crate::iso) mod dirrec;
mod emit;
mod hierarchy;
mod items;
mod layout;
mod names;
mod rockridge;
mod sink;
mod track;
mod tree;
mod volume;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;

pub use layout::{Layout, MAX_EXTENT};
pub use tree::{Dir, FileData, Generate, Generated, IsoTree, Meta, Node};

use crate::error::Result;
use crate::iso::eltorito::{ElToritoEntry, Platform};
use crate::iso::VolumeIds;
use crate::source::Source;
use sink::Sink;

pub use super::time::VolumeDate;

/// The four dates of the volume descriptors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeDates {
    /// Volume creation date.
    pub creation: VolumeDate,
    /// Volume modification date.
    pub modification: VolumeDate,
    /// Volume expiration date.
    pub expiration: VolumeDate,
    /// Volume effective date.
    pub effective: VolumeDate,
}

/// One El Torito boot entry to write: the catalog entry and the file it boots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootEntrySpec {
    /// The catalog entry (El Torito tables 3 and 5) as written: platform, boot indicator,
    /// media, load segment, system type, sector count. The layout sets `load_lba` to the
    /// boot image's; media flags and selection criteria are not written (genisoimage
    /// writes neither).
    pub entry: ElToritoEntry,
    /// Replace `entry.sector_count` by the file size in 512-byte units (capped at
    /// 65535), which is what genisoimage writes for `-e`.
    pub sector_count_from_file: bool,
    /// Tree path of the boot image.
    pub boot_file: String,
    /// Patch the isolinux boot info table (`-boot-info-table`) into bytes 8..64.
    pub patch_boot_info_table: bool,
}

impl BootEntrySpec {
    /// BIOS no-emulation entry (`-b FILE -no-emul-boot -boot-load-size N [-boot-info-table]`).
    pub fn bios_no_emulation(boot_file: &str, load_sectors: u16, info_table: bool) -> Self {
        BootEntrySpec {
            entry: ElToritoEntry::no_emulation(Platform::X86, 0, load_sectors),
            sector_count_from_file: false,
            boot_file: boot_file.to_string(),
            patch_boot_info_table: info_table,
        }
    }

    /// UEFI no-emulation entry (`-eltorito-alt-boot -e FILE -no-emul-boot`).
    pub fn efi(boot_file: &str) -> Self {
        BootEntrySpec {
            entry: ElToritoEntry::no_emulation(Platform::Efi, 0, 0),
            sector_count_from_file: true,
            boot_file: boot_file.to_string(),
            patch_boot_info_table: false,
        }
    }
}

/// The El Torito setup: where the catalog lives and its entries. The first
/// entry is the default entry; each further one gets its own section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootSpec {
    /// Tree path of the catalog (`boot/isolinux/boot.cat`). A file already at
    /// that path (the source's old catalog) is replaced, keeping its metadata;
    /// otherwise the catalog is added with mode 0444.
    pub catalog_path: String,
    /// Boot entries, default entry first.
    pub entries: Vec<BootEntrySpec>,
}

/// Everything about the image that is not the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOptions {
    /// System identifier (PVD 8.4.5), e.g. `LINUX`.
    pub system_id: String,
    /// Volume identifier (8.4.6), at most 32 characters (16 in Joliet).
    pub volume_id: String,
    /// Volume set, publisher, preparer, application and file identifiers (8.4.19–8.4.25).
    pub ids: VolumeIds,
    /// Volume descriptor dates.
    pub dates: VolumeDates,
    /// Write Rock Ridge entries in the primary hierarchy.
    pub rock_ridge: bool,
    /// Write a Joliet hierarchy and its supplementary volume descriptor.
    pub joliet: bool,
    /// El Torito boot setup.
    pub boot: Option<BootSpec>,
    /// Zero sectors added at the end of the volume and counted in its size
    /// (genisoimage `-pad` adds 150).
    pub pad_sectors: u32,
    /// The whole output (volume + padding + tail) is padded with zeros to a
    /// multiple of this many bytes (isohybrid: 1 MiB); 0 or 1 for none.
    pub align: u64,
    /// Length of the tail given to [`Layout::write`], placed so it ends at
    /// [`WriteReport::image_len`] (e.g. a backup GPT).
    pub tail_len: u64,
}

impl WriteOptions {
    /// Defaults as `genisoimage -r -J --joliet-long -V volume_id` with all
    /// dates set to `time` (expiration unset).
    pub fn new(volume_id: &str, time: i64) -> Self {
        WriteOptions {
            system_id: "LINUX".into(),
            volume_id: volume_id.into(),
            ids: VolumeIds::default(),
            dates: VolumeDates {
                creation: VolumeDate::from_unix(time),
                modification: VolumeDate::from_unix(time),
                expiration: VolumeDate::unset(),
                effective: VolumeDate::from_unix(time),
            },
            rock_ridge: true,
            joliet: true,
            boot: None,
            pad_sectors: 0,
            align: 0,
            tail_len: 0,
        }
    }
}

/// Where a file's data is in the new image (multi-extent files are contiguous).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct FileExtent {
    /// First logical block.
    pub lba: u32,
    /// Size in bytes.
    pub size: u64,
}

/// A boot entry as laid out: the catalog entry written and the file it boots.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlacedBootEntry {
    /// Tree path of the boot image.
    pub boot_file: String,
    /// The entry as written in the catalog (`load_lba` is the image's LBA).
    pub entry: ElToritoEntry,
    /// Size of the boot image in bytes.
    pub size: u64,
}

/// Final addresses of a laid-out image: what the hybrid MBR/GPT generator needs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WriteReport {
    /// Every regular file by tree path (no leading `/`), including the catalog.
    /// Files sharing a source extent report the same LBA.
    pub files: BTreeMap<String, FileExtent>,
    /// Volume space size in sectors (PVD 8.4.8), padding included.
    pub volume_sectors: u32,
    /// Length of the whole output in bytes: volume, alignment padding, tail.
    pub image_len: u64,
    /// LBA of the primary volume descriptor (16).
    pub pvd_lba: u32,
    /// LBA of the boot catalog, when booting.
    pub catalog_lba: Option<u32>,
    /// Boot entries in catalog order.
    pub boot_entries: Vec<PlacedBootEntry>,
}

impl Layout<'_> {
    /// Write the image to any `Write`. `system_area` (at most 32 KiB) fills
    /// the start of sectors 0–15, the rest is zero; `tail` must be
    /// [`WriteOptions::tail_len`] bytes. `source` is needed when files are
    /// [`FileData::SourceExtent`]s.
    pub fn write<W: Write>(
        &self,
        source: Option<&Source>,
        system_area: &[u8],
        tail: &[u8],
        mut out: W,
    ) -> Result<()> {
        let mut sink = Sink::plain(&mut out);
        emit::emit(self, source, system_area, tail, &mut sink)?;
        sink.finish()
            .map_err(|e| crate::Error::io(e, "writing the image"))
    }

    /// Write the image into a regular file, truncating it first; runs of zero
    /// bytes (64 KiB blocks) become holes and the file gets its final length
    /// with `set_len`.
    pub fn write_file(
        &self,
        source: Option<&Source>,
        system_area: &[u8],
        tail: &[u8],
        file: &mut File,
    ) -> Result<()> {
        self.write_file_with(source, system_area, tail, file, false)
    }

    /// [`Layout::write_file`], handing written data to the kernel's writeback as
    /// it goes when `early_writeback` (for a caller that will `fsync`: the flush
    /// then overlaps the writing).
    pub(crate) fn write_file_with(
        &self,
        source: Option<&Source>,
        system_area: &[u8],
        tail: &[u8],
        file: &mut File,
        early_writeback: bool,
    ) -> Result<()> {
        let mut sink =
            Sink::sparse(file).map_err(|e| crate::Error::io(e, "preparing the output file"))?;
        if early_writeback {
            sink.start_writeback();
        }
        emit::emit(self, source, system_area, tail, &mut sink)?;
        sink.finish()
            .map_err(|e| crate::Error::io(e, "writing the image"))
    }
}

/// Lay out and write in one step, with a zero system area and no tail.
pub fn write_iso<W: Write>(
    tree: &IsoTree,
    opts: &WriteOptions,
    source: Option<&Source>,
    out: W,
) -> Result<WriteReport> {
    let layout = Layout::new(tree, opts)?;
    layout.write(source, &[], &vec![0u8; opts.tail_len as usize], out)?;
    Ok(layout.report().clone())
}
