//! The writer's output read back by independent tools: isoinfo, bsdtar,
//! xorriso, 7z, and compared with genisoimage for the boot info table.

mod write_common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use write_common::*;
use xiso::iso::write::{BootEntrySpec, BootSpec, Layout, WriteOptions, WriteReport};

/// What a reader should report for one path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    Dir,
    File { size: u64, mode: u32 },
    Link(String),
}

fn expected(root: &Path) -> BTreeMap<String, Expect> {
    fn walk(dir: &Path, prefix: &str, out: &mut BTreeMap<String, Expect>) {
        for e in fs::read_dir(dir).expect("read_dir") {
            let e = e.expect("entry");
            let name = e.file_name().into_string().expect("UTF-8");
            let path = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let m = fs::symlink_metadata(e.path()).expect("lstat");
            if m.file_type().is_symlink() {
                let t = fs::read_link(e.path()).expect("readlink");
                out.insert(path, Expect::Link(t.to_string_lossy().into_owned()));
            } else if m.is_dir() {
                out.insert(path.clone(), Expect::Dir);
                walk(&e.path(), &path, out);
            } else {
                out.insert(
                    path,
                    Expect::File {
                        size: m.len(),
                        mode: m.mode() & 0o7777,
                    },
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, "", &mut out);
    // The old catalog is replaced by the new one (one sector).
    out.insert(
        "boot/isolinux/boot.cat".into(),
        Expect::File {
            size: 2048,
            mode: 0o444,
        },
    );
    out
}

fn options() -> WriteOptions {
    let mut opts = WriteOptions::new("XISO_TEST", T);
    opts.ids.application_id = "XISO".into();
    opts.boot = Some(BootSpec {
        catalog_path: "boot/isolinux/boot.cat".into(),
        entries: vec![
            BootEntrySpec::bios_no_emulation("boot/isolinux/isolinux.bin", 4, true),
            BootEntrySpec::efi("boot/efiboot.img"),
        ],
    });
    opts
}

struct Built {
    _dir: tempfile::TempDir,
    tree_root: std::path::PathBuf,
    iso: std::path::PathBuf,
    report: WriteReport,
}

fn build() -> Built {
    let dir = tempfile::tempdir().expect("tempdir");
    let tree_root = dir.path().join("tree");
    make_fixture(&tree_root);
    let tree = tree_from_dir(&tree_root);
    let opts = options();
    let layout = Layout::new(&tree, &opts).expect("layout");
    let iso = dir.path().join("out.iso");
    let mut f = fs::File::create(&iso).expect("create");
    layout.write_file(None, &[], &[], &mut f).expect("write");
    let report = layout.report().clone();
    Built {
        _dir: dir,
        tree_root,
        iso,
        report,
    }
}

fn mode_string(e: &Expect, perm: u32) -> String {
    let t = match e {
        Expect::Dir => 'd',
        Expect::File { .. } => '-',
        Expect::Link(_) => 'l',
    };
    let mut s = String::from(t);
    for shift in [6, 3, 0] {
        let b = (perm >> shift) & 7;
        s.push(if b & 4 != 0 { 'r' } else { '-' });
        s.push(if b & 2 != 0 { 'w' } else { '-' });
        s.push(if b & 1 != 0 { 'x' } else { '-' });
    }
    s
}

/// The rest of `line` after `n` whitespace-separated fields.
fn after_fields(line: &str, n: usize) -> &str {
    let mut rest = line;
    for _ in 0..n {
        rest = rest.trim_start();
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        rest = &rest[end..];
    }
    rest.trim_start()
}

#[test]
fn isoinfo_reads_volume_rock_ridge_and_joliet() {
    let b = build();
    let iso = b.iso.to_str().expect("UTF-8");
    let d = run("isoinfo", &["-d", "-i", iso]);
    assert!(d.contains("Volume id: XISO_TEST"), "{d}");
    assert!(
        d.contains(&format!("Volume size is: {}", b.report.volume_sectors)),
        "{d}"
    );
    assert!(d.contains("Logical block size is: 2048"), "{d}");
    assert!(d.contains("Joliet with UCS level 3 found"), "{d}");
    assert!(d.contains("Rock Ridge signatures version 1 found"), "{d}");
    assert!(
        d.contains(&format!(
            "boot catalog is in sector {}",
            b.report.catalog_lba.expect("catalog")
        )),
        "{d}"
    );
    // isovfy (cdrkit) checks directory records and path tables.
    let v = run("isovfy", &["-i", iso]);
    assert!(v.contains("No errors found"), "{v}");
    assert_eq!(
        fs::metadata(&b.iso).expect("stat").len(),
        u64::from(b.report.volume_sectors) * 2048
    );

    // Rock Ridge listing: every real name, modes and symlink targets.
    let rr = run("isoinfo", &["-R", "-l", "-i", iso]);
    let mut seen = BTreeMap::new();
    let mut cur = String::new();
    for line in rr.lines() {
        if let Some(d) = line.strip_prefix("Directory listing of /") {
            cur = d.trim_end_matches('/').to_string();
            continue;
        }
        let Some((meta, name)) = line.split_once("]  ") else {
            continue;
        };
        let name = name.trim_end();
        if name == "." || name == ".." {
            continue;
        }
        let (name, target) = match name.split_once(" -> ") {
            Some((n, t)) => (n, Some(t.to_string())),
            None => (name, None),
        };
        let path = if cur.is_empty() {
            name.to_string()
        } else {
            format!("{cur}/{name}")
        };
        seen.insert(
            path,
            (
                meta.split_whitespace().next().unwrap_or("").to_string(),
                target,
            ),
        );
    }
    for (path, e) in expected(&b.tree_root) {
        let (mode, target) = seen
            .get(&path)
            .unwrap_or_else(|| panic!("isoinfo -R -l misses {path}\n{rr}"));
        match &e {
            Expect::File { mode: m, .. } => assert_eq!(mode, &mode_string(&e, *m), "{path}"),
            Expect::Link(t) => {
                assert!(mode.starts_with('l'), "{path}: {mode}");
                assert_eq!(target.as_deref(), Some(t.as_str()), "{path}");
            }
            Expect::Dir => assert!(mode.starts_with('d'), "{path}: {mode}"),
        }
    }
    assert_eq!(
        seen.keys().filter(|k| k.ends_with("boot.cat")).count(),
        1,
        "the old catalog must be replaced, not duplicated"
    );

    // Joliet listing: names up to 103 UCS-2 characters.
    // isoinfo has no UTF-8 output: ask for Latin-1 and decode it.
    let j: String = run_bytes("isoinfo", &["-J", "-j", "iso8859-1", "-l", "-i", iso])
        .into_iter()
        .map(char::from)
        .collect();
    assert!(
        j.contains(&name100()),
        "100-character Joliet name missing:\n{j}"
    );
    assert!(j.contains("ünïcødé name.txt"), "{j}");
    let n200 = name200();
    let truncated = format!("{}.dat", &n200[..103 - 4]);
    assert!(
        j.contains(&truncated),
        "Joliet name not truncated to 103 chars:\n{j}"
    );
    assert!(j.contains("level12"), "{j}");
}

#[test]
fn bsdtar_lists_and_extracts_everything() {
    let b = build();
    let iso = b.iso.to_str().expect("UTF-8");
    let list = run("bsdtar", &["-tvf", iso]);
    let mut seen: BTreeMap<String, (String, u64, Option<String>)> = BTreeMap::new();
    for line in list.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 9 {
            continue;
        }
        let size: u64 = f[4].parse().expect("size field");
        let name = after_fields(line, 8);
        let (name, target) = match name.split_once(" -> ") {
            Some((n, t)) => (n.to_string(), Some(t.to_string())),
            None => (name.to_string(), None),
        };
        seen.insert(name, (f[0].to_string(), size, target));
    }
    let exp = expected(&b.tree_root);
    for (path, e) in &exp {
        let (mode, size, target) = seen
            .get(path)
            .unwrap_or_else(|| panic!("bsdtar misses {path}\n{list}"));
        match e {
            Expect::File { size: s, mode: m } => {
                assert_eq!(mode, &mode_string(e, *m), "{path}");
                assert_eq!(size, s, "{path}");
            }
            Expect::Link(t) => {
                assert!(mode.starts_with('l'), "{path}");
                assert_eq!(target.as_deref(), Some(t.as_str()), "{path}");
            }
            Expect::Dir => assert!(mode.starts_with('d'), "{path}"),
        }
    }
    assert_eq!(
        seen.len(),
        exp.len() + 1,
        "unexpected extra entries:\n{list}"
    ); // + "."
    for (path, e) in &exp {
        if let Expect::File { .. } = e {
            if path.starts_with("boot/") {
                continue; // catalog is new; isolinux.bin is patched
            }
            let got = run_bytes("bsdtar", &["-xOf", iso, path]);
            let want = fs::read(b.tree_root.join(path)).expect("read fixture");
            assert!(got == want, "content of {path} differs");
        }
    }
    let efi = run_bytes("bsdtar", &["-xOf", iso, "boot/efiboot.img"]);
    assert!(efi == fs::read(b.tree_root.join("boot/efiboot.img")).expect("read"));
}

#[test]
fn xorriso_and_7z_agree() {
    let b = build();
    let iso = b.iso.to_str().expect("UTF-8");
    let lsdl = run("xorriso", &["-indev", iso, "-find", "/", "-exec", "lsdl"]);
    let mut seen = BTreeMap::new();
    for line in lsdl.lines() {
        let Some(start) = line.find(" '/") else {
            continue;
        };
        let f: Vec<&str> = line.split_whitespace().collect();
        let rest = &line[start + 1..];
        let (name, target) = match rest.split_once(" -> ") {
            Some((n, t)) => (n, Some(t.trim_matches('\'').to_string())),
            None => (rest, None),
        };
        let name = name.trim_matches('\'').trim_start_matches('/').to_string();
        seen.insert(
            name,
            (f[0].to_string(), f[4].parse::<u64>().unwrap_or(0), target),
        );
    }
    for (path, e) in expected(&b.tree_root) {
        let (mode, size, target) = seen
            .get(&path)
            .unwrap_or_else(|| panic!("xorriso misses {path}\n{lsdl}"));
        match &e {
            Expect::File { size: s, mode: m } => {
                // xorriso shows the El Torito catalog with type 'e'.
                let want = mode_string(&e, *m);
                let want = if path.ends_with("boot.cat") {
                    want.replacen('-', "e", 1)
                } else {
                    want
                };
                assert_eq!(mode, &want, "{path}");
                assert_eq!(size, s, "{path}");
            }
            Expect::Link(t) => assert_eq!(target.as_deref(), Some(t.as_str()), "{path}"),
            Expect::Dir => assert!(mode.starts_with('d'), "{path}"),
        }
    }

    // Every block readable, every file testable.
    let cm = run("xorriso", &["-indev", iso, "-check_media", "--"]);
    assert!(cm.contains("+ good"), "{cm}");
    let t = run("7z", &["t", iso]);
    assert!(t.contains("Everything is Ok"), "{t}");

    // 7-Zip reads the Joliet hierarchy.
    let z = run("7z", &["l", "-slt", iso]);
    let mut paths = BTreeMap::new();
    let mut cur: Option<String> = None;
    for line in z.lines() {
        if let Some(p) = line.strip_prefix("Path = ") {
            cur = Some(p.to_string());
        } else if let (Some(s), Some(p)) = (line.strip_prefix("Size = "), cur.as_ref()) {
            paths.insert(p.clone(), s.parse::<u64>().unwrap_or(0));
        }
    }
    assert_eq!(paths.get("readme.txt"), Some(&11), "{z}");
    assert_eq!(paths.get(&name100()), Some(&12), "{z}");
    assert_eq!(
        paths.get("ünïcødé name.txt"),
        Some(&"ünïcødé\n".len().try_into().unwrap())
    );
    let deep: String = (1..=12).map(|i| format!("level{i}/")).collect();
    assert_eq!(paths.get(&format!("{deep}deep.txt")), Some(&10), "{z}");
    assert_eq!(paths.get("many/file-149.rpm"), Some(&4), "{z}");
}

#[test]
fn el_torito_entries_and_boot_info_table_match_genisoimage() {
    let b = build();
    let iso = b.iso.to_str().expect("UTF-8");
    let rep = run("xorriso", &["-indev", iso, "-report_el_torito", "plain"]);
    let bios = &b.report.boot_entries[0];
    let efi = &b.report.boot_entries[1];
    let cat = b.report.catalog_lba.expect("catalog");
    assert!(
        rep.contains(&format!("El Torito catalog  : {cat}  1")),
        "{rep}"
    );
    assert!(
        rep.contains("El Torito cat path : /boot/isolinux/boot.cat"),
        "{rep}"
    );
    let bios_line = format!(
        "El Torito boot img :   1  BIOS  y   none  0x0000  0x00      4{:>12}",
        bios.entry.load_lba
    );
    assert!(rep.contains(&bios_line), "want {bios_line:?} in\n{rep}");
    let efi_line = format!(
        "El Torito boot img :   2  UEFI  y   none  0x0000  0x00   2880{:>12}",
        efi.entry.load_lba
    );
    assert!(rep.contains(&efi_line), "want {efi_line:?} in\n{rep}");
    assert!(
        rep.contains("El Torito img path :   1  /boot/isolinux/isolinux.bin"),
        "{rep}"
    );
    assert!(
        rep.contains("El Torito img opts :   1  boot-info-table"),
        "{rep}"
    );
    assert!(
        rep.contains("El Torito img path :   2  /boot/efiboot.img"),
        "{rep}"
    );

    // genisoimage on the same tree: the boot info tables agree except for
    // the boot file's own LBA.
    let g = b._dir.path().join("g.iso");
    fs::remove_file(b.tree_root.join("boot/isolinux/boot.cat")).expect("rm old catalog");
    run(
        "genisoimage",
        &[
            "-quiet",
            "-r",
            "-J",
            "--joliet-long",
            "-V",
            "XISO_TEST",
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
            g.to_str().expect("UTF-8"),
            b.tree_root.to_str().expect("UTF-8"),
        ],
    );
    let grep = run(
        "xorriso",
        &[
            "-indev",
            g.to_str().expect("UTF-8"),
            "-report_el_torito",
            "plain",
        ],
    );
    let g_lba: u32 = grep
        .lines()
        .find(|l| l.starts_with("El Torito boot img :   1"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|s| s.parse().ok())
        .expect("genisoimage BIOS entry");
    let ours = fs::read(&b.iso).expect("read ours");
    let theirs = fs::read(&g).expect("read genisoimage's");
    let o = bios.entry.load_lba as usize * 2048;
    let t = g_lba as usize * 2048;
    let len = bios.size as usize;
    assert_eq!(&ours[o + 8..o + 12], &16u32.to_le_bytes());
    assert_eq!(&ours[o + 12..o + 16], &bios.entry.load_lba.to_le_bytes());
    assert_eq!(&theirs[t + 12..t + 16], &g_lba.to_le_bytes());
    assert_eq!(&ours[o + 8..o + 12], &theirs[t + 8..t + 12], "PVD LBA");
    assert_eq!(
        &ours[o + 16..o + 64],
        &theirs[t + 16..t + 64],
        "length, checksum, reserved"
    );
    assert_eq!(&ours[o..o + 8], &theirs[t..t + 8]);
    assert_eq!(&ours[o + 64..o + len], &theirs[t + 64..t + len]);
    // The catalog itself: same bytes as genisoimage's with our LBAs.
    let gc: u32 = grep
        .lines()
        .find(|l| l.starts_with("El Torito catalog  :"))
        .and_then(|l| l.split_whitespace().nth(4))
        .and_then(|s| s.parse().ok())
        .expect("genisoimage catalog");
    let mut theirs_cat = theirs[gc as usize * 2048..gc as usize * 2048 + 2048].to_vec();
    theirs_cat[40..44].copy_from_slice(&bios.entry.load_lba.to_le_bytes());
    theirs_cat[104..108].copy_from_slice(&efi.entry.load_lba.to_le_bytes());
    assert_eq!(
        &ours[cat as usize * 2048..cat as usize * 2048 + 2048],
        &theirs_cat[..]
    );
}

#[test]
fn modes_survive_in_rock_ridge() {
    // 0600 and 0755 files and a 0750 directory keep their permission bits.
    let b = build();
    let iso = b.iso.to_str().expect("UTF-8");
    let list = run("bsdtar", &["-tvf", iso]);
    let line = |p: &str| {
        list.lines()
            .find(|l| after_fields(l, 8) == p)
            .unwrap_or_else(|| panic!("{p} not listed"))
            .to_string()
    };
    assert!(line("secret.key").starts_with("-rw------- "));
    assert!(line("run.sh").starts_with("-rwxr-xr-x "));
    assert!(line("a").starts_with("drwxr-x--- "));
}
