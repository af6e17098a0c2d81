//! Rewrite a bzip2 `install.img` by copying its unchanged blocks bit for bit.
//!
//! A bzip2 stream (`BZh` + level digit, then blocks, then an end marker with the
//! stream CRC) is a bit string: each block starts with the 48-bit magic
//! `0x314159265359` and its CRC, and blocks follow each other with no byte
//! alignment. The blocks are independent, so a block whose uncompressed bytes did not
//! change can be copied from the old stream (bit-shifted to where the new stream is),
//! and only the bytes around an edit need compressing again. The stream CRC is
//! `combined = combined.rotate_left(1) ^ block_crc` over the blocks in order.
//!
//! [`Bz2Index`] says where each block of the old stream is (made at unpack by
//! [`super::bz2index`]); [`SpliceEncoder`] is a `Write` for the new uncompressed
//! stream that takes hints ([`SpliceEncoder::expect_old`]) about which bytes should
//! equal the old stream. A block is copied only when the new bytes it would stand
//! for have its length and CRC-32, so a wrong hint costs speed, never correctness.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use pbz2_core::{
    encode_block, encode_scratch_words, encoded_block_bytes, Backend, BlockSplitter, InputBlock,
    Level, StreamAssembler,
};
use serde::{Deserialize, Serialize};

/// The 48-bit magic that starts a block.
pub(crate) const BLOCK_MAGIC: u64 = 0x3141_5926_5359;
/// The 48-bit magic that ends a stream.
pub(crate) const END_MAGIC: u64 = 0x1772_4538_5090;

/// Fresh bytes held before they are compressed even though no block was reused yet.
const FRESH_CAP: usize = 32 << 20;
/// Old blocks that decode to more than this are never waited for (run-length data).
const MAX_REUSED_LEN: u64 = 48 << 20;

/// One block of a bzip2 stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Bz2Block {
    /// First bit of the block (its magic) in the compressed stream.
    pub bit: u64,
    /// How many bits the block takes.
    pub bits: u64,
    /// The block's CRC as its header stores it (bzip2's CRC-32).
    pub crc: u32,
    /// Offset of its first byte in the uncompressed stream.
    pub offset: u64,
    /// Uncompressed bytes.
    pub len: u64,
    /// CRC-32 (IEEE) of the uncompressed bytes, to recognise them quickly.
    pub check: u32,
}

/// Where the blocks of a single-stream bzip2 file are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Bz2Index {
    /// The stream's level (block size digit).
    pub level: u8,
    /// Size of the compressed file.
    pub image_bytes: u64,
    /// The blocks in stream order.
    pub blocks: Vec<Bz2Block>,
}

/// What a [`SpliceEncoder`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SpliceStats {
    /// Blocks copied from the old stream.
    pub reused: usize,
    /// Blocks compressed anew.
    pub compressed: usize,
}

pub(crate) fn pbz2_error(e: pbz2_core::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("bzip2: {e}"))
}

/// `n <= 57` bits of `bytes` from bit `bit` (most significant first), zero past the end.
pub(crate) fn bits_at(bytes: &[u8], bit: u64, n: u32) -> u64 {
    let first = (bit / 8) as usize;
    let mut word = [0u8; 8];
    for (i, w) in word.iter_mut().enumerate() {
        *w = bytes.get(first + i).copied().unwrap_or(0);
    }
    (u64::from_be_bytes(word) << (bit % 8)) >> (64 - n)
}

/// Work that runs on the best pbz2 backend this CPU has.
pub(crate) trait OnBackend {
    type Output;
    fn run<B: Backend + Send + Sync + 'static>(self, backend: B) -> Self::Output;
}

/// Run `work` with SSE4.2 when the CPU has it (the build's baseline may not), else
/// with what the build enables.
pub(crate) fn on_best_backend<W: OnBackend>(work: W) -> W::Output {
    #[cfg(target_arch = "x86_64")]
    if let Some(token) = pbz2_core::fearless_simd::Level::new().as_sse4_2() {
        return work.run(pbz2_core::Vectorized(token));
    }
    work.run(pbz2_core::native())
}

/// Bits appended one after the other, written out in whole bytes.
struct BitSink<W: Write> {
    out: W,
    buf: Vec<u8>,
    /// Pending bits, high-aligned; `bits` of them (0..8).
    partial: u8,
    bits: u32,
}

impl<W: Write> BitSink<W> {
    fn new(out: W) -> Self {
        BitSink {
            out,
            buf: Vec::with_capacity(1 << 20),
            partial: 0,
            bits: 0,
        }
    }

    fn spill(&mut self) -> io::Result<()> {
        if self.buf.len() >= 1 << 20 {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Append whole bytes at the current bit position.
    fn put_bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.bits == 0 {
            self.buf.extend_from_slice(bytes);
        } else {
            let (Some(&head), Some(&last)) = (bytes.first(), bytes.last()) else {
                return Ok(());
            };
            let s = self.bits;
            self.buf.push(self.partial | (head >> s));
            // Written as a map over pairs so that it vectorises.
            self.buf
                .extend(bytes.windows(2).map(|w| (w[0] << (8 - s)) | (w[1] >> s)));
            self.partial = last << (8 - s);
        }
        self.spill()
    }

    /// Append the low `n` bits of `value`, most significant first.
    fn put_bits(&mut self, value: u64, n: u32) -> io::Result<()> {
        for i in (0..n).rev() {
            let bit = ((value >> i) & 1) as u8;
            self.partial |= bit << (7 - self.bits);
            self.bits += 1;
            if self.bits == 8 {
                self.buf.push(self.partial);
                self.partial = 0;
                self.bits = 0;
            }
        }
        self.spill()
    }

    /// Append bits `[start, start + len)` of `src`.
    fn put_source_bits(&mut self, src: &[u8], start: u64, len: u64) -> io::Result<()> {
        let first = (start / 8) as usize;
        let shift = (start % 8) as u32;
        let whole = (len / 8) as usize;
        if shift == 0 {
            self.put_bytes(&src[first..first + whole])?;
        } else {
            let mut tmp = Vec::with_capacity(whole.min(1 << 20));
            for chunk in (0..whole).step_by(1 << 20) {
                tmp.clear();
                let end = (chunk + (1 << 20)).min(whole);
                tmp.extend(
                    src[first + chunk..=first + end]
                        .windows(2)
                        .map(|w| (w[0] << shift) | (w[1] >> (8 - shift))),
                );
                self.put_bytes(&tmp)?;
            }
        }
        let rest = (len % 8) as u32;
        if rest > 0 {
            let value = bits_at(src, start + 8 * whole as u64, rest);
            self.put_bits(value, rest)?;
        }
        Ok(())
    }

    /// Pad to a byte with zero bits and write everything out.
    fn finish(mut self) -> io::Result<W> {
        if self.bits > 0 {
            self.buf.push(self.partial);
        }
        self.out.write_all(&self.buf)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Compress `data` into whole bzip2 blocks (each byte-aligned, starting with its
/// magic), in parallel on `threads`.
struct CompressBlocks<'a> {
    level: Level,
    threads: usize,
    data: &'a [u8],
}

impl OnBackend for CompressBlocks<'_> {
    type Output = io::Result<Vec<Vec<u8>>>;

    fn run<B: Backend + Send + Sync + 'static>(self, backend: B) -> Self::Output {
        let level = self.level;
        let size = level.block_bytes();
        let mut splitter = BlockSplitter::new(level);
        let mut filled: Vec<Mutex<(Vec<u8>, InputBlock)>> = Vec::new();
        let mut block = vec![0u8; size];
        let mut rest = self.data;
        while !rest.is_empty() {
            let (taken, full) = splitter
                .fill(backend, rest, &mut block)
                .map_err(pbz2_error)?;
            rest = &rest[taken..];
            match full {
                Some(input) => filled.push(Mutex::new((
                    std::mem::replace(&mut block, vec![0u8; size]),
                    input,
                ))),
                None if taken == 0 => {
                    return Err(io::Error::other("bzip2 block splitter made no progress"))
                }
                None => {}
            }
        }
        while let Some(input) = splitter.finish(&mut block).map_err(pbz2_error)? {
            filled.push(Mutex::new((
                std::mem::replace(&mut block, vec![0u8; size]),
                input,
            )));
        }
        let encoded: Vec<Mutex<Option<io::Result<Vec<u8>>>>> =
            filled.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let workers = self.threads.clamp(1, filled.len().max(1));
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| {
                    let mut scratch = vec![0u32; encode_scratch_words(level)];
                    let mut out = vec![0u8; encoded_block_bytes(size)];
                    let mut framed = vec![0u8; out.len() + 16];
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(slot) = filled.get(i) else { break };
                        let mut guard = slot.lock().unwrap_or_else(|p| p.into_inner());
                        let (bytes, input) = &mut *guard;
                        let result = encode_block(backend, bytes, *input, &mut scratch, &mut out)
                            .and_then(|block| {
                                // The assembler is the public way to learn the length:
                                // a fresh one writes the 4-byte stream header first.
                                let n =
                                    StreamAssembler::new(level).append(&out, block, &mut framed)?;
                                Ok(framed[4..n].to_vec())
                            })
                            .map_err(pbz2_error);
                        *encoded[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
                    }
                });
            }
        });
        encoded
            .into_iter()
            .map(|slot| {
                slot.into_inner()
                    .unwrap_or_else(|p| p.into_inner())
                    .unwrap_or_else(|| Err(io::Error::other("a bzip2 block was not compressed")))
            })
            .collect()
    }
}

/// A `Write` that makes ONE bzip2 stream of what it is given, reusing the blocks of
/// an old stream where the new bytes equal them (see the module documentation).
pub(crate) struct SpliceEncoder<'a, W: Write> {
    /// Where the fresh blocks go, one after the other (byte-aligned).
    fresh: W,
    fresh_len: u64,
    /// The stream so far, after its 4-byte header.
    pieces: Vec<Piece>,
    index_level: u8,
    blocks: &'a [Bz2Block],
    level: Level,
    threads: usize,
    /// Bytes not yet written out; `pending[0]` is at `base` in the new stream.
    pending: Vec<u8>,
    base: u64,
    /// The old block the next bytes may equal, and where it would start.
    candidate: Option<(usize, u64)>,
    stream_crc: u32,
    stats: SpliceStats,
}

impl<'a, W: Write> SpliceEncoder<'a, W> {
    /// Start a stream at the old stream's level; `index` says where the old
    /// stream's blocks are. The blocks compressed anew go to `out`, one after the
    /// other; [`finish`](Self::finish) says how they and the old blocks make the
    /// stream. Compresses on `threads` threads.
    pub(crate) fn new(out: W, index: &'a Bz2Index, threads: usize) -> io::Result<Self> {
        let level = Level::new(index.level).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "bad bzip2 level in the index")
        })?;
        Ok(SpliceEncoder {
            fresh: out,
            fresh_len: 0,
            pieces: Vec::new(),
            index_level: index.level,
            blocks: &index.blocks,
            level,
            threads,
            pending: Vec::new(),
            base: 0,
            candidate: None,
            stream_crc: 0,
            stats: SpliceStats::default(),
        })
    }

    fn position(&self) -> u64 {
        self.base + self.pending.len() as u64
    }

    /// The next bytes are believed to equal the old stream's bytes from `old`.
    pub(crate) fn expect_old(&mut self, old: u64) {
        let pos = self.position();
        if let Some((i, start)) = self.candidate {
            if self.blocks[i].offset + pos == start + old {
                return; // the same alignment as the candidate already has
            }
        }
        self.candidate = None;
        let j = self.blocks.partition_point(|b| b.offset < old);
        if let Some(b) = self.blocks.get(j) {
            if b.len > 0 && b.len <= MAX_REUSED_LEN {
                self.candidate = Some((j, pos + (b.offset - old)));
            }
        }
    }

    /// A run of `len` bytes starting at the current position is the old stream's
    /// bytes from `old`, trusted without being read. Returns `(head, skip)`: write
    /// the run's first `head` bytes (hinted with [`expect_old`](Self::expect_old));
    /// they end with the first old block lying wholly in the run, so writing them
    /// checks the hint: if [`in_step_with`](Self::in_step_with)`(old + head)` then
    /// holds, call [`skip_trusted`](Self::skip_trusted) in place of the next `skip`
    /// bytes (the further old blocks lying wholly in the run, copied without their
    /// bytes), else write them. Then write the rest. `skip` is 0 when fewer than two
    /// old blocks lie wholly in the run.
    pub(crate) fn trusted_run(&self, old: u64, len: u64) -> (u64, u64) {
        let Some(end) = old.checked_add(len) else {
            return (len, 0);
        };
        let j = self.blocks.partition_point(|b| b.offset < old);
        let k = j + self.blocks[j..].partition_point(|b| b.offset + b.len <= end);
        if k < j + 2 {
            return (len, 0);
        }
        let second = self.blocks[j + 1].offset;
        let last = self.blocks[k - 1];
        (second - old, last.offset + last.len - second)
    }

    /// Whether the bytes from here on line up with the old blocks from the old
    /// stream's offset `old`: nothing is pending and the next old block, starting at
    /// `old`, is expected right here (as after copying the block that ends there; a
    /// block whose bytes did not match leaves no candidate).
    pub(crate) fn in_step_with(&self, old: u64) -> bool {
        self.pending.is_empty()
            && self
                .candidate
                .is_some_and(|(i, start)| start == self.position() && self.blocks[i].offset == old)
    }

    /// Copy the old blocks covering the `skip` bytes from `old` (a block start), as
    /// planned by [`trusted_run`](Self::trusted_run): the bytes before them so far
    /// are compressed, the blocks are copied bit for bit. An old block that is no
    /// longer where the index says is an error (its bytes were never given).
    pub(crate) fn skip_trusted(&mut self, old: u64, skip: u64) -> io::Result<()> {
        let changed = || {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "the source install.img no longer has the bzip2 blocks its unpack index names",
            )
        };
        let mut i = self.blocks.partition_point(|b| b.offset < old);
        if self.blocks.get(i).map(|b| b.offset) != Some(old) {
            return Err(changed());
        }
        self.emit_fresh(self.pending.len())?;
        let mut covered = 0;
        while covered < skip {
            let b = *self.blocks.get(i).ok_or_else(changed)?;
            self.push_old(b);
            covered += b.len;
            i += 1;
        }
        if covered != skip {
            return Err(changed());
        }
        self.base += skip;
        self.candidate = self
            .blocks
            .get(i)
            .filter(|n| n.len > 0 && n.len <= MAX_REUSED_LEN)
            .map(|_| (i, self.base));
        Ok(())
    }

    /// The next bytes are new (no old block can be waited for across them).
    pub(crate) fn fresh(&mut self) {
        self.candidate = None;
    }

    /// Compress the first `n` pending bytes into new blocks.
    fn emit_fresh(&mut self, n: usize) -> io::Result<()> {
        if n == 0 {
            return Ok(());
        }
        let blocks = on_best_backend(CompressBlocks {
            level: self.level,
            threads: self.threads,
            data: &self.pending[..n],
        })?;
        for block in blocks {
            if block.len() < 10 || bits_at(&block, 0, 48) != BLOCK_MAGIC {
                return Err(io::Error::other(
                    "the bzip2 encoder made a block without magic",
                ));
            }
            let crc = u32::from_be_bytes([block[6], block[7], block[8], block[9]]);
            self.fresh.write_all(&block)?;
            let len = block.len() as u64;
            self.pieces.push(Piece::Fresh {
                at: self.fresh_len,
                len,
            });
            self.fresh_len += len;
            self.stream_crc = self.stream_crc.rotate_left(1) ^ crc;
            self.stats.compressed += 1;
        }
        self.pending.drain(..n);
        self.base += n as u64;
        Ok(())
    }

    /// The candidate block `i` starting at `start` has all its bytes pending: copy it
    /// if they are the old block's bytes.
    fn settle(&mut self, i: usize, start: u64) -> io::Result<()> {
        let b = self.blocks[i];
        let from = (start - self.base) as usize;
        let same = self.pending.len() - from == b.len as usize
            && crc32fast::hash(&self.pending[from..]) == b.check;
        if !same {
            self.candidate = None;
            return Ok(());
        }
        self.emit_fresh(from)?;
        self.push_old(b);
        self.pending.clear();
        self.base = start + b.len;
        self.candidate = self
            .blocks
            .get(i + 1)
            .filter(|n| n.len > 0 && n.len <= MAX_REUSED_LEN)
            .map(|_| (i + 1, self.base));
        Ok(())
    }

    /// The old block `b` comes next in the stream (its bits are read when the
    /// stream is written).
    fn push_old(&mut self, b: Bz2Block) {
        self.pieces.push(Piece::Old(b));
        self.stream_crc = self.stream_crc.rotate_left(1) ^ b.crc;
        self.stats.reused += 1;
    }

    /// End the stream; returns how it is made, the fresh blocks' writer (flushed)
    /// and what was reused.
    pub(crate) fn finish(mut self) -> io::Result<(Spliced, W, SpliceStats)> {
        self.emit_fresh(self.pending.len())?;
        self.fresh.flush()?;
        let bits = self.pieces.iter().map(Piece::bits).sum();
        let spliced = Spliced {
            level: self.index_level,
            pieces: self.pieces,
            crc: self.stream_crc,
            bits,
        };
        Ok((spliced, self.fresh, self.stats))
    }
}

impl<W: Write> Write for SpliceEncoder<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while !rest.is_empty() {
            let pos = self.position();
            let take = match self.candidate {
                // Up to the end of the candidate block (it starts at or after `pos`
                // or has started: either way it ends after `pos`).
                Some((i, start)) => ((start + self.blocks[i].len - pos) as usize).min(rest.len()),
                None => rest.len(),
            };
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if let Some((i, start)) = self.candidate {
                if self.position() == start + self.blocks[i].len {
                    self.settle(i, start)?;
                }
            }
            // Bound memory: fresh bytes before the candidate go out in blocks.
            let fresh = match self.candidate {
                Some((_, start)) => (start.min(self.position()) - self.base) as usize,
                None => self.pending.len(),
            };
            if fresh >= FRESH_CAP {
                self.emit_fresh(fresh)?;
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.fresh.flush()
    }
}

/// One part of a [`Spliced`] stream.
#[derive(Debug, Clone, Copy)]
enum Piece {
    /// An old block, copied bit for bit.
    Old(Bz2Block),
    /// `len` bytes of fresh blocks at `at` in the fresh blocks' file.
    Fresh { at: u64, len: u64 },
}

impl Piece {
    fn bits(&self) -> u64 {
        match *self {
            Piece::Old(b) => b.bits,
            Piece::Fresh { len, .. } => 8 * len,
        }
    }
}

/// Random-access bytes: the old stream and the fresh blocks, read when a
/// [`Spliced`] stream is written.
pub(crate) trait ReadAt {
    /// Fill `buf` from offset `at`; fewer bytes there is an error.
    fn read_exact_at(&self, buf: &mut [u8], at: u64) -> io::Result<()>;
}

impl ReadAt for fs::File {
    fn read_exact_at(&self, buf: &mut [u8], at: u64) -> io::Result<()> {
        FileExt::read_exact_at(self, buf, at)
    }
}

impl ReadAt for Vec<u8> {
    fn read_exact_at(&self, buf: &mut [u8], at: u64) -> io::Result<()> {
        let from = usize::try_from(at).map_err(|_| io::ErrorKind::UnexpectedEof)?;
        let part = from
            .checked_add(buf.len())
            .and_then(|end| self.get(from..end))
            .ok_or(io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(part);
        Ok(())
    }
}

/// A bzip2 stream made by a [`SpliceEncoder`], not yet written out: its size is
/// known first (for an ISO's layout), its bytes are made by
/// [`write_to`](Self::write_to) from the old stream and the fresh blocks, straight
/// into the output.
#[derive(Debug, Clone)]
pub(crate) struct Spliced {
    level: u8,
    pieces: Vec<Piece>,
    crc: u32,
    /// Bits of all pieces.
    bits: u64,
}

impl Spliced {
    /// Size of the stream: the 4-byte header, the blocks, the 80-bit end, padded.
    pub(crate) fn len(&self) -> u64 {
        (32 + self.bits + 80).div_ceil(8)
    }

    /// Write the stream into `out`: old blocks from `old` (the source stream, which
    /// must still hold them where the index said), fresh ones from `fresh`.
    pub(crate) fn write_to(
        &self,
        old: &dyn ReadAt,
        fresh: &dyn ReadAt,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let mut sink = BitSink::new(out);
        sink.put_bytes(&[b'B', b'Z', b'h', b'0' + self.level])?;
        let mut buf = Vec::new();
        for piece in &self.pieces {
            match *piece {
                Piece::Old(b) => {
                    let (bytes, shift) = old_bits(old, &b).ok_or_else(|| {
                        io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!(
                                "the source bzip2 stream changed: no block at bit {} as its index says",
                                b.bit
                            ),
                        )
                    })?;
                    sink.put_source_bits(&bytes, shift, b.bits)?;
                }
                Piece::Fresh { at, len } => {
                    let mut done = 0;
                    while done < len {
                        let n = (len - done).min(1 << 20) as usize;
                        buf.resize(n, 0);
                        fresh.read_exact_at(&mut buf, at + done)?;
                        sink.put_bytes(&buf)?;
                        done += n as u64;
                    }
                }
            }
        }
        sink.put_bits(END_MAGIC, 48)?;
        sink.put_bits(u64::from(self.crc), 32)?;
        sink.finish()?;
        Ok(())
    }
}

/// Block `b`'s compressed bits in `source` (whole bytes, and the bit the block
/// starts at in the first), if the source still has them where the index says.
fn old_bits(source: &dyn ReadAt, b: &Bz2Block) -> Option<(Vec<u8>, u64)> {
    let first = b.bit / 8;
    let end = b.bit.checked_add(b.bits)?.div_ceil(8);
    let mut bytes = vec![0u8; usize::try_from(end.checked_sub(first)?).ok()?];
    source.read_exact_at(&mut bytes, first).ok()?;
    let shift = b.bit % 8;
    let ok = b.bits >= 80
        && bits_at(&bytes, shift, 48) == BLOCK_MAGIC
        && bits_at(&bytes, shift + 48, 32) == u64::from(b.crc);
    ok.then_some((bytes, shift))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::initrd::bz2index::IndexedDecoder;
    use std::io::Read;

    /// Text-like data with some incompressible stretches: many level-1 blocks.
    fn sample(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        let mut out = Vec::with_capacity(len + 64);
        while out.len() < len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x.is_multiple_of(7) {
                out.extend_from_slice(&x.to_le_bytes());
            } else {
                out.extend_from_slice(format!("/usr/lib/{:x} ", x >> 52).as_bytes());
            }
        }
        out.truncate(len);
        out
    }

    fn compressed(data: &[u8]) -> fs::File {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(&pbz2::compress(data, pbz2::Level::FASTEST))
            .unwrap();
        f
    }

    fn index_of(f: &fs::File) -> (Vec<u8>, Bz2Index) {
        let mut dec = IndexedDecoder::start(f.try_clone().unwrap(), 2)
            .unwrap()
            .expect("a single stream");
        let mut out = Vec::new();
        dec.read_to_end(&mut out).unwrap();
        let index = dec.index().lock().unwrap().clone().expect("index");
        (out, index)
    }

    /// Writes `pieces` (hint, bytes) through a splice encoder; returns the stream.
    fn splice(
        f: &fs::File,
        index: &Bz2Index,
        pieces: &[(Option<u64>, &[u8])],
    ) -> (Vec<u8>, SpliceStats) {
        let mut enc = SpliceEncoder::new(Vec::new(), index, 2).unwrap();
        for (hint, bytes) in pieces {
            match hint {
                Some(old) => enc.expect_old(*old),
                None => enc.fresh(),
            }
            for chunk in bytes.chunks(7919) {
                enc.write_all(chunk).unwrap();
            }
        }
        let (spliced, fresh, stats) = enc.finish().unwrap();
        let mut out = Vec::new();
        spliced.write_to(f, &fresh, &mut out).unwrap();
        assert_eq!(out.len() as u64, spliced.len(), "the size said first");
        (out, stats)
    }

    #[test]
    fn index_matches_the_stream() {
        let data = sample(1_500_000, 7);
        let f = compressed(&data);
        let (out, index) = index_of(&f);
        assert!(out == data);
        assert!(index.blocks.len() >= 10, "{}", index.blocks.len());
        assert_eq!(
            index.blocks.iter().map(|b| b.len).sum::<u64>(),
            data.len() as u64
        );
        assert_eq!(index.level, 1);
    }

    #[test]
    fn unchanged_stream_reuses_every_block() {
        let data = sample(1_500_000, 11);
        let f = compressed(&data);
        let (_, index) = index_of(&f);
        let (out, stats) = splice(&f, &index, &[(Some(0), &data)]);
        assert_eq!(stats.compressed, 0);
        assert_eq!(stats.reused, index.blocks.len());
        assert!(pbz2::decompress(&out).unwrap() == data);
    }

    #[test]
    fn edit_in_the_middle_recompresses_around_it() {
        let data = sample(1_500_000, 13);
        let f = compressed(&data);
        let (_, index) = index_of(&f);
        let (a, rest) = data.split_at(700_000);
        let (_, c) = rest.split_at(1000);
        let new = vec![b'x'; 1500];
        let (out, stats) = splice(
            &f,
            &index,
            &[(Some(0), a), (None, &new), (Some(701_000), c)],
        );
        let mut want = a.to_vec();
        want.extend_from_slice(&new);
        want.extend_from_slice(c);
        assert!(pbz2::decompress(&out).unwrap() == want);
        assert!(
            stats.reused + 3 >= index.blocks.len(),
            "{stats:?} of {}",
            index.blocks.len()
        );
    }

    #[test]
    fn lying_hints_still_give_the_right_stream() {
        let data = sample(1_000_000, 17);
        let f = compressed(&data);
        let (_, index) = index_of(&f);
        let (a, b) = data.split_at(400_000);
        for lie in [1, 399_999, 500_000, 2_000_000] {
            let (out, _) = splice(&f, &index, &[(Some(0), a), (Some(lie), b)]);
            assert!(pbz2::decompress(&out).unwrap() == data, "lie {lie}");
        }
        // Bytes that differ from what the hint says.
        let mut other = data.clone();
        other[450_000] ^= 1;
        let (out, stats) = splice(&f, &index, &[(Some(0), &other)]);
        assert!(pbz2::decompress(&out).unwrap() == other);
        assert!(stats.compressed >= 1);
    }

    #[test]
    fn several_streams_or_trailing_bytes_are_not_indexed() {
        let data = sample(300_000, 19);
        let one = pbz2::compress(&data, pbz2::Level::FASTEST);
        for tail in [one.clone(), b"junk".to_vec(), vec![0u8; 3]] {
            let mut f = tempfile::tempfile().unwrap();
            f.write_all(&one).unwrap();
            f.write_all(&tail).unwrap();
            assert!(IndexedDecoder::start(f, 2).unwrap().is_none());
        }
    }

    #[test]
    fn damaged_block_is_invalid_data() {
        let data = sample(600_000, 23);
        let mut bytes = pbz2::compress(&data, pbz2::Level::FASTEST);
        let at = bytes.len() / 2;
        for b in &mut bytes[at..at + 32] {
            *b ^= 0x5a;
        }
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(&bytes).unwrap();
        let Some(mut dec) = IndexedDecoder::start(f, 2).unwrap() else {
            return; // the damage made it look like several streams: not ours to judge
        };
        let err = dec.read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
        assert!(dec.index().lock().unwrap().is_none());
    }

    #[test]
    fn bit_sink_shifts_source_bits() {
        let src = [0b1011_0011u8, 0b0101_1100, 0b1111_0000, 0b0000_1111];
        let mut sink = BitSink::new(Vec::new());
        sink.put_bits(0b101, 3).unwrap();
        sink.put_source_bits(&src, 3, 20).unwrap();
        let out = sink.finish().unwrap();
        // 101 + bits 3..23 of src (10011 01011100 1111000) + padding.
        assert_eq!(out, vec![0b1011_0011, 0b0101_1100, 0b1111_0000]);
    }
}
