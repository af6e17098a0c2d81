//! The test RPMs and comps file: the shared folder when it is there, else built here.
//!
//! `$XISO_TESTDATA`, else `../shared/testdata` beside the repository (real packages made by
//! createrepo_c's and the `rpm` crate's projects: extra coverage), else (or with
//! `XISO_TESTDATA_BUILD=1`) a tree with the same file names built once per target directory: `scripts/make-testdata.sh` (Debian's rpmbuild
//! and rpmsign: encodings, signatures, source package, hard links, scriptlets) and, below,
//! the `rpm` crate (v4 and v6 packages, payloads in none, gzip, xz and zstd, file
//! attributes, file types, non-ASCII names, rich dependencies).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use rpm_rs::{
    BuildConfig, CompressionType, Dependency, FileOptions, FileVerifyFlags, PackageBuilder,
};

/// Bump when what [`generate`] builds changes: a new directory is built beside the old.
const GENERATION: u32 = 1;
/// Build and file times of the generated packages (2023-11-14).
const EPOCH: u32 = 1_700_000_000;

/// The test data root (it has `rpms/createrepo_c/`, `rpms/rpm-rs/` and `comps/`).
pub fn testdata_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(resolve).clone()
}

fn resolve() -> PathBuf {
    if let Some(d) = std::env::var_os("XISO_TESTDATA") {
        let d = PathBuf::from(d);
        assert!(
            d.join("rpms").is_dir(),
            "TESTDATA MISSING: XISO_TESTDATA={} has no rpms/",
            d.display()
        );
        return d;
    }
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata");
    // XISO_TESTDATA_BUILD=1: the packages built here even beside the shared ones (what a
    // clone without ../shared runs, checked without moving the shared folder away).
    let build = std::env::var_os("XISO_TESTDATA_BUILD").is_some_and(|v| v == "1");
    if shared.join("rpms").is_dir() && !build {
        return shared;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("testdata-v{GENERATION}"));
    // Straight to the process's stderr, past the test harness's capture: a run without
    // the shared packages must say so in its log, passing or not.
    let _ = writeln!(
        std::io::stderr(),
        "TESTDATA: {} {}: the tests use packages built here, in {}",
        shared.display(),
        if build {
            "skipped (XISO_TESTDATA_BUILD=1)"
        } else {
            "is absent"
        },
        dir.display()
    );
    if !dir.join(".xiso-complete").is_file() {
        generate(&dir);
    }
    dir
}

/// Build the whole tree in a sibling and rename it into place, so a test process that
/// stops half way (or another one building at the same time) never leaves a partial tree.
fn generate(dir: &Path) {
    let tmp = dir.with_extension(format!("tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let rpm_rs = tmp.join("rpms/rpm-rs");
    std::fs::create_dir_all(&rpm_rs).unwrap();
    let signed = rpm_rs.join("v4_signed_rpm-basic-with-rsa4096-2.3.4-5.el9.noarch.rpm");
    for (file, pkg) in crate_packages() {
        pkg.write_file(rpm_rs.join(file))
            .unwrap_or_else(|e| panic!("cannot write the test package {file}: {e}"));
    }
    std::fs::copy(rpm_rs.join("v4_rpm-basic-2.3.4-5.el9.noarch.rpm"), &signed).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/make-testdata.sh");
    let out = super::run(
        Command::new("bash")
            .arg(&script)
            .arg(&tmp)
            .arg(&signed)
            .env("SOURCE_DATE_EPOCH", EPOCH.to_string()),
    );
    assert!(
        out.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(tmp.join(".xiso-complete"), "").unwrap();
    if std::fs::rename(&tmp, dir).is_err() {
        // Another process finished first: use its tree.
        assert!(
            dir.join(".xiso-complete").is_file(),
            "cannot move {} to {}",
            tmp.display(),
            dir.display()
        );
        let _ = std::fs::remove_dir_all(&tmp);
    }
}

fn config(v6: bool, compression: CompressionType) -> BuildConfig {
    let base = if v6 {
        BuildConfig::v6()
    } else {
        BuildConfig::v4()
    };
    base.source_date(EPOCH).compression(compression)
}

/// NAME-1.0-1.noarch, RPM v6, payload stored.
fn v6_package(name: &str, summary: &str) -> PackageBuilder {
    let mut b = PackageBuilder::new(name, "1.0", "MIT", "noarch", summary);
    b.release("1")
        .using_config(config(true, CompressionType::None));
    b
}

fn file(path: &str) -> rpm_rs::FileOptionsBuilder {
    FileOptions::new(path)
}

/// The `rpm` crate's packages, under the shared folder's file names.
fn crate_packages() -> Vec<(&'static str, rpm_rs::Package)> {
    use CompressionType::{Gzip, None as Stored, Xz, Zstd};
    vec![
        ("v4_rpm-basic-2.3.4-5.el9.noarch.rpm", basic(false, Stored)),
        (
            "v6_gzip_rpm-basic-2.3.4-5.el9.noarch.rpm",
            basic(true, Gzip),
        ),
        ("v6_xz_rpm-basic-2.3.4-5.el9.noarch.rpm", basic(true, Xz)),
        (
            "v6_zstd_rpm-basic-2.3.4-5.el9.noarch.rpm",
            basic(true, Zstd),
        ),
        (
            "v4_rpm-empty-0-0.x86_64.rpm",
            PackageBuilder::new("rpm-empty", "0", "LGPL", "x86_64", "an empty package")
                .release("0")
                .using_config(config(false, Stored))
                .build()
                .unwrap(),
        ),
        ("v6_rpm-file-attrs-1.0-1.noarch.rpm", file_attrs()),
        ("v6_rpm-file-types-1.0-1.noarch.rpm", file_types()),
        ("v6_rpm-i18n-1.0-1.noarch.rpm", i18n()),
        ("v6_rpm-rich-deps-1.0-1.noarch.rpm", rich_deps()),
    ]
}

/// rpm-basic: an epoch, config, doc and ghost files, directories, every dependency kind.
fn basic(v6: bool, compression: CompressionType) -> rpm_rs::Package {
    let mut b = PackageBuilder::new(
        "rpm-basic",
        "2.3.4",
        "MPL-2.0",
        "noarch",
        "A package for exercising basic features of RPM",
    );
    b.epoch(1)
        .release("5.el9")
        .using_config(config(v6, compression))
        .url("http://bobloblaw.com")
        .vendor("Bob Loblaw's Law Blog")
        .packager("Michael Bluth")
        .group("Development/Tools")
        .description("This package demonstrates basic RPM features: files, directories, config and doc files, ghosts, dependencies.")
        .requires(Dependency::any("/usr/sbin/ego"))
        .requires(Dependency::greater_eq("methylamine", "1.0.0-1"))
        .requires(Dependency::less_eq("morality", "2"))
        .requires(Dependency::any("regret"))
        .provides(Dependency::eq("shock", "33"))
        .conflicts(Dependency::any("shame"))
        .obsoletes(Dependency::less("rpm-bazic", "2.0"))
        .recommends(Dependency::any("yacht"))
        .suggests(Dependency::any("cocaine"))
        .supplements(Dependency::any("comedy"))
        .enhances(Dependency::any("drama"))
        .add_changelog_entry("Walter White <ww@savewalterwhite.com> - 3.3.3-3", "- I'm not in the meth business. I'm in the empire business.", 1_623_672_000)
        .add_changelog_entry("Saul Goodman <saul@goodman.com> - 1:2.3.4-5", "- Did you know that you have rights? The Constitution says you do.", 1_585_915_200);
    let files: [(&str, &[u8], rpm_rs::FileOptionsBuilder); 6] = [
        (
            "/etc/rpm-basic/example_config.toml",
            b"[x]\nvalue = 1\n",
            file("/etc/rpm-basic/example_config.toml")
                .config()
                .noreplace(),
        ),
        (
            "/usr/bin/rpm-basic",
            b"#!/bin/sh\necho 'Hello from rpm-basic'\n",
            file("/usr/bin/rpm-basic").permissions(0o755),
        ),
        (
            "/usr/lib/rpm-basic/module/__init__.py",
            b"",
            file("/usr/lib/rpm-basic/module/__init__.py"),
        ),
        (
            "/usr/lib/rpm-basic/module/hello.py",
            b"def hello():\n    print(\"Hello world!\")\n",
            file("/usr/lib/rpm-basic/module/hello.py"),
        ),
        (
            "/usr/share/doc/rpm-basic/README",
            b"This is a README for rpm-basic\n",
            file("/usr/share/doc/rpm-basic/README").doc(),
        ),
        (
            "/usr/share/rpm-basic/example_data.xml",
            b"<?xml version=\"1.0\"?>\n<data><item id=\"1\">one</item></data>\n",
            file("/usr/share/rpm-basic/example_data.xml"),
        ),
    ];
    for (_, content, opts) in files {
        b.with_file_contents(content, opts).unwrap();
    }
    for d in [
        "/usr/lib/rpm-basic",
        "/usr/lib/rpm-basic/module",
        "/usr/share/doc/rpm-basic",
        "/var/tmp/rpm-basic",
    ] {
        b.with_dir_entry(FileOptions::dir(d)).unwrap();
    }
    b.with_ghost(FileOptions::ghost("/var/log/rpm-basic/basic.log"))
        .unwrap();
    b.build().unwrap()
}

/// rpm-file-attrs: owners, modes, capabilities, every file flag and verify flags.
fn file_attrs() -> rpm_rs::Package {
    let mut b = v6_package(
        "rpm-file-attrs",
        "Test RPM with many different file attributes",
    );
    b.description(
        "Files with owners, modes, capabilities, flags (config, doc, license, readme, \
         artifact, missingok, ghost) and verify attributes.",
    );
    let d = "/opt/rpm-file-attrs";
    let f = |n: &str| file(&format!("{d}/{n}"));
    let entries: Vec<(&str, rpm_rs::FileOptionsBuilder)> = vec![
        ("artifact\n", f("artifact").artifact()),
        ("config\n", f("config").config()),
        (
            "config_noreplace\n",
            f("config_noreplace").config().noreplace(),
        ),
        (
            "different-owner-and-group\n",
            f("different-owner-and-group")
                .user("jane")
                .group("bob")
                .permissions(0o655),
        ),
        ("normal\n", f("dir/normal")),
        ("doc\n", f("doc").doc()),
        (
            "empty_caps\n",
            f("empty_caps").permissions(0o655).caps("=").unwrap(),
        ),
        (
            "empty_caps2\n",
            f("empty_caps2").permissions(0o655).caps("").unwrap(),
        ),
        ("example-binary\n", f("example-binary")),
        (
            "example-confidential-file\n",
            f("example-confidential-file")
                .user("jane")
                .group("jane")
                .permissions(0o600),
        ),
        ("license\n", f("license").license()),
        ("missingok\n", f("missingok").missingok()),
        ("normal\n", f("normal")),
        ("readme\n", f("readme").doc()),
        (
            "verify_all\n",
            f("verify_all").verify(FileVerifyFlags::all_flags()),
        ),
        (
            "verify_none\n",
            f("verify_none").verify(FileVerifyFlags::NONE),
        ),
        (
            "verify_not\n",
            f("verify_not").verify(
                FileVerifyFlags::all_flags() - FileVerifyFlags::MTIME - FileVerifyFlags::FILESIZE,
            ),
        ),
        (
            "verify_some\n",
            f("verify_some").verify(FileVerifyFlags::FILEDIGEST | FileVerifyFlags::MODE),
        ),
        (
            "with_caps\n",
            f("with_caps")
                .permissions(0o655)
                .caps("cap_sys_ptrace,cap_sys_admin=ep")
                .unwrap(),
        ),
        (
            "u jane - \"Jane\" /home/jane\ng bob -\n",
            file("/usr/lib/sysusers.d/rpm-file-attrs.conf"),
        ),
    ];
    for (content, opts) in entries {
        b.with_file_contents(content, opts).unwrap();
    }
    for dir in [
        d.to_string(),
        format!("{d}/dir"),
        format!("{d}/symlink_dir"),
    ] {
        b.with_dir_entry(FileOptions::dir(dir)).unwrap();
    }
    b.with_symlink(FileOptions::symlink(format!("{d}/symlink"), "normal"))
        .unwrap();
    b.with_symlink(FileOptions::symlink(
        format!("{d}/symlink_dir/dir"),
        "../dir",
    ))
    .unwrap();
    b.with_ghost(FileOptions::ghost(format!("{d}/ghost")))
        .unwrap();
    b.requires(Dependency::user("jane"))
        .requires(Dependency::group("bob"))
        .requires(Dependency::group("jane"));
    b.build().unwrap()
}

/// rpm-file-types: a directory, a regular file and a symlink.
fn file_types() -> rpm_rs::Package {
    let mut b = v6_package("rpm-file-types", "Test RPM with different file types");
    b.with_dir_entry(FileOptions::dir("/opt/rpm-file-types/dir"))
        .unwrap();
    b.with_file_contents("text\n", file("/opt/rpm-file-types/file"))
        .unwrap();
    b.with_symlink(FileOptions::symlink("/opt/rpm-file-types/symlink", "file"))
        .unwrap();
    b.build().unwrap()
}

/// rpm-i18n: non-ASCII file names and a UTF-8 description.
fn i18n() -> rpm_rs::Package {
    let mut b = v6_package(
        "rpm-i18n",
        "Test RPM with non-ASCII file names: ü, ß, 日本語",
    );
    b.description(
        "Dateien mit Umlauten: Grüße aus Köln; ファイル名の国際化; Příliš žluťoučký kůň.",
    );
    for name in [
        "Grüße.txt",
        "Köln/straße",
        "日本語.txt",
        "español/año",
        "čeština/kůň",
        "emoji-🦀.txt",
    ] {
        b.with_file_contents(format!("{name}\n"), file(&format!("/opt/rpm-i18n/{name}")))
            .unwrap();
    }
    b.build().unwrap()
}

/// rpm-rich-deps: boolean dependencies (rpm 4.13 and later).
fn rich_deps() -> rpm_rs::Package {
    let mut b = v6_package("rpm-rich-deps", "Test RPM with rich dependencies");
    for dep in [
        "(cowsay >= 3.0 or fortune-mod)",
        "(python3 if python3-libs)",
        "(foo and (bar or baz))",
        "(gtk3 unless (qt5 with qt5-base))",
    ] {
        b.requires(Dependency::any(dep));
    }
    b.recommends(Dependency::any("(vim-enhanced or emacs)"));
    b.with_file_contents("rich\n", file("/opt/rpm-rich-deps/file"))
        .unwrap();
    b.build().unwrap()
}
