//! Remaster path: a genisoimage-made ISO (as XCP-ng builds it) is the source;
//! untouched files are streamed from its extents, some are replaced or added,
//! and the old boot catalog is replaced by the new one.

mod write_common;

use std::collections::BTreeMap;
use std::fs;

use write_common::*;
use xiso::iso::write::{BootEntrySpec, BootSpec, FileData, Layout, Meta, Node, WriteOptions};
use xiso::source::Source;

/// `path -> (lba, size)` of every file of an ISO, from xorriso.
fn extents(iso: &str) -> BTreeMap<String, (u64, u64)> {
    let out = run(
        "xorriso",
        &[
            "-indev",
            iso,
            "-find",
            "/",
            "-type",
            "f",
            "-exec",
            "report_lba",
        ],
    );
    let mut m = BTreeMap::new();
    for line in out.lines() {
        let Some(rest) = line.strip_prefix("File data lba:") else {
            continue;
        };
        let f: Vec<&str> = rest.splitn(5, ',').map(str::trim).collect();
        let path = f[4].trim_matches('\'').trim_start_matches('/').to_string();
        m.insert(
            path,
            (f[1].parse().expect("lba"), f[3].parse().expect("size")),
        );
    }
    m
}

#[test]
fn files_stream_from_source_extents() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("tree");
    make_fixture(&root);
    fs::remove_file(root.join("boot/isolinux/boot.cat")).expect("genisoimage makes its own");
    let src = dir.path().join("src.iso");
    let src_s = src.to_str().expect("UTF-8");
    run(
        "genisoimage",
        &[
            "-quiet",
            "-r",
            "-J",
            "--joliet-long",
            "-V",
            "XCP-ng 8.3.0",
            "-c",
            "boot/isolinux/boot.cat",
            "-b",
            "boot/isolinux/isolinux.bin",
            "-no-emul-boot",
            "-boot-load-size",
            "4",
            "-boot-info-table",
            "-eltorito-alt-boot",
            "-e",
            "boot/efiboot.img",
            "-no-emul-boot",
            "-o",
            src_s,
            root.to_str().expect("UTF-8"),
        ],
    );
    let ext = extents(src_s);

    // The tree as the reader would give it: every file an extent of the source.
    let mut tree = tree_from_dir(&root);
    tree.add_file(
        "boot/isolinux/boot.cat",
        FileData::Bytes(vec![0; 2048]),
        Meta::file(T),
    )
    .expect("old catalog node");
    for (path, (lba, size)) in &ext {
        let meta = match tree.get(path) {
            Some(Node::File { meta, .. }) => *meta,
            _ => Meta::file(T),
        };
        tree.add_file(
            path,
            FileData::SourceExtent {
                offset: lba * 2048,
                len: *size,
            },
            meta,
        )
        .expect("extent file");
    }
    // The same source extent under a second name (a hard link in the source).
    let (lba0, size0) = ext["many/file-000.rpm"];
    tree.add_file(
        "many/alias.rpm",
        FileData::SourceExtent {
            offset: lba0 * 2048,
            len: size0,
        },
        Meta::file(T),
    )
    .expect("alias");
    // Edits: one file replaced, one added from disk.
    tree.add_file(
        "readme.txt",
        FileData::Bytes(b"edited\n".to_vec()),
        Meta::file(T),
    )
    .expect("replace");
    let extra = dir.path().join("extra.rpm");
    fs::write(&extra, vec![7u8; 5000]).expect("write extra");
    tree.add_file(
        "many/extra.rpm",
        FileData::Path(extra.clone()),
        Meta::file(T),
    )
    .expect("add");
    // A source extent with more bytes after it (an install.img with an archive
    // appended): the extent, a workspace file, then bytes in memory.
    let (lba1, size1) = ext["many/file-001.rpm"];
    tree.add_file(
        "many/appended.rpm",
        FileData::Concat(vec![
            FileData::SourceExtent {
                offset: lba1 * 2048,
                len: size1,
            },
            FileData::Path(extra),
            FileData::Bytes(b"tail".to_vec()),
        ]),
        Meta::file(T),
    )
    .expect("concat");

    let mut opts = WriteOptions::new("XCP-ng 8.3.0", T);
    opts.boot = Some(BootSpec {
        catalog_path: "/boot/isolinux/boot.cat".into(),
        entries: vec![
            BootEntrySpec::bios_no_emulation("boot/isolinux/isolinux.bin", 4, true),
            BootEntrySpec::efi("boot/efiboot.img"),
        ],
    });
    let source = Source::open(&src).expect("open source");
    let layout = Layout::new(&tree, &opts).expect("layout");
    let out = dir.path().join("out.iso");
    layout
        .write_file(
            Some(&source),
            &[],
            &[],
            &mut fs::File::create(&out).expect("create"),
        )
        .expect("write");
    let out_s = out.to_str().expect("UTF-8");

    // Every untouched file has the source's bytes. Ours is read with
    // isoinfo (libarchive gives the data of a shared extent to one name
    // only), the source with bsdtar (isoinfo does not follow genisoimage's
    // deep-directory relocation).
    for path in ext.keys() {
        if path.starts_with("boot/isolinux/") || path == "readme.txt" {
            continue;
        }
        let rr_path = format!("/{path}");
        let got = run_bytes("isoinfo", &["-R", "-x", &rr_path, "-i", out_s]);
        let want = run_bytes("bsdtar", &["-xOf", src_s, path]);
        assert!(got == want, "{path} differs from the source");
    }
    assert_eq!(
        run_bytes("bsdtar", &["-xOf", out_s, "readme.txt"]),
        b"edited\n"
    );
    assert_eq!(
        run_bytes("bsdtar", &["-xOf", out_s, "many/extra.rpm"]),
        vec![7u8; 5000]
    );

    let r = layout.report();
    let mut want = run_bytes("bsdtar", &["-xOf", src_s, "many/file-001.rpm"]);
    want.extend_from_slice(&[7u8; 5000]);
    want.extend_from_slice(b"tail");
    assert!(
        run_bytes("bsdtar", &["-xOf", out_s, "many/appended.rpm"]) == want,
        "a Concat file is its parts one after the other"
    );
    assert_eq!(
        r.files["many/appended.rpm"].size,
        size1 + 5004,
        "the layout counts every part"
    );

    // Shared extents stay shared.
    assert_eq!(r.files["many/alias.rpm"], r.files["many/file-000.rpm"]);
    let alias = run_bytes("isoinfo", &["-R", "-x", "/many/alias.rpm", "-i", out_s]);
    assert_eq!(alias, b"0\n");

    // isolinux.bin: the source's bytes with only its own LBA changed.
    let bios = &r.boot_entries[0];
    let got = run_bytes("bsdtar", &["-xOf", out_s, "boot/isolinux/isolinux.bin"]);
    let mut want = run_bytes("bsdtar", &["-xOf", src_s, "boot/isolinux/isolinux.bin"]);
    want[12..16].copy_from_slice(&bios.entry.load_lba.to_le_bytes());
    assert!(got == want, "boot info table differs beyond the LBA");

    let rep = run("xorriso", &["-indev", out_s, "-report_el_torito", "plain"]);
    assert!(
        rep.contains("El Torito boot img :   1  BIOS  y   none  0x0000  0x00      4"),
        "{rep}"
    );
    assert!(
        rep.contains("El Torito boot img :   2  UEFI  y   none  0x0000  0x00   2880"),
        "{rep}"
    );
    let list = run("bsdtar", &["-tf", out_s]);
    assert_eq!(
        list.lines().filter(|l| l.ends_with("boot.cat")).count(),
        1,
        "{list}"
    );
    let v = run("isovfy", &["-i", out_s]);
    assert!(v.contains("No errors found"), "{v}");
    let d = run("isoinfo", &["-d", "-i", out_s]);
    assert!(d.contains("Volume id: XCP-ng 8.3.0"), "{d}");
}
