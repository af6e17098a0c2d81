//! Same inputs and dates give the same bytes; the system area and tail hooks
//! put the caller's bytes where the hybrid layout needs them.

mod write_common;

use std::fs;

use sha2::{Digest, Sha256};
use write_common::*;
use xiso::iso::write::{
    BootEntrySpec, BootSpec, FileData, IsoTree, Layout, Meta, Node, WriteOptions,
};

fn options() -> WriteOptions {
    let mut opts = WriteOptions::new("DETERMINISM", T);
    opts.boot = Some(BootSpec {
        catalog_path: "boot/isolinux/boot.cat".into(),
        entries: vec![
            BootEntrySpec::bios_no_emulation("boot/isolinux/isolinux.bin", 4, true),
            BootEntrySpec::efi("boot/efiboot.img"),
        ],
    });
    opts
}

fn sha(path: &std::path::Path) -> String {
    let d = Sha256::digest(fs::read(path).expect("read"));
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// The same tree built by inserting children in reverse order.
fn reversed(tree: &IsoTree) -> IsoTree {
    fn copy(dst: &mut IsoTree, dir: &xiso::iso::write::Dir, prefix: &str) {
        for (name, node) in dir.children.iter().rev() {
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            match node {
                Node::Dir(d) => {
                    dst.add_dir(&path, d.meta).expect("dir");
                    copy(dst, d, &path);
                }
                Node::File { data, meta } => {
                    dst.add_file(&path, data.clone(), *meta).expect("file")
                }
                Node::Symlink { target, meta } => {
                    dst.add_symlink(&path, target, *meta).expect("link")
                }
            }
        }
    }
    let mut t = IsoTree::new(tree.root().meta);
    copy(&mut t, tree.root(), "");
    t
}

#[test]
fn two_writes_give_identical_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("tree");
    make_fixture(&root);
    let tree = tree_from_dir(&root);
    let opts = options();

    let a = dir.path().join("a.iso");
    let layout = Layout::new(&tree, &opts).expect("layout");
    layout
        .write_file(None, &[], &[], &mut fs::File::create(&a).expect("create"))
        .expect("write a");

    // A second layout of an equal tree built in another order, written
    // through the plain (non-sparse) path.
    let b = dir.path().join("b.iso");
    let tree_b = reversed(&tree);
    let layout_b = Layout::new(&tree_b, &opts).expect("layout");
    assert_eq!(layout.report(), layout_b.report());
    layout_b
        .write(None, &[], &[], fs::File::create(&b).expect("create"))
        .expect("write b");

    assert_eq!(sha(&a), sha(&b));
}

#[test]
fn system_area_alignment_and_tail_land_where_asked() {
    let mut tree = IsoTree::new(Meta::dir(T));
    tree.add_file(
        "hello.txt",
        FileData::Bytes(b"hello\n".to_vec()),
        Meta::file(T),
    )
    .expect("file");
    let mut opts = WriteOptions::new("HYBRID", T);
    opts.align = 1 << 20;
    opts.tail_len = 33 * 512; // e.g. a backup GPT: 32 entry sectors + header
    let layout = Layout::new(&tree, &opts).expect("layout");
    let r = layout.report().clone();
    assert_eq!(r.image_len % (1 << 20), 0);
    assert!(r.image_len >= u64::from(r.volume_sectors) * 2048 + opts.tail_len);

    let mut mbr = vec![0u8; 512];
    mbr[510] = 0x55;
    mbr[511] = 0xAA;
    mbr[432..436].copy_from_slice(&r.files["hello.txt"].lba.to_le_bytes());
    let tail: Vec<u8> = (0..opts.tail_len).map(|i| (i % 251) as u8 + 1).collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("h.iso");
    layout
        .write_file(
            None,
            &mbr,
            &tail,
            &mut fs::File::create(&out).expect("create"),
        )
        .expect("write");
    let bytes = fs::read(&out).expect("read");
    assert_eq!(bytes.len() as u64, r.image_len);
    assert_eq!(&bytes[..512], &mbr[..]);
    assert!(bytes[512..32768].iter().all(|&b| b == 0));
    assert_eq!(&bytes[bytes.len() - tail.len()..], &tail[..]);

    // Readers still see the volume, whose size excludes alignment and tail.
    let p = out.to_str().expect("UTF-8");
    let d = run("isoinfo", &["-d", "-i", p]);
    assert!(
        d.contains(&format!("Volume size is: {}", r.volume_sectors)),
        "{d}"
    );
    let x = run_bytes("bsdtar", &["-xOf", p, "hello.txt"]);
    assert_eq!(x, b"hello\n");
    let sa = run("xorriso", &["-indev", p, "-report_system_area", "plain"]);
    assert!(sa.contains("MBR"), "{sa}");

    // A wrong tail length or an oversized system area is caller misuse.
    let mut sink = Vec::new();
    let err = layout
        .write(None, &mbr, &[], &mut sink)
        .expect_err("tail missing");
    assert_eq!(err.kind(), xiso::ErrorKind::InvalidInput);
    let err = layout
        .write(None, &vec![0; 40_000], &tail, &mut sink)
        .expect_err("system area too large");
    assert_eq!(err.kind(), xiso::ErrorKind::InvalidInput);
}
