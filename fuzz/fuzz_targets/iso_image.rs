//! The ISO reader: volume descriptors, directory records, Rock Ridge, Joliet, the
//! El Torito catalog and the system area, through everything `inspect`, `verify`
//! and `unpack` read before writing anything.
//!
//! The input is the image from sector 16 on (the volume descriptors): sectors 0-15,
//! the system area, are zero here, and the `system_area` target fuzzes them. Every
//! mutation then lands in ISO 9660 structures, and inputs stay small (fast runs).
//!
//! `verify` reads efiboot.img with fatfs, whose panics xiso turns into errors
//! (`catch_unwind`, see `boot::efiboot`), so this target, like `efiboot`, replaces
//! libFuzzer's abort-on-panic hook with a quiet one: a panic that escapes xiso still
//! aborts (libfuzzer-sys catches it). Without it, the first run found that guarded
//! panic (a FAT directory entry naming cluster 0) and stopped.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xiso::iso::{IsoImage, Namespace};
use xiso::source::Source;

/// Sectors 0-15.
const SYSTEM_AREA: usize = 16 * 2048;

static QUIET_PANICS: std::sync::Once = std::sync::Once::new();

fuzz_target!(|data: &[u8]| {
    QUIET_PANICS.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    let mut image = vec![0u8; SYSTEM_AREA];
    image.extend_from_slice(data);
    let Ok(mut iso) = IsoImage::from_source(Source::from_bytes("fuzz.iso", image)) else {
        return;
    };
    if let Ok(report) = xiso::inspect::inspect(&iso) {
        let _ = report.to_text();
    }
    if let Ok(report) = xiso::verify::verify(&iso) {
        let _ = report.to_text();
    }
    if let Ok(entries) = iso.walk() {
        let _ = xiso::iso::boot_entries::boot_entry_records(&iso, &entries);
        for e in entries.iter().filter(|e| e.is_file()).take(8) {
            let _ = iso.read_file(&e.path, 1 << 16);
        }
    }
    for ns in [Namespace::Joliet, Namespace::Iso9660] {
        if iso.set_namespace(ns).is_ok() {
            let _ = iso.walk();
        }
    }
});
