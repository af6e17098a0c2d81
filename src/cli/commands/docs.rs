//! The documentation the command line generates from its own definition:
//! completions and man pages.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::args::{Cli, CompletionsArgs, ManArgs};
use crate::cli::Outcome;

/// `xiso completions SHELL`.
pub fn completions(a: CompletionsArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let mut cmd = Cli::command();
    clap_complete::generate(a.shell, &mut cmd, "xiso", out);
    Ok(Outcome::Done)
}

/// `xiso man [--out-dir DIR]`.
pub fn man(a: ManArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let cmd = Cli::command();
    match a.out_dir {
        None => clap_mangen::Man::new(cmd).render(out)?,
        Some(d) => {
            std::fs::create_dir_all(&d)
                .map_err(|e| anyhow::anyhow!("{}: cannot create: {e}", d.display()))?;
            clap_mangen::generate_to(cmd, &d)
                .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", d.display()))?;
        }
    }
    Ok(Outcome::Done)
}
