//! The El Torito boot record and boot catalog parsers on raw sectors: sector 0 is
//! the boot record volume descriptor, the catalog is where it points (or sector 1).
#![no_main]

use libfuzzer_sys::fuzz_target;
use xiso::iso::eltorito::{parse_boot_record, read_boot_catalog};
use xiso::source::Source;

fuzz_target!(|data: &[u8]| {
    let src = Source::from_bytes("fuzz.cat", data.to_vec());
    let record = data
        .get(..2048)
        .and_then(|s| parse_boot_record(s, 0).ok().flatten());
    if let Ok(cat) = read_boot_catalog(&src, record.unwrap_or(1)) {
        for e in &cat.entries {
            let _ = (
                e.load_size_bytes(),
                e.image_size_bytes(),
                e.image_offset(),
                e.start_block512(),
            );
        }
        let _ = (cat.bios_entry(), cat.efi_entry(), cat.default_entry());
    }
});
