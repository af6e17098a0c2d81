//! Netinstall media (XCP-ng's `create-iso.sh --netinstall`, ARCHITECTURE.md §1): no
//! `.treeinfo` and no repository on the media; the installer finds the packages
//! on the network because its kernel line carries `netinstall`. Media without a
//! repository whose installer lines lack `netinstall` would stop at "no
//! installation source": every installer line of every menu a firmware path
//! reads (isolinux.cfg, the tree's `EFI/*/grub*.cfg`, the grub configs inside
//! `efiboot.img`) must carry the word.

use super::{check, Ctx};
use crate::boot::efiboot::EfiBootImage;
use crate::bootcfg::{BootConfig, ConfigKind};
use crate::error::Result;
use crate::workspace::{EFIBOOT_IMG, ISOLINUX_CFG, NETINSTALL};

/// Largest boot menu read.
const MAX_CFG: u64 = 1 << 20;
/// `efiboot.img` stays below 32 MiB (ARCHITECTURE.md §2); larger is a boot finding already.
const MAX_EFIBOOT: u64 = 32 << 20;

/// One installer kernel line: the menu it is in, its entry and kernel, and
/// whether `netinstall` is among its words.
struct InstallerLine {
    menu: String,
    entry: String,
    kernel: String,
    netinstall: bool,
}

/// Whether the media is netinstall media: no `.treeinfo`, no repomd.xml, and
/// `netinstall` on an installer line. Media without a repository and without the
/// word is checked as ordinary media (and its missing repository reported).
pub(super) fn is_netinstall(ctx: &Ctx<'_>) -> Result<bool> {
    if ctx.file("/.treeinfo").is_some() || ctx.file("/repodata/repomd.xml").is_some() {
        return Ok(false);
    }
    Ok(installer_lines(ctx)?.iter().any(|l| l.netinstall))
}

pub(super) fn check(ctx: &mut Ctx<'_>) -> Result<()> {
    let lines = installer_lines(ctx)?;
    let (with, without): (Vec<&InstallerLine>, Vec<&InstallerLine>) =
        lines.iter().partition(|l| l.netinstall);
    for l in &without {
        let path = l.menu.split(':').next().unwrap_or(&l.menu).to_string();
        ctx.error(
            check::NETINSTALL,
            Some(&format!("/{path}")),
            None,
            format!(
                "{}: entry {:?} {} has no `{NETINSTALL}`: netinstall media has no repository, \
                 so this entry's installer finds no installation source",
                l.menu, l.entry, l.kernel
            ),
        );
    }
    ctx.notes.push(format!(
        "netinstall media: no repository on the media (the installer asks for a network one); \
         {} of {} installer lines carry `{NETINSTALL}`",
        with.len(),
        lines.len()
    ));
    Ok(())
}

/// Every installer kernel line of every boot menu; menus that cannot be read are
/// the boot checks' findings and are skipped here.
fn installer_lines(ctx: &Ctx<'_>) -> Result<Vec<InstallerLine>> {
    let mut out = Vec::new();
    let mut menus: Vec<(String, ConfigKind, Vec<u8>)> = Vec::new();
    let isolinux = format!("/{ISOLINUX_CFG}");
    if ctx.file(&isolinux).is_some() {
        menus.push((
            ISOLINUX_CFG.to_string(),
            ConfigKind::Isolinux,
            ctx.iso.read_file(&isolinux, MAX_CFG)?,
        ));
    }
    let mut grub: Vec<&String> = ctx.files.keys().filter(|p| is_grub_cfg(p)).collect();
    grub.sort();
    for path in grub {
        menus.push((
            path.trim_start_matches('/').to_string(),
            ConfigKind::Grub,
            ctx.iso.read_file(path, MAX_CFG)?,
        ));
    }
    let efiboot = format!("/{EFIBOOT_IMG}");
    if ctx.file(&efiboot).is_some_and(|e| e.size <= MAX_EFIBOOT) {
        let bytes = ctx.iso.read_file(&efiboot, MAX_EFIBOOT)?;
        if let Ok(img) = EfiBootImage::new(bytes) {
            for inner in img.grub_configs().unwrap_or_default() {
                if let Ok(b) = img.read_file(&inner) {
                    menus.push((format!("{EFIBOOT_IMG}:{inner}"), ConfigKind::Grub, b));
                }
            }
        }
    }
    for (menu, kind, bytes) in menus {
        let Ok(cfg) = BootConfig::parse(kind, &bytes) else {
            continue;
        };
        for k in cfg.kernel_lines() {
            out.push(InstallerLine {
                menu: menu.clone(),
                entry: k.entry.clone(),
                kernel: k.kernel.clone(),
                netinstall: cfg
                    .args(k)
                    .split_ascii_whitespace()
                    .any(|w| w == NETINSTALL),
            });
        }
    }
    Ok(out)
}

/// `/EFI/<dir>/grub*.cfg`, the tree's UEFI menus.
fn is_grub_cfg(path: &str) -> bool {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let [top, _, name] = parts.as_slice() else {
        return false;
    };
    let name = name.to_ascii_lowercase();
    top.eq_ignore_ascii_case("EFI") && name.starts_with("grub") && name.ends_with(".cfg")
}
