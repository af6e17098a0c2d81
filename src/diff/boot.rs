//! Boot differences: the El Torito entries, and the kernel arguments of every boot
//! menu a firmware path reads (ARCHITECTURE.md §1): `isolinux.cfg` (BIOS), the tree's
//! `EFI/*/grub*.cfg` (UEFI from CD) and the grub configs inside `efiboot.img` (UEFI
//! from USB).

use std::collections::{BTreeMap, HashSet};

use super::files::Tree;
use super::{ArgsChange, BootChanges, FieldChange, MenuEntry};
use crate::bootcfg::key_of;
use crate::error::Result;
use crate::inspect::{boot_menus, BootEntryArgs};
use crate::iso::boot_entries::{boot_entry_records, BootEntryRecord};
use crate::iso::eltorito::{Media, Platform};
use crate::iso::IsoImage;

/// What the El Torito records say about the two images.
pub(super) struct ElTorito {
    /// Paths of the boot catalog file in either image.
    pub catalog: HashSet<String>,
    /// The entries are the same but for their LBAs: the catalog file moved with the
    /// images it points to and says nothing new.
    pub catalog_moved_only: bool,
    /// Boot images with a boot info table in both images: their bytes 8..64 hold
    /// LBAs and a checksum the writer computes.
    pub info_table: HashSet<String>,
    /// The entries, when they differ other than by LBA.
    pub change: Option<FieldChange>,
}

/// Read both images' El Torito entries.
pub(super) fn el_torito(a: &Tree<'_>, b: &Tree<'_>) -> Result<ElTorito> {
    let (ra, rb) = (records(a)?, records(b)?);
    let mut catalog = HashSet::new();
    catalog.extend(catalog_path(a));
    catalog.extend(catalog_path(b));
    let with_table = |r: &[BootEntryRecord]| -> HashSet<String> {
        r.iter()
            .filter(|x| x.boot_info_table)
            .filter_map(|x| x.file.clone())
            .collect()
    };
    let info_table = with_table(&ra)
        .intersection(&with_table(&rb))
        .cloned()
        .collect();
    let (da, db) = (describe(&ra), describe(&rb));
    let same = da == db;
    Ok(ElTorito {
        catalog_moved_only: same && catalog_path(a) == catalog_path(b),
        catalog,
        info_table,
        change: (!same).then(|| FieldChange::new("el_torito", da, db)),
    })
}

fn records(t: &Tree<'_>) -> Result<Vec<BootEntryRecord>> {
    boot_entry_records(t.iso, &t.list)
}

fn catalog_path(t: &Tree<'_>) -> Option<String> {
    let lba = t.iso.descriptors().boot_catalog_lba?;
    IsoImage::files_by_lba(&t.list)
        .remove(&lba)
        .map(|p| p.trim_start_matches('/').to_string())
}

/// The entries without their LBAs, e.g. `x86 no-emulation boot/isolinux/isolinux.bin
/// (4 sectors, boot info table); efi no-emulation boot/efiboot.img (0 sectors)`.
fn describe(records: &[BootEntryRecord]) -> String {
    records
        .iter()
        .map(
            |BootEntryRecord {
                 entry: r,
                 file,
                 boot_info_table,
             }| {
                let platform = match r.platform {
                    Platform::X86 => "x86".to_string(),
                    Platform::Efi => "efi".to_string(),
                    other => format!("platform 0x{:02x}", other.to_byte()),
                };
                let media = if r.media == Media::NoEmulation {
                    "no-emulation".to_string()
                } else {
                    format!("media {}", r.media.to_nibble())
                };
                format!(
                    "{platform} {media} {}{} ({} sectors{}{})",
                    file.as_deref().unwrap_or("(no file)"),
                    if r.bootable { "" } else { " not bootable" },
                    r.sector_count,
                    if *boot_info_table {
                        ", boot info table"
                    } else {
                        ""
                    },
                    if r.load_segment != 0 || r.system_type != 0 {
                        format!(", segment 0x{:x}, type {}", r.load_segment, r.system_type)
                    } else {
                        String::new()
                    },
                )
            },
        )
        .collect::<Vec<_>>()
        .join("; ")
}

/// One menu's entries (see [`crate::inspect::boot_menus`]).
type Menu = Vec<BootEntryArgs>;

/// Compare the boot menus of both images; `el_torito` is the entries' change.
pub(super) fn compare(
    a: &Tree<'_>,
    b: &Tree<'_>,
    el_torito: Option<FieldChange>,
    notes: &mut Vec<String>,
) -> Result<BootChanges> {
    let ma = menus(a, notes)?;
    let mb = menus(b, notes)?;
    let mut out = BootChanges {
        el_torito,
        ..Default::default()
    };
    for (name, la) in &ma {
        let Some(lb) = mb.get(name) else {
            out.menus_removed.push(name.clone());
            continue;
        };
        let at = |entry: &str| MenuEntry {
            menu: name.clone(),
            entry: entry.to_string(),
        };
        for ea in la {
            match lb.iter().find(|eb| eb.entry == ea.entry) {
                None => out.entries_removed.push(at(&ea.entry)),
                Some(eb) => {
                    if let Some(c) = args_change(at(&ea.entry), &ea.kernel_args, &eb.kernel_args) {
                        out.args.push(c);
                    }
                    // An entry that gains or loses Xen gains or loses all its words.
                    let (xa, xb) = (ea.xen_args.as_deref(), eb.xen_args.as_deref());
                    if let Some(c) = args_change(at(&ea.entry), xa.unwrap_or(""), xb.unwrap_or(""))
                    {
                        out.xen_args.push(c);
                    }
                }
            }
        }
        for eb in lb {
            if !la.iter().any(|ea| ea.entry == eb.entry) {
                out.entries_added.push(at(&eb.entry));
            }
        }
    }
    out.menus_added = mb
        .keys()
        .filter(|k| !ma.contains_key(*k))
        .cloned()
        .collect();
    Ok(out)
}

/// Word-level difference of two argument strings, grouped by key.
fn args_change(at: MenuEntry, a: &str, b: &str) -> Option<ArgsChange> {
    let group = |s: &str| {
        let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for w in s.split_whitespace() {
            m.entry(key_of(w).to_string())
                .or_default()
                .push(w.to_string());
        }
        m
    };
    let (ga, gb) = (group(a), group(b));
    let mut c = ArgsChange {
        at,
        added: Vec::new(),
        removed: Vec::new(),
        changed: Vec::new(),
    };
    for (k, wa) in &ga {
        match gb.get(k) {
            None => c.removed.extend(wa.iter().cloned()),
            Some(wb) if wb != wa => c
                .changed
                .push(FieldChange::new(k, wa.join(" "), wb.join(" "))),
            Some(_) => {}
        }
    }
    for (k, wb) in &gb {
        if !ga.contains_key(k) {
            c.added.extend(wb.iter().cloned());
        }
    }
    (!c.added.is_empty() || !c.removed.is_empty() || !c.changed.is_empty()).then_some(c)
}

/// Every menu of one image by name (see [`MenuEntry::menu`]).
fn menus(t: &Tree<'_>, notes: &mut Vec<String>) -> Result<BTreeMap<String, Menu>> {
    let mut read = Vec::new();
    let menus = boot_menus(t.iso, &t.list, &mut read);
    // The notes say "not read"; here that means the menu was not compared.
    notes.extend(
        read.into_iter()
            .map(|n| n.replace("not read", "not compared")),
    );
    Ok(menus.into_iter().map(|m| (m.path, m.entries)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> MenuEntry {
        MenuEntry {
            menu: "m".into(),
            entry: "e".into(),
        }
    }

    #[test]
    fn argument_words_by_key() {
        let c = args_change(
            at(),
            "console=tty0 quiet a=1 a=2",
            "console=hvc0 a=1 a=2 x.test=1",
        )
        .expect("a change");
        assert_eq!(c.added, ["x.test=1"]);
        assert_eq!(c.removed, ["quiet"]);
        assert_eq!(
            c.changed,
            [FieldChange::new("console", "console=tty0", "console=hvc0")]
        );
        assert!(
            args_change(at(), "a  b=1", "a b=1").is_none(),
            "spacing is not a change"
        );
    }
}
