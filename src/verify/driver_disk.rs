//! Driver disks ([`crate::driver_disk`]): media with `/update.xml` and no
//! `/.treeinfo`. The installer (host-installer `repository.py`) accepts one when
//! `update.xml` parses with an `<update>` root (`name-label`, `control`), the
//! repository's `yum group summary drivers` finds the group, and installing
//! `@drivers` resolves: the group's mandatory `update-<label>` metapackage must be
//! on the disk and require the driver packages. Driver disks are not booted, so
//! the boot checks do not apply (unless the disk has an El Torito record).

use super::{check, Ctx, Severity};
use crate::driver_disk::{UpdateXml, DRIVERS_GROUP, UPDATE_GROUP};
use crate::error::{ErrorKind, Result};
use crate::iso::ExtentReader;
use crate::repo::comps::{parse_groups, CompsGroup};
use crate::repo::{read_primary, DepKind, Repomd};

const UPDATE_XML: &str = "/update.xml";
const UPDATE_XML_ASC: &str = "/update.xml.asc";
const REPOMD: &str = "/repodata/repomd.xml";
/// Largest update.xml, repomd.xml or comps file read.
const MAX_TEXT: u64 = 16 << 20;

/// Whether the media is a driver disk: `/update.xml` and no `/.treeinfo` (the
/// installer tries `.treeinfo` first: media with both is main media).
pub(super) fn is_driver_disk(ctx: &Ctx<'_>) -> bool {
    ctx.file(UPDATE_XML).is_some() && ctx.file("/.treeinfo").is_none()
}

/// Read `/update.xml` into `ctx.driver_disk`, or report why the installer would not.
pub(super) fn read_update_xml(ctx: &mut Ctx<'_>) -> Result<()> {
    let Some(entry) = ctx.file(UPDATE_XML).cloned() else {
        return Ok(());
    };
    let offset = entry.extents.first().map(|x| x.offset());
    let Some(bytes) = ctx.small_file(
        &entry,
        UPDATE_XML,
        MAX_TEXT,
        check::DRIVER_DISK_UPDATE_XML,
        "an update.xml",
    )?
    else {
        return Ok(());
    };
    match UpdateXml::parse(&bytes) {
        Ok(u) => ctx.driver_disk = Some(u),
        Err(e) => ctx.error(
            check::DRIVER_DISK_UPDATE_XML,
            Some(UPDATE_XML),
            offset.map(|o| o + e.offset().unwrap_or(0)),
            format!(
                "{UPDATE_XML}: {} (the installer refuses the disk)",
                e.message()
            ),
        ),
    }
    Ok(())
}

/// The comps groups and the metapackage, after [`read_update_xml`].
pub(super) fn check(ctx: &mut Ctx<'_>) -> Result<()> {
    let Some(update) = ctx.driver_disk.clone() else {
        return Ok(());
    };
    let meta = update.metapackage();
    ctx.notes.push(format!(
        "driver disk {} version {}: the installer installs @{DRIVERS_GROUP} ({meta})",
        update.name_label,
        update.version.as_deref().unwrap_or("(none)")
    ));
    let Some(repomd) = read_text(ctx, REPOMD)?.and_then(|b| Repomd::parse(&b).ok()) else {
        // Missing or unreadable: the repodata check reports it.
        return Ok(());
    };
    groups(ctx, &repomd, &meta)?;
    metapackage(ctx, &repomd, &update)?;
    if update.key.is_some() {
        let gpg = super::gpgcheck::config(ctx)?;
        if let Some(bytes) = read_text(ctx, UPDATE_XML)? {
            super::signature::check_detached(
                ctx,
                check::DRIVER_DISK_UPDATE_XML,
                (UPDATE_XML_ASC, UPDATE_XML),
                &bytes,
                &gpg,
            )?;
        }
    }
    Ok(())
}

/// Both comps groups present, each with the metapackage mandatory.
fn groups(ctx: &mut Ctx<'_>, repomd: &Repomd, meta: &str) -> Result<()> {
    let record = repomd.record("group").or_else(|| repomd.record("group_gz"));
    let comps = match record {
        None => None,
        Some(r) => read_text(
            ctx,
            &format!("/{}", r.location_href.trim_start_matches('/')),
        )?,
    };
    let parsed: Vec<CompsGroup> = match comps.as_deref().map(parse_groups) {
        None => Vec::new(),
        Some(Ok(g)) => g,
        Some(Err(e)) => {
            ctx.error(
                check::DRIVER_DISK_GROUPS,
                None,
                None,
                format!("the comps file of {REPOMD} cannot be read: {e}"),
            );
            return Ok(());
        }
    };
    for id in [DRIVERS_GROUP, UPDATE_GROUP] {
        let why = match parsed.iter().find(|g| g.id == id) {
            None if id == DRIVERS_GROUP => format!(
                "the repository has no comps group `{id}`: the installer's `yum group summary \
                 {id}` finds none and it does not offer the disk"
            ),
            None => format!("the repository has no comps group `{id}` (build-update writes it)"),
            Some(g) if !g.mandatory.iter().any(|m| m == meta) => format!(
                "comps group `{id}` does not have {meta} as a mandatory package (it has {:?}): \
                 installing @{id} does not install the disk's packages",
                g.mandatory
            ),
            Some(_) => continue,
        };
        ctx.error(check::DRIVER_DISK_GROUPS, None, None, why);
    }
    Ok(())
}

/// The metapackage on the disk, requiring every other package of the disk.
fn metapackage(ctx: &mut Ctx<'_>, repomd: &Repomd, update: &UpdateXml) -> Result<()> {
    let meta = update.metapackage();
    let Some(entry) = repomd
        .record("primary")
        .and_then(|r| ctx.file(&format!("/{}", r.location_href.trim_start_matches('/'))))
        .cloned()
    else {
        return Ok(());
    };
    let entries = match read_primary(&mut ExtentReader::new(ctx.iso, &entry)) {
        Ok(v) => v,
        Err(e) if e.kind() == ErrorKind::Io => return Err(e),
        // Unreadable primary: the repodata and closure checks report it.
        Err(_) => return Ok(()),
    };
    let Some(m) = entries.iter().find(|e| e.name == meta) else {
        ctx.error(
            check::DRIVER_DISK_METAPACKAGE,
            None,
            None,
            format!(
                "no package {meta} in the repository: update.xml name-label is {:?}, and \
                 installing @{DRIVERS_GROUP} fails without it",
                update.name_label
            ),
        );
        return Ok(());
    };
    let requires: Vec<&str> = m
        .dependencies(DepKind::Requires)
        .iter()
        .map(|d| d.name.as_str())
        .filter(|n| !n.starts_with("rpmlib("))
        .collect();
    for other in entries.iter().filter(|e| e.name != meta) {
        if !requires.contains(&other.name.as_str()) {
            ctx.push(
                check::DRIVER_DISK_METAPACKAGE,
                Severity::Warning,
                Some(&format!("/{}", other.location_href)),
                None,
                format!(
                    "{meta} does not require {}: the installer installs it only if another \
                     package of the disk requires it",
                    other.name
                ),
            );
        }
    }
    if requires.is_empty() {
        ctx.error(
            check::DRIVER_DISK_METAPACKAGE,
            Some(&format!("/{}", m.location_href)),
            None,
            format!("{meta} requires no package: installing @{DRIVERS_GROUP} installs no driver"),
        );
    }
    if !entries.iter().any(|e| e.name == update.control) {
        ctx.push(
            check::DRIVER_DISK_METAPACKAGE,
            Severity::Warning,
            Some(UPDATE_XML),
            None,
            format!(
                "update.xml control={:?} names no package of the disk (build-update names {meta})",
                update.control
            ),
        );
    }
    Ok(())
}

fn read_text(ctx: &Ctx<'_>, path: &str) -> Result<Option<Vec<u8>>> {
    match ctx.file(path) {
        Some(e) if e.size <= MAX_TEXT => Ok(Some(ctx.iso.read_file(path, MAX_TEXT)?)),
        _ => Ok(None),
    }
}
