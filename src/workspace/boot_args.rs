//! `xiso boot-args DIR`: one edit of the dom0 kernel's arguments and of Xen's own
//! (`--xen-add`, `--xen-remove`, `--serial`) applied to every boot menu of a
//! workspace, so BIOS, UEFI CD and UEFI USB boots all see the same options:
//!
//! - `iso/boot/isolinux/isolinux.cfg` (BIOS),
//! - every `iso/EFI/*/grub*.cfg` (UEFI from the CD: grub reads the tree's copy),
//! - every `EFI/*/grub*.cfg` inside `iso/boot/efiboot.img` (UEFI from a USB stick
//!   or the EFI partition: grub reads the copy inside the FAT image, ARCHITECTURE.md §1).
//!
//! Everything is parsed and edited in memory first; nothing is written unless every
//! menu could be read and the edit found something to act on. Each changed file is
//! written to a temporary file and renamed into place, keeping its permissions.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::handle::{tree_root, Workspace};
use super::pack::resolve_date;
use crate::boot::efiboot::EfiBootImage;
use crate::bootcfg::{ArgChange, ArgEdit, BootConfig, ConfigKind, SerialConsole};
use crate::error::{Error, ErrorKind, Result, ResultExt};

/// The workspace path of the BIOS menu.
pub(crate) const ISOLINUX_CFG: &str = "boot/isolinux/isolinux.cfg";
/// The workspace path of the UEFI FAT image.
pub(crate) const EFIBOOT_IMG: &str = "boot/efiboot.img";

/// Options for [`boot_args`].
#[derive(Debug, Clone, Default)]
pub struct BootArgsOptions {
    /// Words to add and keys to remove on the dom0 kernel's lines.
    pub edit: ArgEdit,
    /// Words to add and keys to remove on Xen's own lines (the `xen.gz` segment of
    /// mboot.c32 lines, GRUB's `multiboot2 /boot/xen.gz` / `xen_hypervisor`); build it
    /// with [`ArgEdit::new_xen`].
    pub xen_edit: ArgEdit,
    /// Move Xen's serial console to this port, before `xen_edit` is applied
    /// (`SerialConsole::apply`: entries without one stay as they are).
    pub serial: Option<SerialConsole>,
    /// Only the entries with this isolinux `LABEL` / GRUB `menuentry` title.
    pub entry: Option<String>,
    /// Modification time for the file changed inside `efiboot.img` (Unix seconds;
    /// default `SOURCE_DATE_EPOCH`, else now).
    pub date: Option<i64>,
    /// Check and report only: every menu is read and edited in memory, nothing is
    /// written (`written` stays empty).
    pub dry_run: bool,
}

/// What [`boot_args`] did to one menu.
#[derive(Debug, Clone, Serialize)]
pub struct BootMenuReport {
    /// Path below `DIR/iso/`; a file inside the FAT image is written
    /// `boot/efiboot.img:EFI/xenserver/grub.cfg`.
    pub path: String,
    /// isolinux or grub.
    pub kind: ConfigKind,
    /// Kernel lines the edit applied to (all of them, or those of `--entry`).
    pub kernel_lines: usize,
    /// The lines whose arguments changed.
    pub changes: Vec<ArgChange>,
    /// Xen lines the Xen edit and `--serial` applied to (0 when neither was asked).
    pub xen_lines: usize,
    /// The Xen lines whose words changed (`kernel` is the hypervisor image).
    pub xen_changes: Vec<ArgChange>,
}

/// What [`boot_args`] did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BootArgsReport {
    /// Every menu found, in the order: isolinux.cfg, the tree's grub configs, the
    /// grub configs inside efiboot.img.
    pub menus: Vec<BootMenuReport>,
    /// Files written (below `DIR/iso/`).
    pub written: Vec<String>,
}

impl BootArgsOptions {
    /// Whether Xen's words are edited (`xen_edit` or `serial`).
    pub fn edits_xen(&self) -> bool {
        !self.xen_edit.is_empty() || self.serial.is_some()
    }
}

/// A file of the tree to replace, and its new bytes.
struct Pending {
    path: PathBuf,
    rel: String,
    bytes: Vec<u8>,
}

/// Apply `opts.edit` to every boot menu of the workspace `dir` (see the module docs).
///
/// Errors (nothing is written): no boot menu in the workspace, a menu that cannot be
/// read, `opts.entry` naming no entry in any menu, no kernel line at all for a kernel
/// edit, or no Xen line at all for a Xen edit.
pub fn boot_args(dir: &Path, opts: &BootArgsOptions) -> Result<BootArgsReport> {
    let root = tree_root(dir)?;
    let entry = opts.entry.as_deref();
    let mut report = BootArgsReport::default();
    let mut pending = Vec::new();
    let mut all_entries: Vec<String> = Vec::new();
    let mut edit_one = |rel: String, kind: ConfigKind, bytes: &[u8]| -> Result<Option<Vec<u8>>> {
        let mut cfg = BootConfig::parse(kind, bytes).in_path(rel.clone())?;
        for e in cfg.entries() {
            if !all_entries.iter().any(|a| a == e) {
                all_entries.push(e.to_string());
            }
        }
        // Xen's lines first: they never insert a line, so both passes report line
        // numbers of the file as it was read.
        let xen_looked = if opts.edits_xen() {
            cfg.apply_hypervisor(&opts.xen_edit, opts.serial.as_ref(), entry)
                .in_path(rel.clone())?
        } else {
            Vec::new()
        };
        let looked = cfg.apply(&opts.edit, entry).in_path(rel.clone())?;
        let kernel_lines = looked.len();
        let changes: Vec<ArgChange> = looked.into_iter().filter(ArgChange::changed).collect();
        let xen_lines = xen_looked.len();
        let xen_changes: Vec<ArgChange> =
            xen_looked.into_iter().filter(ArgChange::changed).collect();
        let new = (!changes.is_empty() || !xen_changes.is_empty()).then(|| cfg.text().into_bytes());
        report.menus.push(BootMenuReport {
            path: rel,
            kind,
            kernel_lines,
            changes,
            xen_lines,
            xen_changes,
        });
        Ok(new)
    };

    // BIOS menu and the tree's grub configs.
    let mut tree_menus = Vec::new();
    let isolinux = root.join(ISOLINUX_CFG);
    if isolinux.is_file() {
        tree_menus.push((ISOLINUX_CFG.to_string(), ConfigKind::Isolinux));
    }
    for rel in tree_grub_configs(&root)? {
        tree_menus.push((rel, ConfigKind::Grub));
    }
    for (rel, kind) in tree_menus {
        let path = root.join(&rel);
        let bytes = fs::read(&path).map_err(|e| Error::io(e, "cannot read").in_file(&path))?;
        if let Some(bytes) = edit_one(rel.clone(), kind, &bytes).map_err(|e| e.in_file(&path))? {
            pending.push(Pending { path, rel, bytes });
        }
    }

    // The copies inside efiboot.img.
    let efiboot = root.join(EFIBOOT_IMG);
    if efiboot.is_file() {
        let bytes =
            fs::read(&efiboot).map_err(|e| Error::io(e, "cannot read").in_file(&efiboot))?;
        let mut img = EfiBootImage::new(bytes).in_file(&efiboot)?;
        let (mtime, _) = resolve_date(opts.date)?;
        let mut changed = false;
        for inner in img.grub_configs().in_file(&efiboot)? {
            let cfg = img.read_file(&inner).in_file(&efiboot)?;
            let rel = format!("{EFIBOOT_IMG}:{inner}");
            if let Some(new) = edit_one(rel, ConfigKind::Grub, &cfg).in_file(&efiboot)? {
                img.replace_file(&inner, &new, mtime).in_file(&efiboot)?;
                changed = true;
            }
        }
        if changed {
            pending.push(Pending {
                path: efiboot,
                rel: EFIBOOT_IMG.to_string(),
                bytes: img.into_bytes(),
            });
        }
    }

    if report.menus.is_empty() {
        return Err(Error::new(
            ErrorKind::NotFound,
            format!(
                "no boot menu found: expected iso/{ISOLINUX_CFG}, iso/EFI/*/grub*.cfg or iso/{EFIBOOT_IMG}"
            ),
        )
        .in_file(dir));
    }
    // A kernel edit needs a kernel line, a Xen edit a Xen line; with neither asked
    // (an empty edit) the kernel lines are what must exist, as before Xen edits.
    let kernel_missing = (!opts.edit.is_empty() || !opts.edits_xen())
        && report.menus.iter().all(|m| m.kernel_lines == 0);
    let xen_missing = opts.edits_xen() && report.menus.iter().all(|m| m.xen_lines == 0);
    if kernel_missing || xen_missing {
        let msg = match entry {
            Some(e) if all_entries.iter().any(|a| a == e) => format!(
                "--entry {e:?} has no {} line: it boots {}",
                if kernel_missing { "kernel" } else { "Xen" },
                if kernel_missing { "no dom0 kernel" } else { "a kernel without Xen" }
            ),
            Some(e) => format!(
                "--entry {e:?} matches no entry; the menus have: {}",
                if all_entries.is_empty() {
                    "none".to_string()
                } else {
                    all_entries
                        .iter()
                        .map(|e| format!("{e:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
            None if kernel_missing => "no kernel command line found in any boot menu".to_string(),
            None => "no Xen line (mboot.c32 /boot/xen.gz …, multiboot2 /boot/xen.gz) found in any boot menu: --xen-add, --xen-remove and --serial edit Xen's own arguments".to_string(),
        };
        return Err(Error::new(ErrorKind::NotFound, msg).in_file(dir));
    }

    if opts.dry_run {
        return Ok(report);
    }
    for p in pending {
        replace_file(&p.path, &p.bytes)?;
        report.written.push(p.rel);
    }
    Ok(report)
}

/// The `boot-args` edit: kernel and Xen arguments and the serial console of the
/// boot menus.
#[derive(Debug, Clone, Default)]
pub struct BootArgs {
    /// What to change, where, and the date of the FAT image's file.
    pub options: BootArgsOptions,
}

impl BootArgs {
    /// Edit `ws`'s boot menus (see [`boot_args`]).
    pub(crate) fn apply(&self, ws: &mut Workspace) -> Result<BootArgsReport> {
        boot_args(ws.dir(), &self.options)
    }
}

/// `EFI/<dir>/grub*.cfg` below the tree root, sorted.
fn tree_grub_configs(root: &Path) -> Result<Vec<String>> {
    let efi = root.join("EFI");
    if !efi.is_dir() {
        return Ok(Vec::new());
    }
    let read = |d: &Path| -> Result<Vec<fs::DirEntry>> {
        let mut v = fs::read_dir(d)
            .and_then(|rd| rd.collect::<std::io::Result<Vec<_>>>())
            .map_err(|e| Error::io(e, "cannot read directory").in_file(d))?;
        v.sort_by_key(fs::DirEntry::file_name);
        Ok(v)
    };
    let mut out = Vec::new();
    for d in read(&efi)? {
        if !d.path().is_dir() {
            continue;
        }
        let dname = d.file_name().to_string_lossy().into_owned();
        for f in read(&d.path())? {
            let name = f.file_name().to_string_lossy().into_owned();
            let lower = name.to_ascii_lowercase();
            if lower.starts_with("grub") && lower.ends_with(".cfg") && f.path().is_file() {
                out.push(format!("EFI/{dname}/{name}"));
            }
        }
    }
    Ok(out)
}

/// Replace `path` with `bytes` through a temporary file and a rename, keeping the
/// file's permissions (a new file gets mode 0644).
pub(super) fn replace_file(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let perms = match fs::metadata(path) {
        Ok(md) => md.permissions(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => fs::Permissions::from_mode(0o644),
        Err(e) => return Err(Error::io(e, "cannot stat").in_file(path)),
    };
    let mut staged = crate::fs::StagedFile::new(path)?;
    staged.write_all_synced(bytes, Some(perms))?;
    staged.commit()
}
