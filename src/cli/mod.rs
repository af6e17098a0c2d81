//! The `xiso` command line as its own layer: [`args`] is the grammar, [`commands`]
//! one function per command (arguments in, a library call, a report out), [`render`]
//! the text and JSON forms. This file maps the outcome to the exit status.
//!
//! Exit codes: 0 success, 1 findings (verify, diff, demo), 2 error (bad input, I/O,
//! misuse), 130 interrupted.

mod args;
mod commands;
mod render;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};

/// How a command that did not fail ended.
pub enum Outcome {
    /// Exit 0.
    Done,
    /// Exit 1: verify's findings, diff's differences.
    Findings,
}

impl Outcome {
    /// [`Outcome::Findings`] when `found`, else [`Outcome::Done`].
    pub fn findings_if(found: bool) -> Outcome {
        if found {
            Outcome::Findings
        } else {
            Outcome::Done
        }
    }
}

/// Parse the arguments, run the command, and turn its outcome into the exit status.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return parse_error(e),
    };
    // Ctrl-C / SIGTERM: delete the temporary outputs (never a partial ISO), exit 130.
    let _ = ctrlc::set_handler(|| {
        xiso::cleanup::set_interrupted();
        xiso::cleanup::remove_all();
        // The main thread stops at its next check; a second pass removes anything it
        // created in between.
        std::thread::sleep(std::time::Duration::from_millis(200));
        xiso::cleanup::remove_all();
        eprintln!("xiso: interrupted; temporary files removed");
        std::process::exit(130);
    });
    exit_code(run(cli))
}

/// The one place a result becomes an exit status (and an error its one line).
fn exit_code(result: anyhow::Result<Outcome>) -> ExitCode {
    let e = match result {
        Ok(Outcome::Done) => return ExitCode::SUCCESS,
        Ok(Outcome::Findings) => return ExitCode::from(1),
        Err(e) => e,
    };
    if xiso::cleanup::interrupted() {
        // The handler is deleting the temporaries; it exits with 130.
        loop {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
    if let Some(ioe) = e.downcast_ref::<io::Error>() {
        if ioe.kind() == io::ErrorKind::BrokenPipe {
            return ExitCode::SUCCESS;
        }
    }
    error_exit(e.as_ref())
}

/// clap's own messages (usage errors, --help, --version) as clap prints them; a flag
/// value the library refused while clap parsed it (`remaster --serial`, a
/// [`xiso::remaster::Plan`] field) as the one line of any other error.
fn parse_error(e: clap::Error) -> ExitCode {
    use std::error::Error as _;
    match e.source().and_then(|s| s.downcast_ref::<xiso::Error>()) {
        Some(lib) => error_exit(lib),
        None => e.exit(),
    }
}

/// `xiso: error: ` and the error with its causes on one line; exit 2.
fn error_exit(e: &(dyn std::error::Error + 'static)) -> ExitCode {
    let mut msg = format!("xiso: error: {e}");
    let mut src = e.source();
    while let Some(s) = src {
        let s_text = s.to_string();
        if !msg.contains(&s_text) {
            msg.push_str(": ");
            msg.push_str(&s_text);
        }
        src = s.source();
    }
    eprintln!("{msg}");
    ExitCode::from(2)
}

/// Run one command with stdout buffered (flushed before the exit status is known,
/// so a closed pipe is seen as the error it is).
fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let o: &mut dyn Write = &mut out;
    use commands::*;
    let outcome = match cli.command {
        Command::Inspect(a) => image::inspect(a, o),
        Command::Verify(a) => image::verify(a, o),
        Command::Ls(a) => image::ls(a, o),
        Command::Cat(a) => image::cat(a, o),
        Command::Diff(a) => image::diff(a, o),
        Command::Unpack(a) => workspace::unpack(a, o),
        Command::PatchInstaller(a) => workspace::patch_installer(a, o),
        Command::Overlay(a) => workspace::overlay(a, o),
        Command::Pack(a) => workspace::pack(a, o),
        Command::BootArgs(a) => menus::boot_args(a, o),
        Command::Sign(a) => menus::sign(a, o),
        Command::Answerfile(a) => menus::answerfile(a, o),
        Command::AddRpm(a) => rpm::add_rpm(a, o),
        Command::RmRpm(a) => rpm::rm_rpm(a, o),
        Command::Depmod(a) => rpm::depmod(a, o),
        Command::DriverDisk(a) => media::driver_disk(a, o),
        Command::Demo(a) => media::demo(a, o),
        Command::Remaster(a) => remaster::remaster(a, o),
        Command::Completions(a) => docs::completions(a, o),
        Command::Man(a) => docs::man(a, o),
    }?;
    out.flush()?;
    Ok(outcome)
}
