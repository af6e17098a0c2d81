//! `xiso demo`: the README's first command works with nothing but xiso, and what it
//! produces is read by independent tools without complaint.

mod common;

use std::process::Command;

use common::*;

#[test]
fn demo_runs_end_to_end_and_its_images_read_cleanly() {
    let t = tempfile::tempdir().unwrap();
    let out = run(xiso().arg("demo").arg(t.path()));
    assert!(
        out.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        "4. verified it           clean",
        "+ Packages/demo-driver-1.0-1.noarch.rpm",
        "package added: demo-driver-1.0-1.noarch",
        "boot boot/isolinux/isolinux.cfg \"install\": + xiso.demo=1",
        "boot boot/efiboot.img:EFI/xenserver/grub.cfg \"install\": + xiso.demo=1",
        "installer ~ etc/xiso-marker",
    ] {
        assert!(text.contains(want), "demo output lacks {want:?}:\n{text}");
    }
    let remastered = t.path().join("remastered.iso");
    require_tool("xorriso");
    let x = run(Command::new("xorriso")
        .arg("-indev")
        .arg(&remastered)
        .args(["-report_el_torito", "plain", "-find", "/", "-exec", "lsdl"]));
    assert!(
        x.status.success(),
        "xorriso: {}",
        String::from_utf8_lossy(&x.stderr)
    );
    let listing = String::from_utf8_lossy(&x.stdout);
    assert!(
        listing.contains("demo-driver-1.0-1.noarch.rpm"),
        "{listing}"
    );
    // The RPM built from built-in data is one rpm(8) reads, and the repodata names it.
    require_tool("rpm");
    let q = run(Command::new("rpm")
        .args(["-qp", "--qf", "%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}"])
        .arg(t.path().join("demo-driver-1.0-1.noarch.rpm")));
    assert_eq!(
        String::from_utf8_lossy(&q.stdout),
        "demo-driver-1.0-1.noarch",
        "{}",
        String::from_utf8_lossy(&q.stderr)
    );
    // Also the sample's efiboot.img is a FAT fsck accepts.
    require_tool("fsck.fat");
    require_tool("bsdtar");
    let img = t.path().join("efiboot.img");
    let e = run(Command::new("bsdtar")
        .arg("-xOf")
        .arg(&remastered)
        .arg("boot/efiboot.img"));
    std::fs::write(&img, &e.stdout).unwrap();
    let f = run(Command::new("fsck.fat").arg("-n").arg(&img));
    assert!(
        f.status.success(),
        "fsck.fat: {}",
        String::from_utf8_lossy(&f.stdout)
    );
    require_tool("bsdtar");
    let b = run(Command::new("bsdtar")
        .arg("-xOf")
        .arg(&remastered)
        .arg("boot/isolinux/isolinux.cfg"));
    assert!(String::from_utf8_lossy(&b.stdout).contains("xiso.demo=1"));
    // The patched installer file, read with bsdtar | bunzip2 | cpio.
    require_tool("cpio");
    let sh = format!(
        "set -o pipefail; bsdtar -xOf '{}' install.img | bunzip2 | cpio -i --quiet --to-stdout etc/xiso-marker",
        remastered.display()
    );
    let c = run(Command::new("bash").arg("-c").arg(&sh));
    assert!(c.status.success(), "{}", String::from_utf8_lossy(&c.stderr));
    assert_eq!(String::from_utf8_lossy(&c.stdout), "demo-remastered\n");
    // Running it again replaces the previous demo output.
    let again = run(xiso().arg("demo").arg(t.path()));
    assert!(
        again.status.success(),
        "second demo run failed: {}",
        String::from_utf8_lossy(&again.stderr)
    );
}
