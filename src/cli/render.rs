//! The text forms of the reports, and `--json`'s: data on stdout, summaries and
//! warnings on stderr, as each command printed them before the split.

use std::io::{self, Write};
use std::path::Path;

use xiso::iso::EntryKind;

/// A report as pretty JSON and a newline (every `--json`).
pub fn print_json(out: &mut (impl Write + ?Sized), v: &impl serde::Serialize) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, v)?;
    writeln!(out)
}

/// `--json`: the report as JSON on stdout; else its text form.
pub fn json_or_text<T: serde::Serialize>(
    out: &mut dyn Write,
    json: bool,
    report: &T,
    text: impl FnOnce(&mut dyn Write, &T) -> io::Result<()>,
) -> io::Result<()> {
    if json {
        print_json(out, report)
    } else {
        text(out, report)
    }
}

/// Each warning as `xiso: warning: …` on stderr.
pub fn warn_all<'a>(warnings: impl IntoIterator<Item = &'a String>) {
    for w in warnings {
        eprintln!("xiso: warning: {w}");
    }
}

/// `ls -l` style: mode, links, uid, gid, size, mtime, path [-> target].
pub fn ls_line(e: &xiso::iso::Entry) -> String {
    let mut line = format!(
        "{} {:>3} {:>5} {:>5} {:>12} {} {}",
        e.mode_string(),
        e.nlink,
        e.uid,
        e.gid,
        e.size,
        e.mtime
            .map(xiso::iso::time::format_unix)
            .unwrap_or_else(|| "-".repeat(19)),
        e.path
    );
    if let EntryKind::Symlink { target } = &e.kind {
        line.push_str(" -> ");
        line.push_str(target);
    }
    line
}

/// The text form of `xiso inspect` (with `--packages` and `--installer` when given).
pub fn print_inspect(
    out: &mut dyn Write,
    report: &xiso::inspect::InspectReport,
    list_packages: bool,
    packages: Option<&[xiso::workspace::InstalledPackage]>,
) -> io::Result<()> {
    write!(out, "{}", report.to_text())?;
    if list_packages {
        write!(out, "{}", report.package_signers_text())?;
    }
    if let Some(p) = packages {
        if p.is_empty() {
            writeln!(out, "installer packages (xiso add-rpm --installer): none")?;
        }
        for pkg in p {
            writeln!(
                out,
                "installer package (xiso add-rpm --installer): {}-{}.{} ({} files{})",
                pkg.name,
                pkg.evr,
                pkg.arch,
                pkg.files.len(),
                if pkg.scriptlets.is_empty() {
                    String::new()
                } else {
                    format!("; scriptlets not run: {}", pkg.scriptlets.join(", "))
                }
            )?;
        }
    }
    Ok(())
}

/// The summary of `xiso unpack` on stderr.
pub fn print_unpack(r: &xiso::workspace::UnpackReport, dir: &Path) {
    eprintln!(
        "unpacked {} files, {} directories, {} symlinks ({} bytes) into {}",
        r.files,
        r.dirs,
        r.symlinks,
        r.bytes,
        dir.join("iso").display()
    );
    if let Some(i) = &r.installer {
        eprintln!(
            "unpacked {} ({}): {} entries, {} bytes, {} device/FIFO placeholders into {}",
            i.image,
            i.compression,
            i.entries,
            i.bytes,
            i.placeholders,
            dir.join("installer").display()
        );
    }
}

/// The summary of `xiso patch-installer` on stderr.
pub fn print_patch(_: &mut dyn Write, r: &xiso::workspace::PatchReport) -> io::Result<()> {
    eprintln!(
        "installer: {} added, {} replaced, {} removed ({})",
        r.added.len(),
        r.replaced.len(),
        r.removed.len(),
        if r.append_only {
            "install.img is not unpacked: xiso pack --installer-append appends them"
        } else {
            "xiso pack rebuilds install.img"
        }
    );
    Ok(())
}

/// The summary of `xiso pack` on stderr.
pub fn print_pack(_: &mut dyn Write, r: &xiso::workspace::PackReport) -> io::Result<()> {
    eprintln!(
        "wrote {} ({} bytes, {}): {} files copied from the source, {} from the workspace ({} new, {} removed)",
        r.output.display(),
        r.bytes,
        if r.efi_partition {
            "hybrid BIOS/UEFI"
        } else if r.hybrid {
            "hybrid BIOS"
        } else {
            "CD boot only"
        },
        r.tree.from_source,
        r.tree.from_workspace,
        r.tree.added,
        r.tree.removed
    );
    if let Some(i) = &r.installer {
        if i.action == "copied" {
            eprintln!("install.img: unchanged, copied");
        } else {
            eprintln!(
                "install.img: {} ({}, {} bytes): {} changed, {} added, {} removed",
                i.action,
                i.compression,
                i.bytes,
                i.changed.len(),
                i.added.len(),
                i.removed.len()
            );
        }
    }
    Ok(())
}

/// The text form of `xiso overlay`: `+` added, `~` replaced.
pub fn print_overlay(out: &mut dyn Write, r: &xiso::workspace::OverlayReport) -> io::Result<()> {
    for a in &r.added {
        writeln!(out, "+ iso/{a}")?;
    }
    for a in &r.replaced {
        writeln!(out, "~ iso/{a}")?;
    }
    Ok(())
}
/// The text form of a `sign --key` report.
pub fn print_sign_report(out: &mut dyn Write, r: &xiso::workspace::SignReport) -> io::Result<()> {
    writeln!(
        out,
        "signed     iso/{} (SHA-256, key {})",
        r.signature, r.signing_key
    )?;
    writeln!(out, "public key iso/{} ({})", r.key_file, r.fingerprint)?;
    for k in &r.keys {
        let uid = k.user_id.as_deref().unwrap_or("no user id");
        writeln!(out, "  key      {} {} {uid}", k.fingerprint, k.algorithm)?;
    }
    for k in &r.dropped_keys {
        let uid = k.user_id.as_deref().unwrap_or("no user id");
        writeln!(
            out,
            "  dropped  {} {} {uid} (--replace-keys)",
            k.fingerprint, k.algorithm
        )?;
    }
    writeln!(
        out,
        ".treeinfo  key1 = {} (was {})",
        r.key_file,
        r.previous_key1.as_deref().unwrap_or("unset")
    )?;
    writeln!(
        out,
        "packages   {} signed, {} verified by the key file and left as they were",
        r.signed_packages.len(),
        r.verified_packages
    )?;
    for p in &r.signed_packages {
        writeln!(out, "  signed   {p}")?;
    }
    for p in &r.unverified_packages {
        writeln!(
            out,
            "  NOT signed (--no-sign-packages; the installer's gpgcheck refuses it) {p}"
        )?;
    }
    Ok(())
}
/// The text form of a boot-menu edit report.
pub fn print_boot_report(
    out: &mut dyn Write,
    r: &xiso::workspace::BootArgsReport,
    entry: Option<&str>,
    (kernel, xen): (bool, bool),
) -> io::Result<()> {
    for m in &r.menus {
        let count = |looked: usize, changed: usize, what: &str| match (looked, entry) {
            (0, Some(e)) => format!("no entry {e:?}"),
            (0, None) => format!("no {what}"),
            (n, _) => format!("{changed} of {n} {what} changed"),
        };
        let mut parts = Vec::new();
        if kernel {
            parts.push(count(m.kernel_lines, m.changes.len(), "kernel lines"));
        }
        if xen {
            parts.push(count(m.xen_lines, m.xen_changes.len(), "Xen lines"));
        }
        writeln!(out, "{}: {}", m.path, parts.join(", "))?;
        // Xen's words first: on an mboot.c32 line they come before the kernel's.
        let xen = m.xen_changes.iter().map(|c| ("Xen ", c));
        for (tag, c) in xen.chain(m.changes.iter().map(|c| ("", c))) {
            writeln!(out, "  {:?} {tag}{} (line {})", c.entry, c.kernel, c.line)?;
            writeln!(out, "    - {}", c.before)?;
            writeln!(out, "    + {}", c.after)?;
        }
    }
    if r.written.is_empty() {
        eprintln!("nothing changed: the menus already have these arguments");
    }
    Ok(())
}

/// The text form of `xiso sign --disable-gpgcheck`.
pub fn print_disable_gpgcheck(
    out: &mut dyn Write,
    r: &xiso::workspace::DisableGpgcheckReport,
) -> io::Result<()> {
    for c in &r.commented {
        writeln!(out, ".treeinfo: commented out [keys] {c}")?;
    }
    print_boot_report(out, &r.boot, None, (true, false))
}

/// The text form of `xiso answerfile`.
pub fn print_answerfile(
    out: &mut dyn Write,
    r: &xiso::workspace::AnswerfileReport,
    entry: Option<&str>,
) -> io::Result<()> {
    writeln!(
        out,
        "installer: {} {} (xiso pack rebuilds install.img)",
        if r.replaced { "replaced" } else { "added" },
        r.path
    )?;
    for a in &r.attributes {
        writeln!(
            out,
            "answerfile: <installation {a}> (moved from the boot lines)"
        )?;
    }
    print_boot_report(out, &r.boot, entry, (true, false))
}

/// Report of add-rpm / rm-rpm: warnings on stderr always, then JSON on stdout or a summary on stderr.
pub fn print_rpm_change(
    out: &mut dyn Write,
    r: &xiso::workspace::RpmChangeReport,
    json: bool,
) -> anyhow::Result<()> {
    warn_all(r.repodata.warnings.iter().chain(&r.warnings));
    if let Some(first) = r.unresolved_before.first() {
        eprintln!(
            "xiso: warning: the repository already had {} unresolved require{} (not caused by this change), e.g. {first}",
            r.unresolved_before.len(),
            if r.unresolved_before.len() == 1 { "" } else { "s" }
        );
    }
    if r.repodata.signature_removed {
        eprintln!("xiso: warning: repodata/repomd.xml.asc was removed: the repository signature is no longer valid; re-sign the repository (`xiso sign`, coming) or disable the installer's repository check");
    }
    if json {
        print_json(&mut *out, r)?;
        return Ok(());
    }
    // One buffered handle: stderr is unbuffered, and a refresh lists hundreds of lines.
    let mut err = std::io::BufWriter::new(std::io::stderr().lock());
    for a in &r.added {
        writeln!(err, "added    {}-{}.{} ({})", a.name, a.evr, a.arch, a.href)?;
    }
    for d in &r.removed {
        writeln!(err, "removed  {}-{}.{} ({})", d.name, d.evr, d.arch, d.href)?;
    }
    for f in &r.refreshed {
        writeln!(
            err,
            "refreshed {} {} → {} ({})",
            f.package,
            f.old,
            f.new,
            f.source.display()
        )?;
    }
    if let Some(p) = &r.pulled_in {
        writeln!(
            err,
            "pulled in {} now requires {} (was {})",
            p.rewritten,
            p.requires.join(", "),
            p.target
        )?;
    }
    for u in &r.unchanged {
        writeln!(
            err,
            "present  {}-{}.{} (already in the repository)",
            u.name, u.evr, u.arch
        )?;
    }
    if r.added.is_empty() && r.removed.is_empty() {
        writeln!(err, "repository unchanged")?;
    } else {
        writeln!(
            err,
            "repodata: {} packages ({} entries reused, {} read); carried: {}; dropped: {}",
            r.repodata.packages,
            r.reused_entries,
            r.read_entries,
            if r.repodata.carried.is_empty() {
                "-".to_string()
            } else {
                r.repodata.carried.join(", ")
            },
            if r.repodata.dropped.is_empty() {
                "-".to_string()
            } else {
                r.repodata.dropped.join(", ")
            },
        )?;
    }
    err.flush()?;
    Ok(())
}

/// Report of add-rpm --installer: warnings on stderr, then JSON or one block per package on stdout.
pub fn print_installer_rpm(
    out: &mut dyn Write,
    r: &xiso::workspace::InstallerRpmReport,
    json: bool,
) -> anyhow::Result<()> {
    warn_all(&r.warnings);
    if json {
        print_json(&mut *out, r)?;
        return Ok(());
    }
    for p in &r.packages {
        match (&p.replaced, &p.replaced_from) {
            (Some(old), Some(from)) => writeln!(
                out,
                "installed {}-{}.{} into the installer root, replacing {} (its file list from {from})",
                p.name, p.evr, p.arch, old
            )?,
            _ => writeln!(
                out,
                "installed {}-{}.{} into the installer root",
                p.name, p.evr, p.arch
            )?,
        }
        writeln!(out, "  {} paths written", p.written)?;
        for g in &p.ghosts {
            writeln!(out, "  %ghost not created: /{g}")?;
        }
        for c in &p.rpmnew {
            writeln!(out, "  %config kept: /{c} (new version in /{c}.rpmnew)")?;
        }
        for d in &p.removed {
            writeln!(out, "  removed (old version): /{d}")?;
        }
        if p.scriptlets.is_empty() {
            writeln!(out, "  scriptlets: none")?;
        } else {
            writeln!(out, "  scriptlets NOT run: {}", p.scriptlets.join(", "))?;
        }
    }
    for d in &r.depmod {
        writeln!(
            out,
            "kernel modules changed in {}: {} modules indexed ({})",
            d.dir.display(),
            d.modules,
            d.files.join(", ")
        )?;
    }
    writeln!(out, "rpmdb: {}", r.rpmdb)?;
    writeln!(out, "xiso pack rebuilds install.img with these files")?;
    Ok(())
}

/// The text form of a depmod report, on stderr.
pub fn print_depmod_report(_: &mut dyn Write, r: &xiso::kmod::DepmodReport) -> io::Result<()> {
    for u in &r.unresolved {
        eprintln!(
            "depmod: WARNING: {} needs unknown symbol {}",
            u.module, u.symbol
        );
    }
    eprintln!(
        "{}: {} modules; wrote {}{}",
        r.dir.display(),
        r.modules,
        r.files.join(", "),
        if r.kernel_symbols_checked {
            ""
        } else {
            " (no usable boot/System.map-KVER: unresolved symbols not checked)"
        }
    );
    Ok(())
}

/// The text form of `xiso driver-disk`.
pub fn print_driver_disk(
    out: &mut dyn Write,
    r: &xiso::driver_disk::DriverDiskReport,
) -> io::Result<()> {
    writeln!(
        out,
        "{}: driver disk {} version {}",
        r.output.display(),
        r.update.name_label,
        r.update.version.as_deref().unwrap_or("")
    )?;
    for p in &r.packages {
        writeln!(out, "  package     {p}")?;
    }
    writeln!(
        out,
        "  metapackage {} (comps groups update, drivers)",
        r.metapackage
    )?;
    if let Some(f) = &r.signed_by {
        writeln!(
            out,
            "  signed by   {f} (key file {})",
            r.update.key.as_deref().unwrap_or("")
        )?;
    }
    Ok(())
}

/// The walk-through `xiso demo` prints: each step, the verify findings, the diff.
pub fn print_demo(out: &mut dyn Write, r: &xiso::demo::DemoReport) -> io::Result<()> {
    writeln!(out, "1. built the sample ISO   {}", r.sample.display())?;
    writeln!(out, "2. wrote the plan         {}", r.plan.display())?;
    writeln!(
        out,
        "3. remastered it         {} (one RPM added, one installer file patched, one boot argument)",
        r.remastered.display()
    )?;
    for s in &r.steps {
        writeln!(out, "     {:<18} {:>7.3} s", s.step, s.seconds)?;
    }
    writeln!(
        out,
        "4. verified it           {}",
        if r.verify_clean {
            "clean"
        } else {
            "FINDINGS (below)"
        }
    )?;
    if !r.verify_clean {
        write!(out, "{}", r.verify)?;
    }
    writeln!(
        out,
        "5. xiso diff {} {}:",
        r.sample.display(),
        r.remastered.display()
    )?;
    write!(out, "{}", r.diff)
}

/// The summary of `xiso remaster` on stderr: a line per step (with `--verbose` its
/// whole report), then what was written.
pub fn print_remaster(r: &xiso::remaster::RemasterReport, verbose: bool) -> serde_json::Result<()> {
    for s in &r.steps {
        eprintln!("{:<18} {:>7.2} s", s.step, s.seconds);
        if verbose {
            eprintln!("{}", serde_json::to_string_pretty(&s.detail)?);
        }
    }
    let i = r
        .pack
        .installer
        .as_ref()
        .map_or("untouched".to_string(), |i| {
            format!("{} ({} bytes)", i.action, i.bytes)
        });
    eprintln!(
        "wrote {} ({} bytes) in {:.2} s: {} files streamed from {}, {} from the edits; install.img {}",
        r.output.display(),
        r.output_bytes,
        r.seconds,
        r.pack.tree.from_source,
        r.input.display(),
        r.pack.tree.from_workspace,
        i
    );
    Ok(())
}
