//! The installer image against its kernel: `install.img` is the dom0 kernel's
//! initramfs (ARCHITECTURE.md §1), so its codec must be one that kernel decompresses
//! ([`crate::boot::bzimage`]): a zstd image under XCP-ng 8.3's Linux 4.19 never
//! boots.

use super::{check, Ctx, Severity, INSTALL_IMG};
use crate::boot::bzimage::{KernelHeader, HEADER_READ_LEN};
use crate::error::Result;
use crate::initrd::{codec::DETECT_LEN, detect};
use crate::workspace::DOM0_KERNELS;

/// The first `limit` bytes of the file at `path` (from its first extent).
fn head(ctx: &Ctx<'_>, path: &str, limit: u64) -> Option<Result<(u64, Vec<u8>)>> {
    let entry = ctx.file(path)?;
    let x = entry.extents.first()?;
    let len = x.len.min(limit).min(entry.size);
    let len = usize::try_from(len).unwrap_or(0);
    Some(
        ctx.iso
            .source()
            .read_vec(x.offset(), len, path)
            .map(|v| (x.offset(), v)),
    )
}

pub(super) fn check(ctx: &mut Ctx<'_>) -> Result<()> {
    let Some(Ok((img_offset, img_head))) = head(ctx, INSTALL_IMG, DETECT_LEN as u64) else {
        return Ok(());
    };
    let codec = detect(&img_head);
    if crate::workspace::every_kernel_reads(codec) {
        return Ok(());
    }
    for rel in DOM0_KERNELS {
        let path = format!("/{rel}");
        let Some(read) = head(ctx, &path, HEADER_READ_LEN) else {
            continue;
        };
        let parsed = read.and_then(|(off, bytes)| {
            KernelHeader::parse(&bytes).map_err(|e| match e.offset() {
                Some(o) => crate::error::Error::corrupt(o.saturating_add(off), e.message()),
                None => e,
            })
        });
        match parsed {
            Ok(h) => {
                if let Some(msg) = h.refusal(&path, codec) {
                    ctx.error(check::INSTALLER_CODEC, Some(INSTALL_IMG), Some(img_offset), msg);
                }
            }
            Err(e) => ctx.push(
                check::KERNEL_HEADER,
                Severity::Warning,
                Some(&path),
                e.offset(),
                format!(
                    "{path}: cannot read the kernel version ({}): not checked whether it unpacks the {} {INSTALL_IMG}",
                    e.message(),
                    codec.name()
                ),
            ),
        }
    }
    Ok(())
}
