//! The commands that make new media from scratch: driver-disk and demo.

use std::io::Write;

use crate::cli::args::{DemoArgs, DriverDiskArgs};
use crate::cli::commands::menus::read_passphrase;
use crate::cli::render::{json_or_text, print_demo, print_driver_disk};
use crate::cli::Outcome;

/// `xiso driver-disk`.
pub fn driver_disk(a: DriverDiskArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let key = match &a.sign {
        Some(k) => Some(
            std::fs::read(k)
                .map_err(|e| anyhow::anyhow!("{}: cannot read the key: {e}", k.display()))?,
        ),
        None => None,
    };
    let opts = xiso::driver_disk::DriverDiskOptions {
        label: a.label,
        version: a.pack_version,
        description: a.description,
        uuid: a.uuid,
        key,
        passphrase: a
            .passphrase_file
            .as_deref()
            .map(read_passphrase)
            .transpose()?,
        date: a.date,
        volume_id: a.volume_id,
    };
    let r = xiso::driver_disk::build(&a.out, &a.packages, &opts)?;
    json_or_text(out, a.json, &r, print_driver_disk)?;
    Ok(Outcome::Done)
}

/// `xiso demo`: findings of its verify step are exit 1.
pub fn demo(a: DemoArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let r = xiso::demo::run(&a.outdir)?;
    print_demo(out, &r)?;
    Ok(Outcome::findings_if(!r.verify_clean))
}
