//! `pack` after edits to a bzip2 install.img copies the unchanged bzip2 blocks and
//! recompresses only around the edits. Oracles: GNU `cpio` and `bzip2 -1` build the
//! source image, `bunzip2 -t` and Python's `bz2` (exactly one stream) check the
//! result, and its decompressed cpio must equal the one a full rebuild writes.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{genisoimage, ok_output, require_tool, run, tmpdir, xiso};

/// Deterministic bytes: incompressible when `random`, else text-like.
fn content(len: usize, seed: u64, random: bool) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut out = Vec::with_capacity(len + 32);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if random {
            out.extend_from_slice(&x.to_le_bytes());
        } else {
            out.extend_from_slice(
                format!("line {} of /usr/lib/{:x}\n", x % 97, x >> 48).as_bytes(),
            );
        }
    }
    out.truncate(len);
    out
}

const FILES: usize = 40;

/// An ISO whose install.img is `bzip2 -1` of a GNU cpio of ~4 MB (about 40 blocks).
fn source_iso(dir: &Path) -> PathBuf {
    require_tool("cpio");
    require_tool("bzip2");
    let root = dir.join("root");
    fs::create_dir_all(root.join("usr/share")).unwrap();
    for i in 0..FILES {
        let data = content(90_000 + 1_000 * i, i as u64 + 1, i % 3 == 0);
        fs::write(root.join(format!("usr/share/f{i:03}")), data).unwrap();
    }
    fs::write(root.join("init"), "#!/bin/sh\n").unwrap();
    let sh = "set -o pipefail; cd root && find . | LC_ALL=C sort | cpio -o -H newc --quiet --owner 0:0 | bzip2 -1 > ../install.img";
    let o = run(Command::new("bash").arg("-c").arg(sh).current_dir(dir));
    assert!(
        o.status.success(),
        "cpio | bzip2 failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let tree = dir.join("tree");
    fs::create_dir_all(tree.join("boot/isolinux")).unwrap();
    fs::copy(
        "/usr/lib/ISOLINUX/isolinux.bin",
        tree.join("boot/isolinux/isolinux.bin"),
    )
    .expect("ORACLE MISSING: /usr/lib/ISOLINUX/isolinux.bin (package isolinux)");
    fs::rename(dir.join("install.img"), tree.join("install.img")).unwrap();
    let iso = dir.join("src.iso");
    genisoimage(&tree, &iso, "SPLICE", false);
    iso
}

/// install.img of an ISO, through bsdtar.
fn image_of(iso: &Path, out: &Path) -> Vec<u8> {
    require_tool("bsdtar");
    let o = ok_output(
        Command::new("bsdtar")
            .arg("-xOf")
            .arg(iso)
            .arg("install.img"),
    );
    fs::write(out, &o.stdout).unwrap();
    o.stdout
}

/// Checks the image with `bunzip2 -t` and Python's bz2 (one stream, nothing after
/// it), and returns its decompressed bytes.
fn checked_cpio(img: &Path) -> Vec<u8> {
    require_tool("bunzip2");
    require_tool("python3");
    ok_output(Command::new("bunzip2").arg("-t").arg(img));
    let script = "import bz2,sys\n\
        z=bz2.BZ2Decompressor(); out=z.decompress(open(sys.argv[1],'rb').read())\n\
        assert z.eof and not z.unused_data, 'not exactly one stream'\n\
        sys.stdout.buffer.write(out)\n";
    ok_output(Command::new("python3").arg("-c").arg(script).arg(img)).stdout
}

fn blocks_in_index(ws: &Path) -> usize {
    let text = fs::read_to_string(ws.join(".xiso/installer")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["bz2_index"]["blocks"]
        .as_array()
        .expect("unpack recorded the bzip2 block index")
        .len()
}

fn pack(ws: &Path, out: &Path, extra: &[&str]) -> serde_json::Value {
    let o = ok_output(xiso().args(["pack", "--json"]).args(extra).arg(ws).arg(out));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["installer"].clone()
}

/// Unpack, `edit`, pack (spliced) and pack with another level (a full rebuild);
/// returns (report, blocks in the source, spliced cpio, fully rebuilt cpio).
fn run_edit(tag: &str, edit: impl Fn(&Path)) -> (serde_json::Value, usize, Vec<u8>, Vec<u8>) {
    let t = tmpdir(&format!("bz2splice-{tag}"));
    let iso = source_iso(t.path());
    let ws = t.path().join("ws");
    ok_output(xiso().arg("unpack").arg(&iso).arg(&ws));
    let total = blocks_in_index(&ws);
    edit(&ws.join("installer"));
    let spliced_iso = t.path().join("spliced.iso");
    let report = pack(&ws, &spliced_iso, &[]);
    assert_eq!(report["action"], "rebuilt", "{report}");
    let img = t.path().join("spliced.img");
    let bytes = image_of(&spliced_iso, &img);
    assert_eq!(
        report["bytes"].as_u64(),
        Some(bytes.len() as u64),
        "the spliced image's size, known before it was written, is its size"
    );
    let spliced = checked_cpio(&img);
    let full_iso = t.path().join("full.iso");
    let full = pack(&ws, &full_iso, &["--compress", "bzip2", "--level", "2"]);
    assert!(full.get("reused_blocks").is_none(), "{full}");
    let img = t.path().join("full.img");
    image_of(&full_iso, &img);
    (report, total, spliced, checked_cpio(&img))
}

/// Each edited region loses the old blocks it touches: the edited entry's (two for a
/// 100 kB file in 100 kB blocks) and the one where the old bytes resume.
fn assert_spliced(tag: &str, edits: usize, edit: impl Fn(&Path)) {
    let (report, total, spliced, full) = run_edit(tag, edit);
    assert!(
        spliced == full,
        "{tag}: spliced cpio differs from the full rebuild"
    );
    let reused = report["reused_blocks"].as_u64().unwrap_or(0) as usize;
    assert!(total >= 30, "{tag}: only {total} blocks in the source");
    assert!(
        reused + 3 * edits >= total,
        "{tag}: reused {reused} of {total} blocks: {report}"
    );
}

fn file(root: &Path, i: usize) -> PathBuf {
    root.join(format!("usr/share/f{i:03}"))
}

#[test]
fn same_size_edit_in_the_middle() {
    assert_spliced("middle-same", 1, |root| {
        let mut data = fs::read(file(root, 20)).unwrap();
        data[5_000..5_010].copy_from_slice(b"0123456789");
        fs::write(file(root, 20), data).unwrap();
    });
}

#[test]
fn longer_file_in_the_middle_and_shorter_near_the_start() {
    assert_spliced("sizes", 2, |root| {
        let mut data = fs::read(file(root, 21)).unwrap();
        data.extend_from_slice(b"three more lines\nof text\n!");
        fs::write(file(root, 21), data).unwrap();
        let data = fs::read(file(root, 1)).unwrap();
        fs::write(file(root, 1), &data[..data.len() - 1001]).unwrap();
    });
}

#[test]
fn edit_at_the_end_new_file_and_removed_file() {
    assert_spliced("end", 3, |root| {
        let last = file(root, FILES - 1);
        let mut data = fs::read(&last).unwrap();
        let n = data.len();
        data[n - 3..].copy_from_slice(b"END");
        fs::write(&last, data).unwrap();
        fs::write(root.join("usr/share/zz-new"), "a new file\n").unwrap();
        fs::remove_file(file(root, 30)).unwrap();
    });
}

/// Offsets in the manifest that lie (every hint off by 4 bytes) cost speed only.
#[test]
fn wrong_hints_still_give_the_same_cpio() {
    let (report, total, spliced, full) = run_edit("lie", |root| {
        let ws = root.parent().unwrap();
        let path = ws.join(".xiso/installer");
        let mut v: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        for e in v["entries"].as_array_mut().unwrap() {
            if let Some(at) = e["offset"].as_u64() {
                e["offset"] = (at + 4).into();
            }
        }
        fs::write(&path, serde_json::to_string(&v).unwrap()).unwrap();
        fs::write(file(root, 10), "short now\n").unwrap();
    });
    assert!(spliced == full, "lying hints changed the cpio");
    let reused = report["reused_blocks"].as_u64().unwrap_or(0) as usize;
    assert!(
        reused < total / 2,
        "reused {reused} of {total} with wrong hints"
    );
}

/// Files whose size and mtime are as unpack left them are not read: the old
/// blocks inside a run of them are copied unread. A file rewritten behind xiso's
/// back (same size, its mtime put back) therefore keeps its old bytes, exactly as
/// `scan` trusts size and mtime; this test pins that trust down, so that a change
/// to it is a decision, not an accident.
#[test]
fn unchanged_files_inside_a_run_are_not_read() {
    let old_35 = std::cell::RefCell::new(Vec::new());
    let (report, total, spliced, full) = run_edit("trust", |root| {
        fs::write(file(root, 5), "edited near the start\n").unwrap();
        let p = file(root, 35);
        let before = fs::metadata(&p).unwrap();
        let data = fs::read(&p).unwrap();
        *old_35.borrow_mut() = data.clone();
        let tampered: Vec<u8> = data.iter().map(|b| b ^ 0x5a).collect();
        fs::write(&p, &tampered).unwrap();
        let f = fs::File::options().write(true).open(&p).unwrap();
        f.set_modified(before.modified().unwrap()).unwrap();
    });
    let old_35 = old_35.into_inner();
    let find = |cpio: &[u8], what: &[u8]| cpio.windows(what.len()).any(|w| w == what);
    // A 4 kB stretch from the middle of file 35.
    let probe = &old_35[40_000..44_000];
    assert!(
        find(&spliced, probe),
        "the spliced image read file 35 (its tampered bytes are in it)"
    );
    assert!(
        !find(&full, probe),
        "the full rebuild reads every file, so it has the tampered bytes"
    );
    let reused = report["reused_blocks"].as_u64().unwrap_or(0) as usize;
    assert!(reused + 3 >= total, "reused {reused} of {total}: {report}");
}
