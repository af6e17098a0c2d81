//! Failure injection: a full disk, SIGKILL and SIGINT in the middle of `pack` and
//! `remaster`.
//! The destination is either absent or the previous complete file; temporaries are
//! gone after SIGINT (the handler deletes them) and after the next run (SIGKILL).

mod common;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::{assert_no_temp_files, fixture, run, xiso};

/// A workspace whose pack takes seconds: 48 MiB of incompressible data in the
/// installer root makes pack rebuild install.img with bzip2.
fn slow_workspace(dir: &Path) -> PathBuf {
    let ws = dir.join("ws");
    let o = run(xiso()
        .arg("unpack")
        .arg(fixture("genisoimage.iso"))
        .arg(&ws));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    write_noise(&ws.join("installer/opt/noise.bin"), 0x9e37_79b9_7f4a_7c15);
    ws
}

/// 48 MiB of incompressible xorshift bytes: bzip2 takes seconds over them.
fn write_noise(path: &Path, seed: u64) {
    let mut f = fs::File::create(path).unwrap();
    let mut x = seed;
    let mut buf = vec![0u8; 1 << 20];
    for _ in 0..48 {
        for chunk in buf.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes());
        }
        f.write_all(&buf).unwrap();
    }
}

fn temp_files(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("xiso-tmp") || n.contains("xiso-remaster"))
        .collect()
}

/// Start `xiso pack ws out` and wait until it has written into a temporary.
fn start_pack(ws: &Path, out: &Path) -> Child {
    start(xiso().arg("pack").arg(ws).arg(out), out)
}

/// An installer overlay of 48 MiB of incompressible data: a remaster with it
/// rebuilds install.img with bzip2 for seconds.
fn noise_overlay(dir: &Path) -> PathBuf {
    let ov = dir.join("noise-overlay");
    fs::create_dir_all(ov.join("opt")).unwrap();
    write_noise(&ov.join("opt/noise.bin"), 0x2545_f491_4f6c_dd1d);
    ov
}

fn remaster_cmd(ov: &Path, out: &Path) -> Command {
    let mut c = xiso();
    c.arg("remaster")
        .arg(fixture("genisoimage.iso"))
        .arg(out)
        .arg("--patch-installer")
        .arg(ov);
    c
}

/// Start a command writing `out` and wait until it has written into a temporary.
#[allow(clippy::zombie_processes)] // the child is returned; every caller waits for it
fn start(cmd: &mut Command, out: &Path) -> Child {
    let mut child = cmd.spawn().unwrap();
    let dir = out.parent().unwrap();
    let t0 = Instant::now();
    loop {
        // A temporary output with data in it, or remaster's private workspace.
        let started = fs::read_dir(dir).unwrap().flatten().any(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            (n.contains("xiso-tmp") && e.metadata().map(|m| m.len() > 0).unwrap_or(false))
                || (n.contains("xiso-remaster") && e.path().join(".xiso/manifest").exists())
        });
        if started {
            return child;
        }
        if t0.elapsed() > Duration::from_secs(300) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("pack never started writing");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn signal(child: &Child, sig: &str) {
    let st = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn sigkill_keeps_the_previous_output_and_the_next_run_cleans_up() {
    let t = tempfile::tempdir().unwrap();
    let ws = slow_workspace(t.path());
    let out = t.path().join("out.iso");
    fs::write(&out, b"previous complete output").unwrap();
    let mut child = start_pack(&ws, &out);
    signal(&child, "KILL");
    let st = child.wait().unwrap();
    assert!(!st.success(), "pack finished before it could be killed");
    assert_eq!(fs::read(&out).unwrap(), b"previous complete output");
    assert!(
        !temp_files(t.path()).is_empty(),
        "SIGKILL cannot clean up; a temporary should remain"
    );
    // The next run removes the dead process's temporaries and succeeds.
    let o = run(xiso().arg("pack").arg(&ws).arg(&out));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_no_temp_files(t.path());
    let o = run(xiso().arg("inspect").arg(&out));
    assert!(
        o.status.success(),
        "the re-run output is not a readable ISO"
    );
}

#[test]
fn sigint_removes_temporaries_and_leaves_no_output() {
    let t = tempfile::tempdir().unwrap();
    let ws = slow_workspace(t.path());
    let out = t.path().join("fresh.iso");
    let mut child = start_pack(&ws, &out);
    signal(&child, "INT");
    let st = child.wait().unwrap();
    assert_eq!(st.code(), Some(130), "interrupted pack must exit 130");
    assert!(!out.exists(), "a partial output exists after Ctrl-C");
    assert_no_temp_files(t.path());
}

#[test]
fn write_errors_leave_no_output() {
    // RLIMIT_FSIZE: writes past 4 MiB fail with EFBIG (SIGXFSZ ignored, so the
    // error reaches xiso as it would on a full disk).
    let t = tempfile::tempdir().unwrap();
    let ws = t.path().join("ws");
    let o = run(xiso()
        .arg("unpack")
        .arg(fixture("genisoimage.iso"))
        .arg(&ws));
    assert!(o.status.success());
    let out = t.path().join("out.iso");
    let o = run(Command::new("bash")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 4096; exec \"$0\" pack \"$1\" \"$2\"")
        .arg(env!("CARGO_BIN_EXE_xiso"))
        .arg(&ws)
        .arg(&out));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one-line error: {err}");
    assert!(err.contains("out.iso"), "error names the output: {err}");
    assert!(!out.exists());
    assert_no_temp_files(t.path());
    // The same for a rebuilt install.img: its temporary goes too.
    fs::write(ws.join("installer/etc/xiso-marker"), "changed\n").unwrap();
    let o = run(Command::new("bash")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 200; exec \"$0\" pack \"$1\" \"$2\"")
        .arg(env!("CARGO_BIN_EXE_xiso"))
        .arg(&ws)
        .arg(&out));
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!out.exists());
    assert_no_temp_files(t.path());
}

#[test]
fn remaster_sigkill_keeps_the_previous_output_and_the_next_run_cleans_up() {
    let t = tempfile::tempdir().unwrap();
    let ov = noise_overlay(t.path());
    let out = t.path().join("out.iso");
    fs::write(&out, b"previous complete output").unwrap();
    let mut child = start(&mut remaster_cmd(&ov, &out), &out);
    signal(&child, "KILL");
    let st = child.wait().unwrap();
    assert!(!st.success(), "remaster finished before it could be killed");
    assert_eq!(fs::read(&out).unwrap(), b"previous complete output");
    assert!(
        !temp_files(t.path()).is_empty(),
        "SIGKILL cannot clean up; the private workspace should remain"
    );
    let o = run(&mut remaster_cmd(&ov, &out));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_no_temp_files(t.path());
    let o = run(xiso().arg("verify").arg(&out));
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn remaster_sigint_removes_the_workspace_and_leaves_no_output() {
    let t = tempfile::tempdir().unwrap();
    let ov = noise_overlay(t.path());
    let out = t.path().join("fresh.iso");
    let mut child = start(&mut remaster_cmd(&ov, &out), &out);
    signal(&child, "INT");
    let st = child.wait().unwrap();
    assert_eq!(st.code(), Some(130), "interrupted remaster must exit 130");
    assert!(!out.exists(), "a partial output exists after Ctrl-C");
    assert_no_temp_files(t.path());
}

#[test]
fn remaster_write_errors_leave_no_output_and_no_workspace() {
    let t = tempfile::tempdir().unwrap();
    let ov = noise_overlay(t.path());
    let out = t.path().join("out.iso");
    let src = fixture("genisoimage.iso");
    // 8 MiB: the private workspace fits, install.img or the ISO does not.
    let o = run(Command::new("bash")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 8192; exec \"$0\" remaster \"$1\" \"$2\" --patch-installer \"$3\"")
        .arg(env!("CARGO_BIN_EXE_xiso"))
        .arg(&src)
        .arg(&out)
        .arg(&ov));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one-line error: {err}");
    assert!(!out.exists());
    assert_no_temp_files(t.path());
}
