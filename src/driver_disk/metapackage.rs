//! The `update-<label>` metapackage: no files, one `Requires: NAME = [E:]V-R` per
//! driver package, so that installing it (the installer installs `@drivers`, whose
//! mandatory package it is) installs exactly those builds. XenServer's
//! `build-update` makes the same package with rpmbuild (noarch, release 1, its
//! version the pack version); here it is written in pure Rust with rpm-rs, its
//! build time the caller's (`SOURCE_DATE_EPOCH`), so the same inputs give the same
//! bytes.

use super::DriverPackage;
use crate::error::{Error, Result};

/// The metapackage's release (build-update's).
pub(crate) const RELEASE: &str = "1";

/// The metapackage `update-<label>` at `version`, requiring every package of
/// `drivers`, built at `time` (Unix seconds), as RPM file bytes.
pub(crate) fn build(
    name: &str,
    version: &str,
    summary: &str,
    drivers: &[DriverPackage],
    time: u32,
) -> Result<Vec<u8>> {
    let fail =
        |e: rpm_rs::Error| Error::invalid(format!("cannot build the metapackage {name}: {e}"));
    // gzip: the payload compression EL7's rpm 4.11 in the installer reads.
    let config = rpm_rs::BuildConfig::default()
        .source_date(time)
        .compression(rpm_rs::CompressionType::Gzip);
    let mut builder = rpm_rs::PackageBuilder::new(name, version, "GPLv2", "noarch", summary);
    builder
        .using_config(config)
        .release(RELEASE)
        .description(format!(
            "Installs the packages of the driver disk {name}: {}.",
            drivers
                .iter()
                .map(|d| d.nevra.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .build_host("xiso");
    for d in drivers {
        builder.requires(rpm_rs::Dependency::eq(d.name.clone(), d.evr.clone()));
    }
    let pkg = builder.build().map_err(fail)?;
    let mut out = Vec::new();
    pkg.write(&mut out).map_err(fail)?;
    Ok(out)
}
