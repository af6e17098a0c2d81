//! `xiso pack DIR OUT.iso`: write a workspace back as a bootable hybrid ISO.
//!
//! Boot replay (ARCHITECTURE.md §2): the El Torito entries recorded at unpack time are
//! written again for the new layout (the isolinux boot info table patched for
//! isolinux.bin's new LBA, the UEFI entry over `boot/efiboot.img` with its sector
//! count), and the hybrid system area is rebuilt exactly as `isohybrid --uefi` lays
//! it out, reusing the source's MBR boot code (bytes 0–431).

use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::handle::Workspace;
use super::installer::{DiskState, InstallerManifest};
use super::installer_pack::{
    scan_installer, write_installer, InstallerPackOptions, InstallerPackReport,
};
use super::manifest::{Manifest, SYSTEM_AREA_PATH, TREE_DIR};
use super::pack_tree::{build_tree, TreeStats};
use crate::boot::hybrid::{self, EfiBootImage, HybridParams, MBR_BOOT_CODE_LEN};
use crate::error::{Error, Result};
use crate::fs::StagedFile;
use crate::iso::eltorito::{Media, Platform};
use crate::iso::write::{
    BootEntrySpec, BootSpec, FileData, Generated, IsoTree, Layout, Node, VolumeDate, VolumeDates,
    WriteOptions, WriteReport,
};
use crate::iso::{Namespace, VolumeDescriptor};

/// How the hybrid system area is chosen.
#[derive(Debug, Clone, Default)]
pub struct PackOptions {
    /// Fixed time for every timestamp and the seed of every id (SOURCE_DATE_EPOCH).
    pub date: Option<i64>,
    /// Add the UEFI El Torito entry and EFI partition when `boot/efiboot.img` exists,
    /// even if the source had none.
    pub uefi: bool,
    /// MBR boot code (432+ bytes, e.g. isohdpfx.bin) for a source that was not hybrid.
    pub mbr_template: Option<PathBuf>,
    /// Write no hybrid MBR/GPT (CD boot only).
    pub no_hybrid: bool,
    /// New volume id.
    pub volume_id: Option<String>,
    /// How install.img is written when `DIR/installer/` changed.
    pub installer: InstallerPackOptions,
    /// Flush the output to disk (`fsync`) before renaming it into place, handing
    /// data to writeback while writing. Off by default, as in cp, genisoimage and
    /// xorriso: the output is renamed into place only once complete either way;
    /// this also makes it survive a power loss right after xiso returns.
    pub fsync: bool,
}

/// What [`pack`] did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PackReport {
    /// Output file.
    pub output: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Volume size in sectors.
    pub volume_sectors: u32,
    /// Whether an isohybrid MBR (and GPT) was written.
    pub hybrid: bool,
    /// Whether the EFI partition was written.
    pub efi_partition: bool,
    /// Where the tree's files came from.
    pub tree: TreeStats,
    /// New LBAs of the boot images.
    pub boot_lbas: Vec<(String, u32)>,
    /// What happened to install.img (absent when the workspace has no installer root).
    pub installer: Option<InstallerPackReport>,
    /// Things the user should know.
    pub warnings: Vec<String>,
}

fn descriptor(m: &Manifest) -> Result<VolumeDescriptor> {
    let raw = m
        .descriptors
        .first()
        .and_then(|d| super::manifest::unhex(&d.hex));
    let raw = raw
        .filter(|r| r.len() == 2048)
        .ok_or_else(|| Error::corrupt(0, "manifest has no primary volume descriptor"))?;
    crate::iso::volume::parse_volume(&raw, 16)
}

fn volume_options(
    m: &Manifest,
    pvd: &VolumeDescriptor,
    opts: &PackOptions,
    now: i64,
) -> WriteOptions {
    let mut w = WriteOptions::new(opts.volume_id.as_deref().unwrap_or(&pvd.volume_id), now);
    w.system_id = pvd.system_id.clone();
    w.ids = pvd.ids.clone();
    w.dates = VolumeDates {
        creation: VolumeDate::from_unix(now),
        modification: VolumeDate::from_unix(now),
        expiration: VolumeDate::unset(),
        effective: VolumeDate::from_unix(now),
    };
    w.rock_ridge = m.namespace == Namespace::RockRidge;
    w.joliet = m.joliet;
    w
}

/// Boot entries to write, and the BIOS/EFI image paths.
fn boot_spec(
    m: &Manifest,
    dir: &Path,
    opts: &PackOptions,
    warnings: &mut Vec<String>,
) -> Result<Option<BootSpec>> {
    let tree = dir.join(super::manifest::TREE_DIR);
    let mut entries = Vec::new();
    for e in &m.boot_entries {
        let Some(file) = &e.file else {
            warnings.push(format!(
                "El Torito entry for platform 0x{:02x} at LBA {} points outside the file tree: not replayed",
                e.entry.platform.to_byte(), e.entry.load_lba
            ));
            continue;
        };
        let on_disk = fs::metadata(tree.join(file)).map_err(|err| {
            Error::io(
                err,
                format!("boot image {file} named by the El Torito catalog is missing"),
            )
            .in_file(&tree)
        })?;
        let recorded = m.entries.iter().find(|r| &r.path == file).map(|r| r.size);
        // A no-emulation EFI image is loaded whole: its count follows the file
        // (genisoimage -e); the BIOS count (isolinux: 4) is a choice, kept.
        let sector_count_from_file = e.entry.platform == Platform::Efi
            && e.entry.media == Media::NoEmulation
            && recorded != Some(on_disk.len());
        entries.push(BootEntrySpec {
            entry: e.entry.clone(),
            sector_count_from_file,
            boot_file: file.clone(),
            patch_boot_info_table: e.boot_info_table,
        });
    }
    if opts.uefi
        && !entries.iter().any(|e| e.entry.platform == Platform::Efi)
        && tree.join("boot/efiboot.img").is_file()
    {
        entries.push(BootEntrySpec::efi("boot/efiboot.img"));
    }
    if entries.is_empty() {
        return Ok(None);
    }
    let catalog_path = m
        .boot_catalog
        .clone()
        .unwrap_or_else(|| "boot/isolinux/boot.cat".into());
    Ok(Some(BootSpec {
        catalog_path,
        entries,
    }))
}

/// The MBR boot code to reuse: the source's, or a template.
fn boot_code(dir: &Path, opts: &PackOptions) -> Result<Option<[u8; MBR_BOOT_CODE_LEN]>> {
    let (path, bytes) = match &opts.mbr_template {
        Some(t) => (
            t.clone(),
            fs::read(t).map_err(|e| Error::io(e, "cannot read the MBR template").in_file(t))?,
        ),
        None => {
            let p = dir.join(SYSTEM_AREA_PATH);
            let b = fs::read(&p)
                .map_err(|e| Error::io(e, "cannot read the saved system area").in_file(&p))?;
            // Hybrid only when the source was: boot code and the 0x55AA signature.
            if b.len() < 512
                || b[510..512] != [0x55, 0xAA]
                || b[..MBR_BOOT_CODE_LEN].iter().all(|&x| x == 0)
            {
                return Ok(None);
            }
            (p, b)
        }
    };
    let code: [u8; MBR_BOOT_CODE_LEN] = bytes
        .get(..MBR_BOOT_CODE_LEN)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| {
            Error::invalid(format!("MBR boot code needs {MBR_BOOT_CODE_LEN} bytes")).in_file(&path)
        })?;
    Ok(Some(code))
}

/// Seed for disk id and GUIDs: the fixed date when given, else the layout itself, so
/// the same content gives the same ids and different content different ones.
fn id_seed(report: &WriteReport, volume_id: &str, date: Option<i64>) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(b"xiso-hybrid-ids\0");
    h.update(volume_id.as_bytes());
    match date {
        Some(t) => h.update(t.to_le_bytes()),
        None => {
            for (path, x) in &report.files {
                h.update(path.as_bytes());
                h.update(x.lba.to_le_bytes());
                h.update(x.size.to_le_bytes());
            }
        }
    }
    h.finalize().to_vec()
}

/// The hybrid system area and the bytes after the volume for `tree` laid out with `wopts`.
pub(crate) struct IsohybridParts {
    /// Bytes for the start of the system area (MBR, GPT header and entries).
    pub system_area: Vec<u8>,
    /// Padding to the cylinder boundary with the backup GPT at its end; the writer's tail.
    pub tail: Vec<u8>,
    /// Whether partition 2 covers an EFI image.
    pub efi_partition: bool,
}

/// Lay `tree` out once (without a tail) to learn the boot images' final LBAs, then
/// build the `isohybrid --uefi` system area for them. `seed` derives the ids from the
/// layout. `None` when there is no BIOS boot entry to point the MBR at. The caller sets
/// `tail_len` to `tail.len()` and lays out again: the tail does not move any LBA.
pub(crate) fn isohybrid_parts(
    tree: &IsoTree,
    wopts: &WriteOptions,
    boot_code: [u8; MBR_BOOT_CODE_LEN],
    seed: impl FnOnce(&WriteReport) -> Vec<u8>,
) -> Result<Option<IsohybridParts>> {
    let mut plain = wopts.clone();
    plain.tail_len = 0;
    let layout = Layout::new(tree, &plain)?;
    let report = layout.report();
    let Some(bios) = report
        .boot_entries
        .iter()
        .find(|b| b.entry.platform == Platform::X86)
    else {
        return Ok(None);
    };
    let efi = report
        .boot_entries
        .iter()
        .find(|b| b.entry.platform == Platform::Efi);
    let volume_len = u64::from(report.volume_sectors) * 2048;
    let h = hybrid::isohybrid_uefi(&HybridParams {
        boot_code,
        iso_sectors: u64::from(report.volume_sectors),
        image_len: volume_len,
        bios_boot_lba: bios.entry.load_lba,
        efi_image: efi.map(|e| EfiBootImage {
            lba: e.entry.load_lba,
            sectors: e.entry.sector_count,
        }),
        ids: hybrid::ids_from_seed(&seed(report)),
        mac: false,
    })?;
    Ok(Some(IsohybridParts {
        tail: h.bytes_after(volume_len)?,
        system_area: h.system_area,
        efi_partition: efi.is_some(),
    }))
}

/// The time to stamp: `--date`, else `SOURCE_DATE_EPOCH`, else now.
pub(crate) fn resolve_date(explicit: Option<i64>) -> Result<(i64, Option<i64>)> {
    let fixed = match explicit {
        Some(t) => Some(t),
        None => match std::env::var("SOURCE_DATE_EPOCH") {
            Ok(v) => Some(v.trim().parse::<i64>().map_err(|_| {
                Error::invalid(format!(
                    "SOURCE_DATE_EPOCH={v:?} is not a number of seconds"
                ))
            })?),
            Err(_) => None,
        },
    };
    let now = fixed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    });
    Ok((now, fixed))
}

/// Pack the workspace `dir` into `out`. The image is written to a temporary file
/// next to `out` and renamed into place at the end: on any error `out` is left as it
/// was. The source image is only read.
pub fn pack(dir: &Path, out: &Path, opts: &PackOptions) -> Result<PackReport> {
    Workspace::open(dir)?.pack(out, opts)
}

impl Workspace {
    /// Pack this workspace into `out` (see [`pack`]): the unchanged files are copied
    /// from the source image the workspace holds (or opens now).
    pub fn pack(&self, out: &Path, opts: &PackOptions) -> Result<PackReport> {
        pack_workspace(self, out, opts)
    }
}

fn pack_workspace(ws: &Workspace, out: &Path, opts: &PackOptions) -> Result<PackReport> {
    let dir = ws.dir();
    let m = ws.manifest()?;
    let (now, fixed) = resolve_date(opts.date)?;
    let mut warnings = Vec::new();
    let source = ws.source();
    if source.is_none() {
        warnings.push(format!(
            "source image {} is gone or changed: every file is read from the workspace",
            m.source.path.display()
        ));
    }
    let installer_manifest = ws.installer()?;
    if let Some(im) = installer_manifest {
        let codec = opts.installer.compress.unwrap_or(im.compression);
        super::dom0_kernel::check_installer_codec(dir, codec, &mut warnings)?;
    }
    let boot = boot_spec(m, dir, opts, &mut warnings)?;
    let skip: Vec<String> = boot.iter().map(|b| b.catalog_path.clone()).collect();
    let (mut tree, mut stats) = build_tree(dir, m, source, &skip, now)?;
    let mut installer_opts = opts.installer.clone();
    installer_opts.date = installer_opts.date.or(fixed);
    let (installer, _image_guard) = pack_installer(
        dir,
        installer_manifest,
        out,
        &installer_opts,
        &mut tree,
        &mut stats,
    )?;
    let pvd = descriptor(m)?;
    let mut wopts = volume_options(m, &pvd, opts, now);
    wopts.boot = boot;

    let code = if opts.no_hybrid {
        None
    } else {
        boot_code(dir, opts)?
    };
    let (system_area, tail, hybrid, efi_partition) = match code {
        None => (Vec::new(), Vec::new(), false, false),
        Some(code) => {
            match isohybrid_parts(&tree, &wopts, code, |r| id_seed(r, &wopts.volume_id, fixed))? {
                Some(p) => (p.system_area, p.tail, true, p.efi_partition),
                None => {
                    warnings.push("no BIOS El Torito entry: hybrid MBR not written".into());
                    (Vec::new(), Vec::new(), false, false)
                }
            }
        }
    };
    wopts.tail_len = tail.len() as u64;
    let layout = Layout::new(&tree, &wopts)?;

    let mut staged = StagedFile::new(out)?;
    let tmp = staged.path().to_path_buf();
    layout
        .write_file_with(source, &system_area, &tail, staged.file(), opts.fsync)
        .and_then(|_| {
            if opts.fsync {
                staged
                    .file()
                    .sync_all()
                    .map_err(|e| Error::io(e, "cannot flush the output").in_file(&tmp))?;
            }
            Ok(())
        })
        .map_err(|e| e.in_file(&tmp))?;
    staged.commit()?;
    let final_report = layout.report();
    Ok(PackReport {
        output: out.to_path_buf(),
        bytes: final_report.image_len,
        volume_sectors: final_report.volume_sectors,
        hybrid,
        efi_partition,
        tree: stats,
        installer,
        boot_lbas: final_report
            .boot_entries
            .iter()
            .map(|b| (b.boot_file.clone(), b.entry.load_lba))
            .collect(),
        warnings,
    })
}

/// When the installer root changed (or another compression is asked for), write a
/// new install.img next to the output and put it in the tree in place of the old.
fn pack_installer(
    dir: &Path,
    im: Option<&InstallerManifest>,
    out: &Path,
    opts: &InstallerPackOptions,
    tree: &mut IsoTree,
    stats: &mut TreeStats,
) -> Result<(Option<InstallerPackReport>, Option<StagedFile>)> {
    let Some(im) = im else {
        if opts.append || opts.compress.is_some() {
            return Err(Error::invalid(
                "this workspace has no installer root: --installer-append and --compress do not apply",
            )
            .in_file(dir));
        }
        return Ok((None, None));
    };
    let recompress = opts.compress.is_some_and(|c| c != im.compression) || opts.level.is_some();
    if im.append_only {
        if recompress {
            im.require_unpacked(dir, "--compress/--level")?;
        }
        if !dir.join(super::installer::INSTALLER_DIR).exists() {
            // Unpacked with --no-installer and never patched.
            return Ok((None, None));
        }
    }
    let changes = scan_installer(dir, im)?;
    if im.append_only && changes.any() && !opts.append {
        return Err(Error::invalid(
            "this workspace was unpacked with --no-installer, so its installer overlay can only be appended to install.img: pack with --installer-append (or unpack again without --no-installer to rebuild the image)",
        )
        .in_file(dir));
    }
    if !changes.any() && !recompress {
        return Ok((
            Some(InstallerPackReport {
                action: "copied".into(),
                compression: im.compression.name().into(),
                ..Default::default()
            }),
            None,
        ));
    }
    let image = dir.join(TREE_DIR).join(&im.image);
    let now = fs::symlink_metadata(&image)
        .map_err(|e| Error::io(e, "install.img is missing from the ISO tree").in_file(&image))?;
    if !DiskState::of(&now).same_content(&im.image_disk) {
        return Err(Error::invalid(format!(
            "both iso/{} and installer/ were changed: keep one (delete installer/ to use the replaced image, or restore the image)",
            im.image
        ))
        .in_file(&image));
    }
    let name = out
        .file_name()
        .ok_or_else(|| Error::invalid("output path has no file name").in_file(out))?
        .to_string_lossy()
        .into_owned();
    // Not committed: the image is read into the ISO, then the guard removes it.
    let mut guard = StagedFile::new(&out.with_file_name(format!("{name}.install-img")))?;
    let tmp = guard.path().to_path_buf();
    let (report, spliced) = write_installer(dir, im, &changes, opts, &image, guard.file())
        .map_err(|e| {
            if e.file().is_some() {
                e
            } else {
                e.in_file(&tmp)
            }
        })?;
    let old = tree.remove(&im.image).ok_or_else(|| {
        Error::invalid(format!(
            "iso/{} was deleted but installer/ was edited",
            im.image
        ))
        .in_file(dir)
    })?;
    let data = if let Some(spliced) = spliced {
        // Made from the source image's blocks and the fresh ones in `tmp` while
        // the ISO is written.
        FileData::Generated(Generated(std::sync::Arc::new(spliced)))
    } else if opts.append {
        // The source image's bytes stay where they are (an extent of the source
        // ISO or the workspace file); only the appended archive is new.
        let Node::File { data: head, .. } = &old else {
            return Err(Error::invalid(format!("iso/{} is not a file", im.image)).in_file(dir));
        };
        FileData::Concat(vec![head.clone(), FileData::Path(tmp)])
    } else {
        FileData::Path(tmp)
    };
    tree.add_file(&im.image, data, *old.meta())?;
    if !stats.changed.contains(&im.image) {
        stats.changed.push(im.image.clone());
        stats.from_workspace += 1;
        stats.from_source = stats.from_source.saturating_sub(1);
    }
    Ok((Some(report), Some(guard)))
}
