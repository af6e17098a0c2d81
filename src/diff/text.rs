//! The human form of a [`DiffReport`]: one line per difference, grouped (volume,
//! files, packages, boot, installer) and sorted within each group.

use std::fmt::Write as _;

use super::{DiffReport, MetadataChange, PathChanges};

pub(super) fn render(r: &DiffReport) -> String {
    let mut s = String::new();
    for c in &r.volume {
        let _ = writeln!(s, "volume {}: {:?} → {:?}", c.field, c.before, c.after);
    }
    paths(&mut s, "", &r.files);
    let p = &r.packages;
    for n in &p.added {
        let _ = writeln!(s, "package added: {n}");
    }
    for n in &p.removed {
        let _ = writeln!(s, "package removed: {n}");
    }
    for u in &p.updated {
        let _ = writeln!(
            s,
            "package updated: {}.{} {} → {}",
            u.name, u.arch, u.from, u.to
        );
    }
    for n in &p.rebuilt {
        let _ = writeln!(s, "package rebuilt: {n} (same version, other checksum)");
    }
    let b = &r.boot;
    if let Some(c) = &b.el_torito {
        let _ = writeln!(s, "boot El Torito: {} → {}", c.before, c.after);
    }
    for m in &b.menus_added {
        let _ = writeln!(s, "boot menu added: {m}");
    }
    for m in &b.menus_removed {
        let _ = writeln!(s, "boot menu removed: {m}");
    }
    for e in &b.entries_added {
        let _ = writeln!(s, "boot {} {:?}: entry added", e.menu, e.entry);
    }
    for e in &b.entries_removed {
        let _ = writeln!(s, "boot {} {:?}: entry removed", e.menu, e.entry);
    }
    // Xen's words are tagged `Xen:`; the dom0 kernel's keep the plain form.
    let xen = b.xen_args.iter().map(|a| (" Xen", a));
    for (tag, a) in b.args.iter().map(|a| ("", a)).chain(xen) {
        let at = format!("boot {} {:?}{tag}:", a.at.menu, a.at.entry);
        for w in &a.added {
            let _ = writeln!(s, "{at} + {w}");
        }
        for w in &a.removed {
            let _ = writeln!(s, "{at} - {w}");
        }
        for c in &a.changed {
            let _ = writeln!(s, "{at} ~ {} → {}", c.before, c.after);
        }
    }
    paths(&mut s, "installer ", &r.installer);
    s
}

/// `+ path`, `- path`, `~ path`, `m path: mode a → b`, merged and sorted by path.
fn paths(s: &mut String, prefix: &str, c: &PathChanges) {
    let mut lines: Vec<(&str, String)> = Vec::new();
    lines.extend(c.added.iter().map(|p| (p.as_str(), format!("+ {p}"))));
    lines.extend(c.removed.iter().map(|p| (p.as_str(), format!("- {p}"))));
    lines.extend(c.changed.iter().map(|p| (p.as_str(), format!("~ {p}"))));
    lines.extend(c.metadata.iter().map(|m| (m.path.as_str(), metadata(m))));
    lines.sort();
    for (_, l) in lines {
        let _ = writeln!(s, "{prefix}{l}");
    }
}

fn metadata(m: &MetadataChange) -> String {
    let fields: Vec<String> = m
        .changes
        .iter()
        .map(|c| format!("{} {} → {}", c.field, c.before, c.after))
        .collect();
    format!("m {}: {}", m.path, fields.join(", "))
}
