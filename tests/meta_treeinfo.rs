//! `.treeinfo` as XCP-ng ships it: read like the installer, written back unchanged.

use xiso::treeinfo::{TreeInfo, TreeInfoLayout};
use xiso::ErrorKind;

const XCPNG_83: &str = include_str!("../testdata/treeinfo-xcpng-8.3");
const XCPNG_82: &str = include_str!("../testdata/treeinfo-xcpng-8.2");

#[test]
fn xcpng_83_summary() {
    let ti = TreeInfo::parse(XCPNG_83).unwrap();
    assert_eq!(ti.to_string(), XCPNG_83);
    let s = ti.summary();
    assert_eq!(s.layout, TreeInfoLayout::SystemV1);
    assert_eq!(s.family.as_deref(), Some("XCP-ng"));
    assert_eq!(s.name.as_deref(), Some("XCP-ng-8.3.0"));
    assert_eq!(s.version.as_deref(), Some("8.3.0"));
    assert_eq!(s.platform_name.as_deref(), Some("XCP"));
    assert_eq!(s.platform_version.as_deref(), Some("3.4.0"));
    assert_eq!(s.product_brand.as_deref(), Some("XCP-ng"));
    assert_eq!(s.product_version.as_deref(), Some("8.3.0"));
    assert_eq!(s.build_number.as_deref(), Some("cloud"));
    assert_eq!(s.key1.as_deref(), Some("RPM-GPG-KEY-xcpng"));
    assert_eq!(
        s.sections,
        [
            "system-v1",
            "build",
            "keys",
            "general",
            "images-x86_64",
            "images-xen"
        ]
    );
    assert_eq!(ti.get("general", "variant"), Some(""));
    assert_eq!(ti.get("images-x86_64", "boot.iso"), Some("boot/xen.gz"));
    serde_json::to_string(&s).unwrap();
}

#[test]
fn xcpng_82_platform_branding_summary() {
    let ti = TreeInfo::parse(XCPNG_82).unwrap();
    assert_eq!(ti.to_string(), XCPNG_82);
    let s = ti.summary();
    assert_eq!(s.layout, TreeInfoLayout::PlatformBranding);
    assert_eq!(s.platform_name.as_deref(), Some("XCP"));
    assert_eq!(s.platform_version.as_deref(), Some("3.2.1"));
    assert_eq!(s.product_brand.as_deref(), Some("XCP-ng"));
    assert_eq!(s.product_version.as_deref(), Some("8.2.1"));
    assert_eq!(s.build_number.as_deref(), Some("release/yangtze/master/58"));
    assert_eq!(s.key1.as_deref(), Some("RPM-GPG-KEY-xcpng"));
    assert_eq!(
        ti.entries("keys"),
        [
            ("key1", "RPM-GPG-KEY-xcpng"),
            ("key2", "RPM-GPG-KEY-CH-8-LCM")
        ]
    );
}

/// Disabling the repository check (DESIGN §1): comment out `key1`; every other
/// byte stays as it was.
#[test]
fn comment_out_key1_changes_one_line() {
    let mut ti = TreeInfo::parse(XCPNG_83).unwrap();
    ti.comment_out("keys", "key1").unwrap();
    let expected = XCPNG_83.replace("key1 = RPM-GPG-KEY-xcpng\n", "#key1 = RPM-GPG-KEY-xcpng\n");
    assert_eq!(ti.to_string(), expected);
    assert_eq!(ti.summary().key1, None);
    // The edited text parses again to the same model.
    assert_eq!(TreeInfo::parse(&expected).unwrap(), ti);
}

/// Re-signing with the user's key: point key1 at the exported key.
#[test]
fn set_key1_changes_one_line() {
    let mut ti = TreeInfo::parse(XCPNG_83).unwrap();
    ti.set("keys", "key1", "RPM-GPG-KEY-local").unwrap();
    let expected = XCPNG_83.replace("key1 = RPM-GPG-KEY-xcpng", "key1 = RPM-GPG-KEY-local");
    assert_eq!(ti.to_string(), expected);
    ti.set("build", "number", "custom-1").unwrap();
    assert_eq!(
        ti.to_string(),
        expected.replace("number = cloud", "number = custom-1")
    );
}

#[test]
fn bad_lines_are_corrupt_with_offsets() {
    let e = TreeInfo::parse("platform_name = XCP\n").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Corrupt);
    assert_eq!(e.offset(), Some(0));
    let text = "[system-v1]\nplatform_name = XCP\n[keys\nkey1 = K\n";
    let e = TreeInfo::parse(text).unwrap_err();
    assert_eq!(e.offset(), Some(text.find("[keys").unwrap() as u64));
    assert!(e.to_string().contains("line 3"), "{e}");
}
