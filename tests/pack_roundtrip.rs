//! `xiso unpack` → `xiso pack` on the XCP-ng-shaped fixtures, checked by independent
//! readers: the tree, every unedited file and `.treeinfo` are identical; xorriso sees
//! the same boot setup; the hybrid tables have isohybrid's shape; output is reproducible.

#[path = "common/boot_fixtures.rs"]
mod boot_fixtures;
mod common;
#[path = "common/xorriso_report.rs"]
mod xorriso_report;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use xiso::boot::sysarea::{read_system_area, SystemArea};
use xiso::source::Source;
use xorriso_report::XorrisoReport;

const EPOCH: &str = "1700000000";

fn unpack(iso: &Path, dir: &Path) {
    let out = run(xiso().arg("unpack").arg(iso).arg(dir));
    assert!(
        out.status.success(),
        "unpack: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn pack(dir: &Path, out_iso: &Path, extra: &[&str]) {
    let out = run(xiso()
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .arg("pack")
        .arg(dir)
        .arg(out_iso)
        .args(extra));
    assert!(
        out.status.success(),
        "pack: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn roundtrip(rel: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let src = fixture(rel);
    let t = tempfile::tempdir().unwrap();
    let ws = t.path().join("ws");
    unpack(&src, &ws);
    let out = t.path().join("out.iso");
    let before = sha256(&src);
    pack(&ws, &out, &[]);
    assert_eq!(
        sha256(&src),
        before,
        "the source image must never be written"
    );
    (t, src, out)
}

fn bsdtar_extract(iso: &Path, dir: &Path) {
    require_tool("bsdtar");
    fs::create_dir_all(dir).unwrap();
    let out = run(Command::new("bsdtar")
        .arg("-xf")
        .arg(iso)
        .arg("-C")
        .arg(dir));
    assert!(
        out.status.success(),
        "bsdtar -x {}: {}",
        iso.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn listing(iso: &Path) -> Vec<String> {
    let out = run(Command::new("bsdtar").arg("-tvf").arg(iso));
    assert!(
        out.status.success(),
        "bsdtar -tvf {}: {}",
        iso.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    // mode, size and name (dates and link counts may legitimately differ).
    let mut rows: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let size = if f[0].starts_with('d') { "-" } else { f[4] };
            format!("{} {} {}", f[0], size, f[8..].join(" "))
        })
        .collect();
    rows.sort();
    rows
}

fn tree_equal(rel: &str) {
    let (t, src, out) = roundtrip(rel);
    assert_eq!(
        listing(&src),
        listing(&out),
        "{rel}: bsdtar listings differ"
    );
    let a = t.path().join("a");
    let b = t.path().join("b");
    bsdtar_extract(&src, &a);
    bsdtar_extract(&out, &b);
    // Every file is byte-identical except the boot catalog (new LBAs) and isolinux.bin
    // (its boot info table names its new LBA).
    let diff = run(Command::new("diff")
        .arg("-rq")
        .arg("--no-dereference")
        .arg(&a)
        .arg(&b));
    let text = String::from_utf8_lossy(&diff.stdout).into_owned();
    let unexpected: Vec<&str> = text
        .lines()
        .filter(|l| {
            !l.contains("boot/isolinux/boot.cat") && !l.contains("boot/isolinux/isolinux.bin")
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "{rel}: files differ after a no-op round trip:\n{}",
        unexpected.join("\n")
    );
    assert_eq!(
        fs::read(a.join(".treeinfo")).unwrap(),
        fs::read(b.join(".treeinfo")).unwrap()
    );
    for tool in [vec!["isoinfo", "-d", "-i"], vec!["7z", "l"]] {
        require_tool(tool[0]);
        let o = run(Command::new(tool[0]).args(&tool[1..]).arg(&out));
        assert!(
            o.status.success(),
            "{} cannot read the output: {}",
            tool[0],
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn genisoimage_fixture_round_trips() {
    tree_equal("genisoimage.iso");
}

#[test]
fn xorriso_fixture_round_trips() {
    tree_equal("xorriso.iso");
}

/// xorriso's El Torito report of source and output agree on everything but LBAs.
fn eltorito_agrees(rel: &str) {
    let (_t, src, out) = roundtrip(rel);
    let a = XorrisoReport::of(&src);
    let b = XorrisoReport::of(&out);
    assert_eq!(a.boot_images.len(), b.boot_images.len());
    for (x, y) in a.boot_images.iter().zip(&b.boot_images) {
        assert_eq!(
            (
                &x.platform,
                x.bootable,
                &x.emulation,
                x.load_segment,
                x.hd_partition_type,
                x.load_size,
                &x.path
            ),
            (
                &y.platform,
                y.bootable,
                &y.emulation,
                y.load_segment,
                y.hd_partition_type,
                y.load_size,
                &y.path
            ),
            "{rel}: boot image differs"
        );
    }
    assert!(b.gpt_present, "{rel}: output has no GPT");
    assert_eq!(
        b.system_area_summary
            .as_deref()
            .map(|s| s.contains("isohybrid")),
        Some(true),
        "{:?}",
        b.system_area_summary
    );
    assert_eq!(
        a.mbr_partitions
            .iter()
            .map(|p| (p.number, p.status, p.partition_type))
            .collect::<Vec<_>>(),
        b.mbr_partitions
            .iter()
            .map(|p| (p.number, p.status, p.partition_type))
            .collect::<Vec<_>>(),
        "{rel}: MBR partition numbers/status/types differ"
    );
}

#[test]
fn genisoimage_fixture_boot_setup_survives() {
    eltorito_agrees("genisoimage.iso");
}

/// The xorriso fixture (-isohybrid-gpt-basdat) is written back with isohybrid's
/// layout by default; the boot images and their order are kept.
#[test]
fn xorriso_fixture_boot_images_survive() {
    let (_t, src, out) = roundtrip("xorriso.iso");
    let a = XorrisoReport::of(&src);
    let b = XorrisoReport::of(&out);
    let key = |r: &XorrisoReport| {
        r.boot_images
            .iter()
            .map(|x| (x.platform.clone(), x.load_size, x.path.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&a), key(&b));
}

/// Everything about an MBR/GPT that does not depend on where files landed, with each
/// LBA expressed relative to the image's own layout.
fn hybrid_shape(iso: &Path) -> Vec<String> {
    let src = Source::open(iso).unwrap();
    let sa: SystemArea = read_system_area(&src).unwrap();
    let img = xiso::iso::IsoImage::open(iso).unwrap();
    let cat =
        xiso::iso::eltorito::read_boot_catalog(&src, img.descriptors().boot_catalog_lba.unwrap())
            .unwrap();
    let bios = cat.bios_entry().unwrap().load_lba as u64;
    let efi = cat.efi_entry().unwrap();
    let total = src.len() / 512;
    let vol = u64::from(img.primary().space_size) * 4;
    let mbr = sa.mbr.as_ref().unwrap();
    let mut v = vec![
        format!(
            "boot pointer = bios*4: {}",
            u64::from(mbr.boot_pointer_block) == bios * 4
        ),
        format!("file is whole MiB: {}", src.len().is_multiple_of(1 << 20)),
    ];
    for p in mbr.used_partitions() {
        v.push(format!(
            "mbr {} status {:#x} type {:#x} chs {:?}/{:?} start-rel {} count {}",
            p.number,
            p.status,
            p.partition_type,
            if p.number == 2 { p.chs_start } else { [0; 3] },
            if p.number == 2 { p.chs_end } else { [0; 3] },
            if p.number == 2 {
                u64::from(p.start_lba) as i64 - efi.start_block512() as i64
            } else {
                i64::from(p.start_lba)
            },
            if p.number == 1 {
                format!("total-{}", total as i64 - i64::from(p.sector_count))
            } else {
                p.sector_count.to_string()
            }
        ));
    }
    let gpt = sa.gpt.as_ref().unwrap();
    let h = &gpt.header;
    v.push(format!(
        "gpt rev {:#x} size {} cur {} backup total-{} first {} last total-{} entries@{} n {} size {} crc {}/{}",
        h.revision,
        h.header_size,
        h.current_lba,
        total - h.backup_lba,
        h.first_usable_lba,
        total - h.last_usable_lba,
        h.entries_lba,
        h.entry_count,
        h.entry_size,
        h.header_crc_ok,
        h.entries_crc_ok
    ));
    let b = gpt.backup.as_ref().expect("backup GPT");
    v.push(format!(
        "backup cur total-{} alt {} entries total-{} crc {}/{}",
        total - b.current_lba,
        b.backup_lba,
        total - b.entries_lba,
        b.header_crc_ok,
        b.entries_crc_ok
    ));
    for p in &gpt.partitions {
        let first = if p.number == 2 {
            p.first_lba as i64 - efi.start_block512() as i64
        } else {
            p.first_lba as i64
        };
        let last = if p.number == 1 {
            format!("vol-{}", vol as i64 - p.last_lba as i64)
        } else {
            p.block_count().to_string()
        };
        v.push(format!(
            "gpt {} {:?} type {} attrs {:#x} first-rel {} last/count {}",
            p.number, p.name, p.type_guid, p.attributes, first, last
        ));
    }
    v
}

/// A genisoimage + `isohybrid --uefi` build of the same tree and xiso's pack agree
/// on the MBR and GPT field by field, ids and layout-dependent LBAs aside.
#[test]
fn hybrid_tables_match_isohybrid_uefi() {
    require_tool("genisoimage");
    require_tool("isohybrid");
    let (t, _src, out) = roundtrip("genisoimage.iso");
    let tree = t.path().join("ws/iso");
    // genisoimage wants to patch isolinux.bin in place and rewrites boot.cat.
    let reference = t.path().join("ref.iso");
    genisoimage(&tree, &reference, "XCP-ng 8.3.0", true);
    let o = run(Command::new("isohybrid").arg("--uefi").arg(&reference));
    assert!(
        o.status.success(),
        "isohybrid: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let ours = hybrid_shape(&out);
    let theirs = hybrid_shape(&reference);
    assert_eq!(
        ours, theirs,
        "hybrid tables differ (left xiso, right isohybrid --uefi)"
    );
}

#[test]
fn packs_are_reproducible() {
    let (t, _src, out) = roundtrip("genisoimage.iso");
    let again = t.path().join("again.iso");
    pack(&t.path().join("ws"), &again, &[]);
    assert_eq!(
        sha256(&out),
        sha256(&again),
        "two packs with SOURCE_DATE_EPOCH differ"
    );
    let other = t.path().join("other.iso");
    pack(&t.path().join("ws"), &other, &["--date", "1800000000"]);
    assert_ne!(sha256(&out), sha256(&other), "--date must change the bytes");
}

/// An edited file is taken from the workspace; a new 200 MB file moves the boot
/// images to new LBAs and the boot records follow them.
#[test]
fn edits_and_moved_boot_images() {
    let src = fixture("genisoimage.iso");
    let t = tempfile::tempdir().unwrap();
    let ws = t.path().join("ws");
    unpack(&src, &ws);
    fs::write(ws.join("iso/EULA"), b"edited EULA\n").unwrap();
    let big = fs::File::create(ws.join("iso/0000-filler.bin")).unwrap();
    big.set_len(200 << 20).unwrap();
    let out = t.path().join("out.iso");
    pack(&ws, &out, &[]);
    let o = run(xiso().arg("cat").arg(&out).arg("/EULA"));
    assert_eq!(o.stdout, b"edited EULA\n");
    let a = XorrisoReport::of(&src);
    let b = XorrisoReport::of(&out);
    let moved = a
        .boot_images
        .iter()
        .zip(&b.boot_images)
        .all(|(x, y)| x.lba != y.lba);
    assert!(
        moved,
        "boot images did not move: {:?} vs {:?}",
        a.boot_images, b.boot_images
    );
    let img = xiso::iso::IsoImage::open(&out).unwrap();
    let report = xiso::inspect::inspect(&img).unwrap();
    let bios = &report.el_torito.as_ref().unwrap().entries[0];
    assert!(
        bios.boot_info_table.as_ref().unwrap().is_valid(),
        "boot info table not rewritten: {:?}",
        bios.boot_info_table
    );
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
}

/// A sparse 4.5 GiB file round-trips (multi-extent), size and content hash equal.
#[test]
fn sparse_file_over_4gib_round_trips() {
    let src = fixture("genisoimage.iso");
    let t = tempfile::tempdir().unwrap();
    let ws = t.path().join("ws");
    unpack(&src, &ws);
    let huge = ws.join("iso/huge.bin");
    let f = fs::File::create(&huge).unwrap();
    let size: u64 = 4_831_838_208; // 4.5 GiB
    f.set_len(size).unwrap();
    use std::os::unix::fs::FileExt;
    f.write_all_at(b"start", 0).unwrap();
    f.write_all_at(b"middle", 1 << 32).unwrap();
    f.write_all_at(b"end", size - 3).unwrap();
    drop(f);
    let want = sha256(&huge);
    let out = t.path().join("out.iso");
    pack(&ws, &out, &[]);
    let img = xiso::iso::IsoImage::open(&out).unwrap();
    let e = img.lookup("/huge.bin").unwrap();
    assert_eq!(e.size, size);
    assert!(
        e.extents.len() >= 2,
        "a file over 4 GiB needs several extents"
    );
    let l = run(Command::new("sh")
        .arg("-c")
        .arg(format!("bsdtar -tvf '{}' huge.bin", out.display())));
    assert!(
        String::from_utf8_lossy(&l.stdout).contains(&size.to_string()),
        "bsdtar size: {}",
        String::from_utf8_lossy(&l.stdout)
    );
    let got = run(Command::new("sh").arg("-c").arg(format!(
        "'{}' cat '{}' /huge.bin | sha256sum",
        env!("CARGO_BIN_EXE_xiso"),
        out.display()
    )));
    assert_eq!(
        String::from_utf8_lossy(&got.stdout)
            .split_whitespace()
            .next(),
        Some(want.as_str())
    );
}

/// A file streamed from the source ISO (`remaster`, the kernel's copy_file_range)
/// keeps the source's holes: the output stays sparse and reads the same.
#[test]
fn streamed_extents_keep_the_source_holes() {
    use std::os::unix::fs::{FileExt, MetadataExt};
    let t = tempfile::tempdir().unwrap();
    let ws = t.path().join("ws");
    unpack(&fixture("genisoimage.iso"), &ws);
    let big = ws.join("iso/sparse.bin");
    let f = fs::File::create(&big).unwrap();
    let size: u64 = 256 << 20;
    f.set_len(size).unwrap();
    f.write_all_at(b"start", 0).unwrap();
    f.write_all_at(b"middle", 100 << 20).unwrap();
    f.write_all_at(b"end", size - 3).unwrap();
    drop(f);
    let want = sha256(&big);
    let a = t.path().join("a.iso");
    pack(&ws, &a, &[]);
    let b = t.path().join("b.iso");
    let c = t.path().join("c.iso");
    for (out, extra) in [(&b, None), (&c, Some("--fsync"))] {
        let o = run(xiso()
            .arg("remaster")
            .arg(&a)
            .arg(out)
            .args(["--volid", "STREAMED", "--date", "1700000000", "-q"])
            .args(extra));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert!(
        fs::read(&b).unwrap() == fs::read(&c).unwrap(),
        "--fsync changed the output's bytes"
    );
    for iso in [&a, &b, &c] {
        let allocated = fs::metadata(iso).unwrap().blocks() * 512;
        assert!(
            allocated < 64 << 20,
            "{} is not sparse: {allocated} bytes allocated for a 256 MiB hole",
            iso.display()
        );
    }
    let got = run(Command::new("sh").arg("-c").arg(format!(
        "'{}' cat '{}' /sparse.bin | sha256sum",
        env!("CARGO_BIN_EXE_xiso"),
        b.display()
    )));
    assert_eq!(
        String::from_utf8_lossy(&got.stdout)
            .split_whitespace()
            .next(),
        Some(want.as_str())
    );
}

#[test]
fn failures_leave_no_output() {
    let src = fixture("genisoimage.iso");
    let t = tempfile::tempdir().unwrap();
    let ws = t.path().join("ws");
    unpack(&src, &ws);
    // The BIOS boot image named by the catalog is gone.
    fs::remove_file(ws.join("iso/boot/isolinux/isolinux.bin")).unwrap();
    let out = t.path().join("out.iso");
    let o = run(xiso().arg("pack").arg(&ws).arg(&out));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("isolinux.bin"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!out.exists());
    // Not a workspace at all.
    let o = run(xiso().arg("pack").arg(t.path()).arg(&out));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("manifest"));
    assert!(!out.exists());
    assert_no_temp_files(t.path());
}

/// A source that was neither hybrid nor UEFI-bootable becomes both with
/// `--mbr-template` and `--uefi` (boot/efiboot.img present in the tree).
#[test]
fn mbr_template_and_uefi_make_a_plain_iso_hybrid() {
    require_tool("genisoimage");
    require_tool("mkfs.fat");
    let t = tempfile::tempdir().unwrap();
    let src = small_iso(t.path());
    let ws = t.path().join("ws");
    unpack(&src, &ws);
    let efi = ws.join("iso/boot/efiboot.img");
    let o = run(Command::new("mkfs.fat").arg("-C").arg(&efi).arg("1440"));
    assert!(
        o.status.success(),
        "mkfs.fat: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Without a template a plain source stays plain.
    let plain = t.path().join("plain.iso");
    pack(&ws, &plain, &[]);
    assert!(read_system_area(&Source::open(&plain).unwrap())
        .unwrap()
        .mbr
        .is_none());
    let out = t.path().join("hybrid.iso");
    pack(
        &ws,
        &out,
        &["--uefi", "--mbr-template", "/usr/lib/ISOLINUX/isohdpfx.bin"],
    );
    let x = XorrisoReport::of(&out);
    let platforms: Vec<&str> = x.boot_images.iter().map(|b| b.platform.as_str()).collect();
    assert_eq!(platforms, ["BIOS", "UEFI"]);
    assert_eq!(x.boot_images[1].path.as_deref(), Some("/boot/efiboot.img"));
    assert!(x.gpt_present);
    assert_eq!(
        x.system_area_summary
            .as_deref()
            .map(|s| s.contains("isohybrid")),
        Some(true)
    );
    let template = fs::read("/usr/lib/ISOLINUX/isohdpfx.bin").unwrap();
    assert_eq!(
        &fs::read(&out).unwrap()[..432],
        &template[..432],
        "boot code must come from the template"
    );
    let types: Vec<u8> = x.mbr_partitions.iter().map(|p| p.partition_type).collect();
    assert_eq!(types, [0x00, 0xEF]);
}
