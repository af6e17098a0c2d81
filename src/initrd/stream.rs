//! Streaming decode and encode of the codecs `install.img` comes in.
//!
//! The kernel unpacks an initramfs member by member (`init/initramfs.c`,
//! `unpack_to_rootfs`): it picks a decompressor by magic (`lib/decompress.c`), lets it
//! run to the end of ONE compressed stream, and then insists that the cpio parser is
//! between entries ("junk at the end of compressed archive" otherwise). A compressed
//! member must therefore hold whole cpio entries. A pbzip2-style file, one bzip2 stream
//! per 900 kB of input, cuts entries in half and does not boot. So [`Encoder`] always
//! writes exactly one stream, using every core inside that stream where the codec
//! allows it:
//!
//! * bzip2: pbz2 compresses the blocks of one stream in parallel;
//! * zstd: zstdmt, whose output is the same for any worker count `>= 1`;
//! * xz: the liblzma multi-threaded encoder with a fixed block size, CRC32 check (the
//!   check the kernel's xz decoder always supports);
//! * gzip: one thread.
//!
//! The output depends on the data, the codec and the level only, never on the thread
//! count, and [`Encoder`]'s `flush` never ends a block: same input, same bytes.
//!
//! [`decoder`] reads several members of the same codec in a row as one output, as the
//! standard tools do (`cat a.bz2 b.bz2 | bzip2 -dc`). Everything streams; no stream is
//! held in memory.

use std::fmt;
use std::io::{self, Read, Write};
use std::ops::RangeInclusive;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::codec::Codec;
use crate::error::{Error, Result};

/// At most this many threads are asked for (zstd allows 200 workers, xz 16384).
const MAX_THREADS: usize = 128;

/// A codec xiso can write (and read) for install.img.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Uncompressed cpio.
    None,
    /// gzip (RFC 1952), one member.
    Gzip,
    /// bzip2, one stream.
    Bzip2,
    /// xz, one stream, CRC32 check.
    Xz,
    /// Zstandard, one frame.
    Zstd,
}

impl Compression {
    const ALL: [Compression; 5] = [
        Compression::None,
        Compression::Gzip,
        Compression::Bzip2,
        Compression::Xz,
        Compression::Zstd,
    ];

    /// The compression matching a detected codec, or `None` for codecs xiso cannot
    /// read and write (lz4, lzo, legacy lzma, unknown).
    pub(crate) fn of(codec: Codec) -> Option<Compression> {
        match codec {
            Codec::Uncompressed => Some(Compression::None),
            Codec::Gzip => Some(Compression::Gzip),
            Codec::Bzip2 { .. } => Some(Compression::Bzip2),
            Codec::Xz => Some(Compression::Xz),
            Codec::Zstd => Some(Compression::Zstd),
            Codec::Lzma | Codec::Lz4Legacy | Codec::Lz4Frame | Codec::Lzo | Codec::Unknown => None,
        }
    }

    /// Lower-case name: `none`, `gzip`, `bzip2`, `xz`, `zstd`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Bzip2 => "bzip2",
            Compression::Xz => "xz",
            Compression::Zstd => "zstd",
        }
    }

    /// The level used when none is given: the standard tool's `-9` for gzip and
    /// bzip2 (what installer images are built with), `-6` for xz, `-19` for zstd.
    pub fn default_level(self) -> u32 {
        match self {
            Compression::None => 0,
            Compression::Gzip | Compression::Bzip2 => 9,
            Compression::Xz => 6,
            Compression::Zstd => 19,
        }
    }

    /// The levels the codec accepts.
    pub(crate) fn levels(self) -> RangeInclusive<u32> {
        match self {
            Compression::None => 0..=0,
            Compression::Gzip | Compression::Bzip2 => 1..=9,
            Compression::Xz => 0..=9,
            Compression::Zstd => 1..=22,
        }
    }

    fn check_level(self, level: u32) -> Result<()> {
        let levels = self.levels();
        if levels.contains(&level) {
            return Ok(());
        }
        Err(Error::invalid(format!(
            "{} level {level} is out of range {}..={}",
            self.name(),
            levels.start(),
            levels.end()
        )))
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Compression {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Compression::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names: Vec<_> = Compression::ALL.iter().map(|c| c.name()).collect();
                Error::invalid(format!(
                    "unknown compression `{s}`; choose one of: {}",
                    names.join(", ")
                ))
            })
    }
}

/// How [`Encoder`] compresses: codec, level and worker threads. The threads change
/// the speed only, never the bytes written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompressSettings {
    /// The codec.
    pub compression: Compression,
    /// The level, within `Compression::levels`.
    pub level: u32,
    /// Worker threads (`0` counts as `1`).
    pub threads: usize,
}

impl CompressSettings {
    /// Settings for `compression` at `level` (its default level when `None`), on every
    /// available core.
    pub fn new(compression: Compression, level: Option<u32>) -> Result<Self> {
        let level = level.unwrap_or(compression.default_level());
        compression.check_level(level)?;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(CompressSettings {
            compression,
            level,
            threads,
        })
    }

    fn thread_count(&self) -> u32 {
        let threads = self.threads.clamp(1, MAX_THREADS);
        u32::try_from(threads).expect("clamped to MAX_THREADS")
    }
}

/// Decode `input` (which starts with the magic of `codec`) as a stream.
///
/// Concatenated members of the same codec decode as one continuous output.
/// [`Codec::Uncompressed`] returns `input` as is; codecs outside [`Compression`] are
/// [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported).
///
/// Errors come from `read`, for the caller to wrap with the file and offset. Damaged
/// data (bad checksum, bytes after the last member that are not another member) is
/// `InvalidData`, a truncated stream `UnexpectedEof`, never a short output; an error
/// from reading `input` itself passes through with its own kind.
pub fn decoder(
    codec: Codec,
    input: Box<dyn Read + Send + 'static>,
) -> Result<Box<dyn Read + Send>> {
    decoder_on(codec, input, Threading::EveryCore)
}

/// Where [`decoder_on`] decodes bzip2 (the other codecs always decode on the calling
/// thread).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threading {
    /// Blocks decode on every core, as [`decoder`] does: the fast choice for a real
    /// install.img.
    EveryCore,
    /// Everything on the calling thread, with no thread started: the cheap choice for
    /// many tiny inputs (the fuzz target), decoding exactly as [`Threading::EveryCore`].
    CallingThread,
}

/// [`decoder`], with the choice of where bzip2 blocks decode.
pub fn decoder_on(
    codec: Codec,
    input: Box<dyn Read + Send + 'static>,
    threading: Threading,
) -> Result<Box<dyn Read + Send>> {
    let compression = Compression::of(codec).ok_or_else(|| {
        Error::unsupported(format!(
            "{} compression is not supported (xiso reads gzip, bzip2, xz, zstd and uncompressed cpio)",
            codec.name()
        ))
    })?;
    let input_failed = Arc::new(AtomicBool::new(false));
    let input = WatchedInput {
        inner: input,
        failed: Arc::clone(&input_failed),
    };
    let inner: Box<dyn Read + Send> = match compression {
        Compression::None => return Ok(input.inner),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(input)),
        Compression::Bzip2 => match threading {
            Threading::EveryCore => Box::new(Bzip2Decoder {
                inner: pbz2::ParallelDecoder::new(input),
            }),
            Threading::CallingThread => Box::new(Bzip2Decoder {
                inner: pbz2::DecoderReader::new(input),
            }),
        },
        Compression::Xz => {
            let stream = liblzma::stream::Stream::new_stream_decoder(
                u64::MAX,
                liblzma::stream::CONCATENATED,
            )
            .map_err(|e| Error::io(e.into(), "cannot start the xz decoder"))?;
            Box::new(liblzma::read::XzDecoder::new_stream(input, stream))
        }
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::new(input)
                .map_err(|e| Error::io(e, "cannot start the zstd decoder"))?,
        ),
    };
    Ok(Box::new(Decoded {
        inner,
        input_failed,
        codec: compression,
    }))
}

/// The compressed input, noting when reading it fails (pbz2 reads it on its own
/// thread, hence the atomic), so that [`Decoded`] can tell I/O errors from data errors.
struct WatchedInput {
    inner: Box<dyn Read + Send>,
    failed: Arc<AtomicBool>,
}

impl Read for WatchedInput {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            if e.kind() != io::ErrorKind::Interrupted {
                self.failed.store(true, Ordering::Relaxed);
            }
        })
    }
}

/// A codec's reader with one error vocabulary: the codecs report damage as
/// `InvalidData`, `InvalidInput` (flate2's checksum) or `Other` (zstd).
struct Decoded {
    inner: Box<dyn Read + Send>,
    input_failed: Arc<AtomicBool>,
    codec: Compression,
}

impl Read for Decoded {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            let damaged = !matches!(
                e.kind(),
                io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidData
            );
            if damaged && !self.input_failed.load(Ordering::Relaxed) {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("corrupt {} data: {e}", self.codec),
                )
            } else {
                e
            }
        })
    }
}

/// pbz2's decoder, made strict: it ignores bytes after the last stream, but anything
/// but another bzip2 stream there means the input is not what it claims to be.
struct Bzip2Decoder<D> {
    inner: D,
}

/// The two pbz2 decoders' common face.
trait TrailingBytes: Read {
    fn has_trailing_bytes(&self) -> bool;
}

impl TrailingBytes for pbz2::ParallelDecoder {
    fn has_trailing_bytes(&self) -> bool {
        pbz2::ParallelDecoder::has_trailing_bytes(self)
    }
}

impl<R: Read> TrailingBytes for pbz2::DecoderReader<R> {
    fn has_trailing_bytes(&self) -> bool {
        pbz2::DecoderReader::has_trailing_bytes(self)
    }
}

impl<D: TrailingBytes> Read for Bzip2Decoder<D> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() && self.inner.has_trailing_bytes() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "data that is not bzip2 follows the last bzip2 stream",
            ));
        }
        Ok(n)
    }
}

/// Streaming encoder writing ONE stream into `out` (see the module documentation).
///
/// `flush` hands already compressed bytes to `out` but never ends a block, so the
/// output does not depend on when a caller flushes. Always end the stream with
/// [`Encoder::finish`]: a dropped encoder may or may not end it (zstd does not), and
/// any error is lost.
pub struct Encoder<W: Write + Send + 'static> {
    inner: Inner<W>,
}

enum Inner<W: Write + Send + 'static> {
    None(W),
    Gzip(flate2::write::GzEncoder<W>),
    Bzip2(pbz2::ParallelEncoder<W>),
    Xz(liblzma::write::XzEncoder<W>),
    Zstd(zstd::stream::write::Encoder<'static, W>),
}

impl<W: Write + Send + 'static> Encoder<W> {
    /// Start a stream compressed as `settings` say into `out`.
    pub fn new(settings: &CompressSettings, out: W) -> Result<Self> {
        let CompressSettings {
            compression, level, ..
        } = *settings;
        compression.check_level(level)?;
        let threads = settings.thread_count();
        let inner = match compression {
            Compression::None => Inner::None(out),
            Compression::Gzip => {
                Inner::Gzip(flate2::GzBuilder::new().write(out, flate2::Compression::new(level)))
            }
            Compression::Bzip2 => {
                let level = u8::try_from(level)
                    .ok()
                    .and_then(pbz2::Level::new)
                    .expect("bzip2 level checked against levels()");
                // No `expect_input_bytes`: it resizes the last blocks by thread count.
                Inner::Bzip2(pbz2::ParallelEncoder::with_threads(
                    out,
                    level,
                    threads as usize,
                ))
            }
            Compression::Xz => {
                let stream = liblzma::stream::MtStreamBuilder::new()
                    .threads(threads)
                    .block_size(xz_block_size(level))
                    .preset(level)
                    .check(liblzma::stream::Check::Crc32)
                    .encoder()
                    .map_err(|e| {
                        Error::io(
                            e.into(),
                            format!("cannot start the xz encoder (level {level})"),
                        )
                    })?;
                Inner::Xz(liblzma::write::XzEncoder::new_stream(out, stream))
            }
            Compression::Zstd => {
                let start = |out| -> io::Result<_> {
                    let level = i32::try_from(level).expect("zstd level checked against levels()");
                    let mut enc = zstd::stream::write::Encoder::new(out, level)?;
                    // zstdmt cuts jobs by level, not by worker count: any count >= 1
                    // gives the same frame (and 0 would be a different, serial one).
                    enc.multithread(threads)?;
                    enc.include_checksum(true)?;
                    Ok(enc)
                };
                Inner::Zstd(start(out).map_err(|e| {
                    Error::io(e, format!("cannot start the zstd encoder (level {level})"))
                })?)
            }
        };
        Ok(Encoder { inner })
    }

    /// End the stream and return the writer (flushed).
    pub fn finish(self) -> io::Result<W> {
        let mut out = match self.inner {
            Inner::None(out) => out,
            Inner::Gzip(enc) => enc.finish()?,
            Inner::Bzip2(enc) => enc.finish()?,
            Inner::Xz(enc) => enc.finish()?,
            Inner::Zstd(enc) => enc.finish()?,
        };
        out.flush()?;
        Ok(out)
    }
}

/// xz block size: liblzma's own multi-threaded default (3 × the preset's dictionary,
/// at least 1 MiB), written out so that it stays fixed whatever liblzma and the
/// thread count.
fn xz_block_size(level: u32) -> u64 {
    const MIB: u64 = 1 << 20;
    let dict = match level {
        0 => MIB / 4,
        1 => MIB,
        2 => 2 * MIB,
        3 | 4 => 4 * MIB,
        5 | 6 => 8 * MIB,
        7 => 16 * MIB,
        8 => 32 * MIB,
        _ => 64 * MIB,
    };
    (3 * dict).max(MIB)
}

impl<W: Write + Send + 'static> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.inner {
            Inner::None(out) => out.write(buf),
            Inner::Gzip(enc) => enc.write(buf),
            Inner::Bzip2(enc) => enc.write(buf),
            Inner::Xz(enc) => enc.write(buf),
            Inner::Zstd(enc) => enc.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        // The codecs' own flush ends a block (gzip sync flush, xz full flush, zstd
        // block end) and would make the bytes depend on the caller's flushes.
        match &mut self.inner {
            Inner::None(out) => out.flush(),
            Inner::Gzip(enc) => enc.get_mut().flush(),
            Inner::Bzip2(enc) => enc.flush(), // writes finished blocks only
            Inner::Xz(enc) => enc.get_mut().flush(),
            Inner::Zstd(enc) => enc.get_mut().flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::initrd::codec::detect;

    /// Semi-compressible, deterministic: words from a small vocabulary with numbers.
    fn sample(len: usize) -> Vec<u8> {
        const WORDS: [&str; 8] = ["usr", "lib", "xen", "boot", "python", "rpm", "etc", "so"];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut out = Vec::with_capacity(len + 32);
        while out.len() < len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let word = WORDS[(x % 8) as usize];
            out.extend_from_slice(format!("/{word}/{:x}", x >> 50).as_bytes());
            if x.is_multiple_of(5) {
                out.push(b'\n');
            }
        }
        out.truncate(len);
        out
    }

    fn encode(compression: Compression, level: u32, threads: usize, data: &[u8]) -> Vec<u8> {
        let settings = CompressSettings {
            compression,
            level,
            threads,
        };
        let mut enc = Encoder::new(&settings, Vec::new()).unwrap();
        for chunk in data.chunks(100_003) {
            enc.write_all(chunk).unwrap();
            enc.flush().unwrap();
        }
        enc.finish().unwrap()
    }

    fn decode(bytes: Vec<u8>) -> io::Result<Vec<u8>> {
        let codec = match detect(&bytes) {
            Codec::Unknown => Codec::Uncompressed, // `sample` is not cpio
            codec => codec,
        };
        let mut out = Vec::new();
        decoder(codec, Box::new(io::Cursor::new(bytes)))
            .unwrap()
            .read_to_end(&mut out)?;
        Ok(out)
    }

    /// Levels low enough that a few MB span several bzip2 blocks (100 kB), xz blocks
    /// (1 MiB) and zstdmt jobs (2 MiB), so the threads really split the work; with
    /// the sample size for each (bzip2 is slow in debug builds).
    const SMALL_BLOCKS: [(Compression, u32, usize); 5] = [
        (Compression::None, 0, 1 << 20),
        (Compression::Gzip, 6, 1 << 20),
        (Compression::Bzip2, 1, 1 << 20),
        (Compression::Xz, 0, 4 << 20),
        (Compression::Zstd, 1, 6 << 20),
    ];

    #[test]
    fn output_does_not_depend_on_threads() {
        for (compression, level, len) in SMALL_BLOCKS {
            let data = sample(len);
            let one = encode(compression, level, 1, &data);
            let four = encode(compression, level, 4, &data);
            assert!(one == four, "{compression} differs between 1 and 4 threads");
            if compression != Compression::None {
                assert_eq!(
                    Compression::of(detect(&one)),
                    Some(compression),
                    "{compression} magic"
                );
            }
            assert!(decode(one).unwrap() == data, "{compression} round trip");
        }
    }

    #[test]
    fn empty_input_round_trips() {
        for (compression, level, _) in SMALL_BLOCKS {
            let bytes = encode(compression, level, 2, b"");
            if compression != Compression::None {
                assert_eq!(decode(bytes).unwrap(), b"", "{compression}");
            }
        }
    }

    #[test]
    fn names_levels_and_parsing() {
        for c in Compression::ALL {
            assert_eq!(c.name().parse::<Compression>().unwrap(), c);
            assert_eq!(c.name().to_uppercase().parse::<Compression>().unwrap(), c);
            assert!(c.levels().contains(&c.default_level()));
            let s = CompressSettings::new(c, None).unwrap();
            assert_eq!(s.level, c.default_level());
            assert!(s.threads >= 1);
            let too_high = c.levels().end() + 1;
            let err = CompressSettings::new(c, Some(too_high)).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
        }
        let err = "lz4".parse::<Compression>().unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
        assert!(
            err.message().contains("none, gzip, bzip2, xz, zstd"),
            "{err}"
        );
        assert_eq!(
            serde_json::to_string(&Compression::Bzip2).unwrap(),
            "\"bzip2\""
        );
        assert_eq!(
            CompressSettings::new(Compression::Gzip, Some(0))
                .unwrap_err()
                .kind(),
            crate::ErrorKind::InvalidInput
        );
    }

    #[test]
    fn codecs_map_to_compressions() {
        assert_eq!(
            Compression::of(Codec::Bzip2 { level: 5 }),
            Some(Compression::Bzip2)
        );
        assert_eq!(
            Compression::of(Codec::Uncompressed),
            Some(Compression::None)
        );
        for codec in [
            Codec::Lzma,
            Codec::Lz4Legacy,
            Codec::Lz4Frame,
            Codec::Lzo,
            Codec::Unknown,
        ] {
            assert_eq!(Compression::of(codec), None);
            let err = decoder(codec, Box::new(io::empty())).err().unwrap();
            assert_eq!(err.kind(), crate::ErrorKind::Unsupported);
            assert!(err.message().contains(codec.name()), "{err}");
        }
    }

    /// The fuzz target's calling-thread bzip2 decoder reads exactly what the
    /// every-core one reads, and refuses the same damage with the same kinds.
    #[test]
    fn calling_thread_decoder_matches_every_core() {
        let data: Vec<u8> = (0..400_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let good = encode(Compression::Bzip2, 1, 2, &data);
        let mut trailing = good.clone();
        trailing.extend_from_slice(b"not bzip2");
        let truncated = good[..good.len() / 2].to_vec();
        let read = |bytes: &Vec<u8>, threading| {
            let mut out = Vec::new();
            decoder_on(
                detect(bytes),
                Box::new(io::Cursor::new(bytes.clone())),
                threading,
            )
            .unwrap()
            .read_to_end(&mut out)
            .map(|_| out)
            .map_err(|e| e.kind())
        };
        for threading in [Threading::EveryCore, Threading::CallingThread] {
            assert_eq!(
                read(&good, threading).as_deref(),
                Ok(&data[..]),
                "{threading:?}"
            );
            assert_eq!(read(&trailing, threading), Err(io::ErrorKind::InvalidData));
        }
        let cut = read(&truncated, Threading::CallingThread);
        assert!(
            matches!(
                cut,
                Err(io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof)
            ),
            "{cut:?}"
        );
        assert_eq!(cut, read(&truncated, Threading::EveryCore));
    }
}
