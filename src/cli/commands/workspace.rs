//! The workspace's own commands: unpack, pack, and the file edits overlay and
//! patch-installer.

use std::io::Write;

use xiso::iso::IsoImage;

use crate::cli::args::{OverlayArgs, PackArgs, PatchInstallerArgs, UnpackArgs};
use crate::cli::render::{
    json_or_text, print_overlay, print_pack, print_patch, print_unpack, warn_all,
};
use crate::cli::Outcome;

/// `xiso unpack`.
pub fn unpack(a: UnpackArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let img = IsoImage::open(&a.iso)?;
    let truncation = xiso::truncation::check(&img);
    let opts = xiso::workspace::UnpackOptions {
        force: a.force,
        skip_installer: a.no_installer,
        max_installer_bytes: a.max_installer_bytes.unwrap_or(0),
    };
    let r = xiso::workspace::unpack(&img, &a.dir, &opts)?;
    // After the unpack: an error stays the one line of an error.
    if let Some(t) = &truncation {
        eprintln!("xiso: warning: {t}");
    }
    json_or_text(out, a.json, &r, |_, r| {
        print_unpack(r, &a.dir);
        Ok(())
    })?;
    Ok(Outcome::Done)
}

/// `xiso patch-installer`.
pub fn patch_installer(a: PatchInstallerArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    if a.overlay.is_none() && a.remove.is_empty() {
        return Err(anyhow::anyhow!(
            "nothing to do: give an OVERLAY directory and/or --remove PATH"
        ));
    }
    let opts = xiso::workspace::PatchOptions {
        remove: a.remove,
        owner: a.owner,
    };
    let r = xiso::workspace::patch_installer(&a.dir, a.overlay.as_deref(), &opts)?;
    json_or_text(out, a.json, &r, print_patch)?;
    Ok(Outcome::Done)
}

/// `xiso overlay`.
pub fn overlay(a: OverlayArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let r = xiso::workspace::overlay(&a.dir, &a.src)?;
    json_or_text(out, a.json, &r, print_overlay)?;
    Ok(Outcome::Done)
}

/// `xiso pack`.
pub fn pack(a: PackArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let compress = a
        .compress
        .map(|c| c.parse::<xiso::initrd::stream::Compression>())
        .transpose()?;
    let opts = xiso::workspace::PackOptions {
        date: a.date,
        uefi: a.uefi,
        mbr_template: a.mbr_template,
        no_hybrid: a.no_hybrid,
        volume_id: a.volid,
        fsync: a.fsync,
        installer: xiso::workspace::InstallerPackOptions {
            compress,
            level: a.level,
            append: a.installer_append,
            date: None,
        },
    };
    let r = xiso::workspace::pack(&a.dir, &a.out, &opts)?;
    warn_all(&r.warnings);
    json_or_text(out, a.json, &r, print_pack)?;
    Ok(Outcome::Done)
}
