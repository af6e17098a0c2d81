//! Remaster a generated sample ISO as a release pipeline would, with the library alone.
//!
//! ```console
//! $ cargo run --example remaster_sample -- /tmp/xiso-example
//! ```
//!
//! It writes the built-in XCP-ng-shaped sample (`xiso::demo::write_sample`), builds a
//! plan in code (two installer kernel arguments on every boot entry, a new volume id),
//! remasters the sample into `OUT/custom.iso`, then checks the result with
//! `xiso::verify` and prints what `xiso::diff` sees. Exit code 1 when `verify` finds
//! anything.
use std::path::PathBuf;
use std::process::ExitCode;

use xiso::{remaster, DiffOptions, IsoImage, Plan, RemasterOptions};

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("remaster_sample: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> xiso::Result<bool> {
    let out: PathBuf = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("xiso-example"));
    std::fs::create_dir_all(&out)
        .map_err(|e| xiso::Error::io(e, "cannot create the output directory").in_file(&out))?;
    let sample = out.join("sample.iso");
    let custom = out.join("custom.iso");
    xiso::demo::write_sample(&sample)?;

    // The plan a `remaster.toml` with `boot-arg = [...]` and `volid = ...` gives.
    let plan = Plan {
        boot_arg: vec!["xiso.example=1".into(), "xiso.pipeline=ci".into()],
        volid: Some("XCP-NG_830_EXAMPLE".into()),
        ..Plan::default()
    };
    let report = remaster(&sample, &custom, &plan, &RemasterOptions::default())?;
    for step in &report.steps {
        println!("{:<14} {:.2} s", step.step, step.seconds);
    }
    println!(
        "{} bytes written to {}",
        report.output_bytes,
        custom.display()
    );

    let before = IsoImage::open(&sample)?;
    let after = IsoImage::open(&custom)?;
    let verify = xiso::verify(&after)?;
    print!("{}", verify.to_text());
    let diff = xiso::diff(&before, &after, &DiffOptions::default())?;
    print!("{}", diff.to_text());
    Ok(verify.is_clean())
}
