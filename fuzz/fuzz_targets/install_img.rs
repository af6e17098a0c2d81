//! install.img: codec detection and every decoder (gzip, bzip2, xz, zstd), with the
//! output capped so a decompression bomb costs nothing, then the cpio reader.
#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;
use xiso::initrd::codec::detect;
use xiso::initrd::cpio::CpioReader;
use xiso::initrd::stream::{decoder_on, Threading};

/// Most decompressed bytes read per input.
const CAP: u64 = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let codec = detect(data);
    let _ = (codec.name(), codec.bzip2_level());
    // On the calling thread: a thread pool per tiny input would cost more than the
    // decoding, and pbz2 decodes the same either way (a unit test in stream.rs checks).
    let input = Box::new(std::io::Cursor::new(data.to_vec()));
    let Ok(stream) = decoder_on(codec, input, Threading::CallingThread) else {
        return;
    };
    let mut reader = CpioReader::new(stream.take(CAP));
    while let Ok(Some(_)) = reader.next_entry() {}
});
