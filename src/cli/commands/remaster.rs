//! `xiso remaster`: the plan from a file and the flags, run in one go.

use std::io::{self, IsTerminal, Write};

use crate::cli::args::RemasterArgs;
use crate::cli::render::{print_json, print_remaster, warn_all};
use crate::cli::Outcome;

/// `xiso remaster`: progress on a terminal, a line per step, or the JSON report.
pub fn remaster(a: RemasterArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let mut plan = match &a.plan {
        Some(f) => xiso::remaster::Plan::from_toml_file(f)?,
        None => xiso::remaster::Plan::default(),
    };
    plan.merge(xiso::remaster::Plan {
        add_rpm: a.add_rpm,
        add_rpm_installer: a.add_rpm_installer,
        patch_installer: a.patch_installer,
        overlay: a.overlay,
        boot_arg: a.boot_arg,
        remove_boot_arg: a.remove_boot_arg,
        xen_arg: a.xen_arg,
        remove_xen_arg: a.remove_xen_arg,
        serial: a.serial.as_deref().map(str::parse).transpose()?,
        answerfile: a.answerfile,
        sign: a.sign,
        sign_nick: a.sign_nick,
        sign_passphrase_file: a.passphrase_file,
        replace_keys: a.replace_keys,
        no_sign_packages: a.no_sign_packages,
        disable_gpgcheck: a.disable_gpgcheck,
        volid: a.volid,
        installer_append: a.installer_append,
        allow_downgrade: a.allow_downgrade,
        no_deps_check: a.no_deps_check,
        pull_in: a.pull_in,
        refresh_from: a.refresh_from,
        netinstall: a.netinstall,
    });
    let bar = (!a.quiet && io::stderr().is_terminal()).then(|| {
        let b = indicatif::ProgressBar::new_spinner();
        b.enable_steady_tick(std::time::Duration::from_millis(120));
        b
    });
    let opts = xiso::remaster::RemasterOptions {
        date: a.date,
        fsync: a.fsync,
        progress: bar.clone().map(|b| {
            Box::new(move |step: &str| b.set_message(format!("{step}…")))
                as xiso::remaster::ProgressFn
        }),
    };
    let result = xiso::remaster::remaster(&a.input, &a.output, &plan, &opts);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let r = result?;
    warn_all(&r.warnings);
    if let Some(t) = &r.truncation {
        eprintln!("xiso: warning: {t}");
    }
    if a.json {
        print_json(out, &r)?;
    } else if !a.quiet {
        print_remaster(&r, a.verbose)?;
    }
    Ok(Outcome::Done)
}
