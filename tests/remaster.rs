//! `xiso remaster`: one command gives the same bytes as unpack + edits + pack, a
//! plan file gives the same as flags, untouched data is streamed, and a failing
//! remaster leaves nothing behind.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{assert_no_temp_files, fixture, ok_output, run, sha256, testdata_rpm, tmpdir, xiso};

const EPOCH: &str = "1700000000";
const RPM: &str = "v6_rpm-file-attrs-1.0-1.noarch.rpm";

fn x() -> Command {
    let mut c = xiso();
    c.env("SOURCE_DATE_EPOCH", EPOCH);
    c
}

/// The edits every test here makes: an ISO overlay, an installer overlay, an RPM,
/// a boot argument added and one removed, a new volume id.
struct Edits {
    iso_overlay: PathBuf,
    installer_overlay: PathBuf,
}

fn edits(dir: &Path) -> Edits {
    let iso_overlay = dir.join("iso-overlay");
    std::fs::create_dir_all(iso_overlay.join("docs")).unwrap();
    std::fs::write(iso_overlay.join("EULA"), "remastered EULA\n").unwrap();
    std::fs::write(iso_overlay.join("docs/REMASTER.txt"), "notes\n").unwrap();
    let installer_overlay = dir.join("installer-overlay");
    std::fs::create_dir_all(installer_overlay.join("etc")).unwrap();
    std::fs::write(installer_overlay.join("etc/xiso-marker"), "remastered\n").unwrap();
    Edits {
        iso_overlay,
        installer_overlay,
    }
}

fn by_hand(src: &Path, dir: &Path, e: &Edits, out: &Path) {
    let ws = dir.join("ws");
    ok_output(x().arg("unpack").arg(src).arg(&ws));
    ok_output(x().arg("overlay").arg(&ws).arg(&e.iso_overlay));
    ok_output(
        x().arg("add-rpm")
            .arg(&ws)
            .arg(testdata_rpm(RPM))
            .arg("--no-deps-check"),
    );
    ok_output(
        x().arg("patch-installer")
            .arg(&ws)
            .arg(&e.installer_overlay),
    );
    ok_output(x().arg("boot-args").arg(&ws).args([
        "--add",
        "xiso.remaster=1",
        "--remove",
        "bash-shell",
    ]));
    ok_output(
        x().arg("pack")
            .arg(&ws)
            .arg(out)
            .args(["--volid", "XISO_REMASTERED"]),
    );
}

#[test]
fn remaster_gives_the_bytes_of_unpack_edits_pack_and_a_plan_the_bytes_of_flags() {
    let tmp = tmpdir("remaster-same");
    let src = fixture("genisoimage.iso");
    let src_sum = sha256(&src);
    let e = edits(tmp.path());
    let manual = tmp.path().join("manual.iso");
    by_hand(&src, tmp.path(), &e, &manual);

    let one = tmp.path().join("one.iso");
    let o = ok_output(
        x().arg("remaster")
            .arg(&src)
            .arg(&one)
            .arg("--overlay")
            .arg(&e.iso_overlay)
            .arg("--add-rpm")
            .arg(testdata_rpm(RPM))
            .arg("--no-deps-check")
            .arg("--patch-installer")
            .arg(&e.installer_overlay)
            .args([
                "--boot-arg",
                "xiso.remaster=1",
                "--remove-boot-arg",
                "bash-shell",
            ])
            .args(["--volid", "XISO_REMASTERED", "--json"]),
    );
    assert_eq!(
        sha256(&one),
        sha256(&manual),
        "remaster and unpack+edits+pack differ"
    );
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let steps: Vec<&str> = r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "unpack",
            "overlay",
            "add-rpm",
            "patch-installer",
            "boot-args",
            "pack"
        ]
    );
    assert_eq!(
        r["output_bytes"].as_u64(),
        Some(std::fs::metadata(&one).unwrap().len())
    );
    assert!(r["steps"][5]["seconds"].as_f64().is_some());

    // The same recipe as a plan file, paths relative to it.
    let plan_dir = tmp.path().join("recipe");
    std::fs::create_dir_all(&plan_dir).unwrap();
    let plan = plan_dir.join("remaster.toml");
    std::fs::write(
        &plan,
        format!(
            "overlay = [\"../iso-overlay\"]\nadd-rpm = [{:?}]\nno-deps-check = true\n\
             patch-installer = [\"../installer-overlay\"]\nboot-arg = [\"xiso.remaster=1\"]\n\
             remove-boot-arg = [\"bash-shell\"]\nvolid = \"XISO_REMASTERED\"\n",
            testdata_rpm(RPM).display().to_string()
        ),
    )
    .unwrap();
    let planned = tmp.path().join("planned.iso");
    ok_output(
        x().arg("remaster")
            .arg(&src)
            .arg(&planned)
            .arg("--plan")
            .arg(&plan)
            .arg("-q"),
    );
    assert_eq!(sha256(&planned), sha256(&manual), "plan and flags differ");
    assert_eq!(sha256(&src), src_sum, "the source changed");
    assert_no_temp_files(tmp.path());

    // `xiso diff` of the source and its remaster lists exactly the edits.
    let d = run(xiso().arg("diff").arg(&src).arg(&one).arg("--json"));
    assert_eq!(
        d.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&d.stderr)
    );
    let d: serde_json::Value = serde_json::from_slice(&d.stdout).unwrap();
    let strings = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        strings(&d["packages"]["added"]).len(),
        1,
        "{}",
        d["packages"]
    );
    assert!(strings(&d["packages"]["added"])[0].starts_with("rpm-file-attrs"));
    assert!(strings(&d["packages"]["removed"]).is_empty());
    assert_eq!(strings(&d["installer"]["changed"]), ["etc/xiso-marker"]);
    assert!(strings(&d["installer"]["added"]).is_empty());
    assert!(strings(&d["installer"]["removed"]).is_empty());
    let added_files = strings(&d["files"]["added"]);
    for f in ["docs/REMASTER.txt", &format!("Packages/{RPM}")] {
        assert!(
            added_files.iter().any(|a| a.trim_start_matches('/') == f),
            "{added_files:?}"
        );
    }
    let args = d["boot"]["args"].as_array().unwrap();
    assert!(!args.is_empty());
    for a in args {
        assert_eq!(strings(&a["added"]), ["xiso.remaster=1"], "{a}");
        for r in strings(&a["removed"]) {
            assert_eq!(r, "bash-shell", "{a}");
        }
    }
    assert_eq!(
        d["volume"][0]["after"].as_str(),
        Some("XISO_REMASTERED"),
        "{}",
        d["volume"]
    );

    common::assert_verifies(&one);
}

#[test]
fn remaster_without_installer_edits_streams_install_img_and_the_rpms() {
    let tmp = tmpdir("remaster-stream");
    let src = fixture("xorriso.iso");
    let out = tmp.path().join("out.iso");
    let o = ok_output(
        x().arg("remaster")
            .arg(&src)
            .arg(&out)
            .arg("--add-rpm")
            .arg(testdata_rpm(RPM))
            .arg("--no-deps-check")
            .arg("--json"),
    );
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        r["pack"]["installer"].is_null(),
        "install.img was unpacked: {}",
        r["pack"]["installer"]
    );
    // Only the new RPM and the repodata came from the workspace: the other RPMs
    // were streamed from the source.
    let changed: Vec<String> = r["pack"]["tree"]["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert!(
        changed
            .iter()
            .all(|c| c.starts_with("repodata/") || *c == format!("Packages/{RPM}")),
        "changed: {changed:?}"
    );
    // install.img is the source's, byte for byte.
    let cat = |iso: &Path| ok_output(xiso().arg("cat").arg(iso).arg("/install.img")).stdout;
    assert!(cat(&src) == cat(&out), "install.img changed");
    let ls = ok_output(xiso().arg("ls").arg(&out).arg("/Packages")).stdout;
    assert!(String::from_utf8_lossy(&ls).contains(RPM));
}

#[test]
fn a_failing_remaster_leaves_no_output_and_no_workspace() {
    let tmp = tmpdir("remaster-fail");
    let src = fixture("genisoimage.iso");
    let sum = sha256(&src);
    let out = tmp.path().join("out.iso");
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "missing rpm",
            vec![
                "--add-rpm".into(),
                tmp.path().join("nope.rpm").display().to_string(),
            ],
        ),
        (
            "missing overlay",
            vec![
                "--overlay".into(),
                tmp.path().join("nope").display().to_string(),
            ],
        ),
        (
            "not an rpm",
            vec!["--add-rpm".into(), src.display().to_string()],
        ),
        (
            "bad plan",
            vec!["--plan".into(), {
                let p = tmp.path().join("bad.toml");
                std::fs::write(&p, "add-rpm = 3\n").unwrap();
                p.display().to_string()
            }],
        ),
        (
            "unknown plan key",
            vec!["--plan".into(), {
                let p = tmp.path().join("unknown.toml");
                std::fs::write(&p, "add-rpms = []\n").unwrap();
                p.display().to_string()
            }],
        ),
    ];
    for (name, args) in cases {
        let o = run(x().arg("remaster").arg(&src).arg(&out).args(&args));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "{name}: not one line: {err}"
        );
        assert!(!out.exists(), "{name}: an output was written");
        assert_no_temp_files(tmp.path());
    }
    // The output cannot be the input.
    let o = run(x().arg("remaster").arg(&src).arg(&src));
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(sha256(&src), sum, "the source changed");
}

/// The entries of the last cpio archive in a bzip2 install.img, decoded by
/// `bunzip2` and read here from the newc headers: (name, mode, uid, gid).
fn last_archive_entries(img: &[u8]) -> Vec<(String, u32, u32, u32)> {
    common::require_tool("bunzip2");
    let mut child = Command::new("bunzip2")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = img.to_vec();
    let feeder = std::thread::spawn(move || {
        use std::io::Write;
        stdin.write_all(&input).unwrap();
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    assert!(out.status.success(), "bunzip2 refused install.img");
    let cpio = out.stdout;
    let hex = |b: &[u8]| u32::from_str_radix(std::str::from_utf8(b).unwrap(), 16).unwrap();
    let mut archives = vec![Vec::new()];
    let mut pos = 0;
    while pos + 110 <= cpio.len() {
        if &cpio[pos..pos + 6] != b"070701" {
            pos += 4; // NUL padding between archives
            continue;
        }
        let field = |i: usize| hex(&cpio[pos + 6 + 8 * i..pos + 14 + 8 * i]);
        let (mode, uid, gid, size, namesize) = (field(1), field(2), field(3), field(6), field(11));
        let name = &cpio[pos + 110..pos + 110 + namesize as usize - 1];
        let name = String::from_utf8_lossy(name).into_owned();
        pos = (pos + 110 + namesize as usize).div_ceil(4) * 4;
        pos = (pos + size as usize).div_ceil(4) * 4;
        if name == "TRAILER!!!" {
            archives.push(Vec::new());
        } else {
            archives.last_mut().unwrap().push((name, mode, uid, gid));
        }
    }
    archives.pop();
    archives.pop().unwrap_or_default()
}

#[test]
fn appending_overlays_never_decodes_install_img() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tmpdir("remaster-append");
    let src = fixture("genisoimage.iso");
    // One file that replaces the image's (mode 0644 there), a new directory with
    // an executable, and a symlink.
    let ov = tmp.path().join("overlay");
    std::fs::create_dir_all(ov.join("etc")).unwrap();
    std::fs::create_dir_all(ov.join("opt/xiso-new")).unwrap();
    std::fs::write(ov.join("etc/xiso-marker"), "appended\n").unwrap();
    std::fs::set_permissions(
        ov.join("etc/xiso-marker"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    std::fs::write(ov.join("opt/xiso-new/tool"), "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(
        ov.join("opt/xiso-new/tool"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    std::os::unix::fs::symlink("tool", ov.join("opt/xiso-new/link")).unwrap();
    for d in ["etc", "opt", "opt/xiso-new"] {
        std::fs::set_permissions(ov.join(d), std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    // By hand: install.img is never unpacked.
    let ws = tmp.path().join("ws");
    ok_output(x().arg("unpack").arg("--no-installer").arg(&src).arg(&ws));
    ok_output(x().arg("patch-installer").arg(&ws).arg(&ov));
    let one_line_refusal = |cmd: &mut Command, expect: &str| {
        let o = run(cmd);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{cmd:?}: {err}");
        assert!(err.contains(expect), "{cmd:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one-line error: {err}");
    };
    one_line_refusal(
        x().arg("patch-installer")
            .arg(&ws)
            .args(["--remove", "/etc/shadow"]),
        "--no-installer",
    );
    one_line_refusal(
        x().arg("add-rpm")
            .arg("--installer")
            .arg(&ws)
            .arg(testdata_rpm(RPM)),
        "--no-installer",
    );
    let refused = tmp.path().join("rebuilt.iso");
    one_line_refusal(x().arg("pack").arg(&ws).arg(&refused), "--installer-append");
    assert!(!refused.exists());
    let manual = tmp.path().join("manual.iso");
    ok_output(
        x().arg("pack")
            .arg("--installer-append")
            .arg(&ws)
            .arg(&manual),
    );

    // In one command: the same bytes, and no installer in the unpack step.
    let one = tmp.path().join("one.iso");
    let o = ok_output(
        x().arg("remaster")
            .arg(&src)
            .arg(&one)
            .arg("--patch-installer")
            .arg(&ov)
            .args(["--installer-append", "--json"]),
    );
    assert_eq!(sha256(&one), sha256(&manual), "remaster and by hand differ");
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        r["steps"][0]["detail"]["installer"].is_null(),
        "install.img was unpacked: {}",
        r["steps"][0]
    );
    assert_eq!(r["pack"]["installer"]["action"], "appended");

    // The image is the source's bytes, then one archive of root:root entries with
    // the overlay's modes (even for the replaced file, which was 0644).
    let img = |iso: &Path| {
        let o = run(Command::new("bsdtar")
            .arg("-xOf")
            .arg(iso)
            .arg("install.img"));
        assert!(o.status.success());
        o.stdout
    };
    let (old, new) = (img(&src), img(&one));
    assert!(new.len() > old.len() && new[..old.len()] == old[..]);
    let entries = last_archive_entries(&new);
    let want: Vec<(String, u32, u32, u32)> = [
        ("etc", 0o040755),
        ("etc/xiso-marker", 0o100600),
        ("opt", 0o040755),
        ("opt/xiso-new", 0o040755),
        ("opt/xiso-new/link", 0o120777),
        ("opt/xiso-new/tool", 0o100755),
    ]
    .iter()
    .map(|(n, m)| (n.to_string(), *m, 0, 0))
    .collect();
    assert_eq!(entries, want);

    common::assert_verifies(&one);
}

/// `remaster --add-rpm` says, once per package, when the installer will not
/// install an added package (the fixture's repository has no install target).
#[test]
fn remaster_warns_about_packages_the_installer_will_not_install() {
    let tmp = tmpdir("remaster-unreached");
    let pkg = common::build_named_rpm(tmp.path(), "xiso-lone", "1.0", &[]);
    let out = tmp.path().join("out.iso");
    let o = ok_output(
        x().arg("remaster")
            .arg(fixture("xorriso.iso"))
            .arg(&out)
            .arg("--add-rpm")
            .arg(&pkg)
            .arg("--json"),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    let warned: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("xiso: warning: xiso-lone-1.0-1.noarch will not be installed"))
        .collect();
    assert_eq!(warned.len(), 1, "{err}");
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let step = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "add-rpm")
        .expect("an add-rpm step");
    assert_eq!(step["detail"]["added"][0]["reached_by_installer"], false);
    assert!(report["warnings"].as_array().unwrap().iter().any(|w| w
        .as_str()
        .unwrap()
        .contains("xiso-lone-1.0-1.noarch will not be installed")));
}
