//! `xiso add-rpm --pull-in` and `--refresh-from` on a workspace unpacked from the
//! fixture ISO, with an `xcp-ng-deps` built at test time.
//!
//! Oracles: `rpm -qp --requires` and `rpm -K` (digests) on the rewritten install
//! target; Debian's dnf asked like the installer for `xcp-ng-deps` only (into an
//! empty `--installroot`) installs the pulled-in package; `rpm -qp` over
//! `Packages/` and `dnf repoquery` over the repository list exactly the refreshed
//! versions; `sha256sum`-style hashes prove a refused command changed nothing.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{build_named_rpm, fixture, ok_output, require_tool, run, sha256, xiso};

const EPOCH: &str = "1700000000";

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `xiso unpack` of the genisoimage fixture (ISO tree only) into `dir/ws`, with
/// `xcp-ng-deps-8.3-1` (no requires) added: an XCP-ng-shaped repository.
fn workspace(dir: &Path, deps: &Path) -> PathBuf {
    workspace_with(dir, &[deps])
}

/// `xiso unpack` of the genisoimage fixture into `dir/ws`, then `add-rpm` of `packages`.
fn workspace_with(dir: &Path, packages: &[&Path]) -> PathBuf {
    let ws = dir.join("ws");
    let o = run(xiso()
        .arg("unpack")
        .arg(fixture("genisoimage.iso"))
        .arg(&ws)
        .arg("--no-installer"));
    assert!(o.status.success(), "{}", text(&o));
    let args: Vec<&std::ffi::OsStr> = packages.iter().map(|p| p.as_os_str()).collect();
    let o = add_rpm(&ws, &args);
    assert!(o.status.success(), "{}", text(&o));
    ws
}

fn add_rpm(ws: &Path, args: &[&std::ffi::OsStr]) -> Output {
    run(xiso()
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .arg("add-rpm")
        .arg(ws)
        .args(args))
}

/// Name → sha256 of every file of `Packages/` and `repodata/`.
fn snapshot(ws: &Path) -> Vec<(String, String)> {
    let mut v = Vec::new();
    for sub in ["Packages", "repodata"] {
        for e in fs::read_dir(ws.join("iso").join(sub)).unwrap() {
            let p = e.unwrap().path();
            v.push((p.display().to_string(), sha256(&p)));
        }
    }
    v.sort();
    v
}

/// Debian's dnf as the installer's yum asks for `xcp-ng-deps` only (unsigned
/// media: no gpgcheck), into an empty root; the root's installed packages.
fn dnf_install_deps(dir: &Path, tree: &Path) -> Vec<String> {
    require_tool("dnf");
    let root = dir.join("installroot");
    // A fresh root and cache: the repository changes between calls.
    let _ = fs::remove_dir_all(&root);
    let _ = fs::remove_dir_all(dir.join("dnf-cache"));
    fs::create_dir_all(&root).unwrap();
    let o = run(common::installer_dnf(dir, "iso", tree, None)
        .arg(format!("--installroot={}", root.display()))
        .args(["install", "xcp-ng-deps"]));
    assert!(o.status.success(), "dnf refused: {}", text(&o));
    let q = ok_output(Command::new("rpm").arg("--root").arg(&root).args([
        "-qa",
        "--qf",
        "%{NAME}-%{VERSION}-%{RELEASE}\\n",
    ]));
    let mut v: Vec<String> = String::from_utf8_lossy(&q.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

fn rpm_q(p: &Path, args: &[&str]) -> String {
    require_tool("rpm");
    let o = ok_output(Command::new("rpm").args(args).arg(p));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn pull_in_rewrites_the_install_target_and_dnf_installs_the_package() {
    let t = common::tmpdir("pull-in");
    let deps = build_named_rpm(t.path(), "xcp-ng-deps", "8.3", &[]);
    let new = build_named_rpm(t.path(), "xiso-new", "1.0", &[]);
    let newer = build_named_rpm(t.path(), "xiso-other", "2.0", &[]);

    // Without --pull-in: a warning names the package and dnf leaves it out.
    let plain = t.path().join("plain");
    fs::create_dir_all(&plain).unwrap();
    let ws = workspace(&plain, &deps);
    let o = add_rpm(&ws, &[new.as_os_str()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("xiso-new-1.0-1.noarch will not be installed"),
        "{}",
        text(&o)
    );
    assert_eq!(
        dnf_install_deps(&plain, &ws.join("iso")),
        vec!["xcp-ng-deps-8.3-1"]
    );

    // With --pull-in: xcp-ng-deps-8.3-1.xiso1 requires it, digests check, dnf installs it.
    let pulled = t.path().join("pulled");
    fs::create_dir_all(&pulled).unwrap();
    let ws = workspace(&pulled, &deps);
    let o = add_rpm(
        &ws,
        &[new.as_os_str(), "--pull-in".as_ref(), "--json".as_ref()],
    );
    assert!(o.status.success(), "{}", text(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        r["pulled_in"]["target"], "xcp-ng-deps-8.3-1.noarch",
        "{r:#}"
    );
    assert_eq!(
        r["pulled_in"]["rewritten"], "xcp-ng-deps-8.3-1.xiso1.noarch",
        "{r:#}"
    );
    assert_eq!(r["pulled_in"]["requires"], serde_json::json!(["xiso-new"]));
    assert!(r["warnings"].as_array().unwrap().is_empty(), "{r:#}");
    let packages = ws.join("iso/Packages");
    assert!(!packages.join("xcp-ng-deps-8.3-1.noarch.rpm").exists());
    let target = packages.join("xcp-ng-deps-8.3-1.xiso1.noarch.rpm");
    let requires = rpm_q(&target, &["-qp", "--requires"]);
    assert!(requires.lines().any(|l| l == "xiso-new"), "{requires}");
    let provides = rpm_q(&target, &["-qp", "--provides"]);
    assert!(
        provides.lines().any(|l| l == "xcp-ng-deps = 8.3-1.xiso1"),
        "{provides}"
    );
    let k = ok_output(Command::new("rpm").arg("-Kv").arg(&target));
    let k = String::from_utf8_lossy(&k.stdout).into_owned();
    for digest in [
        "Header SHA256 digest: OK",
        "Header SHA1 digest: OK",
        "Payload SHA256 digest: OK",
        "MD5 digest: OK",
    ] {
        assert!(k.contains(digest), "{k}");
    }
    // The payload is the original's: same files.
    assert_eq!(
        rpm_q(&target, &["-qpl"]),
        rpm_q(&deps, &["-qpl"]),
        "file lists differ"
    );
    assert_eq!(
        dnf_install_deps(&pulled, &ws.join("iso")),
        vec!["xcp-ng-deps-8.3-1.xiso1", "xiso-new-1.0-1"]
    );

    // A second pull-in bumps to .xiso2 and keeps the first require.
    let o = add_rpm(&ws, &[newer.as_os_str(), "--pull-in".as_ref()]);
    assert!(o.status.success(), "{}", text(&o));
    let target = packages.join("xcp-ng-deps-8.3-1.xiso2.noarch.rpm");
    let requires = rpm_q(&target, &["-qp", "--requires"]);
    for r in ["xiso-new", "xiso-other"] {
        assert!(requires.lines().any(|l| l == r), "{requires}");
    }
    assert!(!packages.join("xcp-ng-deps-8.3-1.xiso1.noarch.rpm").exists());
    assert_eq!(
        dnf_install_deps(&pulled, &ws.join("iso")),
        vec![
            "xcp-ng-deps-8.3-1.xiso2",
            "xiso-new-1.0-1",
            "xiso-other-2.0-1"
        ]
    );
}

#[test]
fn pull_in_of_a_package_with_missing_requires_is_refused() {
    let t = common::tmpdir("pull-in-refused");
    let deps = build_named_rpm(t.path(), "xcp-ng-deps", "8.3", &[]);
    let bad = build_named_rpm(t.path(), "xiso-bad", "1.0", &["perl-Nothing", "gnupg-None"]);
    let ws = workspace(t.path(), &deps);
    let before = snapshot(&ws);
    let o = add_rpm(
        &ws,
        &[bad.as_os_str(), "--pull-in".as_ref(), "--json".as_ref()],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(o.stdout.is_empty(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    for missing in [
        "requires perl-Nothing",
        "requires gnupg-None",
        "2 unresolved",
    ] {
        assert!(err.contains(missing), "{err}");
    }
    assert_eq!(
        snapshot(&ws),
        before,
        "a refused pull-in changed the workspace"
    );
}

/// `--refresh-from DIR` with newer and older versions and unrelated packages in
/// subdirectories: exactly the newer ones replace, the newest of several wins.
#[test]
fn refresh_from_replaces_exactly_the_newer_packages() {
    let t = common::tmpdir("refresh");
    let deps = build_named_rpm(
        t.path(),
        "xcp-ng-deps",
        "8.3",
        &["xiso-a", "xiso-b", "xiso-c"],
    );
    let media: Vec<PathBuf> = ["xiso-a", "xiso-b", "xiso-c"]
        .iter()
        .map(|n| build_named_rpm(t.path(), n, "1.0", &[]))
        .collect();
    let mut given: Vec<&Path> = vec![&deps];
    given.extend(media.iter().map(PathBuf::as_path));
    let ws = workspace_with(t.path(), &given);

    let updates = t.path().join("updates");
    let put = |sub: &str, rpm: &Path| {
        let d = updates.join(sub);
        fs::create_dir_all(&d).unwrap();
        fs::copy(rpm, d.join(rpm.file_name().unwrap())).unwrap();
    };
    put(
        "x86_64/Packages/a",
        &build_named_rpm(t.path(), "xiso-a", "1.1", &[]),
    );
    put(
        "x86_64/Packages/b",
        &build_named_rpm(t.path(), "xiso-a", "1.2", &[]),
    );
    put("old", &build_named_rpm(t.path(), "xiso-b", "0.9", &[]));
    put("same", &media[2]);
    put(
        "x86_64/Packages/d",
        &build_named_rpm(t.path(), "xiso-d", "2.0", &[]),
    );

    let o = add_rpm(
        &ws,
        &[
            "--refresh-from".as_ref(),
            updates.as_os_str(),
            "--json".as_ref(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        r["refreshed"],
        serde_json::json!([{
            "package": "xiso-a.noarch",
            "old": "1.0-1",
            "new": "1.2-1",
            "source": updates.join("x86_64/Packages/b/xiso-a-1.2-1.noarch.rpm"),
        }]),
        "{r:#}"
    );
    // Only the new package and the repodata were read; the rest reused.
    assert_eq!(r["read_entries"], 1, "{r:#}");

    // Oracle 1: rpm -qp over the files on disk.
    let mut on_disk: Vec<String> = fs::read_dir(ws.join("iso/Packages"))
        .unwrap()
        .map(|e| {
            rpm_q(
                &e.unwrap().path(),
                &["-qp", "--qf", "%{NAME}-%{VERSION}-%{RELEASE}\\n"],
            )
            .trim()
            .to_string()
        })
        .filter(|n| n.starts_with("xiso-"))
        .collect();
    on_disk.sort();
    assert_eq!(
        on_disk,
        vec!["xiso-a-1.2-1", "xiso-b-1.0-1", "xiso-c-1.0-1"]
    );

    // Oracle 2: dnf repoquery over the new repodata.
    require_tool("dnf");
    let q = ok_output(
        Command::new("dnf")
            .args(["-q", "--disablerepo=*", "--disableplugin=*"])
            .arg(format!(
                "--repofrompath=ws,file://{}",
                ws.join("iso").display()
            ))
            .args(["--setopt=reposdir=/nonexistent", "--setopt=ws.gpgcheck=0"])
            .arg(format!(
                "--setopt=cachedir={}",
                t.path().join("dnf-cache").display()
            ))
            .args([
                "repoquery",
                "--qf",
                "%{name}-%{version}-%{release}",
                "xiso-*",
            ]),
    );
    let mut listed: Vec<String> = String::from_utf8_lossy(&q.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    listed.sort();
    assert_eq!(listed, on_disk);

    // Again: nothing newer is left.
    let o = add_rpm(&ws, &["--refresh-from".as_ref(), updates.as_os_str()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("repository unchanged"),
        "{}",
        text(&o)
    );
    // The text report says old → new.
    put("new-b", &build_named_rpm(t.path(), "xiso-b", "1.1", &[]));
    let o = add_rpm(&ws, &["--refresh-from".as_ref(), updates.as_os_str()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("refreshed xiso-b.noarch 1.0-1 → 1.1-1"),
        "{}",
        text(&o)
    );
}
