//! A kernel-module RPM installed into the installer root with `xiso add-rpm
//! --installer`: xiso regenerates the kernel's module indexes, and they are the
//! ones Debian's `depmod -b` computes for the same modules.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{fixture, ok_output, require_tool, run, tmpdir, xiso};

/// The fixture kernel's version and its modules, extracted from the cached .deb.
fn kernel_modules(dir: &Path) -> (String, PathBuf) {
    let (kver, deb) = common::fixture_kernel_deb();
    require_tool("dpkg-deb");
    let x = dir.join("kernel-deb");
    ok_output(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&x));
    (kver.clone(), x.join("lib/modules").join(&kver))
}

/// `xiso-kmod-test-1.0-1.x86_64.rpm` holding xfs.ko and libcrc32c.ko (xfs needs it).
fn module_rpm(dir: &Path, kver: &str, modules: &Path) -> PathBuf {
    require_tool("rpmbuild");
    let top = dir.join("rpmbuild");
    std::fs::create_dir_all(top.join("SPECS")).unwrap();
    let files = ["kernel/fs/xfs/xfs.ko", "kernel/lib/libcrc32c.ko"];
    let mut install = String::new();
    let mut list = String::new();
    for f in files {
        let src = modules.join(f);
        assert!(src.is_file(), "no {} in the fixture kernel", src.display());
        let dest = format!("/lib/modules/{kver}/{f}");
        install.push_str(&format!(
            "mkdir -p %{{buildroot}}$(dirname {dest})\ncp {} %{{buildroot}}{dest}\n",
            src.display()
        ));
        list.push_str(&format!("{dest}\n"));
    }
    let spec = top.join("SPECS/kmod.spec");
    std::fs::write(
        &spec,
        format!(
            "Name: xiso-kmod-test\nVersion: 1.0\nRelease: 1\nSummary: modules\nLicense: GPL\n\
             %description\nxfs and libcrc32c from the fixture kernel\n\
             %install\n{install}\n%files\n{list}"
        ),
    )
    .unwrap();
    let o = run(Command::new("rpmbuild")
        .arg("--define")
        .arg(format!("_topdir {}", top.display()))
        .args(["--define", "__os_install_post %{nil}"])
        .args(["--define", "_build_id_links none"])
        .args(["--quiet", "-bb"])
        .arg(&spec));
    assert!(
        o.status.success(),
        "rpmbuild: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let rpm = top.join("RPMS/x86_64/xiso-kmod-test-1.0-1.x86_64.rpm");
    assert!(rpm.is_file(), "rpmbuild wrote no {}", rpm.display());
    rpm
}

#[test]
fn module_rpm_in_the_installer_gets_the_indexes_depmod_computes() {
    require_tool("depmod");
    let t = tmpdir("kmod-rpm");
    let (kver, modules) = kernel_modules(t.path());
    let rpm = module_rpm(t.path(), &kver, &modules);
    let ws = t.path().join("ws");
    ok_output(
        xiso()
            .arg("unpack")
            .arg(fixture("genisoimage.iso"))
            .arg(&ws),
    );
    ok_output(xiso().arg("add-rpm").arg("--installer").arg(&ws).arg(&rpm));

    let ours = ws.join("installer/lib/modules").join(&kver);
    let dep = std::fs::read_to_string(ours.join("modules.dep"))
        .unwrap_or_else(|e| panic!("no modules.dep after add-rpm --installer: {e}"));
    assert!(
        dep.contains("kernel/fs/xfs/xfs.ko: kernel/lib/libcrc32c.ko"),
        "{dep}"
    );
    // The same modules in a fresh root, indexed by Debian's depmod.
    let reference = t.path().join("reference");
    let refmods = reference.join("lib/modules").join(&kver);
    for f in ["kernel/fs/xfs/xfs.ko", "kernel/lib/libcrc32c.ko"] {
        std::fs::create_dir_all(refmods.join(f).parent().unwrap()).unwrap();
        std::fs::copy(ours.join(f), refmods.join(f)).unwrap();
    }
    ok_output(Command::new("depmod").arg("-b").arg(&reference).arg(&kver));
    for f in [
        "modules.dep",
        "modules.dep.bin",
        "modules.alias",
        "modules.alias.bin",
        "modules.symbols",
        "modules.symbols.bin",
    ] {
        assert!(
            std::fs::read(ours.join(f)).unwrap() == std::fs::read(refmods.join(f)).unwrap(),
            "{f} differs from depmod -b"
        );
    }
    // pack puts them into install.img.
    let out = t.path().join("out.iso");
    ok_output(xiso().arg("pack").arg(&ws).arg(&out));
    require_tool("bsdtar");
    let sh = format!(
        "set -o pipefail; bsdtar -xOf '{}' install.img | bunzip2 | bsdtar -tf -",
        out.display()
    );
    let l = ok_output(Command::new("bash").arg("-c").arg(&sh));
    let listing = String::from_utf8_lossy(&l.stdout);
    assert!(
        listing.contains(&format!("lib/modules/{kver}/modules.dep.bin")),
        "{listing}"
    );
}
