//! A driver disk's `update.xml`: parsing never panics, and what parses writes back
//! as text that parses to the same label and control package.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xiso::driver_disk::UpdateXml;

fuzz_target!(|data: &[u8]| {
    let Ok(u) = UpdateXml::parse(data) else {
        return;
    };
    let again = UpdateXml::parse(u.to_xml().as_bytes()).expect("written update.xml parses");
    assert_eq!(again.metapackage().is_empty(), u.metapackage().is_empty());
});
