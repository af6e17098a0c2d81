//! install.img as an ordinary user: unpack into DIR/installer/, patch-installer,
//! rebuild or append at pack time. Oracles: `bunzip2`, GNU `cpio -tv`, `bsdtar`, and
//! Python's `bz2` module (one stream, nothing after it).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{assert_no_temp_files, fixture, genisoimage, require_tool, run, xiso};

fn tmpdir(tag: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("xiso-installer-{tag}-"))
        .tempdir()
        .unwrap()
}

fn ok(cmd: &mut Command) -> String {
    let o = run(cmd);
    assert!(
        o.status.success(),
        "{cmd:?} failed ({}):\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// install.img of an ISO, through bsdtar (independent of xiso's reader).
fn extract_image(iso: &Path, out: &Path) {
    require_tool("bsdtar");
    let o = run(Command::new("bsdtar")
        .arg("-xOf")
        .arg(iso)
        .arg("install.img"));
    assert!(
        o.status.success(),
        "bsdtar cannot read install.img from {}",
        iso.display()
    );
    fs::write(out, o.stdout).unwrap();
}

/// `bunzip2 < img | cpio -tv --numeric-uid-gid`, lines sorted by nothing (archive order).
fn cpio_listing(img: &Path) -> String {
    require_tool("bunzip2");
    require_tool("cpio");
    let sh = format!(
        "set -o pipefail; bunzip2 < '{}' | cpio -tv --numeric-uid-gid --quiet",
        img.display()
    );
    let o = run(Command::new("bash").arg("-c").arg(&sh));
    assert!(
        o.status.success(),
        "bunzip2 | cpio -tv failed on {}: {}",
        img.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        o.stderr.is_empty(),
        "bunzip2/cpio complained about {}: {}",
        img.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// One file's content through `bunzip2 | cpio -i --to-stdout`.
fn cpio_cat(img: &Path, name: &str) -> String {
    let sh = format!(
        "set -o pipefail; bunzip2 < '{}' | cpio -i --quiet --to-stdout '{name}'",
        img.display()
    );
    let o = run(Command::new("bash").arg("-c").arg(&sh));
    assert!(
        o.status.success(),
        "cpio -i {name}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// Python's bz2 module decodes exactly ONE stream; the rest is `unused_data`.
fn bzip2_streams(img: &Path) -> usize {
    require_tool("python3");
    let script = "import bz2,sys\n\
        d=open(sys.argv[1],'rb').read(); n=0\n\
        while d:\n\
        \x20   z=bz2.BZ2Decompressor(); z.decompress(d)\n\
        \x20   assert z.eof, 'truncated stream'\n\
        \x20   n+=1; d=z.unused_data\n\
        print(n)\n";
    let out = ok(Command::new("python3").arg("-c").arg(script).arg(img));
    out.trim().parse().unwrap()
}

/// Walk newc archives like the kernel (NULs between archives skipped, later entries
/// win) with a small independent Python reader; returns the data of `name`.
fn kernel_view(img: &Path, name: &str) -> Option<String> {
    let script = r#"
import bz2, sys
d = bz2.decompress(open(sys.argv[1], 'rb').read())   # all streams
i, last = 0, {}
while i < len(d):
    if d[i] == 0:
        i += 1; continue
    assert d[i:i+6] == b'070701', ('bad magic at', i)
    f = [int(d[i+6+8*k:i+14+8*k], 16) for k in range(13)]
    n = d[i+110:i+110+f[11]-1].decode()
    j = i + 110 + f[11]; j += (-j) % 4
    data = d[j:j+f[6]]; j += f[6]; j += (-j) % 4
    if n != 'TRAILER!!!':
        last[n] = data
    i = j
v = last.get(sys.argv[2])
print('<absent>' if v is None else v.decode(), end='')
"#;
    let out = ok(Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(img)
        .arg(name));
    (out != "<absent>").then_some(out)
}

fn unpack(iso: &Path, ws: &Path) {
    ok(xiso().arg("unpack").arg(iso).arg(ws));
}

#[test]
fn unchanged_round_trip_keeps_every_owner_mode_device_and_link() {
    let t = tmpdir("same");
    let src = fixture("genisoimage.iso");
    let ws = t.path().join("ws");
    unpack(&src, &ws);
    // The placeholders and the recorded truth.
    assert_eq!(
        fs::metadata(ws.join("installer/dev/console"))
            .unwrap()
            .len(),
        0
    );
    assert!(ws.join(".xiso/installer").is_file());

    let copied = t.path().join("copied.iso");
    ok(xiso().arg("pack").arg(&ws).arg(&copied));
    // --level forces a rebuild of an unchanged tree.
    let rebuilt = t.path().join("rebuilt.iso");
    let json = ok(xiso()
        .args(["pack", "--json", "--level", "9"])
        .arg(&ws)
        .arg(&rebuilt));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["installer"]["action"], "rebuilt");

    let (a, b, c) = (
        t.path().join("src.img"),
        t.path().join("copied.img"),
        t.path().join("rebuilt.img"),
    );
    extract_image(&src, &a);
    extract_image(&copied, &b);
    extract_image(&rebuilt, &c);
    assert_eq!(
        fs::read(&a).unwrap(),
        fs::read(&b).unwrap(),
        "unchanged install.img must be copied byte for byte"
    );
    let before = cpio_listing(&a);
    let after = cpio_listing(&c);
    assert_eq!(before, after, "cpio -tv differs after an unchanged rebuild");
    // The fixture really has what the issue asks for, so the equality means something.
    for (what, needle) in [
        ("char device", "crw-------   1 0        0          5,   1"),
        ("block device", "brw-rw----   1 0        6          8,   0"),
        ("fifo", "prw-------"),
        (
            "root-only file",
            "-rw-------   1 0        0              55",
        ),
        ("setuid binary", "-rwsr-xr-x   1 0        0"),
        ("uid 1000 file", "-rw-r-----   1 1000     1000"),
        ("symlink", "bin/sh -> busybox"),
        ("hard-link pair", "-rw-r--r--   2 0        0"),
    ] {
        assert!(
            after.contains(needle),
            "no {what} ({needle:?}) in:\n{after}"
        );
    }
    assert_eq!(
        bzip2_streams(&c),
        1,
        "a rebuilt image must be ONE bzip2 stream"
    );
    assert_no_temp_files(t.path());
}

#[test]
fn patch_rebuild_and_append() {
    let t = tmpdir("patch");
    let src = fixture("genisoimage.iso");
    let ws = t.path().join("ws");
    unpack(&src, &ws);
    let ov = t.path().join("overlay");
    fs::create_dir_all(ov.join("etc")).unwrap();
    fs::create_dir_all(ov.join("opt/xiso-new")).unwrap();
    fs::write(ov.join("etc/xiso-marker"), "patched by test\n").unwrap();
    fs::write(ov.join("opt/xiso-new/tool"), "#!/bin/sh\n").unwrap();
    fs::set_permissions(
        ov.join("opt/xiso-new/tool"),
        std::os::unix::fs::PermissionsExt::from_mode(0o750),
    )
    .unwrap();
    ok(xiso().arg("patch-installer").arg(&ws).arg(&ov));

    // Append mode first (no deletions yet).
    let appended = t.path().join("appended.iso");
    let json = ok(xiso()
        .args(["pack", "--json", "--installer-append"])
        .arg(&ws)
        .arg(&appended));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["installer"]["action"], "appended");
    let img = t.path().join("appended.img");
    extract_image(&appended, &img);
    let orig = t.path().join("orig.img");
    extract_image(&src, &orig);
    let (o, a) = (fs::read(&orig).unwrap(), fs::read(&img).unwrap());
    assert!(
        a.len() > o.len() && a[..o.len()] == o[..],
        "append must keep the source bytes as a prefix"
    );
    assert_eq!(bzip2_streams(&img), 2);
    assert_eq!(
        kernel_view(&img, "etc/xiso-marker").as_deref(),
        Some("patched by test\n")
    );
    assert_eq!(
        kernel_view(&img, "opt/xiso-new/tool").as_deref(),
        Some("#!/bin/sh\n")
    );
    // bunzip2 reads both streams without a complaint (cpio -t stops at the first trailer).
    cpio_listing(&img);

    // A deletion: refused in append mode (exit 2, no output), fine when rebuilding.
    ok(xiso()
        .arg("patch-installer")
        .arg(&ws)
        .args(["--remove", "/home/xisouser"]));
    let refused = t.path().join("refused.iso");
    let o = run(xiso()
        .args(["pack", "--installer-append"])
        .arg(&ws)
        .arg(&refused));
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("cannot delete") && err.contains("home/xisouser"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one-line error: {err}");
    assert!(!refused.exists());

    let rebuilt = t.path().join("rebuilt.iso");
    ok(xiso().arg("pack").arg(&ws).arg(&rebuilt));
    let img = t.path().join("rebuilt.img");
    extract_image(&rebuilt, &img);
    assert_eq!(bzip2_streams(&img), 1);
    let list = cpio_listing(&img);
    assert!(
        !list.contains("home/xisouser"),
        "removed entry still listed:\n{list}"
    );
    assert!(
        list.contains("-rwxr-x---   1 0        0              10 ")
            && list.contains("opt/xiso-new/tool"),
        "new file not root:root 0750:\n{list}"
    );
    assert_eq!(cpio_cat(&img, "etc/xiso-marker"), "patched by test\n");
    // Everything else as before: same entries minus the removed, plus the new.
    let before = cpio_listing(&orig);
    for line in before.lines() {
        if line.contains("home/xisouser") || line.ends_with(" etc/xiso-marker") {
            continue;
        }
        assert!(list.contains(line), "entry lost or changed: {line}\n{list}");
    }
    assert_no_temp_files(t.path());
}

/// Build a test ISO whose install.img is `cpio` (bzip2-compressed by the real tool).
fn iso_with_installer(dir: &Path, cpio: &[u8]) -> PathBuf {
    require_tool("bzip2");
    let tree = dir.join("tree");
    fs::create_dir_all(tree.join("boot/isolinux")).unwrap();
    fs::copy(
        "/usr/lib/ISOLINUX/isolinux.bin",
        tree.join("boot/isolinux/isolinux.bin"),
    )
    .expect("ORACLE MISSING: /usr/lib/ISOLINUX/isolinux.bin (package isolinux)");
    let raw = dir.join("install.cpio");
    fs::write(&raw, cpio).unwrap();
    let out = run(Command::new("bzip2").arg("-9c").arg(&raw));
    assert!(out.status.success(), "bzip2 failed");
    fs::write(tree.join("install.img"), out.stdout).unwrap();
    fs::remove_file(&raw).unwrap();
    let iso = dir.join("evil.iso");
    genisoimage(&tree, &iso, "EVIL", false);
    iso
}

/// A raw newc archive, written here by hand (independent of xiso's writer).
fn newc(entries: &[(&[u8], u32, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut push = |name: &[u8], mode: u32, data: &[u8], ino: u32| {
        let mut h = b"070701".to_vec();
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
            h.extend_from_slice(format!("{v:08X}").as_bytes());
        }
        h.extend_from_slice(name);
        h.push(0);
        while !h.len().is_multiple_of(4) {
            h.push(0);
        }
        h.extend_from_slice(data);
        while !h.len().is_multiple_of(4) {
            h.push(0);
        }
        out.extend_from_slice(&h);
    };
    for (i, (n, m, d)) in entries.iter().enumerate() {
        push(n, *m, d, i as u32 + 1);
    }
    push(b"TRAILER!!!", 0, b"", 0);
    out
}

fn assert_unpack_refused(tag: &str, archive: &[u8], expect: &str, outside: Option<&Path>) {
    let t = tmpdir(tag);
    let iso = iso_with_installer(t.path(), archive);
    let before = common::sha256(&iso);
    let ws = t.path().join("ws");
    let o = run(xiso().arg("unpack").arg(&iso).arg(&ws));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{tag}: {err}");
    assert!(err.contains(expect), "{tag}: expected {expect:?} in {err}");
    assert!(
        err.contains("install.img") && err.contains("offset"),
        "{tag}: error must name the file and offset: {err}"
    );
    assert_eq!(
        err.trim().lines().count(),
        1,
        "{tag}: one-line error: {err}"
    );
    assert!(
        !ws.exists(),
        "{tag}: a failed unpack left the workspace behind"
    );
    let names: Vec<_> = fs::read_dir(t.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let mut names = names;
    names.sort();
    assert_eq!(
        names,
        ["evil.iso", "tree"],
        "{tag}: something was written next to the workspace"
    );
    if let Some(p) = outside {
        assert!(
            !p.exists(),
            "{tag}: {} was written outside the workspace",
            p.display()
        );
    }
    assert_eq!(common::sha256(&iso), before, "{tag}: input changed");
}

#[test]
fn traversal_archives_are_refused() {
    let t = tmpdir("outside");
    let outside = t.path().join("escape");
    fs::create_dir_all(&outside).unwrap();
    assert_unpack_refused(
        "dotdot",
        &newc(&[(b".", 0o40755, b""), (b"../xiso-escaped", 0o100644, b"x")]),
        "'..'",
        None,
    );
    assert_unpack_refused(
        "absolute",
        &newc(&[(b"/tmp/xiso-escaped-abs", 0o100644, b"x")]),
        "absolute path",
        Some(Path::new("/tmp/xiso-escaped-abs")),
    );
    let target = outside.to_str().unwrap().as_bytes().to_vec();
    assert_unpack_refused(
        "symlink",
        &newc(&[(b"a", 0o120777, &target), (b"a/x", 0o100644, b"escaped")]),
        "symlink",
        Some(&outside.join("x")),
    );
    assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);
    assert_unpack_refused(
        "non-utf8",
        &newc(&[(b"caf\xe9", 0o100644, b"x")]),
        "not UTF-8",
        None,
    );
}

#[test]
fn corrupt_and_oversized_images_are_refused() {
    // A bzip2 stream with damaged blocks.
    let t = tmpdir("corrupt");
    let big: Vec<u8> = (0..400_000u32)
        .flat_map(|i| i.wrapping_mul(2_654_435_761).to_le_bytes())
        .collect();
    let iso = iso_with_installer(t.path(), &newc(&[(b"blob", 0o100644, &big)]));
    let ws = t.path().join("ws");
    // Damage install.img inside the ISO in place: find its extent with xiso ls --json.
    let ls = ok(xiso().args(["ls", "--json"]).arg(&iso).arg("/install.img"));
    let v: serde_json::Value = serde_json::from_str(&ls).unwrap();
    let e = v.as_array().map(|a| a[0].clone()).unwrap_or(v);
    let lba = e["extents"][0][0]
        .as_u64()
        .or_else(|| e["extents"][0]["lba"].as_u64())
        .expect("extent lba");
    let mut bytes = fs::read(&iso).unwrap();
    let off = lba as usize * 2048 + 5000;
    for b in &mut bytes[off..off + 64] {
        *b ^= 0x5a;
    }
    fs::write(&iso, &bytes).unwrap();
    let o = run(xiso().arg("unpack").arg(&iso).arg(&ws));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("install.img"), "{err}");
    assert!(!ws.exists());

    // A cap on the expanded size stops a bomb before the disk fills.
    let t = tmpdir("bomb");
    let zeros = vec![0u8; 3 << 20];
    let iso = iso_with_installer(t.path(), &newc(&[(b"zeros", 0o100644, &zeros)]));
    let o = run(xiso()
        .args(["unpack", "--max-installer-bytes", "1000000"])
        .arg(&iso)
        .arg(t.path().join("ws")));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("expands beyond"), "{err}");
    assert!(!t.path().join("ws").exists());
}

/// The point of the tool: all of it as an ordinary user. Under CI (root) the
/// commands run as `nobody` through setpriv; as a normal user they run directly.
#[test]
fn works_as_an_ordinary_user() {
    use std::os::unix::fs::PermissionsExt;
    let t = tempfile::Builder::new()
        .prefix("xiso-nobody-")
        .tempdir_in("/tmp")
        .unwrap();
    fs::set_permissions(t.path(), fs::Permissions::from_mode(0o777)).unwrap();
    let bin = t.path().join("xiso");
    fs::copy(env!("CARGO_BIN_EXE_xiso"), &bin).unwrap();
    let src = t.path().join("src.iso");
    fs::copy(fixture("genisoimage.iso"), &src).unwrap();
    fs::set_permissions(&src, fs::Permissions::from_mode(0o644)).unwrap();
    let root = run(Command::new("id").arg("-u"));
    let as_root = String::from_utf8_lossy(&root.stdout).trim() == "0";
    if as_root {
        require_tool("setpriv");
    }
    let script = "set -e; cd \"$1\"; id -u; ./xiso unpack src.iso ws; mkdir -p ov/etc; \
                  echo user-marker > ov/etc/xiso-marker; ./xiso patch-installer ws ov; \
                  ./xiso pack ws out.iso";
    let mut cmd = if as_root {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "bash",
            "-c",
        ]);
        c
    } else {
        let mut c = Command::new("bash");
        c.arg("-c");
        c
    };
    let out = ok(cmd.arg(script).arg("bash").arg(t.path()));
    assert_ne!(out.lines().next(), Some("0"), "did not drop root");
    let (a, b) = (t.path().join("a.img"), t.path().join("b.img"));
    extract_image(&src, &a);
    extract_image(&t.path().join("out.iso"), &b);
    let (before, after) = (cpio_listing(&a), cpio_listing(&b));
    let strip = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| !l.ends_with(" etc/xiso-marker"))
            .map(String::from)
            .collect()
    };
    assert_eq!(
        strip(&before),
        strip(&after),
        "owners/modes/devices lost as an ordinary user"
    );
    assert_eq!(cpio_cat(&b, "etc/xiso-marker"), "user-marker\n");
}
