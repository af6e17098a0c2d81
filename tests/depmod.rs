//! `xiso::kmod::depmod` against Debian's `depmod -b ROOT KVER` (kmod) on the real
//! modules of the fixture kernel package: every index file must be byte-identical,
//! and `modprobe`/`modinfo` must answer the same from both roots. Damaged modules
//! are errors naming the file and offset, and leave no index behind.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use common::{
    assert_no_temp_files, fixture_kernel_deb, ok_output, require_tool, run, tmpdir, xiso,
};

/// Every file depmod writes, in its order.
const OUTPUTS: [&str; 10] = [
    "modules.dep",
    "modules.dep.bin",
    "modules.alias",
    "modules.alias.bin",
    "modules.softdep",
    "modules.symbols",
    "modules.symbols.bin",
    "modules.builtin.bin",
    "modules.builtin.alias.bin",
    "modules.devname",
];

/// The fixture kernel's version (`fixtures/kernel-version`).
fn kver() -> String {
    fixture_kernel_deb().0
}

/// Unpack the fixture kernel package into `root` (lib/modules/KVER, boot/).
fn extract_kernel(root: &Path) {
    require_tool("dpkg-deb");
    ok_output(
        Command::new("dpkg-deb")
            .arg("-x")
            .arg(fixture_kernel_deb().1)
            .arg(root),
    );
}

fn sh(script: &str, dir: &Path) {
    ok_output(Command::new("sh").arg("-ec").arg(script).current_dir(dir));
}

fn count_modules(dir: &Path) -> usize {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter(|e| {
            let n = e.file_name().to_string_lossy();
            e.file_type().is_file()
                && [".ko", ".ko.xz", ".ko.zst", ".ko.gz"]
                    .iter()
                    .any(|x| n.ends_with(x))
        })
        .count()
}

/// Run Debian's depmod on `root`, returning the seconds it took.
fn run_depmod(root: &Path, kver: &str) -> f64 {
    require_tool("depmod");
    let t = Instant::now();
    ok_output(Command::new("depmod").arg("-b").arg(root).arg(kver));
    t.elapsed().as_secs_f64()
}

/// Run ours on `root`, returning the report and the seconds it took.
fn run_ours(root: &Path, kver: &str) -> (xiso::kmod::DepmodReport, f64) {
    let t = Instant::now();
    let r = xiso::kmod::depmod(root, kver).unwrap_or_else(|e| panic!("depmod failed: {e}"));
    (r, t.elapsed().as_secs_f64())
}

/// Assert each index file is byte-identical; show the first differing line of text files.
fn assert_same_indexes(ours: &Path, theirs: &Path) {
    for name in OUTPUTS {
        let a = fs::read(ours.join(name)).unwrap_or_else(|e| panic!("ours: {name}: {e}"));
        let b = fs::read(theirs.join(name)).unwrap_or_else(|e| panic!("depmod: {name}: {e}"));
        if a == b {
            continue;
        }
        if !name.ends_with(".bin") {
            let (ta, tb) = (String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
            let (la, lb): (Vec<_>, Vec<_>) = (ta.lines().collect(), tb.lines().collect());
            let i = la
                .iter()
                .zip(&lb)
                .position(|(x, y)| x != y)
                .unwrap_or(la.len().min(lb.len()));
            panic!(
                "{name} differs at line {} (ours {} lines, depmod {}):\n ours:   {:?}\n depmod: {:?}",
                i + 1,
                la.len(),
                lb.len(),
                la.get(i),
                lb.get(i)
            );
        }
        let at = a
            .iter()
            .zip(&b)
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(b.len()));
        panic!(
            "{name} differs from byte {at} (ours {} bytes, depmod {} bytes)",
            a.len(),
            b.len()
        );
    }
}

/// `modprobe`/`modinfo` answers from a root, with the root's path taken out.
fn modprobe_answers(root: &Path, kver: &str, modules: &[&str], aliases: &[&str]) -> String {
    require_tool("modprobe");
    require_tool("modinfo");
    let mut all = String::new();
    let mut ask = |args: &[&str]| {
        let o = run(Command::new(args[0]).args(&args[1..]));
        all.push_str(&format!(
            "$ {}\n{}{}",
            args[1..].join(" "),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ));
    };
    let r = root.to_str().unwrap();
    for m in modules {
        ask(&["modprobe", "-d", r, "-S", kver, "--show-depends", m]);
        ask(&["modinfo", "-b", r, "-k", kver, "-F", "depends", m]);
    }
    for a in aliases {
        ask(&["modprobe", "-d", r, "-S", kver, "-R", a]);
    }
    all.replace(r, "ROOT")
}

/// The whole module tree of the fixture kernel, as shipped (modules.order,
/// modules.builtin, modules.builtin.modinfo) plus a module moved out of the order
/// file's reach and two compressed ones.
#[test]
fn whole_kernel_tree_matches_depmod() {
    let kver = kver();
    let t = tmpdir("depmod-whole");
    let ours = t.path().join("ours");
    let theirs = t.path().join("depmod");
    extract_kernel(&ours);
    let mods = ours.join("lib/modules").join(&kver);
    sh(
        "mkdir extra && mv kernel/lib/libcrc32c.ko extra/ \
         && xz --check=crc32 kernel/fs/btrfs/btrfs.ko \
         && zstd -q --rm kernel/drivers/net/virtio_net.ko",
        &mods,
    );
    ok_output(Command::new("cp").arg("-a").arg(&ours).arg(&theirs));

    let (report, ours_secs) = run_ours(&ours, &kver);
    let depmod_secs = run_depmod(&theirs, &kver);
    eprintln!(
        "{} modules: xiso {ours_secs:.2}s, depmod {depmod_secs:.2}s",
        report.modules
    );
    assert_eq!(report.modules, count_modules(&mods));
    assert!(report.modules > 1000, "{}", report.modules);
    assert_eq!(report.files, OUTPUTS);
    assert_eq!(report.dir, mods);
    // Debian's boot/System.map is a placeholder: kernel symbols cannot be told apart.
    assert!(!report.kernel_symbols_checked);
    assert!(report.unresolved.is_empty());
    assert_same_indexes(&mods, &theirs.join("lib/modules").join(&kver));
    assert_no_temp_files(&mods);

    let dep = fs::read_to_string(mods.join("modules.dep")).unwrap();
    let btrfs = dep
        .lines()
        .find(|l| l.starts_with("kernel/fs/btrfs/btrfs.ko.xz:"))
        .expect("btrfs.ko.xz listed");
    assert!(btrfs.contains("extra/libcrc32c.ko"), "{btrfs}");

    let modules = ["btrfs", "xfs", "virtio_net", "libcrc32c", "nfsd", "ext4"];
    let aliases = [
        "fs-btrfs",
        "virtio:d00000001v00001AF4",
        "symbol:crc32c",
        "devname:fuse",
    ];
    let a = modprobe_answers(&ours, &kver, &modules, &aliases);
    let b = modprobe_answers(&theirs, &kver, &modules, &aliases);
    assert_eq!(a, b);
    assert!(
        a.contains("insmod ROOT/lib/modules/") && a.contains("btrfs.ko.xz"),
        "{a}"
    );
}

/// No modules.order (every module in kmod's hash order), no builtin lists (empty
/// builtin indexes), `lib` a symlink to `usr/lib`, `.ko.xz`/`.ko.zst` modules, modules
/// of one name in `updates/`, `extra/`, `weak-updates/` and `kernel/` chosen by the
/// root's `etc/depmod.d` (compared with `depmod -C` on it), `build`/`source` skipped.
#[test]
fn hash_order_usr_lib_and_updates_match_depmod() {
    let kver = kver();
    let t = tmpdir("depmod-hash");
    let ours = t.path().join("ours");
    let theirs = t.path().join("depmod");
    extract_kernel(&ours);
    sh(
        "mkdir -p usr/lib && mv lib/* usr/lib/ && rmdir lib && ln -s usr/lib lib",
        &ours,
    );
    let mods = ours.join("usr/lib/modules").join(&kver);
    sh(
        "rm modules.order modules.builtin modules.builtin.modinfo \
         && for m in kernel/fs/xfs/xfs.ko kernel/lib/libcrc32c.ko kernel/net/sched/*.ko; do xz --check=crc32 $m; done \
         && for m in kernel/drivers/block/*.ko; do zstd -q --rm $m; done \
         && mkdir -p updates build source \
         && cp kernel/drivers/net/virtio_net.ko updates/ \
         && cp kernel/fs/fuse/fuse.ko build/ && cp kernel/fs/fuse/fuse.ko source/ \
         && mkdir extra weak-updates skipme \
         && cp kernel/fs/xfs/xfs.ko.xz extra/ \
         && cp kernel/drivers/block/loop.ko.zst weak-updates/ \
         && cp kernel/drivers/block/nbd.ko.zst updates/ \
         && cp kernel/fs/fuse/fuse.ko skipme/",
        &mods,
    );
    // EL7's dist.conf order, an override and an exclude, read from the root.
    fs::create_dir_all(ours.join("etc/depmod.d")).unwrap();
    fs::write(
        ours.join("etc/depmod.d/dist.conf"),
        "# kmod packaging\nsearch updates extra built-in weak-updates\n\
         override nbd * kernel/drivers/block\nexclude skipme\n",
    )
    .unwrap();
    ok_output(Command::new("cp").arg("-a").arg(&ours).arg(&theirs));

    let (report, ours_secs) = run_ours(&ours, &kver);
    let t0 = Instant::now();
    ok_output(
        Command::new("depmod")
            .arg("-b")
            .arg(&theirs)
            .arg("-C")
            .arg(theirs.join("etc/depmod.d"))
            .arg(&kver),
    );
    let depmod_secs = t0.elapsed().as_secs_f64();
    eprintln!(
        "{} modules (hash order): xiso {ours_secs:.2}s, depmod {depmod_secs:.2}s",
        report.modules
    );
    assert_eq!(report.dir, mods);
    let theirs_mods = theirs.join("usr/lib/modules").join(&kver);
    assert_same_indexes(&mods, &theirs_mods);
    assert_eq!(
        fs::metadata(mods.join("modules.builtin.bin"))
            .unwrap()
            .len(),
        0
    );
    let dep = fs::read_to_string(mods.join("modules.dep")).unwrap();
    assert!(dep.contains("\nupdates/virtio_net.ko:"), "updates/ wins");
    assert!(!dep.contains("kernel/drivers/net/virtio_net.ko:"));
    assert!(!dep.contains("build/") && !dep.contains("source/") && !dep.contains("skipme/"));
    assert!(dep.contains("\nextra/xfs.ko.xz:") && !dep.contains("kernel/fs/xfs/xfs.ko.xz:"));
    assert!(dep.contains("\nkernel/drivers/block/nbd.ko.zst:") && !dep.contains("updates/nbd"));
    assert!(dep.contains("\nkernel/drivers/block/loop.ko.zst:") && !dep.contains("weak-updates/"));

    let modules = ["xfs", "virtio_net", "loop", "act_ct"];
    let a = modprobe_answers(&ours, &kver, &modules, &["fs-xfs", "block-major-7-0"]);
    let b = modprobe_answers(&theirs, &kver, &modules, &["fs-xfs", "block-major-7-0"]);
    assert_eq!(a, b);
}

/// A small root: three real modules of the fixture kernel (btrfs's helpers).
fn small_root(t: &Path, kver: &str) -> (PathBuf, PathBuf) {
    let full = t.join("full");
    extract_kernel(&full);
    let src = full.join("lib/modules").join(kver);
    let root = t.join("root");
    let mods = root.join("lib/modules").join(kver);
    fs::create_dir_all(mods.join("kernel")).unwrap();
    for m in [
        "kernel/lib/libcrc32c.ko",
        "kernel/lib/raid6/raid6_pq.ko",
        "kernel/crypto/xor.ko",
    ] {
        let name = Path::new(m).file_name().unwrap();
        fs::copy(src.join(m), mods.join("kernel").join(name)).unwrap();
    }
    (root, mods)
}

/// Little-endian reads/writes of a module's section headers, for damaging them.
fn section_header_of(elf: &[u8], name: &str) -> usize {
    let u16_at = |o: usize| u16::from_le_bytes([elf[o], elf[o + 1]]) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(elf[o..o + 4].try_into().unwrap()) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(elf[o..o + 8].try_into().unwrap()) as usize;
    let (shoff, shnum, shstrndx) = (u64_at(0x28), u16_at(0x3c), u16_at(0x3e));
    let names = u64_at(shoff + shstrndx * 64 + 0x18);
    (0..shnum)
        .map(|i| shoff + i * 64)
        .find(|&h| {
            let at = names + u32_at(h);
            elf[at..].starts_with(name.as_bytes()) && elf[at + name.len()] == 0
        })
        .expect("section present")
}

/// Run ours on a root holding one damaged module: an error naming the file and
/// the offset, no index written, no temporary left; the CLI exits 2 with one line.
fn assert_rejected(root: &Path, mods: &Path, kver: &str, bad: &str, offset: Option<u64>) {
    let e = xiso::kmod::depmod(root, kver).expect_err("a damaged module must be an error");
    let msg = e.to_string();
    assert_eq!(e.file(), Some(mods.join(bad).as_path()), "{msg}");
    if let Some(off) = offset {
        assert_eq!(e.offset(), Some(off), "{msg}");
        assert!(msg.contains(&format!("offset {off}")), "{msg}");
    }
    for f in OUTPUTS {
        assert!(!mods.join(f).exists(), "{f} written despite: {msg}");
    }
    assert_no_temp_files(mods);

    let o = run(xiso().arg("depmod").arg(root).arg(kver));
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(bad) && !err.contains("panicked"), "{err}");
}

#[test]
fn damaged_modules_are_errors_naming_file_and_offset() {
    let kver = kver();
    let t = tmpdir("depmod-bad");
    let (root, mods) = small_root(t.path(), &kver);
    let good = fs::read(mods.join("kernel/libcrc32c.ko")).unwrap();

    // Truncated: the section header table (at the end) is gone; e_shoff is at 0x28.
    let bad = "kernel/truncated.ko";
    fs::write(mods.join(bad), &good[..good.len() / 2]).unwrap();
    assert_rejected(&root, &mods, &kver, bad, Some(0x28));
    fs::remove_file(mods.join(bad)).unwrap();

    // .modinfo's offset points past the end: the error is at its section header.
    let mut elf = good.clone();
    let h = section_header_of(&elf, ".modinfo");
    elf[h + 0x18..h + 0x20].copy_from_slice(&(good.len() as u64 + 4096).to_le_bytes());
    let bad = "kernel/bad-section.ko";
    fs::write(mods.join(bad), &elf).unwrap();
    assert_rejected(&root, &mods, &kver, bad, Some(h as u64));
    fs::remove_file(mods.join(bad)).unwrap();

    // A truncated xz stream.
    let bad = "kernel/cut.ko.xz";
    fs::write(mods.join("kernel/cut.ko"), &good).unwrap();
    sh("xz --check=crc32 kernel/cut.ko", &mods);
    let xz = fs::read(mods.join(bad)).unwrap();
    fs::write(mods.join(bad), &xz[..xz.len() - 40]).unwrap();
    assert_rejected(&root, &mods, &kver, bad, None);
    fs::remove_file(mods.join(bad)).unwrap();

    // Not an ELF file at all.
    let bad = "kernel/text.ko";
    fs::write(mods.join(bad), "not a module\n").unwrap();
    assert_rejected(&root, &mods, &kver, bad, Some(0));
    fs::remove_file(mods.join(bad)).unwrap();

    // With the damage gone, the same root indexes like depmod (with a modules.order
    // naming a module that is not there and leaving one out).
    fs::write(
        mods.join("modules.order"),
        "kernel/xor.ko\nkernel/gone.ko\nkernel/libcrc32c.ko\n",
    )
    .unwrap();
    let theirs = t.path().join("theirs");
    ok_output(Command::new("cp").arg("-a").arg(&root).arg(&theirs));
    run_ours(&root, &kver);
    run_depmod(&theirs, &kver);
    assert_same_indexes(&mods, &theirs.join("lib/modules").join(&kver));
}

/// `depmod -e -F System.map` warnings, as (module path under the modules dir, symbol).
fn depmod_e(root: &Path, kver: &str, map: &Path) -> Vec<(String, String)> {
    require_tool("depmod");
    let o = ok_output(
        Command::new("depmod")
            .arg("-e")
            .arg("-F")
            .arg(map)
            .arg("-b")
            .arg(root)
            .arg(kver),
    );
    let prefix = format!("{}/", root.join("lib/modules").join(kver).display());
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("depmod: WARNING: ")?;
            let (module, symbol) = rest.split_once(" needs unknown symbol ")?;
            let module = module.strip_prefix(&prefix)?;
            Some((module.to_string(), symbol.to_string()))
        })
        .collect()
}

/// With a `boot/System.map-KVER`, the needed symbols neither a module nor the kernel
/// provides are reported like `depmod -e -F` warns about them, and are not fatal.
#[test]
fn unresolved_symbols_match_depmod_e() {
    let kver = kver();
    let t = tmpdir("depmod-unresolved");
    let (root, mods) = small_root(t.path(), &kver);
    let map = root.join("boot").join(format!("System.map-{kver}"));
    fs::create_dir_all(map.parent().unwrap()).unwrap();

    // A map exporting nothing: every kernel symbol the modules need is unresolved.
    fs::write(&map, "ffffffff81000000 T _stext\n").unwrap();
    let all = depmod_e(&root, &kver, &map);
    assert!(all.len() > 20, "{all:?}");
    let (report, _) = run_ours(&root, &kver);
    assert!(report.kernel_symbols_checked);
    let ours: Vec<_> = report
        .unresolved
        .iter()
        .map(|u| (u.module.clone(), u.symbol.clone()))
        .collect();
    assert_eq!(ours, all);

    // A map exporting all of them but one.
    let missing = all[0].1.clone();
    let mut text = String::new();
    for (_, s) in &all {
        if *s != missing {
            text.push_str(&format!("ffffffff81000000 r __ksymtab_{s}\n"));
        }
    }
    fs::write(&map, text).unwrap();
    let expected = depmod_e(&root, &kver, &map);
    assert!(!expected.is_empty() && expected.iter().all(|(_, s)| *s == missing));
    let (report, _) = run_ours(&root, &kver);
    let ours: Vec<_> = report
        .unresolved
        .iter()
        .map(|u| (u.module.clone(), u.symbol.clone()))
        .collect();
    assert_eq!(ours, expected);
    assert!(mods.join("modules.dep").exists());
}

/// Thousands of randomly damaged copies of a real module (bytes changed, header
/// fields pointed anywhere, cut short): every one parses or is an error, none panics.
#[test]
fn random_damage_never_panics() {
    let kver = kver();
    let t = tmpdir("depmod-fuzz");
    let (_, mods) = small_root(t.path(), &kver);
    let good = fs::read(mods.join("kernel/raid6_pq.ko")).unwrap();
    assert!(xiso::kmod::elf::parse(&good).is_ok());
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut ok, mut err) = (0, 0);
    for round in 0..3000 {
        let mut elf = good.clone();
        match round % 3 {
            0 => {
                for _ in 0..1 + next() % 8 {
                    let at = (next() % elf.len() as u64) as usize;
                    elf[at] = next() as u8;
                }
            }
            1 => {
                // A header field (e_shoff, e_shnum, e_shstrndx) or a section header's
                // name/offset/size set to something random.
                let shoff = u64::from_le_bytes(good[0x28..0x30].try_into().unwrap()) as usize;
                let fields = [0x28usize, 0x3c, 0x3e];
                let at = if next() % 2 == 0 {
                    fields[(next() % 3) as usize]
                } else {
                    let shnum = u16::from_le_bytes([good[0x3c], good[0x3d]]) as u64;
                    shoff + (next() % shnum) as usize * 64 + [0, 0x18, 0x20][(next() % 3) as usize]
                };
                let v = next().to_le_bytes();
                let n = if at == 0x3c || at == 0x3e { 2 } else { 8 };
                elf[at..at + n].copy_from_slice(&v[..n]);
            }
            _ => elf.truncate((next() % elf.len() as u64) as usize),
        }
        match xiso::kmod::elf::parse(&elf) {
            Ok(_) => ok += 1,
            Err(e) => {
                assert!(!e.message().is_empty());
                err += 1;
            }
        }
    }
    eprintln!("damaged copies: {ok} parsed, {err} rejected");
    assert!(err > 1000, "{ok} parsed, {err} rejected");
}

/// Modules without `__crc_` symbols (kernels built without CONFIG_MODVERSIONS):
/// exports come from `__ksymtab_strings`, as in depmod.
#[test]
fn ksymtab_strings_exports_match_depmod() {
    let kver = kver();
    let t = tmpdir("depmod-ksymtab");
    let (root, mods) = small_root(t.path(), &kver);
    let full = t.path().join("full/lib/modules").join(&kver);
    fs::copy(
        full.join("kernel/fs/btrfs/btrfs.ko"),
        mods.join("kernel/btrfs.ko"),
    )
    .unwrap();
    for e in fs::read_dir(mods.join("kernel")).unwrap() {
        let p = e.unwrap().path();
        let mut b = fs::read(&p).unwrap();
        let mut n = 0;
        for i in 0..b.len().saturating_sub(6) {
            if &b[i..i + 6] == b"__crc_" {
                b[i + 2] = b'x';
                n += 1;
            }
        }
        assert!(n > 0 || p.ends_with("btrfs.ko"), "{}", p.display());
        fs::write(&p, b).unwrap();
    }
    // A modules.order whose last line lacks its newline is ignored by depmod.
    fs::write(mods.join("modules.order"), "kernel/xor.ko\nkernel/btrfs.ko").unwrap();
    let theirs = t.path().join("theirs");
    ok_output(Command::new("cp").arg("-a").arg(&root).arg(&theirs));
    run_ours(&root, &kver);
    run_depmod(&theirs, &kver);
    assert_same_indexes(&mods, &theirs.join("lib/modules").join(&kver));
    let dep = fs::read_to_string(mods.join("modules.dep")).unwrap();
    let line = dep
        .lines()
        .find(|l| l.starts_with("kernel/btrfs.ko:"))
        .unwrap();
    for d in ["libcrc32c", "raid6_pq", "xor"] {
        assert!(line.contains(&format!("kernel/{d}.ko")), "{line}");
    }
    let symbols = fs::read_to_string(mods.join("modules.symbols")).unwrap();
    assert!(
        symbols.contains("alias symbol:crc32c libcrc32c\n"),
        "{symbols}"
    );
}
