//! `.treeinfo`: parsing, the summary, and the minimal edits `sign` makes. Printing
//! an unedited file gives its text back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xiso::treeinfo::TreeInfo;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(mut t) = TreeInfo::parse(text) else {
        return;
    };
    assert_eq!(t.to_string(), text, ".treeinfo did not round-trip");
    let _ = (t.summary(), t.layout(), t.sections());
    for s in t.sections() {
        let _ = t.entries(&s);
    }
    if t.set("keys", "key1", "RPM-GPG-KEY-fuzz").is_ok() {
        let again = TreeInfo::parse(&t.to_string()).expect("edited .treeinfo parses");
        assert_eq!(again.get("keys", "key1"), Some("RPM-GPG-KEY-fuzz"));
    }
    let _ = t.comment_out("keys", "key1");
});
