//! A 4.5 GiB sparse source file: written as several extents (multi-extent,
//! ECMA-119 6.5.1) in both hierarchies, and the output stays sparse.

mod write_common;

use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileExt, MetadataExt};

use write_common::*;
use xiso::iso::write::{FileData, IsoTree, Layout, Meta, WriteOptions, MAX_EXTENT};

const HUGE: u64 = 4_831_838_208; // 4.5 GiB

#[test]
fn sparse_huge_file_is_multi_extent_and_output_stays_sparse() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("huge.bin");
    {
        let mut f = fs::File::create(&src).expect("create");
        f.set_len(HUGE).expect("set_len");
        f.write_all(b"START-OF-HUGE").expect("marker");
        f.seek(SeekFrom::Start(MAX_EXTENT - 4)).expect("seek");
        f.write_all(b"SEAM-SEAM")
            .expect("seam marker across the extent boundary");
        f.seek(SeekFrom::Start(HUGE - 4)).expect("seek");
        f.write_all(b"END!").expect("marker");
    }
    let mut tree = IsoTree::new(Meta::dir(T));
    tree.add_dir("data", Meta::dir(T)).expect("dir");
    tree.add_file("data/huge.bin", FileData::Path(src.clone()), Meta::file(T))
        .expect("file");
    tree.add_file(
        "data/small.txt",
        FileData::Bytes(b"small\n".to_vec()),
        Meta::file(T),
    )
    .expect("file");
    let opts = WriteOptions::new("SPARSE", T);
    let layout = Layout::new(&tree, &opts).expect("layout");
    let out = dir.path().join("big.iso");
    let mut f = fs::File::create(&out).expect("create");
    layout.write_file(None, &[], &[], &mut f).expect("write");
    drop(f);

    let report = layout.report();
    let ext = report.files["data/huge.bin"];
    assert_eq!(ext.size, HUGE);
    let meta = fs::metadata(&out).expect("stat");
    assert_eq!(meta.len(), u64::from(report.volume_sectors) * 2048);
    assert!(
        meta.blocks() * 512 < 16 << 20,
        "output is not sparse: {} bytes allocated",
        meta.blocks() * 512
    );

    // The bytes landed where the report says, across the extent seam.
    let iso = fs::File::open(&out).expect("open");
    let base = u64::from(ext.lba) * 2048;
    let mut buf = [0u8; 13];
    iso.read_exact_at(&mut buf, base).expect("read");
    assert_eq!(&buf, b"START-OF-HUGE");
    let mut seam = [0u8; 9];
    iso.read_exact_at(&mut seam, base + MAX_EXTENT - 4)
        .expect("read");
    assert_eq!(&seam, b"SEAM-SEAM");
    let mut end = [0u8; 4];
    iso.read_exact_at(&mut end, base + HUGE - 4).expect("read");
    assert_eq!(&end, b"END!");

    let p = out.to_str().expect("UTF-8");
    let list = run("bsdtar", &["-tvf", p]);
    let line = list
        .lines()
        .find(|l| l.ends_with(" data/huge.bin"))
        .unwrap_or_else(|| panic!("huge.bin not listed:\n{list}"));
    assert_eq!(line.split_whitespace().nth(4), Some("4831838208"), "{line}");

    // (isovfy is not used here: it stops at the first multi-extent record,
    // for xorriso's images as for ours.)
    // isoinfo shows one directory record per extent, in both hierarchies.
    let l = run("isoinfo", &["-l", "-i", p]);
    let recs: Vec<&str> = l.lines().filter(|l| l.contains("HUGE.BIN;1")).collect();
    assert_eq!(recs.len(), 2, "{l}");
    assert!(recs[0].contains(&MAX_EXTENT.to_string()), "{l}");
    assert!(recs[1].contains(&(HUGE - MAX_EXTENT).to_string()), "{l}");
    let j = run("isoinfo", &["-J", "-l", "-i", p]);
    assert_eq!(
        j.lines().filter(|l| l.contains("huge.bin")).count(),
        2,
        "{j}"
    );

    let lsdl = run("xorriso", &["-indev", p, "-find", "/data", "-exec", "lsdl"]);
    let line = lsdl
        .lines()
        .find(|l| l.contains("'/data/huge.bin'"))
        .unwrap_or_else(|| panic!("{lsdl}"));
    assert_eq!(line.split_whitespace().nth(4), Some("4831838208"), "{line}");

    // Reading back through libarchive: the tail of the file across extents.
    let mut child = std::process::Command::new("bsdtar")
        .args(["-xOf", p, "data/small.txt"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("bsdtar is required");
    let mut small = Vec::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_end(&mut small)
        .expect("read");
    assert!(child.wait().expect("wait").success());
    assert_eq!(small, b"small\n");
}
