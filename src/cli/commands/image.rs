//! The commands that read an image and write nothing: inspect, verify, ls, cat, diff.

use std::io::Write;

use xiso::iso::IsoImage;

use crate::cli::args::{CatArgs, DiffArgs, InspectArgs, LsArgs, VerifyArgs};
use crate::cli::render::{json_or_text, ls_line, print_inspect, print_json};
use crate::cli::Outcome;

/// `xiso inspect`.
pub fn inspect(a: InspectArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let img = IsoImage::open(&a.iso)?;
    let report = xiso::inspect::inspect(&img)?;
    if let Some(t) = &report.truncation {
        eprintln!("xiso: warning: {t}");
    }
    let packages = if a.installer {
        Some(xiso::inspect::installer_packages(&img)?)
    } else {
        None
    };
    if a.json {
        let mut v = serde_json::to_value(&report)?;
        if let (Some(p), Some(obj)) = (&packages, v.as_object_mut()) {
            obj.insert("installer_packages".into(), serde_json::to_value(p)?);
        }
        print_json(out, &v)?;
    } else {
        print_inspect(out, &report, a.packages, packages.as_deref())?;
    }
    Ok(Outcome::Done)
}

/// `xiso verify`: findings are exit 1.
pub fn verify(a: VerifyArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let img = IsoImage::open(&a.iso)?;
    let report = xiso::verify::verify(&img)?;
    json_or_text(out, a.json, &report, |out, r| {
        write!(out, "{}", r.to_text())
    })?;
    Ok(Outcome::findings_if(!report.is_clean()))
}

/// `xiso ls`.
pub fn ls(a: LsArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let img = IsoImage::open(&a.iso)?;
    let start = img.lookup(&a.path)?;
    let entries = if !start.is_dir() {
        vec![start]
    } else if a.no_recurse {
        img.read_dir(&start)?
    } else {
        img.walk_under(&start)?
    };
    json_or_text(out, a.json, &entries, |out, entries| {
        entries
            .iter()
            .try_for_each(|e| writeln!(out, "{}", ls_line(e)))
    })?;
    Ok(Outcome::Done)
}

/// `xiso cat`.
pub fn cat(a: CatArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let img = IsoImage::open(&a.iso)?;
    let e = img.lookup(&a.path)?;
    img.copy_file(&e, out)?;
    Ok(Outcome::Done)
}

/// `xiso diff`: as diff(1), a difference is exit 1.
pub fn diff(a: DiffArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let (ia, ib) = (IsoImage::open(&a.a)?, IsoImage::open(&a.b)?);
    let opts = xiso::diff::DiffOptions {
        all: a.all,
        ..Default::default()
    };
    let report = xiso::diff::diff(&ia, &ib, &opts)?;
    for n in &report.notes {
        eprintln!("xiso: note: {n}");
    }
    json_or_text(out, a.json, &report, |out, r| {
        write!(out, "{}", r.to_text())
    })?;
    Ok(Outcome::findings_if(!report.is_empty()))
}
