//! Shared helpers of the writer's oracle tests: running the oracle tools
//! (a missing tool is a failure, never a skip) and building trees from disk.
#![allow(dead_code)]

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use xiso::iso::write::{FileData, IsoTree, Meta};

/// Fixed time for fixtures and volume dates (2023-11-14T22:13:20Z).
pub const T: i64 = 1_700_000_000;

/// Run an oracle tool; panic with its stderr if it is missing or fails.
pub fn run(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("oracle tool {tool} is required and could not run: {e}"));
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Like [`run`] but returns raw stdout bytes.
pub fn run_bytes(tool: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("oracle tool {tool} is required and could not run: {e}"));
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn meta_of(m: &fs::Metadata) -> Meta {
    Meta {
        mode: m.mode() & 0o7777,
        uid: m.uid(),
        gid: m.gid(),
        mtime: m.mtime(),
        atime: m.mtime(),
        ctime: m.mtime(),
    }
}

/// Build an [`IsoTree`] from a directory on disk, files as [`FileData::Path`].
pub fn tree_from_dir(root: &Path) -> IsoTree {
    let meta = fs::metadata(root).expect("stat root");
    let mut tree = IsoTree::new(meta_of(&meta));
    add_children(&mut tree, root, "");
    tree
}

fn add_children(tree: &mut IsoTree, dir: &Path, prefix: &str) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("dir entry"))
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().into_string().expect("UTF-8 fixture names");
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        let m = fs::symlink_metadata(e.path()).expect("lstat");
        if m.file_type().is_symlink() {
            let target = fs::read_link(e.path()).expect("readlink");
            tree.add_symlink(&path, target.to_str().expect("UTF-8"), meta_of(&m))
                .expect("add symlink");
        } else if m.is_dir() {
            tree.add_dir(&path, meta_of(&m)).expect("add dir");
            add_children(tree, &e.path(), &path);
        } else {
            tree.add_file(&path, FileData::Path(e.path()), meta_of(&m))
                .expect("add file");
        }
    }
}

/// Write `data` to `path` with permission bits `mode`.
pub fn put(path: &Path, data: &[u8], mode: u32) {
    if let Some(p) = path.parent() {
        fs::create_dir_all(p).expect("mkdir");
    }
    fs::write(path, data).expect("write fixture");
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Name of 100 characters (96 + `.txt`).
pub fn name100() -> String {
    format!("{}.txt", "L".repeat(96))
}

/// Name of 200 bytes, longer than fits a directory record with Rock Ridge.
pub fn name200() -> String {
    format!("{}.dat", "n".repeat(196))
}

/// Name of 255 bytes (`NAME_MAX`): two `NM` entries.
pub fn name255() -> String {
    format!("{}.txt", "m".repeat(251))
}

/// A symlink target of more than 255 bytes (needs several `SL` entries).
pub fn long_target() -> String {
    format!("/very/long/{}/target", "s".repeat(300))
}

/// The standard fixture: everything the writer must represent.
pub fn make_fixture(root: &Path) {
    put(&root.join("readme.txt"), b"hello, iso\n", 0o644);
    put(&root.join("empty"), b"", 0o644);
    put(&root.join("secret.key"), b"top secret\n", 0o600);
    put(&root.join("run.sh"), b"#!/bin/sh\necho hi\n", 0o755);
    put(&root.join(name100()), b"one hundred\n", 0o644);
    put(&root.join(name200()), b"two hundred\n", 0o644);
    put(&root.join(name255()), b"NAME_MAX\n", 0o644);
    put(
        &root.join("ünïcødé name.txt"),
        "ünïcødé\n".as_bytes(),
        0o644,
    );
    put(&root.join("verylongname1.txt"), b"1\n", 0o644);
    put(&root.join("verylongname2.txt"), b"2\n", 0o644);
    put(&root.join("Dir.With.Dots/inner.txt"), b"inner\n", 0o644);
    let mut deep = root.to_path_buf();
    for i in 1..=12 {
        deep.push(format!("level{i}"));
    }
    put(&deep.join("deep.txt"), b"deep down\n", 0o644);
    for i in 0..150 {
        put(
            &root.join(format!("many/file-{i:03}.rpm")),
            format!("{i}\n").as_bytes(),
            0o644,
        );
    }
    put(&root.join("boot/isolinux/boot.cat"), b"OLD CATALOG", 0o444);
    let isolinux = fs::read("/usr/lib/ISOLINUX/isolinux.bin")
        .expect("/usr/lib/ISOLINUX/isolinux.bin is required (Debian package isolinux)");
    put(&root.join("boot/isolinux/isolinux.bin"), &isolinux, 0o644);
    put(
        &root.join("boot/isolinux/isolinux.cfg"),
        b"default linux\n",
        0o644,
    );
    let efi = root.join("boot/efiboot.img");
    run(
        "mkfs.fat",
        &["-C", efi.to_str().expect("UTF-8 path"), "1440"],
    );
    fs::create_dir_all(root.join("a")).expect("mkdir a");
    std::os::unix::fs::symlink("../readme.txt", root.join("a/link")).expect("symlink");
    std::os::unix::fs::symlink(long_target(), root.join("longlink")).expect("symlink");
    fs::set_permissions(root.join("a"), fs::Permissions::from_mode(0o750)).expect("chmod");
}
