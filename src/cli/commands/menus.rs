//! The commands that edit the boot menus and the repository's trust: boot-args,
//! sign (or --disable-gpgcheck) and answerfile.

use std::io::Write;

use crate::cli::args::{AnswerfileArgs, BootArgsArgs, SignArgs};
use crate::cli::render::{
    json_or_text, print_answerfile, print_boot_report, print_disable_gpgcheck, print_sign_report,
};
use crate::cli::Outcome;

/// `xiso boot-args`.
pub fn boot_args(a: BootArgsArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    if a.add.is_empty()
        && a.remove.is_empty()
        && a.xen_add.is_empty()
        && a.xen_remove.is_empty()
        && a.serial.is_none()
    {
        return Err(anyhow::anyhow!(
            "nothing to do: give --add ARG, --remove KEY, --xen-add ARG, --xen-remove KEY or --serial comN"
        ));
    }
    let opts = xiso::workspace::BootArgsOptions {
        edit: xiso::bootcfg::ArgEdit::new(a.add, a.remove)?,
        xen_edit: xiso::bootcfg::ArgEdit::new_xen(a.xen_add, a.xen_remove)?,
        serial: a.serial.as_deref().map(str::parse).transpose()?,
        entry: a.menu.entry,
        date: a.menu.date,
        dry_run: false,
    };
    let r = xiso::workspace::boot_args(&a.dir, &opts)?;
    json_or_text(out, a.menu.json, &r, |out, r| {
        let xen = opts.edits_xen();
        let kernel = !opts.edit.is_empty() || !xen;
        print_boot_report(out, r, opts.entry.as_deref(), (kernel, xen))
    })?;
    Ok(Outcome::Done)
}

/// `xiso sign`: with --key, or --disable-gpgcheck.
pub fn sign(a: SignArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    if a.disable_gpgcheck {
        let opts = xiso::workspace::DisableGpgcheckOptions {
            no_gpgcheck: a.no_gpgcheck,
            date: a.date,
        };
        let r = xiso::workspace::disable_gpgcheck(&a.dir, &opts)?;
        json_or_text(out, a.json, &r, print_disable_gpgcheck)?;
        return Ok(Outcome::Done);
    }
    let key = a
        .key
        .expect("clap requires --key without --disable-gpgcheck");
    let armored = std::fs::read(&key)
        .map_err(|e| anyhow::anyhow!("{}: cannot read the key: {e}", key.display()))?;
    let passphrase = a
        .passphrase_file
        .as_deref()
        .map(read_passphrase)
        .transpose()?;
    let opts = xiso::workspace::SignOptions {
        nick: a.nick,
        passphrase,
        date: a.date,
        replace_keys: a.replace_keys,
        no_sign_packages: a.no_sign_packages,
    };
    let r = xiso::workspace::sign(&a.dir, &armored, &opts)?;
    json_or_text(out, a.json, &r, print_sign_report)?;
    Ok(Outcome::Done)
}

/// `xiso answerfile`.
pub fn answerfile(a: AnswerfileArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let xml = std::fs::read(&a.file)
        .map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", a.file.display()))?;
    let opts = xiso::workspace::AnswerfileOptions {
        entry: a.menu.entry,
        date: a.menu.date,
    };
    let r = xiso::workspace::answerfile(&a.dir, &xml, &opts).map_err(|e| e.in_file(&a.file))?;
    json_or_text(out, a.menu.json, &r, |out, r| {
        print_answerfile(out, r, opts.entry.as_deref())
    })?;
    Ok(Outcome::Done)
}

/// The first line of a passphrase file.
pub fn read_passphrase(path: &std::path::Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("{}: cannot read the passphrase: {e}", path.display()))?;
    Ok(text.lines().next().unwrap_or("").to_string())
}
