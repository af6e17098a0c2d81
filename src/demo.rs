//! `xiso demo OUTDIR`: the whole job end to end on a built-in sample, with nothing
//! but this crate. It writes an XCP-ng-shaped installer ISO from built-in data (a
//! real RPM repository, a bzip2 install.img with root-only entries, a FAT
//! efiboot.img; the boot binaries are placeholders: the sample shows the structure,
//! it does not boot), writes a remaster plan, runs `remaster` with it (one RPM
//! added, one installer file patched, one boot argument), `verify`s the result and
//! `diff`s it against the sample.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::boot::hybrid;
use crate::error::{Error, Result};
use crate::iso::write::{BootEntrySpec, BootSpec, FileData, IsoTree, Layout, Meta, WriteOptions};
use crate::iso::IsoImage;
use crate::remaster::{remaster, Plan, RemasterOptions, StepReport};
use crate::workspace;

/// Fixed time of every sample timestamp (2023-11-14 22:13:20 UTC).
const SAMPLE_TIME: i64 = 1_700_000_000;

const TREEINFO: &str = "[general]\nfamily = XCP-ng\nname = XCP-ng 8.3.0\nversion = 8.3.0\narch = x86_64\nplatforms = x86_64\n\n[system-v1]\nplatform_name = XCP\nplatform_version = 3.4.0\nproduct_brand = XCP-ng\nproduct_version = 8.3.0\nbuild_number = demo\nhostname = localhost\n\n[build]\nnumber = demo\n\n[keys]\n# unsigned sample: no active key (the installer would check packages against it)\n#key1 = RPM-GPG-KEY-xcpng\n";

const ISOLINUX_CFG: &str = "SERIAL 0 115200\nDEFAULT install\nPROMPT 1\nTIMEOUT 50\n\nLABEL install\n  KERNEL mboot.c32\n  APPEND /boot/xen.gz dom0_max_vcpus=1-16 dom0_mem=max:8192M com1=115200,8n1 console=com1,vga --- /boot/vmlinuz console=hvc0 console=tty0 --- /install.img\n";

const GRUB_CFG: &str = "serial --unit=0 --speed=115200\nterminal_input serial console\nterminal_output serial console\nset default=0\nset timeout=5\nmenuentry \"install\" {\n    multiboot2 /boot/xen.gz dom0_mem=max:8192M com1=115200,8n1 console=com1,vga\n    module2 /boot/vmlinuz console=hvc0 console=tty0\n    module2 /install.img\n}\n";

/// What the demo did, for printing.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DemoReport {
    /// The built-in sample image.
    pub sample: PathBuf,
    /// The remaster plan the demo wrote and used.
    pub plan: PathBuf,
    /// The remastered image.
    pub remastered: PathBuf,
    /// The remaster's steps and their timings.
    pub steps: Vec<StepReport>,
    /// `xiso verify` of the remastered image, as text.
    pub verify: String,
    /// Whether verify found nothing.
    pub verify_clean: bool,
    /// `xiso diff sample.iso remastered.iso`, as text.
    pub diff: String,
}

fn placeholder(name: &str, len: usize) -> Vec<u8> {
    // Deterministic bytes that look like nothing in particular.
    let mut out = Vec::with_capacity(len);
    let mut block = Sha256::digest(name.as_bytes()).to_vec();
    while out.len() < len {
        out.extend_from_slice(&block);
        block = Sha256::digest(&block).to_vec();
    }
    out.truncate(len);
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).expect("writing to memory");
    e.finish().expect("writing to memory")
}

/// A small installer root as XCP-ng ships it: cpio newc, bzip2, with entries an
/// ordinary user cannot create (a device node, a root-only file).
fn sample_install_img() -> Result<Vec<u8>> {
    use crate::initrd::cpio::{mode, CpioHeader, CpioWriter};
    use crate::initrd::stream::{CompressSettings, Compression, Encoder};
    let settings = CompressSettings::new(Compression::Bzip2, Some(9))?;
    let mut cpio = CpioWriter::new(Encoder::new(&settings, Vec::new())?);
    let init = b"#!/bin/sh\necho \"XISO-MARKER $(cat /etc/xiso-marker)\"\n".to_vec();
    // (name, mode, uid, device numbers, data)
    type Sample<'a> = (&'a str, u32, u32, (u32, u32), Vec<u8>);
    let entries: [Sample; 8] = [
        (".", mode::S_IFDIR | 0o755, 0, (0, 0), Vec::new()),
        ("dev", mode::S_IFDIR | 0o755, 0, (0, 0), Vec::new()),
        ("dev/console", mode::S_IFCHR | 0o600, 0, (5, 1), Vec::new()),
        ("etc", mode::S_IFDIR | 0o755, 0, (0, 0), Vec::new()),
        (
            "etc/shadow",
            mode::S_IFREG | 0o600,
            0,
            (0, 0),
            b"root::19000:0:99999:7:::\n".to_vec(),
        ),
        (
            "etc/xiso-marker",
            mode::S_IFREG | 0o644,
            0,
            (0, 0),
            b"demo-original\n".to_vec(),
        ),
        ("init", mode::S_IFREG | 0o755, 0, (0, 0), init),
        ("opt", mode::S_IFDIR | 0o755, 0, (0, 0), Vec::new()),
    ];
    let werr = |e: std::io::Error| Error::io(e, "cannot build the sample install.img");
    for (i, (name, m, uid, rdev, data)) in entries.iter().enumerate() {
        let h = CpioHeader {
            ino: i as u32 + 1,
            mode: *m,
            uid: *uid,
            nlink: if m & mode::S_IFMT == mode::S_IFDIR {
                2
            } else {
                1
            },
            mtime: SAMPLE_TIME as u32,
            filesize: data.len() as u32,
            rdevmajor: rdev.0,
            rdevminor: rdev.1,
            ..CpioHeader::default()
        };
        cpio.write_entry(name.as_bytes(), &h, &mut &data[..])
            .map_err(werr)?;
    }
    cpio.finish().map_err(werr)?.finish().map_err(werr)
}

fn sample_tree() -> Result<IsoTree> {
    let t = SAMPLE_TIME;
    let mut tree = IsoTree::new(Meta::new(0o555, 0, 0, t));
    let dir = Meta::new(0o555, 0, 0, t);
    let file = Meta::new(0o444, 0, 0, t);
    for d in [
        "boot",
        "boot/isolinux",
        "EFI",
        "EFI/BOOT",
        "EFI/xenserver",
        "Packages",
        "repodata",
    ] {
        tree.add_dir(d, dir)?;
    }
    let bytes = |s: &str| FileData::Bytes(s.as_bytes().to_vec());
    tree.add_file(".treeinfo", bytes(TREEINFO), file)?;
    tree.add_file(
        "EULA",
        bytes("XCP-ng demo media. Not for installation.\n"),
        file,
    )?;
    tree.add_file("RPM-GPG-KEY-xcpng", bytes("(placeholder key)\n"), file)?;
    tree.add_file("boot/isolinux/isolinux.cfg", bytes(ISOLINUX_CFG), file)?;
    tree.add_file(
        "boot/isolinux/isolinux.bin",
        FileData::Bytes(placeholder("isolinux.bin", 38_912)),
        file,
    )?;
    tree.add_file(
        "boot/isolinux/mboot.c32",
        FileData::Bytes(placeholder("mboot.c32", 10_972)),
        file,
    )?;
    tree.add_file(
        "boot/vmlinuz",
        FileData::Bytes(placeholder("vmlinuz", 65_536)),
        file,
    )?;
    tree.add_file(
        "boot/xen.gz",
        FileData::Bytes(gzip(&placeholder("xen", 32_768))),
        file,
    )?;
    tree.add_symlink("boot/vmlinuz-link", "vmlinuz", Meta::new(0o777, 0, 0, t))?;
    let bootx64 = placeholder("BOOTX64.EFI", 20_480);
    let efiboot = crate::boot::efiboot::EfiBootImage::build(
        &[
            ("EFI/BOOT/BOOTX64.EFI", &bootx64),
            ("EFI/xenserver/grub.cfg", GRUB_CFG.as_bytes()),
        ],
        t,
    )?;
    tree.add_file(
        "boot/efiboot.img",
        FileData::Bytes(efiboot.into_bytes()),
        file,
    )?;
    tree.add_file("EFI/BOOT/BOOTX64.EFI", FileData::Bytes(bootx64), file)?;
    tree.add_file("EFI/xenserver/grub.cfg", bytes(GRUB_CFG), file)?;
    tree.add_file("install.img", FileData::Bytes(sample_install_img()?), file)?;
    // A real repository: one package, metadata as `xiso add-rpm` writes it.
    let rpm_name = "Packages/demo-tools-1.0-1.x86_64.rpm";
    let rpm = sample_rpm(
        "demo-tools",
        "x86_64",
        "/usr/bin/demo-tools",
        b"#!/bin/sh\necho demo\n",
    )?;
    let pkg = crate::rpm::Package::from_reader(&rpm[..], t)?;
    let entry = crate::repo::PackageEntry::from_package(&pkg, rpm_name)?;
    tree.add_file(rpm_name, FileData::Bytes(rpm), file)?;
    let staging = std::env::temp_dir().join(format!("xiso-demo-repodata-{}", std::process::id()));
    let files = crate::repo::metadata_files(
        &staging,
        &[entry],
        None,
        &crate::repo::MetadataOptions {
            timestamp: t as u64,
            unique_md_filenames: true,
        },
    )?;
    for (href, data) in files {
        tree.add_file(&href, FileData::Bytes(data), file)?;
    }
    Ok(tree)
}

/// Write the built-in sample ISO (genisoimage-shaped, then isohybrid --uefi-shaped).
pub fn write_sample(out: &Path) -> Result<()> {
    let tree = sample_tree()?;
    let mut opts = WriteOptions::new("XCP-ng 8.3.0", SAMPLE_TIME);
    opts.ids.application_id = "xiso demo sample".into();
    opts.boot = Some(BootSpec {
        catalog_path: "boot/isolinux/boot.cat".into(),
        entries: vec![
            BootEntrySpec::bios_no_emulation("boot/isolinux/isolinux.bin", 4, true),
            BootEntrySpec::efi("boot/efiboot.img"),
        ],
    });
    // Placeholder MBR boot code (a real image reuses its source's isohdpfx code).
    let mut code = [0u8; hybrid::MBR_BOOT_CODE_LEN];
    code.copy_from_slice(&placeholder("isohdpfx", hybrid::MBR_BOOT_CODE_LEN));
    let parts = workspace::isohybrid_parts(&tree, &opts, code, |_| b"xiso demo sample".to_vec())?
        .expect("the sample has a BIOS boot entry");
    let (system_area, tail) = (parts.system_area, parts.tail);
    opts.tail_len = tail.len() as u64;
    let layout = Layout::new(&tree, &opts)?;
    let mut staged = crate::fs::StagedFile::new(out)?;
    layout.write_file(None, &system_area, &tail, staged.file())?;
    staged.commit()
}

/// A small real RPM (gzip payload, one file), built in memory with rpm-rs and
/// stamped with the sample time so the same call gives the same bytes.
pub(crate) fn sample_rpm(name: &str, arch: &str, path: &str, contents: &[u8]) -> Result<Vec<u8>> {
    let fail =
        |e: rpm_rs::Error| Error::invalid(format!("cannot build the sample RPM {name}: {e}"));
    let config = rpm_rs::BuildConfig::default()
        .source_date(SAMPLE_TIME as u32)
        .compression(rpm_rs::CompressionType::Gzip);
    let pkg = rpm_rs::PackageBuilder::new(name, "1.0", "MIT", arch, "xiso demo package")
        .using_config(config)
        .release("1")
        .description("A package built by xiso demo from built-in data.")
        .build_host("xiso-demo")
        .with_file_contents(
            contents.to_vec(),
            rpm_rs::FileOptions::new(path).permissions(0o755),
        )
        .map_err(fail)?
        .build()
        .map_err(fail)?;
    let mut out = Vec::new();
    pkg.write(&mut out).map_err(fail)?;
    Ok(out)
}

/// Run the demo in `outdir` (created if needed; its demo files are replaced).
pub fn run(outdir: &Path) -> Result<DemoReport> {
    fs::create_dir_all(outdir)
        .map_err(|e| Error::io(e, "cannot create the demo directory").in_file(outdir))?;
    let sample = outdir.join("sample.iso");
    let remastered = outdir.join("remastered.iso");
    write_sample(&sample)?;

    // The edits a release engineer makes, as a plan kept next to its inputs.
    let write = |path: &Path, data: &[u8]| -> Result<()> {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| Error::io(e, "cannot create").in_file(parent))?;
        }
        fs::write(path, data).map_err(|e| Error::io(e, "cannot write").in_file(path))
    };
    let rpm = outdir.join("demo-driver-1.0-1.noarch.rpm");
    write(
        &rpm,
        &sample_rpm(
            "demo-driver",
            "noarch",
            "/usr/share/demo-driver/README",
            b"Installed by xiso demo.\n",
        )?,
    )?;
    if let Ok(f) = fs::File::open(&rpm) {
        crate::fs::set_mtime(&f, Some(SAMPLE_TIME));
    }
    write(
        &outdir.join("installer-overlay/etc/xiso-marker"),
        b"demo-remastered\n",
    )?;
    let plan_path = outdir.join("remaster.toml");
    write(
        &plan_path,
        b"# xiso remaster sample.iso remastered.iso --plan remaster.toml\n\
          add-rpm = [\"demo-driver-1.0-1.noarch.rpm\"]\n\
          patch-installer = [\"installer-overlay\"]\n\
          boot-arg = [\"xiso.demo=1\"]\n",
    )?;
    let plan = Plan::from_toml_file(&plan_path)?;
    let report = remaster(
        &sample,
        &remastered,
        &plan,
        &RemasterOptions {
            date: Some(SAMPLE_TIME + 86_400),
            progress: None,
            fsync: false,
        },
    )?;
    let before = IsoImage::open(&sample)?;
    let after = IsoImage::open(&remastered)?;
    let verify = crate::verify::verify(&after)?;
    let diff = crate::diff::diff(&before, &after, &crate::diff::DiffOptions::default())?;
    Ok(DemoReport {
        sample,
        plan: plan_path,
        remastered,
        steps: report.steps,
        verify_clean: verify.is_clean(),
        verify: verify.to_text(),
        diff: diff.to_text(),
    })
}
