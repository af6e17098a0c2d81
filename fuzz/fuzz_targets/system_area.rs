//! The system area reader: MBR, GPT (primary and backup), Apple partition map.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xiso::boot::sysarea::read_system_area;
use xiso::iso::eltorito::{ElToritoEntry, Platform};
use xiso::source::Source;

fuzz_target!(|data: &[u8]| {
    let src = Source::from_bytes("fuzz.img", data.to_vec());
    if let Ok(area) = read_system_area(&src) {
        for lba in [0u32, 1, 20, u32::MAX] {
            let entry = ElToritoEntry::no_emulation(Platform::Efi, lba, 4);
            let _ = area.partitions_for(&entry);
        }
        if let Some(mbr) = &area.mbr {
            let _ = mbr.boot_pointer(20);
            let _ = mbr.has_protective_entry();
        }
    }
});
