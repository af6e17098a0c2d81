//! Shared helpers for integration tests: the xiso binary, oracle tools, fixtures.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The built `xiso` binary, with the ISO writer's write tracker on (it is on in
/// debug builds anyway; this checks release test runs too).
pub fn xiso() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xiso"));
    cmd.env("XISO_TRACK_WRITES", "1");
    cmd
}

/// Run a command, returning its output; panics loudly when the program is missing.
pub fn run(cmd: &mut Command) -> Output {
    let prog = format!("{:?}", cmd.get_program());
    cmd.output().unwrap_or_else(|e| {
        panic!("ORACLE MISSING: cannot run {prog}: {e}. Install the test dependencies with scripts/install-deps.sh (or run scripts/test.sh).")
    })
}

/// Panic loudly unless `tool` is on PATH: oracle tests never pass by skipping.
pub fn require_tool(tool: &str) {
    let ok = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(ok, "ORACLE MISSING: `{tool}` is not installed; run scripts/install-deps.sh (or scripts/test.sh)");
}

/// The fixtures directory (`$XISO_FIXTURES` or `<repo>/fixtures`).
pub fn fixtures_dir() -> PathBuf {
    std::env::var_os("XISO_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"))
}

/// A fixture file; panics loudly when it has not been built.
pub fn fixture(rel: &str) -> PathBuf {
    let p = fixtures_dir().join(rel);
    assert!(
        p.exists(),
        "FIXTURE MISSING: {} does not exist; build fixtures with scripts/make-fixtures.sh (scripts/test.sh does it)",
        p.display()
    );
    p
}

/// Build a small bootable ISO with genisoimage in `dir`, returning its path.
pub fn small_iso(dir: &Path) -> PathBuf {
    require_tool("genisoimage");
    let tree = dir.join("tree");
    std::fs::create_dir_all(tree.join("boot/isolinux")).unwrap();
    std::fs::create_dir_all(tree.join("docs/deep/er")).unwrap();
    std::fs::copy(
        "/usr/lib/ISOLINUX/isolinux.bin",
        tree.join("boot/isolinux/isolinux.bin"),
    )
    .expect("ORACLE MISSING: /usr/lib/ISOLINUX/isolinux.bin (package isolinux)");
    std::fs::write(tree.join(".treeinfo"), "[general]\nname = test\n").unwrap();
    std::fs::write(tree.join("docs/deep/er/file.txt"), vec![b'x'; 5000]).unwrap();
    std::os::unix::fs::symlink("deep/er/file.txt", tree.join("docs/link")).unwrap();
    let iso = dir.join("small.iso");
    genisoimage(&tree, &iso, "SMALL", false);
    iso
}

/// SHA-256 of a file as hex (via sha256sum, to stay independent of the crate).
pub fn sha256(path: &Path) -> String {
    let out = run(Command::new("sha256sum").arg(path));
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string()
}

/// `genisoimage -r -J --joliet-long` with XCP-ng's El Torito flags (BIOS isolinux with a
/// boot info table, plus the UEFI `boot/efiboot.img` entry when `efi`); panics on failure.
pub fn genisoimage(tree: &Path, out: &Path, volid: &str, efi: bool) {
    require_tool("genisoimage");
    let mut cmd = Command::new("genisoimage");
    cmd.args([
        "-quiet",
        "-r",
        "-J",
        "--joliet-long",
        "-V",
        volid,
        "-c",
        "boot/isolinux/boot.cat",
    ])
    .args([
        "-b",
        "boot/isolinux/isolinux.bin",
        "-no-emul-boot",
        "-boot-load-size",
        "4",
        "-boot-info-table",
    ]);
    if efi {
        cmd.args([
            "-eltorito-alt-boot",
            "-e",
            "boot/efiboot.img",
            "-no-emul-boot",
        ]);
    }
    let o = run(cmd.arg("-o").arg(out).arg(tree));
    assert!(
        o.status.success(),
        "genisoimage failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Fail if an `xiso` temporary file (`*.xiso-tmp-*`) was left in `dir`.
pub fn assert_no_temp_files(dir: &Path) {
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("xiso-tmp"))
        .map(|e| e.path())
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary files left behind: {leftovers:?}"
    );
}

/// A temporary directory named `xiso-<tag>-…`, removed when dropped.
pub fn tmpdir(tag: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("xiso-{tag}-"))
        .tempdir()
        .unwrap()
}

/// Run a command that must succeed; panics with its stdout and stderr otherwise.
pub fn ok_output(cmd: &mut Command) -> Output {
    let o = run(cmd);
    assert!(
        o.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}
