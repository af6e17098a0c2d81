//! The cpio newc reader (install.img's archive format), reading every entry's data
//! as `unpack` does.
#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;
use xiso::initrd::cpio::CpioReader;

fuzz_target!(|data: &[u8]| {
    let mut reader = CpioReader::new(data);
    for i in 0..10_000 {
        match reader.next_entry() {
            Ok(Some(e)) => {
                let _ = e.header.file_type();
                if i % 2 == 0 {
                    let _ = reader.read_data(1 << 16);
                } else {
                    let _ = reader.data().read(&mut [0u8; 7]);
                }
            }
            _ => break,
        }
    }
});
