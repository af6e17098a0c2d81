//! Boots the fixture ISOs made by `scripts/make-fixtures.sh` in QEMU, four ways
//! (BIOS/UEFI × CD/hard disk), through `scripts/boot-check.sh`.
//!
//! The fixtures are found through `$XISO_FIXTURES` (absolute path; `scripts/test.sh`
//! sets it), else `<repo>/fixtures`. A missing fixture is a test FAILURE, never a
//! silent pass: run `scripts/make-fixtures.sh` first.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// Boot checks are CPU-bound (TCG) and each already runs two QEMUs at once:
/// never run two checks concurrently on the 2-core machines.
static QEMU_LOCK: Mutex<()> = Mutex::new(());

const MARKER: &str = "fixture-original";

fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures_dir() -> PathBuf {
    match std::env::var_os("XISO_FIXTURES") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => repo_dir().join("fixtures"),
    }
}

fn fixture(name: &str) -> PathBuf {
    let path = fixtures_dir().join(name);
    if !path.is_file() {
        panic!(
            "\n\n########################################################\n\
             FIXTURE MISSING: {}\n\
             Build the fixtures first: scripts/make-fixtures.sh \
             (or run the whole suite with scripts/test.sh).\n\
             XISO_FIXTURES={:?}\n\
             ########################################################\n",
            path.display(),
            std::env::var_os("XISO_FIXTURES")
        );
    }
    path
}

fn boot_check(iso: &Path, extra: &[&str]) {
    let _guard = QEMU_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let script = repo_dir().join("scripts/boot-check.sh");
    let out = Command::new("bash")
        .arg(&script)
        .args(extra)
        .arg(iso)
        .arg(MARKER)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        out.status.success(),
        "\n\nBOOT CHECK FAILED for {} ({}):\n{stdout}\n{stderr}\n",
        iso.display(),
        out.status
    );
    for mode in ["bios-cd", "bios-hd", "uefi-cd", "uefi-hd"] {
        assert!(
            stdout.contains(&format!("{mode}: PASS")),
            "mode {mode} did not report PASS:\n{stdout}"
        );
    }
}

#[test]
fn boot_genisoimage_fixture() {
    boot_check(&fixture("genisoimage.iso"), &[]);
}

#[test]
fn boot_xorriso_fixture() {
    boot_check(&fixture("xorriso.iso"), &[]);
}
