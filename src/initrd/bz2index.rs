//! Decode a single-stream bzip2 file on every core and note where its blocks are
//! ([`Bz2Index`]), so that a later pack can copy the unchanged ones
//! ([`super::bz2splice`]).
//!
//! The block magic is found by a scan of the compressed bits (pbz2's `Scanner`); it may
//! also occur by chance inside compressed data. Each stretch between two markers is
//! decoded on a worker, extended over the next markers while the decoder says the block
//! is longer; the reader then follows the chain of real blocks (each starts where the
//! last ended) and skips stretches that started at a false marker, as pbz2 does.
//! Workers read their stretch with positioned reads: the file is never held in memory.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use pbz2_core::{
    decode_block_into, decode_scratch_words, Backend, Level, MarkerKind, Scanner,
    MAX_COMPRESSED_BLOCK_BYTES,
};

use super::bz2splice::{
    bits_at, on_best_backend, pbz2_error, Bz2Block, Bz2Index, OnBackend, END_MAGIC,
};

/// A decoded stretch: where it started, and the block it held (bytes, end bit, CRC).
type Decoded = io::Result<(Vec<u8>, u64, u32)>;

struct State {
    next_claim: usize,
    consumed: usize,
    results: HashMap<usize, Decoded>,
    stop: bool,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The decoded bytes of a bzip2 file, as a reader; [`IndexedDecoder::index`] gives
/// the block index once the reader returned 0.
pub(crate) struct IndexedDecoder {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
    /// Bit where each stretch starts (block markers, then the end marker last).
    starts: Arc<Vec<u64>>,
    end_marker: u64,
    file: Arc<fs::File>,
    image_bytes: u64,
    level: u8,
    /// Next stretch to look at, the bit the next real block must start at.
    next: usize,
    expected: u64,
    current: Vec<u8>,
    at: usize,
    offset: u64,
    stream_crc: u32,
    blocks: Vec<Bz2Block>,
    done: Arc<Mutex<Option<Bz2Index>>>,
    finished: bool,
}

fn corrupt(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

impl IndexedDecoder {
    /// Start decoding `file` (a bzip2 stream of `image_bytes`) on `threads` workers.
    /// `None` when the file is not a single plain bzip2 stream the index can describe
    /// (several streams, a false end marker…): decode it the ordinary way then.
    pub(crate) fn start(file: fs::File, threads: usize) -> io::Result<Option<IndexedDecoder>> {
        let image_bytes = file.metadata()?.len();
        let mut head = [0u8; 4];
        if image_bytes < 14 || file.read_exact_at(&mut head, 0).is_err() {
            return Ok(None);
        }
        let level = match head {
            [b'B', b'Z', b'h', d @ b'1'..=b'9'] => d - b'0',
            _ => return Ok(None),
        };
        let markers = on_best_backend(ScanMarkers { file: &file })?;
        let mut starts = Vec::new();
        let mut end_marker = None;
        for m in markers {
            match m.kind {
                MarkerKind::Block => starts.push(m.bit),
                MarkerKind::End if end_marker.is_none() => end_marker = Some(m.bit),
                MarkerKind::End => return Ok(None),
            }
        }
        let Some(end_marker) = end_marker else {
            return Ok(None);
        };
        // One stream: the end marker and CRC, padded to a byte, end the file.
        if (end_marker + 80).div_ceil(8) != image_bytes {
            return Ok(None);
        }
        if starts.first().is_some_and(|&b| b != 32)
            || starts.last().is_some_and(|&b| b > end_marker)
        {
            return Ok(None);
        }
        let count = starts.len();
        starts.push(end_marker);
        let starts = Arc::new(starts);
        let file = Arc::new(file);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                next_claim: 0,
                consumed: 0,
                results: HashMap::new(),
                stop: false,
            }),
            changed: Condvar::new(),
        });
        let threads = threads.max(1);
        let window = 2 * threads + 2;
        let workers = (0..threads)
            .map(|_| {
                let (shared, starts, file) = (shared.clone(), starts.clone(), file.clone());
                std::thread::spawn(move || {
                    on_best_backend(Worker {
                        shared: &shared,
                        starts: &starts,
                        count,
                        file: &file,
                        level,
                        window,
                    })
                })
            })
            .collect();
        Ok(Some(IndexedDecoder {
            shared,
            workers,
            starts,
            end_marker,
            file,
            image_bytes,
            level,
            next: 0,
            expected: 32,
            current: Vec::new(),
            at: 0,
            offset: 0,
            stream_crc: 0,
            blocks: Vec::new(),
            done: Arc::new(Mutex::new(None)),
            finished: false,
        }))
    }

    /// Where the index will be once the whole stream was read and checked.
    pub(crate) fn index(&self) -> Arc<Mutex<Option<Bz2Index>>> {
        self.done.clone()
    }

    /// The result for stretch `k`, waiting for the workers.
    fn take(&mut self, k: usize) -> Decoded {
        let mut state = self.shared.lock();
        loop {
            if let Some(r) = state.results.remove(&k) {
                state.consumed = k + 1;
                self.shared.changed.notify_all();
                return r;
            }
            state = self
                .shared
                .changed
                .wait(state)
                .unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Load the next real block into `current`; false at the end of the stream.
    fn advance(&mut self) -> io::Result<bool> {
        let count = self.starts.len() - 1;
        loop {
            if self.expected == self.end_marker {
                return self.end().map(|()| false);
            }
            if self.next >= count || self.starts[self.next] > self.expected {
                return Err(corrupt(format!(
                    "corrupt bzip2 data: no block starts at bit {}",
                    self.expected
                )));
            }
            let k = self.next;
            self.next += 1;
            let result = self.take(k);
            if self.starts[k] < self.expected {
                continue; // a false marker inside the block before
            }
            let (bytes, end_bit, crc) = result?;
            self.blocks.push(Bz2Block {
                bit: self.expected,
                bits: end_bit - self.expected,
                crc,
                offset: self.offset,
                len: bytes.len() as u64,
                check: crc32fast::hash(&bytes),
            });
            self.stream_crc = self.stream_crc.rotate_left(1) ^ crc;
            self.offset += bytes.len() as u64;
            self.expected = end_bit;
            self.current = bytes;
            self.at = 0;
            if !self.current.is_empty() {
                return Ok(true);
            }
        }
    }

    fn end(&mut self) -> io::Result<()> {
        let mut tail = [0u8; 16];
        let first = self.end_marker / 8;
        let n = (self.image_bytes - first).min(16) as usize;
        self.file.read_exact_at(&mut tail[..n], first)?;
        let shift = self.end_marker % 8;
        if bits_at(&tail, shift, 48) != END_MAGIC {
            return Err(corrupt("corrupt bzip2 data: bad end of stream"));
        }
        if bits_at(&tail, shift + 48, 32) != u64::from(self.stream_crc) {
            return Err(corrupt("corrupt bzip2 data: stream CRC mismatch"));
        }
        self.finished = true;
        *self.done.lock().unwrap_or_else(|p| p.into_inner()) = Some(Bz2Index {
            level: self.level,
            image_bytes: self.image_bytes,
            blocks: std::mem::take(&mut self.blocks),
        });
        Ok(())
    }
}

impl Read for IndexedDecoder {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        while self.at == self.current.len() {
            if self.finished || !self.advance()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.current.len() - self.at);
        buf[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

impl Drop for IndexedDecoder {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.changed.notify_all();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

/// Finds every marker of the file in one sequential pass.
struct ScanMarkers<'a> {
    file: &'a fs::File,
}

impl OnBackend for ScanMarkers<'_> {
    type Output = io::Result<Vec<pbz2_core::Marker>>;

    fn run<B: Backend + Send + Sync + 'static>(self, backend: B) -> Self::Output {
        let mut scanner = Scanner::new();
        let mut markers = Vec::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut at = 0u64;
        loop {
            let n = match self.file.read_at(&mut buf, at) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            at += n as u64;
            scanner.scan(backend, &buf[..n], |m| markers.push(m));
        }
        Ok(markers)
    }
}

/// Decodes stretches in order of their index, staying within `window` of the reader.
struct Worker<'a> {
    shared: &'a Shared,
    starts: &'a [u64],
    count: usize,
    file: &'a fs::File,
    level: u8,
    window: usize,
}

impl OnBackend for Worker<'_> {
    type Output = ();

    fn run<B: Backend + Send + Sync + 'static>(self, backend: B) {
        let Some(level) = Level::new(self.level) else {
            return;
        };
        let mut scratch = vec![0u32; decode_scratch_words(level)];
        loop {
            let k = {
                let mut state = self.shared.lock();
                loop {
                    if state.stop || state.next_claim >= self.count {
                        return;
                    }
                    if state.next_claim < state.consumed + self.window {
                        break;
                    }
                    state = self
                        .shared
                        .changed
                        .wait(state)
                        .unwrap_or_else(|p| p.into_inner());
                }
                state.next_claim += 1;
                state.next_claim - 1
            };
            let result = self.decode(backend, level, k, &mut scratch);
            self.shared.lock().results.insert(k, result);
            self.shared.changed.notify_all();
        }
    }
}

impl Worker<'_> {
    /// Decode the block that starts at stretch `k`, extending its end over false
    /// markers.
    fn decode<B: Backend>(
        &self,
        backend: B,
        level: Level,
        k: usize,
        scratch: &mut [u32],
    ) -> Decoded {
        let start = self.starts[k];
        let first = start / 8;
        let mut end_index = k + 1;
        loop {
            let end = self.starts[end_index];
            let last = (end + 48).div_ceil(8);
            let mut bytes = vec![0u8; (last - first) as usize];
            self.file.read_exact_at(&mut bytes, first)?;
            let shift = start - 8 * first;
            match decode_block_into(backend, &bytes, shift, end - 8 * first, level, scratch) {
                Ok(mut output) => {
                    let mut out = Vec::new();
                    let mut filled = 0;
                    while !output.is_finished() {
                        out.resize(filled + (1 << 20), 0);
                        let n = output.read(scratch, &mut out[filled..]);
                        if n == 0 {
                            break; // `finish` says what is wrong
                        }
                        filled += n;
                    }
                    out.truncate(filled);
                    let crc = output.finish().map_err(pbz2_error)?;
                    return Ok((out, output.end_bit() + 8 * first, crc));
                }
                Err(pbz2_core::Error::Truncated)
                    if end_index < self.count
                        && ((end - start) / 8) as usize <= MAX_COMPRESSED_BLOCK_BYTES =>
                {
                    end_index += 1;
                }
                Err(e) => return Err(pbz2_error(e)),
            }
        }
    }
}
