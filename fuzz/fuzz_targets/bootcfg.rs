//! isolinux.cfg and grub.cfg parsing and kernel-argument edits. Without an edit the
//! text must come back byte for byte.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xiso::bootcfg::{ArgEdit, BootConfig, ConfigKind};

fuzz_target!(|data: &[u8]| {
    for kind in [ConfigKind::Isolinux, ConfigKind::Grub] {
        let Ok(mut cfg) = BootConfig::parse(kind, data) else {
            continue;
        };
        assert_eq!(
            cfg.text().as_bytes(),
            data,
            "{kind:?} config did not round-trip"
        );
        for k in cfg.kernel_lines().to_vec() {
            let _ = cfg.args(&k);
        }
        let _ = cfg.entries();
        let edit =
            ArgEdit::new(["xiso.fuzz=1", "install"], ["quiet", "console"]).expect("valid edit");
        if cfg.apply(&edit, None).is_ok() {
            let text = cfg.text();
            // An edited config parses again and the edit is idempotent.
            let mut again = BootConfig::parse(kind, text.as_bytes()).expect("edited config parses");
            let changes = again.apply(&edit, None).expect("second edit");
            assert!(
                changes.iter().all(|c| !c.changed()),
                "edit is not idempotent"
            );
        }
    }
});
