//! The x86 Linux boot protocol header of a `bzImage` (`/boot/vmlinuz`), read only as
//! far as the kernel's version, and which initramfs codecs that version decompresses.
//!
//! Layout (Linux `Documentation/arch/x86/boot.rst`, "The real-mode kernel header"):
//! the setup header starts at 0x1F1 of the image; 0x1FE holds the boot flag
//! `55 AA`, 0x202 the magic `HdrS`, 0x206 the protocol version (u16, major.minor
//! bytes), 0x20E `kernel_version` (u16, protocol 2.00+): a pointer to a
//! NUL-terminated string at `kernel_version + 0x200`, inside the setup code, which
//! starts with the kernel release (`4.19.0+1 (mockbuild@…) #1 SMP …`).
//!
//! The dom0 kernel unpacks the installer (`install.img` is its initramfs) with the
//! decompressors it was built with (`lib/decompress.c`, `usr/Kconfig` RD_*); a
//! codec newer than the kernel cannot be among them: XCP-ng 8.3's dom0 kernel is
//! Linux 4.19 and cannot read a zstd image (CONFIG_RD_ZSTD exists since 5.9).

use std::io::Read;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::initrd::Codec;

/// Offset of the boot flag `55 AA`.
const BOOT_FLAG: usize = 0x1FE;
/// Offset of the setup header magic.
const HEADER_MAGIC: usize = 0x202;
/// Offset of the boot protocol version.
const PROTOCOL: usize = 0x206;
/// Offset of the `kernel_version` pointer.
const KERNEL_VERSION: usize = 0x20E;
/// `kernel_version` points this far before its string (the setup code's load
/// offset in the file: the boot sector is 512 bytes).
const KERNEL_VERSION_BASE: usize = 0x200;
/// How much of an image [`KernelHeader::read`] reads: the setup code (at most 64
/// sectors of 512 bytes after the boot sector, as `setup_sects` is one byte and the
/// real-mode code must fit in its 32 KiB segment) holds the version string.
pub(crate) const HEADER_READ_LEN: u64 = 0x10000;
/// Longest version string taken.
const MAX_VERSION: usize = 256;

/// What the boot protocol header of a bzImage says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct KernelHeader {
    /// Boot protocol version, e.g. `2.15`.
    pub protocol: String,
    /// The whole `kernel_version` string.
    pub version_string: String,
    /// Its first word: the kernel release (`6.1.0-57-amd64`, `4.19.0+1`).
    pub release: String,
    /// Major and minor version from the release.
    pub version: (u32, u32),
}

impl KernelHeader {
    /// Parse the header from the first bytes of a bzImage (at least up to the end
    /// of the version string; [`HEADER_READ_LEN`] bytes always suffice). Errors
    /// name the offset of the field at fault.
    pub(crate) fn parse(head: &[u8]) -> Result<KernelHeader> {
        let u16_at = |off: usize| -> Result<u16> {
            head.get(off..off + 2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]))
                .ok_or_else(|| {
                    Error::corrupt(
                        off as u64,
                        format!("not a bzImage: {} bytes, no setup header", head.len()),
                    )
                })
        };
        if u16_at(BOOT_FLAG)? != 0xAA55 {
            return Err(Error::corrupt(
                BOOT_FLAG as u64,
                "not a bzImage: no boot flag 55 AA",
            ));
        }
        if head.get(HEADER_MAGIC..HEADER_MAGIC + 4) != Some(b"HdrS") {
            return Err(Error::corrupt(
                HEADER_MAGIC as u64,
                "not a bzImage: no setup header magic HdrS (a kernel older than boot protocol 2.00?)",
            ));
        }
        let proto = u16_at(PROTOCOL)?;
        let protocol = format!("{}.{:02}", proto >> 8, proto & 0xff);
        let pointer = u16_at(KERNEL_VERSION)?;
        if pointer == 0 {
            return Err(Error::corrupt(
                KERNEL_VERSION as u64,
                format!("bzImage (boot protocol {protocol}) has no kernel_version string"),
            ));
        }
        let start = usize::from(pointer) + KERNEL_VERSION_BASE;
        let tail = head.get(start..).filter(|t| !t.is_empty()).ok_or_else(|| {
            Error::corrupt(
                KERNEL_VERSION as u64,
                format!(
                    "kernel_version points at 0x{start:x}, past the {} bytes read",
                    head.len()
                ),
            )
        })?;
        let end = tail
            .iter()
            .take(MAX_VERSION)
            .position(|&b| b == 0)
            .ok_or_else(|| {
                Error::corrupt(
                    start as u64,
                    format!("kernel_version string at 0x{start:x} is not NUL-terminated within {MAX_VERSION} bytes"),
                )
            })?;
        let version_string = std::str::from_utf8(&tail[..end])
            .map_err(|_| {
                Error::corrupt(
                    start as u64,
                    format!("kernel_version string at 0x{start:x} is not text"),
                )
            })?
            .to_string();
        let release = version_string
            .split_ascii_whitespace()
            .next()
            .unwrap_or("")
            .to_string();
        let version = parse_release(&release).ok_or_else(|| {
            Error::corrupt(
                start as u64,
                format!(
                    "kernel_version {version_string:?} does not start with a version MAJOR.MINOR"
                ),
            )
        })?;
        Ok(KernelHeader {
            protocol,
            version_string,
            release,
            version,
        })
    }

    /// Read the first [`HEADER_READ_LEN`] bytes of `image` and parse them.
    pub(crate) fn read(image: impl Read) -> Result<KernelHeader> {
        let mut head = Vec::new();
        image
            .take(HEADER_READ_LEN)
            .read_to_end(&mut head)
            .map_err(|e| Error::io(e, "cannot read the kernel image"))?;
        KernelHeader::parse(&head)
    }

    /// Whether this kernel can unpack an initramfs compressed with `codec`.
    pub(crate) fn reads(&self, codec: Codec) -> bool {
        match first_kernel_reading(codec) {
            Some(min) => self.version >= min,
            None => false,
        }
    }

    /// The refusal for an initrd in `codec` this kernel cannot unpack, naming both;
    /// `None` when it can.
    pub(crate) fn refusal(&self, kernel: &str, codec: Codec) -> Option<String> {
        if self.reads(codec) {
            return None;
        }
        let why = match first_kernel_reading(codec) {
            Some((major, minor)) => format!(
                "Linux reads {} initramfs images since {major}.{minor}",
                codec.name()
            ),
            None => format!("no Linux kernel unpacks a {} initramfs", codec.name()),
        };
        Some(format!(
            "the dom0 kernel {kernel} is Linux {} and cannot decompress a {} install.img ({why}); pick a codec it reads (gzip, bzip2, xz)",
            self.release,
            codec.name()
        ))
    }
}

/// The first Linux release whose initramfs unpacker reads `codec`
/// (`lib/decompress.c` and the `RD_*` options of `usr/Kconfig`, by release);
/// `None` for streams the kernel never reads (the LZ4 frame format, unknown data).
pub(crate) fn first_kernel_reading(codec: Codec) -> Option<(u32, u32)> {
    match codec {
        Codec::Uncompressed | Codec::Gzip => Some((2, 0)),
        // bzip2 and lzma (RD_BZIP2, RD_LZMA): 2.6.30; lzo 2.6.33, xz 2.6.38
        // (all below 3.0, which every bzImage with a kernel_version has reached).
        Codec::Bzip2 { .. } | Codec::Lzma | Codec::Lzo | Codec::Xz => Some((2, 6)),
        Codec::Lz4Legacy => Some((3, 11)),
        Codec::Zstd => Some((5, 9)),
        Codec::Lz4Frame | Codec::Unknown => None,
    }
}

/// `MAJOR.MINOR` at the start of a release string (`4.19.0+1`, `6.1.0-57-amd64`).
fn parse_release(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.splitn(3, '.');
    let major = parts.next()?.parse().ok()?;
    let minor: String = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, minor.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal image: boot flag, HdrS, protocol 2.15, version string at 0x400.
    fn image(version: &[u8]) -> Vec<u8> {
        let mut v = vec![0u8; 0x400];
        v[BOOT_FLAG..BOOT_FLAG + 2].copy_from_slice(&[0x55, 0xAA]);
        v[HEADER_MAGIC..HEADER_MAGIC + 4].copy_from_slice(b"HdrS");
        v[PROTOCOL..PROTOCOL + 2].copy_from_slice(&0x020Fu16.to_le_bytes());
        v[KERNEL_VERSION..KERNEL_VERSION + 2].copy_from_slice(&0x200u16.to_le_bytes());
        v.extend_from_slice(version);
        v
    }

    #[test]
    fn reads_the_release_and_decides_codecs() {
        let h = KernelHeader::parse(&image(b"4.19.0+1 (mockbuild@x) #1 SMP\0")).unwrap();
        assert_eq!(h.protocol, "2.15");
        assert_eq!(h.release, "4.19.0+1");
        assert_eq!(h.version, (4, 19));
        assert!(h.reads(Codec::Bzip2 { level: 9 }));
        assert!(h.reads(Codec::Xz));
        assert!(!h.reads(Codec::Zstd));
        let msg = h.refusal("/boot/vmlinuz", Codec::Zstd).unwrap();
        assert!(
            msg.contains("Linux 4.19.0+1") && msg.contains("zstd"),
            "{msg}"
        );
        let h = KernelHeader::parse(&image(b"5.9.0 #1\0")).unwrap();
        assert!(h.reads(Codec::Zstd));
        assert!(h.refusal("/boot/vmlinuz", Codec::Zstd).is_none());
        assert!(!h.reads(Codec::Lz4Frame));
    }

    #[test]
    fn damaged_headers_name_the_offset() {
        let cases: Vec<(Vec<u8>, u64)> = vec![
            (vec![0u8; 0x100], BOOT_FLAG as u64),
            (
                {
                    let mut v = image(b"6.1\0");
                    v[HEADER_MAGIC] = b'X';
                    v
                },
                HEADER_MAGIC as u64,
            ),
            (
                {
                    let mut v = image(b"6.1\0");
                    v[KERNEL_VERSION..KERNEL_VERSION + 2].copy_from_slice(&0u16.to_le_bytes());
                    v
                },
                KERNEL_VERSION as u64,
            ),
            (
                {
                    let mut v = image(b"");
                    v[KERNEL_VERSION..KERNEL_VERSION + 2].copy_from_slice(&0xFFFFu16.to_le_bytes());
                    v
                },
                KERNEL_VERSION as u64,
            ),
            (image(b"6.1 no terminator"), 0x400),
            (image(b"linux\0"), 0x400),
            (image(b"\xff\xfe\0"), 0x400),
        ];
        for (bytes, offset) in cases {
            let e = KernelHeader::parse(&bytes).unwrap_err();
            assert_eq!(e.offset(), Some(offset), "{e}");
        }
    }
}
