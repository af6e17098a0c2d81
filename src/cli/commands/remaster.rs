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
    plan.merge(a.edits);
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
