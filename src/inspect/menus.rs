//! The boot menus an image carries and, per entry, Xen's own words and the dom0
//! kernel's: every menu a firmware path reads (ARCHITECTURE.md §1), `isolinux.cfg` (BIOS),
//! the tree's `EFI/*/grub*.cfg` (UEFI from CD) and the grub configs inside
//! `efiboot.img` (UEFI from USB). `xiso inspect` lists them and `xiso diff`
//! compares them.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::boot::efiboot::EfiBootImage;
use crate::bootcfg::{BootConfig, ConfigKind};
use crate::iso::{Entry, IsoImage};
use crate::workspace::{EFIBOOT_IMG, ISOLINUX_CFG};

/// Largest boot menu read.
const MAX_CFG: u64 = 1 << 20;
/// Largest `efiboot.img` read (an EFI boot image stays below 32 MiB, ARCHITECTURE.md §2).
const MAX_EFIBOOT: u64 = 32 << 20;
/// Where older media keep the BIOS menu.
const ISOLINUX_CFG_TOP: &str = "isolinux/isolinux.cfg";

/// One boot menu of an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BootMenu {
    /// `boot/isolinux/isolinux.cfg`, `EFI/xenserver/grub.cfg`, or
    /// `boot/efiboot.img:EFI/xenserver/grub.cfg` for a copy inside the FAT image.
    pub path: String,
    /// isolinux or grub.
    pub kind: ConfigKind,
    /// One per kernel line, in file order.
    pub entries: Vec<BootEntryArgs>,
}

/// One kernel line of a menu and the Xen line that starts it, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BootEntryArgs {
    /// The isolinux `LABEL` or GRUB `menuentry` title (` #2`… appended when an entry
    /// has several kernel lines).
    pub entry: String,
    /// The hypervisor image (`/boot/xen.gz`); `None` for an entry that starts the
    /// kernel directly.
    pub hypervisor: Option<String>,
    /// Xen's own words (`dom0_mem=max:8192M com1=115200,8n1 console=com1,vga`).
    pub xen_args: Option<String>,
    /// The dom0 kernel (`/boot/vmlinuz`).
    pub kernel: String,
    /// The kernel's words, the installer's options.
    pub kernel_args: String,
}

/// Read every boot menu of `iso` (`entries` is its walk). Menus that cannot be read
/// or parsed are left out with a line in `notes` saying why: a damaged menu is a
/// finding for `xiso verify`, not a reason for `inspect` or `diff` to stop.
pub(crate) fn boot_menus(
    iso: &IsoImage,
    entries: &[Entry],
    notes: &mut Vec<String>,
) -> Vec<BootMenu> {
    let files: BTreeMap<&str, &Entry> = entries
        .iter()
        .filter(|e| e.is_file())
        .map(|e| (e.path.trim_start_matches('/'), e))
        .collect();
    let file = iso.source().path().display();
    let read = |path: &str, limit: u64, notes: &mut Vec<String>| match iso.read_file(path, limit) {
        Ok(b) => Some(b),
        Err(e) => {
            notes.push(format!("{file}: {path}: not read: {e}"));
            None
        }
    };
    let mut out = Vec::new();
    for path in [ISOLINUX_CFG, ISOLINUX_CFG_TOP] {
        if files.contains_key(path) {
            if let Some(bytes) = read(path, MAX_CFG, notes) {
                out.extend(menu(path.to_string(), ConfigKind::Isolinux, &bytes, notes));
            }
        }
    }
    for path in files.keys().filter(|p| is_grub_cfg(p)) {
        if let Some(bytes) = read(path, MAX_CFG, notes) {
            out.extend(menu(path.to_string(), ConfigKind::Grub, &bytes, notes));
        }
    }
    let Some(img) = files.get(EFIBOOT_IMG) else {
        return out;
    };
    if img.size > MAX_EFIBOOT {
        notes.push(format!(
            "{file}: {EFIBOOT_IMG} is {} bytes, too large to read its menus",
            img.size
        ));
        return out;
    }
    let Some(bytes) = read(EFIBOOT_IMG, MAX_EFIBOOT, notes) else {
        return out;
    };
    let (configs, img) = match EfiBootImage::new(bytes).and_then(|i| Ok((i.grub_configs()?, i))) {
        Ok(x) => x,
        Err(e) => {
            notes.push(format!(
                "{file}: {EFIBOOT_IMG}: menus not read: {}",
                e.message()
            ));
            return out;
        }
    };
    for inner in configs {
        match img.read_file(&inner) {
            Ok(bytes) => out.extend(menu(
                format!("{EFIBOOT_IMG}:{inner}"),
                ConfigKind::Grub,
                &bytes,
                notes,
            )),
            Err(e) => notes.push(format!(
                "{file}: {EFIBOOT_IMG}:{inner}: not read: {}",
                e.message()
            )),
        }
    }
    out
}

/// `EFI/<dir>/grub*.cfg`, as boot-args edits them.
fn is_grub_cfg(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    let [top, _, name] = parts.as_slice() else {
        return false;
    };
    let name = name.to_ascii_lowercase();
    top.eq_ignore_ascii_case("EFI") && name.starts_with("grub") && name.ends_with(".cfg")
}

fn menu(path: String, kind: ConfigKind, bytes: &[u8], notes: &mut Vec<String>) -> Option<BootMenu> {
    let cfg = match BootConfig::parse(kind, bytes) {
        Ok(c) => c,
        Err(e) => {
            notes.push(format!("{path}: not read: {}", e.message()));
            return None;
        }
    };
    let mut entries: Vec<BootEntryArgs> = Vec::new();
    for k in cfg.kernel_lines() {
        let seen = entries
            .iter()
            .filter(|e| e.entry == k.entry || e.entry.starts_with(&format!("{} #", k.entry)))
            .count();
        let entry = if seen == 0 {
            k.entry.clone()
        } else {
            format!("{} #{}", k.entry, seen + 1)
        };
        let xen = cfg.hypervisor_of(k);
        entries.push(BootEntryArgs {
            entry,
            hypervisor: xen.map(|h| h.kernel.clone()),
            xen_args: xen.map(|h| cfg.args(h).to_string()),
            kernel: k.kernel.clone(),
            kernel_args: cfg.args(k).to_string(),
        });
    }
    Some(BootMenu {
        path,
        kind,
        entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grub_config_paths() {
        assert!(is_grub_cfg("EFI/xenserver/grub.cfg"));
        assert!(is_grub_cfg("efi/BOOT/grub-usb.cfg"));
        assert!(!is_grub_cfg("EFI/grub.cfg"));
        assert!(!is_grub_cfg("EFI/a/b/grub.cfg"));
        assert!(!is_grub_cfg("boot/grub/grub.cfg"));
    }

    #[test]
    fn xen_and_kernel_words_apart() {
        let grub = "menuentry \"install\" {\n multiboot2 /boot/xen.gz dom0_mem=1G\n \
                    module2 /boot/vmlinuz console=hvc0\n module2 /install.img\n}\n\
                    menuentry \"direct\" {\n linux /boot/vmlinuz quiet\n}\n";
        let m = menu(
            "g".into(),
            ConfigKind::Grub,
            grub.as_bytes(),
            &mut Vec::new(),
        )
        .unwrap();
        assert_eq!(m.entries.len(), 2);
        assert_eq!(m.entries[0].xen_args.as_deref(), Some("dom0_mem=1G"));
        assert_eq!(m.entries[0].hypervisor.as_deref(), Some("/boot/xen.gz"));
        assert_eq!(m.entries[0].kernel_args, "console=hvc0");
        assert_eq!(m.entries[1].xen_args, None);
        assert_eq!(m.entries[1].kernel_args, "quiet");
        let iso = "LABEL a\n KERNEL mboot.c32\n APPEND /boot/xen.gz x=1 --- /boot/vmlinuz y=2 --- /install.img\n\
                   LABEL b\n KERNEL /boot/vmlinuz\n APPEND z=3\n";
        let m = menu(
            "i".into(),
            ConfigKind::Isolinux,
            iso.as_bytes(),
            &mut Vec::new(),
        )
        .unwrap();
        assert_eq!(m.entries[0].xen_args.as_deref(), Some("x=1"));
        assert_eq!(m.entries[0].kernel_args, "y=2");
        assert_eq!(m.entries[1].xen_args, None);
        assert_eq!(m.entries[1].kernel_args, "z=3");
    }
}
