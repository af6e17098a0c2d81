//! The package commands: add-rpm (into the repository or the installer root),
//! rm-rpm, and the hidden depmod.

use std::io::Write;

use crate::cli::args::{AddRpmArgs, DepmodArgs, RmRpmArgs};
use crate::cli::render::{
    json_or_text, print_depmod_report, print_installer_rpm, print_rpm_change,
};
use crate::cli::Outcome;

/// `xiso add-rpm` (and `--installer`).
pub fn add_rpm(a: AddRpmArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    if a.installer {
        let opts = xiso::workspace::InstallerRpmOptions {
            replace_config: a.replace_config,
        };
        let r = xiso::workspace::add_rpms_installer(&a.dir, &a.packages, &opts)?;
        print_installer_rpm(out, &r, a.json)?;
        return Ok(Outcome::Done);
    }
    let opts = xiso::workspace::AddRpmOptions {
        allow_downgrade: a.allow_downgrade,
        allow_src: a.allow_src,
        allow_arch: a.allow_arch,
        deps_check: !a.no_deps_check,
        metadata: xiso::repo::MetadataOptions::from_env()?,
        pull_in: a.pull_in,
        refresh_from: a.refresh_from,
    };
    let r = xiso::workspace::add_rpms(&a.dir, &a.packages, &opts)?;
    print_rpm_change(out, &r, a.json)?;
    Ok(Outcome::Done)
}

/// `xiso rm-rpm`.
pub fn rm_rpm(a: RmRpmArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let metadata = xiso::repo::MetadataOptions::from_env()?;
    let r = xiso::workspace::remove_rpms(&a.dir, &a.names, !a.no_deps_check, &metadata)?;
    print_rpm_change(out, &r, a.json)?;
    Ok(Outcome::Done)
}

/// `xiso depmod` (hidden).
pub fn depmod(a: DepmodArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let r = xiso::kmod::depmod(&a.root, &a.kver)?;
    json_or_text(out, a.json, &r, print_depmod_report)?;
    Ok(Outcome::Done)
}
