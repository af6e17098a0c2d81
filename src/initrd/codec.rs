//! Compression detection by magic bytes.
//!
//! `install.img` is a cpio newc archive, compressed with gzip (XenServer < 7),
//! bzip2 (XenServer 7 .. XCP-ng 8.3) or zstd (XCP-ng 9). The magic numbers are the
//! ones the Linux kernel's `lib/decompress.c` table recognises for an initramfs,
//! plus xz's and the uncompressed cpio headers.

use serde::Serialize;

/// How many leading bytes [`detect`] needs to tell every codec apart.
pub const DETECT_LEN: usize = 10;

/// The compression of an initrd (or any stream), as told by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "codec")]
pub enum Codec {
    /// gzip, RFC 1952: `1f 8b`.
    Gzip,
    /// bzip2: `BZh`, the block-size level, then a block or end-of-stream magic.
    Bzip2 {
        /// Block size in units of 100 000 bytes (`1`..=`9`, `bzip2 -9` is the default).
        level: u8,
    },
    /// xz: `fd 37 7a 58 5a 00`.
    Xz,
    /// Legacy `.lzma` (LZMA-alone): properties byte `5d`, dictionary size, as the
    /// kernel checks it (`5d 00 00`).
    Lzma,
    /// Zstandard frame: `28 b5 2f fd`.
    Zstd,
    /// LZ4 legacy frame (what `lz4 -l` writes and the kernel reads): `02 21 4c 18`.
    Lz4Legacy,
    /// LZ4 frame format: `04 22 4d 18` (the kernel's initramfs loader does not read it).
    Lz4Frame,
    /// LZO (`lzop`): `89 4c 5a 4f 00 0d 0a 1a 0a`.
    Lzo,
    /// An uncompressed cpio archive, newc (`070701`) or newc with checksums (`070702`).
    Uncompressed,
    /// None of the above.
    Unknown,
}

impl Codec {
    /// Short lower-case name: `gzip`, `bzip2`, `xz`, `lzma`, `zstd`, `lz4-legacy`,
    /// `lz4`, `lzo`, `none`, `unknown`.
    pub fn name(&self) -> &'static str {
        match self {
            Codec::Gzip => "gzip",
            Codec::Bzip2 { .. } => "bzip2",
            Codec::Xz => "xz",
            Codec::Lzma => "lzma",
            Codec::Zstd => "zstd",
            Codec::Lz4Legacy => "lz4-legacy",
            Codec::Lz4Frame => "lz4",
            Codec::Lzo => "lzo",
            Codec::Uncompressed => "none",
            Codec::Unknown => "unknown",
        }
    }

    /// The bzip2 block-size level (`1`..=`9`), for bzip2 streams only.
    pub fn bzip2_level(&self) -> Option<u8> {
        match self {
            Codec::Bzip2 { level } => Some(*level),
            _ => None,
        }
    }
}

/// Tell the codec of a stream from its first bytes (pass at least [`DETECT_LEN`]
/// bytes; a shorter head yields [`Codec::Unknown`] when it cannot decide).
pub fn detect(head: &[u8]) -> Codec {
    const BZ_BLOCK: [u8; 6] = [0x31, 0x41, 0x59, 0x26, 0x53, 0x59]; // BCD pi
    const BZ_EOS: [u8; 6] = [0x17, 0x72, 0x45, 0x38, 0x50, 0x90]; // BCD sqrt(pi): empty stream
    const LZO: [u8; 9] = [0x89, b'L', b'Z', b'O', 0x00, 0x0d, 0x0a, 0x1a, 0x0a];

    if head.starts_with(&[0x1f, 0x8b]) {
        return Codec::Gzip;
    }
    if let Some(rest) = head.strip_prefix(b"BZh") {
        if let [level @ b'1'..=b'9', magic @ ..] = rest {
            if magic.starts_with(&BZ_BLOCK) || magic.starts_with(&BZ_EOS) {
                return Codec::Bzip2 {
                    level: level - b'0',
                };
            }
        }
        return Codec::Unknown;
    }
    if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        return Codec::Xz;
    }
    if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Codec::Zstd;
    }
    if head.starts_with(&[0x02, 0x21, 0x4c, 0x18]) {
        return Codec::Lz4Legacy;
    }
    if head.starts_with(&[0x04, 0x22, 0x4d, 0x18]) {
        return Codec::Lz4Frame;
    }
    if head.starts_with(&LZO) {
        return Codec::Lzo;
    }
    if head.starts_with(b"070701") || head.starts_with(b"070702") {
        return Codec::Uncompressed;
    }
    if head.starts_with(&[0x5d, 0x00, 0x00]) {
        return Codec::Lzma;
    }
    Codec::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes() {
        assert_eq!(detect(&[0x1f, 0x8b, 8, 0]), Codec::Gzip);
        assert_eq!(detect(b"BZh91AY&SY\x00"), Codec::Bzip2 { level: 9 });
        assert_eq!(
            detect(b"BZh1\x17\x72\x45\x38\x50\x90"),
            Codec::Bzip2 { level: 1 }
        );
        assert_eq!(detect(b"BZh01AY&SY"), Codec::Unknown);
        assert_eq!(detect(b"BZh9"), Codec::Unknown);
        assert_eq!(detect(b"BZh9XXXXXX"), Codec::Unknown);
        assert_eq!(detect(b"\xfd7zXZ\x00\x00"), Codec::Xz);
        assert_eq!(detect(b"\xfd7zXZ"), Codec::Unknown);
        assert_eq!(detect(&[0x28, 0xb5, 0x2f, 0xfd, 0x24]), Codec::Zstd);
        assert_eq!(detect(&[0x02, 0x21, 0x4c, 0x18]), Codec::Lz4Legacy);
        assert_eq!(detect(&[0x04, 0x22, 0x4d, 0x18]), Codec::Lz4Frame);
        assert_eq!(detect(b"\x89LZO\x00\r\n\x1a\n"), Codec::Lzo);
        assert_eq!(detect(&[0x5d, 0, 0, 0x80, 0]), Codec::Lzma);
        assert_eq!(detect(b"07070100000001"), Codec::Uncompressed);
        assert_eq!(detect(b"070702"), Codec::Uncompressed);
        assert_eq!(detect(b"070707"), Codec::Unknown);
        assert_eq!(detect(b""), Codec::Unknown);
        assert_eq!(detect(&[0x1f]), Codec::Unknown);
    }

    #[test]
    fn names() {
        assert_eq!(Codec::Bzip2 { level: 9 }.name(), "bzip2");
        assert_eq!(Codec::Bzip2 { level: 9 }.bzip2_level(), Some(9));
        assert_eq!(Codec::Gzip.bzip2_level(), None);
        assert_eq!(Codec::Uncompressed.name(), "none");
    }
}
