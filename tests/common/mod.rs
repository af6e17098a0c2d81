//! Shared helpers for integration tests: the xiso binary, oracle tools, fixtures.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod testdata;
pub use testdata::testdata_dir;

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

/// Fail if an `xiso` temporary file or workspace (`*.xiso-tmp-*`,
/// `*.xiso-remaster-*`) was left in `dir`.
pub fn assert_no_temp_files(dir: &Path) {
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.contains("xiso-tmp") || n.contains("xiso-remaster")
        })
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

/// `xiso verify ISO` finds nothing (exit 0); its report is the failure message.
#[allow(dead_code)]
pub fn assert_verifies(iso: &Path) {
    let v = run(xiso().arg("verify").arg(iso));
    assert_eq!(
        v.status.code(),
        Some(0),
        "xiso verify {}: {}",
        iso.display(),
        String::from_utf8_lossy(&v.stdout)
    );
}

/// An RPM of the test data (`rpms/createrepo_c/` or `rpms/rpm-rs/`); panics loudly when missing.
pub fn testdata_rpm(name: &str) -> PathBuf {
    let root = testdata_dir();
    for sub in ["rpms/createrepo_c", "rpms/rpm-rs"] {
        let p = root.join(sub).join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("TESTDATA MISSING: {name} not under {}/rpms", root.display());
}

/// Every RPM of the test data, sorted.
pub fn testdata_rpms() -> Vec<PathBuf> {
    let root = testdata_dir();
    let mut v = Vec::new();
    for sub in ["rpms/createrepo_c", "rpms/rpm-rs"] {
        let dir = root.join(sub);
        for e in std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("TESTDATA MISSING: {}: {e}", dir.display()))
        {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "rpm") {
                v.push(p);
            }
        }
    }
    v.sort();
    v
}

/// Build the binary package of `spec` (the whole spec file text) with rpmbuild under
/// `dir/rpmbuild-<tag>/` (SOURCE_DATE_EPOCH=`epoch`, gzip payload unless `defines` say
/// otherwise) and return the one `.rpm` it wrote.
pub fn rpmbuild(dir: &Path, tag: &str, spec: &str, epoch: &str, defines: &[&str]) -> PathBuf {
    require_tool("rpmbuild");
    let top = dir.join(format!("rpmbuild-{tag}"));
    std::fs::create_dir_all(top.join("SPECS")).unwrap();
    let spec_path = top.join(format!("SPECS/{tag}.spec"));
    std::fs::write(&spec_path, spec).unwrap();
    let mut cmd = Command::new("rpmbuild");
    cmd.env("SOURCE_DATE_EPOCH", epoch)
        .arg("--define")
        .arg(format!("_topdir {}", top.display()))
        .args(["--define", "_binary_payload w9.gzdio"]);
    for d in defines {
        cmd.args(["--define", d]);
    }
    let out = run(cmd.args(["--quiet", "-bb"]).arg(&spec_path));
    assert!(
        out.status.success(),
        "rpmbuild failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut rpms: Vec<PathBuf> = Vec::new();
    for arch in std::fs::read_dir(top.join("RPMS")).unwrap() {
        for f in std::fs::read_dir(arch.unwrap().path()).unwrap() {
            rpms.push(f.unwrap().path());
        }
    }
    assert_eq!(rpms.len(), 1, "rpmbuild wrote {rpms:?}");
    rpms.remove(0)
}

/// Build `<name>-<version>-1.noarch.rpm` owning `/usr/bin/<name>` and
/// `/usr/share/<name>/version`, with these `Requires:` (SOURCE_DATE_EPOCH=1700000000).
pub fn build_named_rpm(dir: &Path, name: &str, version: &str, requires: &[&str]) -> PathBuf {
    let req: String = requires
        .iter()
        .map(|r| format!("Requires: {r}\n"))
        .collect();
    let spec = format!(
        "Name: {name}\nVersion: {version}\nRelease: 1\nSummary: xiso add-rpm test package\n\
         License: MIT\nBuildArch: noarch\n{req}\n%description\nA package built by an xiso test.\n\n\
         %install\nmkdir -p %{{buildroot}}/usr/share/{name} %{{buildroot}}/usr/bin\n\
         echo {version} > %{{buildroot}}/usr/share/{name}/version\n\
         printf '#!/bin/sh\\necho {version}\\n' > %{{buildroot}}/usr/bin/{name}\n\n\
         %files\n/usr/share/{name}/version\n%attr(0755,root,root) /usr/bin/{name}\n\n\
         %changelog\n* Tue Nov 14 2023 Test <test@example.com> - {version}-1\n- version {version}\n"
    );
    let rpm = rpmbuild(dir, &format!("{name}-{version}"), &spec, "1700000000", &[]);
    assert!(
        rpm.ends_with(format!("{name}-{version}-1.noarch.rpm")),
        "rpmbuild wrote {}",
        rpm.display()
    );
    rpm
}

/// `gpg --batch --quiet` with its own home directory.
pub fn gpg(home: &Path) -> Command {
    require_tool("gpg");
    let mut c = Command::new("gpg");
    c.env("GNUPGHOME", home).arg("--batch").arg("--quiet");
    c
}

/// A fresh GNUPGHOME `parent/name` (mode 0700, as gpg wants).
pub fn new_gnupg_home(parent: &Path, name: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let home = parent.join(name);
    std::fs::create_dir(&home).unwrap();
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
    home
}

/// The primary-key fingerprints in `gpg --with-colons` output.
pub fn gpg_fingerprints(colons: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(colons);
    let mut out = Vec::new();
    let mut after_pub = false;
    for l in text.lines() {
        let f: Vec<&str> = l.split(':').collect();
        match f[0] {
            "pub" | "sec" => after_pub = true,
            "fpr" if after_pub => {
                out.push(f[9].to_string());
                after_pub = false;
            }
            _ => {}
        }
    }
    out
}

/// A signing key made by gpg in a fresh GNUPGHOME `dir/name`.
pub struct SigningKey {
    /// Armoured secret key file (no passphrase).
    pub secret: PathBuf,
    /// Armoured public key file.
    pub public: PathBuf,
    /// The primary key's fingerprint.
    pub fingerprint: String,
}

/// Generate a signing key (`algo` as `gpg --quick-gen-key` takes it, e.g. ed25519).
pub fn make_signing_key(dir: &Path, name: &str, algo: &str) -> SigningKey {
    let home = new_gnupg_home(dir, &format!("{name}-gnupg"));
    ok_output(gpg(&home).args([
        "--passphrase",
        "",
        "--quick-gen-key",
        &format!("{name} (xiso test) <{name}@example.org>"),
        algo,
        "sign",
        "never",
    ]));
    let secret_bytes = ok_output(gpg(&home).args(["--armor", "--export-secret-keys"])).stdout;
    assert!(secret_bytes.starts_with(b"-----BEGIN PGP PRIVATE KEY BLOCK-----"));
    let secret = dir.join(format!("{name}.sec.asc"));
    std::fs::write(&secret, secret_bytes).unwrap();
    let public = dir.join(format!("{name}.pub.asc"));
    std::fs::write(
        &public,
        ok_output(gpg(&home).args(["--armor", "--export"])).stdout,
    )
    .unwrap();
    let fpr = gpg_fingerprints(
        &ok_output(gpg(&home).args(["--with-colons", "--list-secret-keys"])).stdout,
    );
    assert_eq!(fpr.len(), 1, "{fpr:?}");
    SigningKey {
        secret,
        public,
        fingerprint: fpr[0].clone(),
    }
}

/// A real kernel module (`libcrc32c.ko` of the fixture kernel, from the cached
/// linux-image .deb), written to `dir/libcrc32c.ko`: what depmod can index.
pub fn fixture_module(dir: &Path) -> PathBuf {
    let out = dir.join("libcrc32c.ko");
    if out.is_file() {
        return out;
    }
    let (_, deb) = fixture_kernel_deb();
    require_tool("dpkg-deb");
    let sh = format!(
        "set -o pipefail; dpkg-deb --fsys-tarfile '{}' | tar -xO --wildcards '*/kernel/lib/libcrc32c.ko' > '{}'",
        deb.display(),
        out.display()
    );
    ok_output(Command::new("bash").arg("-c").arg(&sh));
    assert!(
        std::fs::read(&out).unwrap().starts_with(b"\x7fELF"),
        "libcrc32c.ko from {} is not ELF",
        deb.display()
    );
    out
}

/// The fixture kernel's version and its cached linux-image .deb.
pub fn fixture_kernel_deb() -> (String, PathBuf) {
    let kver = std::fs::read_to_string(fixture("kernel-version"))
        .unwrap()
        .trim()
        .to_string();
    let cache = fixtures_dir().join("cache");
    let deb = std::fs::read_dir(&cache)
        .unwrap_or_else(|e| panic!("FIXTURE MISSING: {}: {e}", cache.display()))
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.starts_with(&format!("linux-image-{kver}")) && n.ends_with(".deb")
        })
        .unwrap_or_else(|| {
            panic!(
                "FIXTURE MISSING: linux-image-{kver}*.deb in {}",
                cache.display()
            )
        });
    (kver, deb)
}

/// Debian's dnf configured as the XCP-ng installer configures yum for one repository:
/// only `repo` at `tree` (`--repofrompath`, no other repository), with `gpgkey`
/// `Some(KEY)`: gpgcheck and repo_gpgcheck on and KEY (key1's file) as the only key;
/// `None`: both off. Its cache lives under `dir`; the caller adds `--installroot` and
/// the verb.
pub fn installer_dnf(dir: &Path, repo: &str, tree: &Path, gpgkey: Option<&Path>) -> Command {
    require_tool("dnf");
    let mut c = Command::new("dnf");
    c.args([
        "-y",
        "--releasever=8",
        "--disablerepo=*",
        "--disableplugin=*",
    ])
    .arg(format!("--repofrompath={repo},file://{}", tree.display()))
    .arg("--setopt=reposdir=/nonexistent")
    .arg(format!(
        "--setopt=cachedir={}",
        dir.join("dnf-cache").display()
    ))
    .arg("--setopt=install_weak_deps=0");
    match gpgkey {
        Some(key) => c
            .arg(format!("--setopt={repo}.gpgcheck=1"))
            .arg(format!("--setopt={repo}.repo_gpgcheck=1"))
            .arg(format!("--setopt={repo}.gpgkey=file://{}", key.display())),
        None => c
            .arg(format!("--setopt={repo}.gpgcheck=0"))
            .arg(format!("--setopt={repo}.repo_gpgcheck=0")),
    };
    c
}

/// The messages of the findings of check `check` in a `xiso verify --json` report.
pub fn findings(report: &serde_json::Value, check: &str) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("a verify report has findings")
        .iter()
        .filter(|f| f["check"] == check)
        .map(|f| f["message"].as_str().unwrap_or_default().to_string())
        .collect()
}
