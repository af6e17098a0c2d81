//! `initrd::stream` against the standard compressors: what xiso writes, `bzip2 -dc`,
//! `gzip -dc`, `xz -dc` and `zstd -dc` read; what they write, xiso reads; and every
//! xiso output is ONE stream, the rule the kernel's initramfs unpacker needs.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::process::{Command, Stdio};

use common::require_tool;
use xiso::initrd::codec::detect;
use xiso::initrd::stream::{decoder, CompressSettings, Compression, Encoder};

const CODECS: [(Compression, &str); 4] = [
    (Compression::Gzip, "gzip"),
    (Compression::Bzip2, "bzip2"),
    (Compression::Xz, "xz"),
    (Compression::Zstd, "zstd"),
];

/// Semi-compressible, deterministic text, a little like a file list.
fn sample(len: usize, seed: u64) -> Vec<u8> {
    const WORDS: [&str; 8] = ["usr", "lib", "xen", "boot", "python", "rpm", "etc", "so"];
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 32);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let word = WORDS[(x % 8) as usize];
        out.extend_from_slice(format!("/{word}/{:x}", x >> 44).as_bytes());
        if x.is_multiple_of(5) {
            out.push(b'\n');
        }
    }
    out.truncate(len);
    out
}

/// Run `tool args` with `input` on stdin and return stdout.
fn pipe(tool: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    require_tool(tool);
    let mut child = Command::new(tool)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("ORACLE MISSING: cannot run `{tool}`: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "`{tool} {args:?}` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn xiso_encode(compression: Compression, data: &[u8]) -> Vec<u8> {
    let settings = CompressSettings::new(compression, None).unwrap();
    let mut enc = Encoder::new(&settings, Vec::new()).unwrap();
    for chunk in data.chunks(64 << 10) {
        enc.write_all(chunk).unwrap();
    }
    enc.finish().unwrap()
}

fn xiso_decode(bytes: Vec<u8>) -> Vec<u8> {
    let codec = detect(&bytes);
    let mut out = Vec::new();
    decoder(codec, Box::new(std::io::Cursor::new(bytes)))
        .unwrap()
        .read_to_end(&mut out)
        .unwrap_or_else(|e| panic!("{} decode: {e}", codec.name()));
    out
}

#[test]
fn tools_decode_what_xiso_encodes() {
    let data = sample(3 << 20, 1);
    for (compression, tool) in CODECS {
        let packed = xiso_encode(compression, &data);
        assert!(packed.len() < data.len() / 2, "{tool} barely compressed");
        let unpacked = pipe(tool, &["-dc"], &packed);
        assert!(unpacked == data, "`{tool} -dc` disagrees with xiso");
    }
}

#[test]
fn xiso_decodes_what_tools_encode() {
    let data = sample(3 << 20, 2);
    for (compression, tool) in CODECS {
        let level = format!("-{}", compression.default_level());
        let packed = pipe(tool, &["-c", "-q", &level], &data);
        assert!(xiso_decode(packed) == data, "xiso disagrees with `{tool}`");
    }
}

#[test]
fn concatenated_tool_members_decode_as_one() {
    let (a, b) = (sample(1 << 20, 3), sample(700_000, 4));
    for (_, tool) in CODECS {
        let mut packed = pipe(tool, &["-c", "-q"], &a);
        packed.extend(pipe(tool, &["-c", "-q"], &b));
        let unpacked = xiso_decode(packed);
        assert_eq!(unpacked.len(), a.len() + b.len(), "{tool}");
        assert!(unpacked == [a.as_slice(), &b].concat(), "{tool}");
    }
}

/// Decode `packed` with python's single-stream decompressors and report
/// `eof unused_len output_len [check]`.
fn python_one_stream(module: &str, packed: &[u8]) -> String {
    require_tool("python3");
    let script = format!(
        r#"
import sys, bz2, lzma, zlib
data = sys.stdin.buffer.read()
kind = "{module}"
if kind == "bz2":
    d = bz2.BZ2Decompressor()
elif kind == "xz":
    d = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
else:
    d = zlib.decompressobj(wbits=31)
out = d.decompress(data)
unused = d.unused_data
eof = d.eof
check = {{lzma.CHECK_CRC32: "crc32", lzma.CHECK_CRC64: "crc64"}}.get(getattr(d, "check", None), "-")
print(eof, len(unused), len(out), check)
"#
    );
    let out = pipe("python3", &["-c", &script], packed);
    String::from_utf8(out).unwrap().trim().to_string()
}

/// The kernel's bunzip2 stops at the first end-of-stream marker and init/initramfs.c
/// then wants a cpio entry boundary: a pbzip2-style file of many streams breaks it.
#[test]
fn bzip2_output_is_one_stream_of_several_blocks() {
    let data = sample(5 << 20, 5); // > 5 blocks of 900 kB
    let packed = xiso_encode(Compression::Bzip2, &data);
    assert_eq!(
        python_one_stream("bz2", &packed),
        format!("True 0 {} -", data.len())
    );
    // Each block starts with the 48-bit magic 0x314159265359 at any bit offset; count
    // them on the bit string (a false match inside Huffman data is vanishingly rare).
    let blocks = count_bit_pattern(&packed, 0x3141_5926_5359);
    assert!(blocks >= 5, "only {blocks} bzip2 blocks");

    // The check can fail: two streams in a row, as pbzip2 writes, leave unused data.
    let half = data.len() / 2;
    let mut two = pipe("bzip2", &["-c"], &data[..half]);
    let second = pipe("bzip2", &["-c"], &data[half..]);
    two.extend_from_slice(&second);
    assert_eq!(
        python_one_stream("bz2", &two),
        format!("True {} {half} -", second.len())
    );
}

fn count_bit_pattern(bytes: &[u8], pattern: u64) -> usize {
    let mut window = 0u64;
    let mut count = 0;
    for (i, byte) in bytes.iter().enumerate() {
        for bit in (0..8).rev() {
            window = ((window << 1) | u64::from((byte >> bit) & 1)) & 0xffff_ffff_ffff;
            if i >= 5 && window == pattern {
                count += 1;
            }
        }
    }
    count
}

#[test]
fn gzip_and_xz_outputs_are_one_stream() {
    let data = sample(3 << 20, 6);
    let gz = xiso_encode(Compression::Gzip, &data);
    assert_eq!(
        python_one_stream("gzip", &gz),
        format!("True 0 {} -", data.len())
    );
    // CRC32: the check every kernel's xz decoder verifies.
    let xz = xiso_encode(Compression::Xz, &data);
    assert_eq!(
        python_one_stream("xz", &xz),
        format!("True 0 {} crc32", data.len())
    );
}

#[test]
fn zstd_output_is_one_frame() {
    let data = sample(3 << 20, 7);
    let packed = xiso_encode(Compression::Zstd, &data);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.zst");
    std::fs::write(&path, &packed).unwrap();
    require_tool("zstd");
    let out = common::run(Command::new("zstd").arg("-l").arg(&path));
    assert!(out.status.success());
    let listing = String::from_utf8_lossy(&out.stdout);
    let row = listing
        .lines()
        .find(|l| l.ends_with("out.zst"))
        .unwrap_or_else(|| panic!("no row in {listing}"));
    let fields: Vec<_> = row.split_whitespace().collect();
    assert_eq!(fields[0], "1", "frames: {listing}");
    assert!(row.contains("XXH64"), "checksum: {listing}");
}

/// Encode 300 kB at `level`, with two threads, into a vector.
fn encode_at(compression: Compression, level: u32, data: &[u8]) -> Vec<u8> {
    let settings = CompressSettings {
        compression,
        level,
        threads: 2,
    };
    let mut enc = Encoder::new(&settings, Vec::new()).unwrap();
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// Levels with small blocks, so that 300 kB spans several bzip2 blocks.
const SMALL_BLOCKS: [(Compression, u32); 4] = [
    (Compression::Gzip, 6),
    (Compression::Bzip2, 1),
    (Compression::Xz, 0),
    (Compression::Zstd, 1),
];

/// Damage each codec's output; reading must fail with a data error, not panic and
/// not end early.
fn assert_damage_detected(what: &str, damage: impl Fn(&mut Vec<u8>)) {
    let data = sample(300_000, 8);
    for (compression, level) in SMALL_BLOCKS {
        let mut bytes = encode_at(compression, level, &data);
        damage(&mut bytes);
        let codec = detect(&bytes);
        let mut out = Vec::new();
        let err = decoder(codec, Box::new(std::io::Cursor::new(bytes)))
            .unwrap()
            .read_to_end(&mut out)
            .expect_err(&format!("{compression} {what} decoded"));
        assert!(
            matches!(
                err.kind(),
                ErrorKind::InvalidData | ErrorKind::UnexpectedEof
            ),
            "{compression} {what}: {err:?}"
        );
    }
}

#[test]
fn truncated_stream_is_an_error() {
    assert_damage_detected("cut in half", |b| b.truncate(b.len() / 2));
    // The last bytes hold the end-of-stream marker and checksum.
    assert_damage_detected("without its end", |b| b.truncate(b.len() - 3));
}

#[test]
fn corrupt_stream_is_invalid_data() {
    assert_damage_detected("with a flipped byte", |b| {
        let at = b.len() / 3;
        b[at] ^= 0x55;
    });
}

#[test]
fn garbage_after_the_stream_is_an_error() {
    assert_damage_detected("with trailing garbage", |b| {
        b.extend_from_slice(b"not compressed data at all")
    });
}

/// Hands out its bytes, then fails as a disk would.
struct FailingInput(std::io::Cursor<Vec<u8>>);

impl Read for FailingInput {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.0.read(buf)? {
            0 => Err(std::io::Error::new(
                ErrorKind::PermissionDenied,
                "disk says no",
            )),
            n => Ok(n),
        }
    }
}

#[test]
fn input_errors_keep_their_kind() {
    let data = sample(300_000, 9);
    for (compression, level) in SMALL_BLOCKS {
        let mut bytes = encode_at(compression, level, &data);
        bytes.truncate(bytes.len() / 2);
        let codec = detect(&bytes);
        let input = FailingInput(std::io::Cursor::new(bytes));
        let err = decoder(codec, Box::new(input))
            .unwrap()
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::PermissionDenied,
            "{compression}: {err}"
        );
    }
}
