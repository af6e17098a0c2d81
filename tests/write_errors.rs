//! Caller mistakes are clear errors of the right kind, and a plain ISO 9660
//! image (no Rock Ridge, no Joliet, no boot) is still valid.

mod write_common;

use std::fs;

use write_common::*;
use xiso::iso::write::{
    write_iso, BootEntrySpec, BootSpec, FileData, IsoTree, Layout, Meta, WriteOptions,
};
use xiso::ErrorKind;

fn small_tree() -> IsoTree {
    let mut tree = IsoTree::new(Meta::dir(T));
    tree.add_dir("boot", Meta::dir(T)).expect("dir");
    tree.add_file("boot/a.bin", FileData::Bytes(vec![1; 100]), Meta::file(T))
        .expect("file");
    tree
}

#[test]
fn tree_rejects_bad_paths() {
    let mut tree = small_tree();
    let e = tree
        .add_file("nodir/x", FileData::Bytes(vec![]), Meta::file(T))
        .expect_err("missing parent");
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let e = tree
        .add_file("boot/../x", FileData::Bytes(vec![]), Meta::file(T))
        .expect_err("dot-dot");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let e = tree
        .add_file("boot", FileData::Bytes(vec![]), Meta::file(T))
        .expect_err("replace a directory by a file");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let e = tree
        .add_dir(&"x".repeat(256), Meta::dir(T))
        .expect_err("name too long");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(tree.remove("boot/a.bin").is_some());
    assert!(tree.get("boot/a.bin").is_none());
}

#[test]
fn boot_setup_mistakes_are_reported() {
    let tree = small_tree();
    let mut opts = WriteOptions::new("ERR", T);
    opts.boot = Some(BootSpec {
        catalog_path: "boot/boot.cat".into(),
        entries: vec![BootEntrySpec::bios_no_emulation(
            "boot/missing.bin",
            4,
            false,
        )],
    });
    let e = Layout::new(&tree, &opts).expect_err("missing boot file");
    assert_eq!(e.kind(), ErrorKind::NotFound);

    opts.boot = Some(BootSpec {
        catalog_path: "nodir/boot.cat".into(),
        entries: vec![BootEntrySpec::bios_no_emulation("boot/a.bin", 4, false)],
    });
    let e = Layout::new(&tree, &opts).expect_err("catalog directory missing");
    assert_eq!(e.kind(), ErrorKind::NotFound);

    opts.boot = Some(BootSpec {
        catalog_path: "boot".into(),
        entries: vec![BootEntrySpec::bios_no_emulation("boot/a.bin", 4, false)],
    });
    let e = Layout::new(&tree, &opts).expect_err("catalog is a directory");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);

    opts.boot = Some(BootSpec {
        catalog_path: "boot/boot.cat".into(),
        entries: vec![],
    });
    let e = Layout::new(&tree, &opts).expect_err("no entries");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[test]
fn data_problems_at_write_time() {
    let mut tree = small_tree();
    tree.add_file(
        "ext.bin",
        FileData::SourceExtent { offset: 0, len: 10 },
        Meta::file(T),
    )
    .expect("file");
    let opts = WriteOptions::new("ERR", T);
    let e = write_iso(&tree, &opts, None, Vec::new()).expect_err("no source");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);

    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("shrinks");
    fs::write(&f, vec![5u8; 10_000]).expect("write");
    let mut tree = small_tree();
    tree.add_file("shrinks", FileData::Path(f.clone()), Meta::file(T))
        .expect("file");
    let layout = Layout::new(&tree, &opts).expect("layout");
    fs::write(&f, vec![5u8; 10]).expect("shrink");
    let e = layout
        .write(None, &[], &[], Vec::new())
        .expect_err("file shrank");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("shrank"), "{e}");
    // The same into a regular file, where the kernel copies (copy_file_range).
    let out = dir.path().join("out.iso");
    let e = layout
        .write_file(None, &[], &[], &mut fs::File::create(&out).expect("create"))
        .expect_err("file shrank");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("shrank"), "{e}");
    fs::write(&f, vec![5u8; 20_000]).expect("grow");
    let e = layout
        .write_file(None, &[], &[], &mut fs::File::create(&out).expect("create"))
        .expect_err("file grew");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("grew"), "{e}");
    fs::write(&f, vec![5u8; 10_000]).expect("restore");
    layout
        .write_file(None, &[], &[], &mut fs::File::create(&out).expect("create"))
        .expect("the laid-out size again");
}

#[test]
fn plain_iso9660_without_extensions() {
    let mut tree = small_tree();
    tree.add_file(
        "Read Me.txt",
        FileData::Bytes(b"plain\n".to_vec()),
        Meta::file(T),
    )
    .expect("file");
    let mut opts = WriteOptions::new("PLAIN", T);
    opts.rock_ridge = false;
    opts.joliet = false;
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("plain.iso");
    let r = write_iso(&tree, &opts, None, fs::File::create(&out).expect("create")).expect("write");
    let p = out.to_str().expect("UTF-8");
    let d = run("isoinfo", &["-d", "-i", p]);
    assert!(
        d.contains(&format!("Volume size is: {}", r.volume_sectors)),
        "{d}"
    );
    assert!(d.contains("NO Rock Ridge present"), "{d}");
    assert!(d.contains("NO Joliet present"), "{d}");
    let l = run("isoinfo", &["-l", "-i", p]);
    assert!(l.contains("READ_ME.TXT;1"), "{l}");
    assert!(l.contains("A.BIN;1"), "{l}");
    let x = run_bytes("bsdtar", &["-xOf", p, "READ_ME.TXT"]);
    assert_eq!(x, b"plain\n");
}
