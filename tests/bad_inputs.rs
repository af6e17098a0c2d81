//! The bad-input corpus (issue 9): malformed inputs made here from small valid
//! ones, each run through the commands that read it. The contract for every case:
//! exit 2 (`verify`: 2 when the image cannot be read, 1 for findings in an image it
//! could read), ONE line on stderr naming the file (and the byte offset where the
//! damage has one), no output file or directory, and the input's sha256 unchanged.
//!
//! Damaged images of other shapes are in `bad_input.rs`; cpio traversal names and
//! the bzip2 bomb in `installer.rs`; verify findings in `verify.rs`.

mod common;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

/// What one command must do with a case.
struct Expect {
    args: Vec<String>,
    code: i32,
    /// Text the error (or, for verify findings, the report) must contain.
    says: String,
    /// The error must give a byte offset.
    offset: bool,
    /// Output paths that must not exist afterwards.
    outputs: Vec<PathBuf>,
}

fn stderr_of(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Run every expectation of case `name` on `input`; returns the failures.
fn check_case(name: &str, input: &Path, expects: &[Expect]) -> Vec<String> {
    let before = sha256(input);
    let mut failures = Vec::new();
    for ex in expects {
        let o = run(xiso().args(&ex.args));
        let err = stderr_of(&o);
        let out = String::from_utf8_lossy(&o.stdout);
        let cmd = ex.args.first().cloned().unwrap_or_default();
        let mut fail = |m: String| failures.push(format!("{name} / {cmd}: {m}"));
        if o.status.code() != Some(ex.code) {
            fail(format!(
                "exit {:?}, want {}; stderr: {err}; stdout: {}",
                o.status.code(),
                ex.code,
                out.chars().take(400).collect::<String>()
            ));
            continue;
        }
        if ex.code == 2 {
            if err.trim_end().lines().count() != 1 {
                fail(format!("error is not one line: {err}"));
            }
            if !err.contains(&input.display().to_string()) {
                fail(format!("error does not name {}: {err}", input.display()));
            }
            if ex.offset && !err.contains("offset") {
                fail(format!("error gives no offset: {err}"));
            }
            if !err.contains(&ex.says) {
                fail(format!("error does not say {:?}: {err}", ex.says));
            }
        } else if !out.contains(&ex.says) {
            fail(format!("report does not say {:?}: {out}", ex.says));
        }
        for p in &ex.outputs {
            if p.exists() {
                fail(format!("{} was created", p.display()));
            }
        }
        if let Some(dir) = input.parent() {
            let temps: Vec<_> = fs::read_dir(dir)
                .unwrap()
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().contains("xiso-tmp"))
                .collect();
            if !temps.is_empty() {
                fail(format!("temporary files left: {temps:?}"));
            }
        }
    }
    if sha256(input) != before {
        failures.push(format!("{name}: the input changed"));
    }
    failures
}

fn report(failures: Vec<String>, cases: usize) {
    assert!(
        failures.is_empty(),
        "{} of the checks of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn patch(path: &Path, offset: u64, bytes: &[u8]) {
    use std::os::unix::fs::FileExt;
    let f = fs::OpenOptions::new().write(true).open(path).unwrap();
    f.write_all_at(bytes, offset).unwrap();
}

fn truncate(path: &Path, len: u64) {
    fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len)
        .unwrap();
}

fn both_endian(v: u32) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[..4].copy_from_slice(&v.to_le_bytes());
    b[4..].copy_from_slice(&v.to_be_bytes());
    b
}

/// Addresses in the pristine small ISO, read with the library.
struct Geometry {
    root_lba: u32,
    path_table_l: u32,
    catalog_lba: u32,
    boot_record_lba: u32,
    /// Directory records (byte offsets) by path.
    rec: std::collections::HashMap<String, u64>,
    /// First extent LBA by path.
    lba: std::collections::HashMap<String, u32>,
}

fn geometry(iso: &Path) -> Geometry {
    let img = xiso::iso::IsoImage::open(iso).unwrap();
    let d = img.descriptors();
    let mut rec = std::collections::HashMap::new();
    let mut lba = std::collections::HashMap::new();
    for e in img.walk().unwrap() {
        rec.insert(e.path.clone(), e.record_offset);
        if let Some(x) = e.extents.first() {
            lba.insert(e.path.clone(), x.lba);
        }
    }
    Geometry {
        root_lba: d.primary.root_lba,
        path_table_l: d.primary.path_table_l,
        catalog_lba: d.boot_catalog_lba.expect("small ISO has El Torito"),
        boot_record_lba: d.boot_record_lba.expect("small ISO has a boot record"),
        rec,
        lba,
    }
}

/// Damage done to a copy of the small ISO.
type Damage = Box<dyn Fn(&Path, &Geometry)>;

/// A damage to the small ISO, and what verify says about it when it can read the image.
struct IsoCase {
    name: &'static str,
    damage: Damage,
    /// Text the error must contain.
    says: &'static str,
    /// `Some(text)`: damage to the boot catalog. The tree is readable, so verify
    /// exits 1 with a finding holding `text` and `ls` (which reads only the tree) is
    /// not asked; inspect and unpack, which replay the boot setup, refuse it.
    verify_finding: Option<&'static str>,
}

fn catalog_case(
    name: &'static str,
    says: &'static str,
    damage: impl Fn(&Path, &Geometry) + 'static,
) -> IsoCase {
    IsoCase {
        name,
        damage: Box::new(damage),
        says,
        verify_finding: Some("error[eltorito.catalog]"),
    }
}

fn iso_case(
    name: &'static str,
    says: &'static str,
    damage: impl Fn(&Path, &Geometry) + 'static,
) -> IsoCase {
    IsoCase {
        name,
        damage: Box::new(damage),
        says,
        verify_finding: None,
    }
}

const S: u64 = 2048;

/// ISO structure damage: truncations at every structure boundary, wrong magics,
/// lengths past the end of the file, self-referencing directories, huge sizes.
/// Each through `inspect`, `verify`, `unpack` and `ls`.
#[test]
fn damaged_isos_are_refused() {
    let t = tmpdir("bad-iso");
    let pristine = small_iso(t.path());
    let g = geometry(&pristine);
    let cases: Vec<IsoCase> = vec![
        // Truncated at each structure boundary.
        iso_case("truncated in the system area", "too small", |p, _| {
            truncate(p, 8 * S)
        }),
        iso_case("truncated after the system area", "truncated", |p, _| {
            truncate(p, 16 * S)
        }),
        iso_case("truncated inside the PVD", "truncated", |p, _| {
            truncate(p, 16 * S + 190)
        }),
        iso_case(
            "truncated before the boot record",
            "truncated",
            move |p, g| truncate(p, u64::from(g.boot_record_lba) * S),
        ),
        iso_case(
            "truncated inside the L path table",
            "truncated",
            move |p, g| truncate(p, u64::from(g.path_table_l) * S + 10),
        ),
        iso_case(
            "truncated at the root directory",
            "truncated",
            move |p, g| truncate(p, u64::from(g.root_lba) * S),
        ),
        iso_case(
            "truncated inside the El Torito catalog",
            "truncated",
            move |p, g| truncate(p, u64::from(g.catalog_lba) * S + 40),
        ),
        // Wrong magics.
        iso_case("Joliet descriptor magic", "CD001", |p, _| {
            patch(p, 18 * S + 1, b"CD00X")
        }),
        iso_case("terminator magic", "CD001", |p, _| {
            // The terminator follows the Joliet descriptor (genisoimage: PVD, boot, SVD, term).
            patch(p, 19 * S + 1, b"XX001")
        }),
        catalog_case(
            "El Torito validation header id",
            "validation",
            move |p, g| patch(p, u64::from(g.catalog_lba) * S, &[0x02]),
        ),
        catalog_case(
            "El Torito validation key bytes",
            "validation",
            move |p, g| patch(p, u64::from(g.catalog_lba) * S + 30, &[0x54, 0xAA]),
        ),
        catalog_case("El Torito validation checksum", "checksum", move |p, g| {
            patch(p, u64::from(g.catalog_lba) * S + 28, &[0x12, 0x34])
        }),
        iso_case("logical block size 512", "block size", |p, _| {
            patch(p, 16 * S + 128, &[0x00, 0x02, 0x02, 0x00])
        }),
        // Lengths past the end of the file.
        iso_case("volume space size past EOF", "truncated", |p, _| {
            patch(p, 16 * S + 80, &both_endian(0x00ff_ffff))
        }),
        catalog_case("boot catalog past EOF", "past the end", move |p, g| {
            patch(
                p,
                u64::from(g.boot_record_lba) * S + 71,
                &0x00f0_0000u32.to_le_bytes(),
            )
        }),
        iso_case("root directory past EOF", "past the end", |p, _| {
            patch(p, 16 * S + 156 + 2, &both_endian(0x00f0_0000))
        }),
        iso_case("file size past EOF", "past the end", move |p, g| {
            patch(
                p,
                g.rec["/docs/deep/er/file.txt"] + 10,
                &both_endian(0x7fff_0000),
            )
        }),
        iso_case(
            "file name length past the record",
            "identifier length",
            move |p, g| patch(p, g.rec["/docs/deep/er/file.txt"] + 32, &[200]),
        ),
        // Self-referencing directories.
        // /docs/deep lists a subdirectory that is /docs/deep itself.
        iso_case("directory listing itself", "directory loop", move |p, g| {
            let own = g.lba["/docs/deep"];
            patch(p, g.rec["/docs/deep/er"] + 2, &both_endian(own))
        }),
        // /docs/deep/er is /docs, the parent of the directory holding it.
        iso_case(
            "directory pointing at its parent",
            "directory loop",
            move |p, g| {
                let parent = g.lba["/docs"];
                patch(p, g.rec["/docs/deep/er"] + 2, &both_endian(parent))
            },
        ),
        // Huge claimed sizes.
        iso_case(
            "directory of 4 GiB",
            "past the end of the file",
            move |p, g| patch(p, g.rec["/docs"] + 10, &both_endian(0xffff_f800)),
        ),
        iso_case(
            "root directory of 4 GiB",
            "past the end of the file",
            |p, _| patch(p, 16 * S + 156 + 10, &both_endian(0xffff_f800)),
        ),
    ];
    let n = cases.len();
    let mut failures = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let iso = t.path().join(format!("case{i:02}.iso"));
        fs::copy(&pristine, &iso).unwrap();
        (c.damage)(&iso, &g);
        let ws = t.path().join(format!("case{i:02}.ws"));
        let mut unpack = expect(
            &["unpack"],
            &iso,
            2,
            c.says,
            true,
            std::slice::from_ref(&ws),
        );
        unpack.args.push(ws.display().to_string());
        let mut ex = vec![expect(&["inspect"], &iso, 2, c.says, true, &[]), unpack];
        ex.push(match c.verify_finding {
            None => expect(&["verify"], &iso, 2, c.says, true, &[]),
            Some(f) => expect(&["verify"], &iso, 1, f, false, &[]),
        });
        if c.verify_finding.is_none() {
            ex.push(expect(&["ls"], &iso, 2, c.says, true, &[]));
        }
        failures.extend(check_case(c.name, &iso, &ex));
        let _ = fs::remove_file(&iso);
    }
    report(failures, n);
}

fn expect(
    cmd: &[&str],
    input: &Path,
    code: i32,
    says: &str,
    offset: bool,
    outputs: &[PathBuf],
) -> Expect {
    let mut args: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
    args.push(input.display().to_string());
    Expect {
        args,
        code,
        says: says.to_string(),
        offset,
        outputs: outputs.to_vec(),
    }
}

/// A small ISO whose install.img is `compressed` (already in its codec).
fn iso_with_install_img(dir: &Path, compressed: &[u8]) -> PathBuf {
    let tree = dir.join("tree");
    fs::create_dir_all(tree.join("boot/isolinux")).unwrap();
    fs::copy(
        "/usr/lib/ISOLINUX/isolinux.bin",
        tree.join("boot/isolinux/isolinux.bin"),
    )
    .expect("ORACLE MISSING: /usr/lib/ISOLINUX/isolinux.bin (package isolinux)");
    fs::write(tree.join("install.img"), compressed).unwrap();
    let iso = dir.join("in.iso");
    genisoimage(&tree, &iso, "BAD", false);
    fs::remove_dir_all(&tree).unwrap();
    iso
}

/// One newc entry (written by hand, independent of xiso's writer).
fn newc_entry(out: &mut Vec<u8>, name: &[u8], mode: u32, data: &[u8], ino: u32) {
    out.extend_from_slice(b"070701");
    for v in [
        ino,
        mode,
        0,
        0,
        1,
        0,
        data.len() as u32,
        0,
        0,
        0,
        0,
        name.len() as u32 + 1,
        0,
    ] {
        out.extend_from_slice(format!("{v:08X}").as_bytes());
    }
    out.extend_from_slice(name);
    out.push(0);
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
    out.extend_from_slice(data);
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

fn newc(entries: &[(&[u8], u32, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, (n, m, d)) in entries.iter().enumerate() {
        newc_entry(&mut out, n, *m, d, i as u32 + 1);
    }
    newc_entry(&mut out, b"TRAILER!!!", 0, b"", 0);
    out
}

/// Compress with a real tool (`gzip -9`, `zstd -19`, `xz`).
fn compress(tool: &str, data: &[u8]) -> Vec<u8> {
    require_tool(tool);
    let mut child = Command::new(tool)
        .arg("-c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = data.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "{tool} failed");
    out.stdout
}

/// install.img damage: decompression bombs in the codecs installer.rs does not
/// cover (gzip, zstd, xz) stopped by --max-installer-bytes, traversal names in
/// other codecs and spellings, a wrong cpio magic, a truncated stream, and a codec
/// xiso does not read.
#[test]
fn damaged_install_images_are_refused() {
    let t = tmpdir("bad-installer");
    let zeros = vec![0u8; 4 << 20];
    let bomb = newc(&[(b"zeros", 0o100644, &zeros)]);
    let good = compress(
        "gzip",
        &newc(&[(b"etc", 0o40755, b""), (b"etc/a", 0o100644, b"a\n")]),
    );
    let cases: Vec<(&str, Vec<u8>, &str, Vec<&str>)> = vec![
        (
            "gzip bomb",
            compress("gzip", &bomb),
            "expands beyond",
            vec!["--max-installer-bytes", "1000000"],
        ),
        (
            "zstd bomb",
            compress("zstd", &bomb),
            "expands beyond",
            vec!["--max-installer-bytes", "1000000"],
        ),
        (
            "xz bomb",
            compress("xz", &bomb),
            "expands beyond",
            vec!["--max-installer-bytes", "1000000"],
        ),
        (
            "traversal a/../../x (zstd)",
            compress(
                "zstd",
                &newc(&[(b"a", 0o40755, b""), (b"a/../../x", 0o100644, b"x")]),
            ),
            "unsafe entry",
            vec![],
        ),
        (
            "traversal ./../x (xz)",
            compress("xz", &newc(&[(b"./../x", 0o100644, b"x")])),
            "unsafe entry",
            vec![],
        ),
        (
            "absolute /etc/x (gzip)",
            compress("gzip", &newc(&[(b"/etc/x", 0o100644, b"x")])),
            "absolute path",
            vec![],
        ),
        (
            "wrong cpio magic (gzip)",
            compress("gzip", &{
                let mut c = newc(&[(b"a", 0o100644, b"a")]);
                c[..6].copy_from_slice(b"070709");
                c
            }),
            "magic",
            vec![],
        ),
        (
            "truncated gzip stream",
            good[..good.len() / 2].to_vec(),
            "install.img",
            vec![],
        ),
        (
            "lz4 codec",
            b"\x04\x22\x4d\x18\x64\x40\xa7garbage-after-the-frame".to_vec(),
            "lz4",
            vec![],
        ),
    ];
    let n = cases.len();
    let mut failures = Vec::new();
    for (i, (name, img, says, opts)) in cases.into_iter().enumerate() {
        let d = t.path().join(format!("case{i:02}"));
        fs::create_dir_all(&d).unwrap();
        let iso = iso_with_install_img(&d, &img);
        let ws = d.join("ws");
        let mut args: Vec<String> = vec!["unpack".into()];
        args.extend(opts.iter().map(|s| s.to_string()));
        args.push(iso.display().to_string());
        args.push(ws.display().to_string());
        let ex = Expect {
            args,
            code: 2,
            says: says.to_string(),
            offset: name != "lz4 codec",
            outputs: vec![ws.clone()],
        };
        failures.extend(check_case(name, &iso, &[ex]));
    }
    report(failures, n);
}

/// A workspace of the small ISO with a repository of one fixture RPM.
fn rpm_workspace(dir: &Path) -> PathBuf {
    let iso = small_iso(dir);
    let ws = dir.join("ws");
    ok_output(xiso().arg("unpack").arg(&iso).arg(&ws));
    ws
}

/// Every file under `dir` with its sha256, to show nothing changed.
fn snapshot(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut v: Vec<_> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().to_path_buf(), sha256(e.path())))
        .collect();
    v.sort();
    v
}

/// A valid RPM from the fixtures (the smallest of the tree's packages).
fn fixture_rpm() -> PathBuf {
    fixture("tree/Packages/Rimmer-1.0.2-2.x86_64.rpm")
}

/// Malformed RPMs for `add-rpm`, and a repomd.xml whose records point outside the
/// tree: exit 2, one line naming the package (or repomd.xml) and the offset, the
/// workspace unchanged.
#[test]
fn malformed_rpms_and_repodata_are_refused_by_add_rpm() {
    let t = tmpdir("bad-rpm");
    let ws = rpm_workspace(t.path());
    let good = fs::read(fixture_rpm()).unwrap();
    // Offsets: lead 96 bytes, then the signature header (magic 8E AD E8 01).
    let sig = 96usize;
    let mut cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty file", Vec::new(), "file ends inside the lead"),
        (
            "lead only",
            good[..96].to_vec(),
            "file ends inside the header",
        ),
        (
            "wrong lead magic",
            {
                let mut b = good.clone();
                b[0] = 0xEE;
                b
            },
            "magic",
        ),
        (
            "wrong header magic",
            {
                let mut b = good.clone();
                b[sig] = 0x8F;
                b
            },
            "magic",
        ),
        (
            "huge index count",
            {
                let mut b = good.clone();
                b[sig + 8..sig + 12].copy_from_slice(&0x7fff_ffffu32.to_be_bytes());
                b
            },
            "header",
        ),
        (
            "store past EOF",
            {
                let mut b = good.clone();
                b[sig + 12..sig + 16].copy_from_slice(&0x0100_0000u32.to_be_bytes());
                b
            },
            "file ends inside the header data store",
        ),
        (
            "truncated in the main header",
            good[..good.len().min(2000) / 2 + 400].to_vec(),
            "file ends inside the header",
        ),
    ];
    cases.push(("text file", b"this is not an rpm\n".to_vec(), "magic"));
    let before = snapshot(&ws);
    let n = cases.len() + 1;
    let mut failures = Vec::new();
    for (i, (name, bytes, says)) in cases.into_iter().enumerate() {
        let rpm = t.path().join(format!("case{i:02}-bad.rpm"));
        fs::write(&rpm, &bytes).unwrap();
        let ex = Expect {
            args: vec![
                "add-rpm".into(),
                "--no-deps-check".into(),
                ws.display().to_string(),
                rpm.display().to_string(),
            ],
            code: 2,
            says: says.to_string(),
            offset: true,
            outputs: vec![],
        };
        failures.extend(check_case(name, &rpm, &[ex]));
        if snapshot(&ws) != before {
            failures.push(format!("{name}: the workspace changed"));
        }
    }

    // repomd.xml naming a file outside the tree.
    let repodata = ws.join("iso/repodata");
    fs::create_dir_all(&repodata).unwrap();
    let repomd = repodata.join("repomd.xml");
    fs::write(
        &repomd,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<repomd xmlns=\"http://linux.duke.edu/metadata/repo\">\n  <revision>1</revision>\n  <data type=\"primary\">\n    <checksum type=\"sha256\">00</checksum>\n    <location href=\"../../../etc/passwd\"/>\n    <size>1</size>\n  </data>\n</repomd>\n",
    )
    .unwrap();
    let before = snapshot(&ws);
    let ex = Expect {
        args: vec![
            "add-rpm".into(),
            "--no-deps-check".into(),
            ws.display().to_string(),
            fixture_rpm().display().to_string(),
        ],
        code: 2,
        says: "leaves the repository root".into(),
        offset: true,
        outputs: vec![],
    };
    failures.extend(check_case(
        "repomd pointing outside the tree",
        &repomd,
        &[ex],
    ));
    if snapshot(&ws) != before {
        failures.push("repomd pointing outside the tree: the workspace changed".into());
    }
    report(failures, n);
}

/// Files named by El Torito or `.treeinfo` that are missing: `pack` of a workspace
/// refuses (exit 2, no output), `verify` of an image reports a finding (exit 1).
#[test]
fn missing_boot_and_treeinfo_files() {
    let t = tmpdir("bad-missing");
    let iso = small_iso(t.path());
    let ws = t.path().join("ws");
    ok_output(xiso().arg("unpack").arg(&iso).arg(&ws));
    let mut failures = Vec::new();

    // The El Torito boot image is gone from the workspace: pack names it.
    let boot = ws.join("iso/boot/isolinux/isolinux.bin");
    let saved = fs::read(&boot).unwrap();
    fs::remove_file(&boot).unwrap();
    let out = t.path().join("out.iso");
    let r = run(xiso().arg("pack").arg(&ws).arg(&out));
    let err = stderr_of(&r);
    if r.status.code() != Some(2)
        || err.trim_end().lines().count() != 1
        || !err.contains("boot/isolinux/isolinux.bin named by the El Torito catalog is missing")
        || out.exists()
    {
        failures.push(format!(
            "El Torito image missing from the workspace / pack: exit {:?}, stderr {err}, output exists: {}",
            r.status.code(),
            out.exists()
        ));
    }
    assert_no_temp_files(t.path());
    fs::write(&boot, saved).unwrap();

    // El Torito's BIOS entry points past the end of the image: verify finds it.
    let bad = t.path().join("eltorito-missing.iso");
    fs::copy(&iso, &bad).unwrap();
    let g = geometry(&bad);
    patch(
        &bad,
        u64::from(g.catalog_lba) * S + 32 + 8,
        &0x00f0_0000u32.to_le_bytes(),
    );
    let ws2 = t.path().join("ws2");
    let mut unpack = expect(
        &["unpack"],
        &bad,
        2,
        "the boot image is missing",
        true,
        std::slice::from_ref(&ws2),
    );
    unpack.args.push(ws2.display().to_string());
    failures.extend(check_case(
        "El Torito image past EOF",
        &bad,
        &[
            unpack,
            expect(&["verify"], &bad, 1, "outside the volume", false, &[]),
        ],
    ));

    // .treeinfo names a key file that is not on the media: verify finds it.
    let tree = t.path().join("tree");
    fs::write(
        tree.join(".treeinfo"),
        "[general]\nname = test\n[keys]\nkey1 = RPM-GPG-KEY-missing\n",
    )
    .unwrap();
    let keyless = t.path().join("keyless.iso");
    genisoimage(&tree, &keyless, "KEYLESS", false);
    failures.extend(check_case(
        ".treeinfo key missing",
        &keyless,
        &[expect(
            &["verify"],
            &keyless,
            1,
            "RPM-GPG-KEY-missing",
            false,
            &[],
        )],
    ));
    report(failures, 3);
}
