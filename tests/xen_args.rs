//! Xen's own arguments: `boot-args --xen-add/--xen-remove/--serial`, `remaster
//! --xen-arg/--remove-xen-arg/--serial` and the plan keys, `inspect` and `diff`
//! showing Xen's and dom0's words apart. Oracles: `bsdtar` reads the packed ISO's
//! menus, `mtype` the grub.cfg inside efiboot.img; the expected menus are computed
//! here from the source's text by plain string edits, never by xiso's parser.
//! (The QEMU proof that the edited lines boot through Xen is tests/boot_fixtures.rs.)

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::{fixture, ok_output, require_tool, run, sha256, tmpdir, xiso};

const EPOCH: &str = "1700000000";
const ISOLINUX: &str = "boot/isolinux/isolinux.cfg";
const GRUB: &str = "EFI/xenserver/grub.cfg";

fn x() -> Command {
    let mut c = xiso();
    c.env("SOURCE_DATE_EPOCH", EPOCH);
    c
}

fn source() -> std::path::PathBuf {
    fixture("genisoimage.iso")
}

/// A file of an ISO as `bsdtar` (libarchive's ISO 9660 reader) extracts it.
fn bsdtar(iso: &Path, path: &str) -> String {
    require_tool("bsdtar");
    let o = ok_output(Command::new("bsdtar").arg("-xOf").arg(iso).arg(path));
    String::from_utf8(o.stdout).unwrap()
}

/// The grub.cfg inside efiboot.img of an ISO: bsdtar extracts the image, mtype
/// reads the FAT.
fn efiboot_grub(iso: &Path, dir: &Path) -> String {
    require_tool("mtype");
    let img = dir.join(format!("efiboot-{}.img", sha256(iso)));
    let o = ok_output(
        Command::new("bsdtar")
            .arg("-xOf")
            .arg(iso)
            .arg("boot/efiboot.img"),
    );
    fs::write(&img, o.stdout).unwrap();
    let o = ok_output(
        Command::new("mtype")
            .arg("-i")
            .arg(&img)
            .arg("::/EFI/xenserver/grub.cfg"),
    );
    String::from_utf8(o.stdout).unwrap()
}

/// Split a menu line into (Xen's words, the kernel's words) by plain text rules:
/// mboot.c32 `APPEND /boot/xen.gz XEN --- /boot/vmlinuz KERNEL --- /install.img`,
/// GRUB `multiboot2 /boot/xen.gz XEN`. `None` for a line that is not Xen's.
fn xen_words(line: &str) -> Option<Vec<String>> {
    let (_, rest) = line.split_once("/boot/xen.gz")?;
    let xen = rest.split(" ---").next().unwrap_or("");
    Some(xen.split_whitespace().map(str::to_string).collect())
}

/// The source menu with the test's Xen edit done by hand on every Xen line:
/// `--serial com2` (com1→com2, keeping 115200,8n1), `--xen-remove dom0_max_vcpus`,
/// `--xen-add iommu=0` (appended at the end of Xen's words). Every other line and
/// every kernel word stays as it was.
fn expected(before: &str) -> String {
    before
        .split_inclusive('\n')
        .map(|l| {
            if xen_words(l).is_none() {
                return l.to_string();
            }
            let l = l
                .replace("com1=115200,8n1", "com2=115200,8n1")
                .replace("console=com1,vga", "console=com2,vga")
                .replace(" dom0_max_vcpus=1-16", "");
            match l.find(" --- ") {
                Some(i) => format!("{} iommu=0{}", &l[..i], &l[i..]),
                None => format!("{} iommu=0\n", l.trim_end_matches('\n')),
            }
        })
        .collect()
}

/// `unpack --no-installer` of the source into `dir/ws`.
fn unpack(dir: &Path) -> std::path::PathBuf {
    let ws = dir.join("ws");
    ok_output(
        x().arg("unpack")
            .arg(source())
            .arg(&ws)
            .arg("--no-installer"),
    );
    ws
}

fn xen_lines(menu: &str) -> Vec<Vec<String>> {
    menu.lines().filter_map(xen_words).collect()
}

#[test]
fn boot_args_edits_xen_words_in_every_menu_copy() {
    // The edit [`expected`] does by hand.
    const EDIT: [&str; 7] = [
        "--serial",
        "com2",
        "--xen-remove",
        "dom0_max_vcpus",
        "--xen-add",
        "iommu=0",
        "--json",
    ];
    let tmp = tmpdir("xen-boot-args");
    let ws = unpack(tmp.path());
    let src = source();
    let (iso_before, grub_before) = (bsdtar(&src, ISOLINUX), bsdtar(&src, GRUB));
    let efi_before = efiboot_grub(&src, tmp.path());
    // The fixture carries Xen lines with a serial console and one without.
    for menu in [&iso_before, &grub_before, &efi_before] {
        let xen = xen_lines(menu);
        assert!(xen.len() >= 2, "{menu}");
        assert!(xen
            .iter()
            .any(|w| w.iter().any(|w| w == "console=com1,vga")));
        assert!(xen.iter().any(|w| !w.iter().any(|w| w.starts_with("com1"))));
    }

    let o = ok_output(x().arg("boot-args").arg(&ws).args(EDIT));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let menus = r["menus"].as_array().unwrap();
    assert_eq!(menus.len(), 3, "{r}");
    for m in menus {
        let n = xen_lines(match m["path"].as_str().unwrap() {
            p if p.starts_with("boot/efiboot.img:") => &efi_before,
            p if p.ends_with("isolinux.cfg") => &iso_before,
            _ => &grub_before,
        })
        .len();
        assert_eq!(m["xen_lines"].as_u64(), Some(n as u64), "{m}");
        assert_eq!(m["xen_changes"].as_array().unwrap().len(), n, "{m}");
        // Only Xen's words were asked for: no kernel line changed.
        assert!(m["changes"].as_array().unwrap().is_empty(), "{m}");
        for c in m["xen_changes"].as_array().unwrap() {
            assert_eq!(c["kernel"], "/boot/xen.gz");
            assert!(c["after"].as_str().unwrap().ends_with(" iommu=0"), "{c}");
        }
    }
    assert_eq!(r["written"].as_array().unwrap().len(), 3);

    let out = tmp.path().join("out.iso");
    ok_output(x().arg("pack").arg(&ws).arg(&out));
    assert_eq!(bsdtar(&out, ISOLINUX), expected(&iso_before));
    assert_eq!(bsdtar(&out, GRUB), expected(&grub_before));
    assert_eq!(efiboot_grub(&out, tmp.path()), expected(&efi_before));

    // Again: nothing changes, nothing is written.
    let o = ok_output(x().arg("boot-args").arg(&ws).args(EDIT));
    let again: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(again["written"].as_array().unwrap().is_empty(), "{again}");
}

#[test]
fn xen_edits_follow_entry_and_refuse_bad_values() {
    let tmp = tmpdir("xen-entry");
    let ws = unpack(tmp.path());
    let snapshot = |ws: &Path| {
        [ISOLINUX, GRUB, "boot/efiboot.img"]
            .map(|p| fs::read(ws.join("iso").join(p)).unwrap())
            .to_vec()
    };
    let before = snapshot(&ws);
    let grub = fs::read_to_string(ws.join("iso").join(GRUB)).unwrap();

    // Refusals: exit 2, one line naming the value, nothing written.
    for (args, needle) in [
        (vec!["--serial", "com9"], "--serial com9"),
        (vec!["--serial", "com2,abc"], "--serial com2,abc"),
        (vec!["--serial", "ttyS1"], "--serial ttyS1"),
        (vec!["--xen-remove", "dom0_mem=1G"], "give the key only"),
        (vec!["--xen-add", "---"], "--xen-add ---"),
        (vec!["--xen-add", "a b"], "without spaces"),
        (
            vec!["--xen-add", "iommu=0", "--xen-remove", "iommu"],
            "name the same key",
        ),
        (
            vec!["--entry", "nope", "--xen-add", "iommu=0"],
            "--entry \"nope\" matches no entry",
        ),
        (vec!["--serial", "com2", "--add", "initrd=/x"], "initrd"),
    ] {
        let o = run(x().arg("boot-args").arg(&ws).args(&args));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(o.stdout.is_empty(), "{args:?}");
    }
    assert_eq!(snapshot(&ws), before);

    // --entry: only that entry's Xen line, in each of the three menus.
    let o = ok_output(x().arg("boot-args").arg(&ws).args([
        "--entry",
        "shell",
        "--xen-add",
        "dom0_mem=max:2048M",
    ]));
    let text = String::from_utf8(o.stdout).unwrap();
    assert_eq!(
        text.matches("1 of 1 Xen lines changed").count(),
        3,
        "{text}"
    );
    assert!(!text.contains("kernel lines"), "{text}");
    let after = fs::read_to_string(ws.join("iso").join(GRUB)).unwrap();
    let changed: Vec<(&str, &str)> = grub
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(changed.len(), 1, "{after}");
    let (a, b) = changed[0];
    assert!(a.contains("/boot/xen.gz") && a.contains("dom0_mem=max:8192M"));
    assert_eq!(b, a.replace("dom0_mem=max:8192M", "dom0_mem=max:2048M"));
    // The changed line belongs to the "shell" entry: the last menuentry opened above it.
    let at = after.lines().position(|l| l == b).unwrap();
    let title = after
        .lines()
        .take(at)
        .filter(|l| l.starts_with("menuentry"))
        .last();
    assert!(title.unwrap().contains("\"shell\""), "{title:?}");
}

#[test]
fn remaster_xen_flags_plan_keys_and_library_give_the_same_iso() {
    let tmp = tmpdir("xen-remaster");
    let flags = tmp.path().join("flags.iso");
    ok_output(x().arg("remaster").arg(source()).arg(&flags).args([
        "--serial",
        "com2,57600",
        "--remove-xen-arg",
        "dom0_max_vcpus",
        "--xen-arg",
        "iommu=0",
        "--boot-arg",
        "xiso.test=1",
    ]));
    let plan = tmp.path().join("plan.toml");
    fs::write(
        &plan,
        "serial = \"com2,57600\"\nremove-xen-arg = [\"dom0_max_vcpus\"]\n\
         xen-arg = [\"iommu=0\"]\nboot-arg = [\"xiso.test=1\"]\n",
    )
    .unwrap();
    let planned = tmp.path().join("planned.iso");
    let o = ok_output(
        x().arg("remaster")
            .arg(source())
            .arg(&planned)
            .arg("--plan")
            .arg(&plan)
            .arg("--json"),
    );
    assert_eq!(sha256(&planned), sha256(&flags), "plan and flags differ");
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let step = r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "boot-args")
        .expect("a boot-args step");
    assert_eq!(step["detail"]["menus"].as_array().unwrap().len(), 3);
    assert!(r["truncation"].is_null(), "{r}");

    // A library caller builds the same plan in code.
    let lib = tmp.path().join("lib.iso");
    let p = xiso::remaster::Plan {
        serial: Some("com2,57600".parse().unwrap()),
        remove_xen_arg: vec!["dom0_max_vcpus".into()],
        xen_arg: vec!["iommu=0".into()],
        boot_arg: vec!["xiso.test=1".into()],
        ..Default::default()
    };
    let opts = xiso::remaster::RemasterOptions {
        date: Some(EPOCH.parse().unwrap()),
        ..Default::default()
    };
    xiso::remaster::remaster(&source(), &lib, &p, &opts).unwrap();
    assert_eq!(sha256(&lib), sha256(&flags), "library and flags differ");

    // What bsdtar reads: Xen's words edited, the kernel's carry the boot-arg.
    let menu = bsdtar(&flags, ISOLINUX);
    for l in menu.lines().filter(|l| l.contains("/boot/xen.gz")) {
        let xen = xen_words(l).unwrap();
        assert!(xen.iter().any(|w| w == "iommu=0"), "{l}");
        assert!(!xen.iter().any(|w| w.starts_with("dom0_max_vcpus")), "{l}");
        assert!(!xen.iter().any(|w| w.contains("com1")), "{l}");
        let kernel = l.split(" --- ").nth(1).unwrap();
        assert!(kernel.ends_with(" xiso.test=1"), "{l}");
    }
    assert!(menu.contains("com2=57600,8n1 console=com2,vga"), "{menu}");
    assert!(efiboot_grub(&flags, tmp.path()).contains("com2=57600,8n1 console=com2,vga"));

    // diff: Xen's words apart from the kernel's.
    // diff exits 1 when the images differ.
    let o = run(x().arg("diff").arg(source()).arg(&flags).arg("--json"));
    assert_eq!(o.status.code(), Some(1));
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let xen = d["boot"]["xen_args"].as_array().unwrap();
    let kernel = d["boot"]["args"].as_array().unwrap();
    assert!(!xen.is_empty() && !kernel.is_empty(), "{d}");
    for c in xen {
        assert!(
            c["added"].as_array().unwrap().contains(&"iommu=0".into()),
            "{c}"
        );
        assert!(!c.to_string().contains("xiso.test"), "{c}");
    }
    for c in kernel {
        assert_eq!(c["added"], serde_json::json!(["xiso.test=1"]), "{c}");
    }
    let o = run(x().arg("diff").arg(source()).arg(&flags));
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains("boot boot/isolinux/isolinux.cfg \"shell\" Xen: + iommu=0"),
        "{text}"
    );
    assert!(
        text.contains("boot boot/isolinux/isolinux.cfg \"shell\": + xiso.test=1"),
        "{text}"
    );

    // Bad values: exit 2, one line, no output file.
    fs::write(&plan, "serial = \"com9\"\n").unwrap();
    for (args, needle) in [
        (vec!["--serial".to_string(), "com2,abc".into()], "com2,abc"),
        (vec!["--plan".into(), plan.display().to_string()], "com9"),
        (vec!["--xen-arg".into(), "a b".into()], "without spaces"),
    ] {
        let bad = tmp.path().join("bad.iso");
        let o = run(x().arg("remaster").arg(source()).arg(&bad).args(&args));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(!bad.exists());
    }
}

#[test]
fn inspect_shows_xen_and_dom0_words_apart() {
    let src = source();
    let o = ok_output(x().arg("inspect").arg(&src).arg("--json"));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let menus = r["boot_menus"].as_array().unwrap();
    let paths: Vec<&str> = menus.iter().map(|m| m["path"].as_str().unwrap()).collect();
    assert!(
        paths.contains(&ISOLINUX) && paths.contains(&GRUB),
        "{paths:?}"
    );
    assert!(paths.contains(&"boot/efiboot.img:EFI/xenserver/grub.cfg"));

    // isolinux.cfg as bsdtar reads it, split by hand at the mboot.c32 separators.
    let text = bsdtar(&src, ISOLINUX);
    let m = menus.iter().find(|m| m["path"] == ISOLINUX).unwrap();
    let xen_entries: Vec<&serde_json::Value> = m["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["xen_args"].is_null())
        .collect();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("/boot/xen.gz"))
        .collect();
    assert_eq!(xen_entries.len(), lines.len());
    for (e, l) in xen_entries.iter().zip(&lines) {
        let parts: Vec<&str> = l.split(" --- ").collect();
        let xen = parts[0].split_once("/boot/xen.gz").unwrap().1.trim();
        let kernel = parts[1]
            .trim()
            .strip_prefix("/boot/vmlinuz")
            .unwrap()
            .trim();
        assert_eq!(e["xen_args"], xen, "{l}");
        assert_eq!(e["kernel_args"], kernel, "{l}");
        assert_eq!(e["hypervisor"], "/boot/xen.gz");
    }

    // Text: per entry a Xen line and a dom0 line.
    let o = ok_output(x().arg("inspect").arg(&src));
    let out = String::from_utf8(o.stdout).unwrap();
    let first = xen_entries[0]["entry"].as_str().unwrap();
    let xen = xen_entries[0]["xen_args"].as_str().unwrap();
    let kernel = xen_entries[0]["kernel_args"].as_str().unwrap();
    assert!(
        out.contains(&format!("  {first:?} Xen  /boot/xen.gz {xen}\n")),
        "{out}"
    );
    assert!(
        out.contains(&format!("  {first:?} dom0 /boot/vmlinuz {kernel}\n")),
        "{out}"
    );
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
