//! The installer image must be one the dom0 kernel can unpack: `install.img` is
//! its initramfs (ARCHITECTURE.md §1), and a kernel has only the decompressors of its time
//! ([`crate::boot::bzimage`]). `pack` (and so `remaster`) checks the codec of the
//! image it will write against every installer kernel of the tree before writing
//! anything.

use std::fs;
use std::path::Path;

use super::manifest::TREE_DIR;
use crate::boot::bzimage::{first_kernel_reading, KernelHeader};
use crate::error::{Error, Result};
use crate::initrd::stream::Compression;
use crate::initrd::Codec;

/// The kernels XCP-ng's menus start as dom0 (`/boot/alt/vmlinuz`: `install-alt`).
pub(crate) const DOM0_KERNELS: &[&str] = &["boot/vmlinuz", "boot/alt/vmlinuz"];

/// The codec [`Codec`] a written image of `compression` starts with.
pub(crate) fn codec_of(compression: Compression) -> Codec {
    match compression {
        Compression::None => Codec::Uncompressed,
        Compression::Gzip => Codec::Gzip,
        // The level does not change which kernels read it.
        Compression::Bzip2 => Codec::Bzip2 { level: 9 },
        Compression::Xz => Codec::Xz,
        Compression::Zstd => Codec::Zstd,
    }
}

/// Whether every kernel with a boot protocol header reads `codec` (nothing to check).
pub(crate) fn every_kernel_reads(codec: Codec) -> bool {
    first_kernel_reading(codec).is_some_and(|v| v <= (2, 6))
}

/// Refuse (`Unsupported`, naming the kernel file, its version and the codec) an
/// image in `compression` that a dom0 kernel of the workspace `dir` cannot unpack.
/// A kernel whose header cannot be read is not guessed about: it adds a warning.
pub(super) fn check_installer_codec(
    dir: &Path,
    compression: Compression,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let codec = codec_of(compression);
    if every_kernel_reads(codec) {
        return Ok(());
    }
    let tree = dir.join(TREE_DIR);
    for rel in DOM0_KERNELS {
        let path = tree.join(rel);
        if !path.is_file() {
            continue;
        }
        let file = fs::File::open(&path).map_err(|e| Error::io(e, "cannot open").in_file(&path))?;
        match KernelHeader::read(file) {
            Ok(h) => {
                if let Some(msg) = h.refusal(&format!("/{rel}"), codec) {
                    return Err(Error::unsupported(msg).in_file(&path));
                }
            }
            Err(e) => warnings.push(format!(
                "iso/{rel}: cannot read the kernel version ({}): not checked whether it unpacks a {} install.img",
                e,
                codec.name()
            )),
        }
    }
    Ok(())
}
