//! `.treeinfo`: the installer refuses media without it, and with a signed repository it
//! imports the key named by `[keys]` from the media (ARCHITECTURE.md §1).

use super::{check, Ctx, Severity};
use crate::error::Result;
use crate::treeinfo::{TreeInfo, TreeInfoLayout};

/// Largest `.treeinfo` read (a real one is under 2 KiB).
const MAX_TREEINFO: u64 = 1 << 20;
const TREEINFO: &str = "/.treeinfo";

pub(super) fn check(ctx: &mut Ctx<'_>) -> Result<()> {
    let Some(entry) = ctx.file(TREEINFO).cloned() else {
        ctx.error(
            check::TREEINFO,
            Some(TREEINFO),
            None,
            "no /.treeinfo: the XCP-ng installer will not accept this media".into(),
        );
        return Ok(());
    };
    let offset = entry.extents.first().map(|x| x.offset());
    let Some(bytes) = ctx.small_file(
        &entry,
        TREEINFO,
        MAX_TREEINFO,
        check::TREEINFO,
        "a .treeinfo",
    )?
    else {
        return Ok(());
    };
    let info = match TreeInfo::parse(&String::from_utf8_lossy(&bytes)) {
        Ok(t) => t,
        Err(e) => {
            ctx.error(
                check::TREEINFO,
                Some(TREEINFO),
                offset,
                format!("/.treeinfo: {e}"),
            );
            return Ok(());
        }
    };
    if info.layout() == TreeInfoLayout::Missing {
        ctx.push(
            check::TREEINFO,
            Severity::Warning,
            Some(TREEINFO),
            offset,
            "/.treeinfo has neither [system-v1] nor [platform]+[branding]".into(),
        );
    }
    for (key, value) in info.entries("keys") {
        let path = format!("/{}", value.trim().trim_start_matches('/'));
        if ctx.file(&path).is_none() {
            ctx.error(
                check::TREEINFO_KEY_FILE,
                Some(TREEINFO),
                offset,
                format!("/.treeinfo [keys] {key} = {value}, but {path} is not on the media"),
            );
        }
    }
    Ok(())
}
