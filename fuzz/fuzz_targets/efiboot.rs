//! The efiboot.img edit path: mount the FAT image in memory, find the GRUB configs,
//! read them and write a changed one back.
//!
//! xiso turns panics inside fatfs into errors (`catch_unwind`, see
//! `boot::efiboot`), so this target replaces libFuzzer's abort-on-panic hook with a
//! quiet one: a panic that escapes xiso still aborts (libfuzzer-sys catches it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use xiso::boot::efiboot::EfiBootImage;

static QUIET_PANICS: std::sync::Once = std::sync::Once::new();

fuzz_target!(|data: &[u8]| {
    QUIET_PANICS.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    let Ok(mut img) = EfiBootImage::new(data.to_vec()) else {
        return;
    };
    let Ok(configs) = img.grub_configs() else {
        return;
    };
    for path in configs {
        if let Ok(mut text) = img.read_file(&path) {
            text.extend_from_slice(b"\n# xiso fuzz\n");
            if img.replace_file(&path, &text, 1_700_000_000).is_ok() {
                assert_eq!(img.read_file(&path).ok(), Some(text));
            }
            assert_eq!(img.as_bytes().len(), data.len());
        }
    }
});
