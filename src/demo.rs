//! `xiso demo OUTDIR`: the whole job end to end on a built-in sample, with nothing
//! but this crate. It writes an XCP-ng-shaped installer ISO from built-in data (the
//! boot binaries are placeholders: the sample shows the structure, it does not
//! boot), inspects it, unpacks it, edits the workspace, packs it again as a hybrid
//! BIOS/UEFI image and reports what changed.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::boot::hybrid;
use crate::error::{Error, Result};
use crate::iso::write::{BootEntrySpec, BootSpec, FileData, IsoTree, Layout, Meta, WriteOptions};
use crate::iso::IsoImage;
use crate::workspace::{self, PackOptions, UnpackOptions};

/// Fixed time of every sample timestamp (2023-11-14 22:13:20 UTC).
const SAMPLE_TIME: i64 = 1_700_000_000;

const TREEINFO: &str = "[general]\nfamily = XCP-ng\nname = XCP-ng 8.3.0\nversion = 8.3.0\narch = x86_64\nplatforms = x86_64\n\n[system-v1]\nplatform_name = XCP\nplatform_version = 3.4.0\nproduct_brand = XCP-ng\nproduct_version = 8.3.0\nbuild_number = demo\nhostname = localhost\n\n[build]\nnumber = demo\n\n[keys]\nkey1 = RPM-GPG-KEY-xcpng\n";

const ISOLINUX_CFG: &str = "SERIAL 0 115200\nDEFAULT install\nPROMPT 1\nTIMEOUT 50\n\nLABEL install\n  KERNEL mboot.c32\n  APPEND /boot/xen.gz dom0_max_vcpus=1-16 dom0_mem=max:8192M com1=115200,8n1 console=com1,vga --- /boot/vmlinuz console=hvc0 console=tty0 --- /install.img\n";

const GRUB_CFG: &str = "serial --unit=0 --speed=115200\nterminal_input serial console\nterminal_output serial console\nset default=0\nset timeout=5\nmenuentry \"install\" {\n    multiboot2 /boot/xen.gz dom0_mem=max:8192M com1=115200,8n1 console=com1,vga\n    module2 /boot/vmlinuz console=hvc0 console=tty0\n    module2 /install.img\n}\n";

/// What the demo did, for printing.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DemoReport {
    /// The built-in sample image.
    pub sample: PathBuf,
    /// The workspace.
    pub workspace: PathBuf,
    /// The remastered image.
    pub remastered: PathBuf,
    /// Paths added, removed or changed between the two images.
    pub changes: Vec<String>,
    /// Text of `inspect` of the remastered image.
    pub inspect: String,
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
    tree.add_file(
        "boot/efiboot.img",
        FileData::Bytes(placeholder("efiboot.img", 1_474_560)),
        file,
    )?;
    tree.add_file(
        "EFI/BOOT/BOOTX64.EFI",
        FileData::Bytes(placeholder("BOOTX64.EFI", 20_480)),
        file,
    )?;
    tree.add_file("EFI/xenserver/grub.cfg", bytes(GRUB_CFG), file)?;
    tree.add_file("install.img", FileData::Bytes(sample_install_img()?), file)?;
    tree.add_file(
        "Packages/demo-tools-1.0-1.x86_64.rpm",
        FileData::Bytes(placeholder("demo-tools.rpm", 4096)),
        file,
    )?;
    let primary = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata xmlns=\"http://linux.duke.edu/metadata/common\" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\" packages=\"1\">\n<package type=\"rpm\"><name>demo-tools</name><arch>x86_64</arch><version epoch=\"0\" ver=\"1.0\" rel=\"1\"/><location href=\"Packages/demo-tools-1.0-1.x86_64.rpm\"/></package>\n</metadata>\n";
    let primary_gz = gzip(primary.as_bytes());
    let hex = |b: &[u8]| -> String {
        Sha256::digest(b)
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect()
    };
    let repomd = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<repomd xmlns=\"http://linux.duke.edu/metadata/repo\">\n  <revision>{SAMPLE_TIME}</revision>\n  <data type=\"primary\">\n    <checksum type=\"sha256\">{}</checksum>\n    <open-checksum type=\"sha256\">{}</open-checksum>\n    <location href=\"repodata/primary.xml.gz\"/>\n    <timestamp>{SAMPLE_TIME}</timestamp>\n    <size>{}</size>\n    <open-size>{}</open-size>\n  </data>\n</repomd>\n",
        hex(&primary_gz),
        hex(primary.as_bytes()),
        primary_gz.len(),
        primary.len()
    );
    tree.add_file("repodata/primary.xml.gz", FileData::Bytes(primary_gz), file)?;
    tree.add_file(
        "repodata/repomd.xml",
        FileData::Bytes(repomd.into_bytes()),
        file,
    )?;
    Ok(tree)
}

/// Write the built-in sample ISO (genisoimage-shaped, then isohybrid --uefi-shaped).
pub fn write_sample(out: &Path) -> Result<()> {
    let tree = sample_tree()?;
    let mut opts = WriteOptions::new("XCP-ng 8.3.0", SAMPLE_TIME);
    opts.application_id = "xiso demo sample".into();
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
    let (tmp, mut f) = workspace::temp_output(out)?;
    layout
        .write_file(None, &system_area, &tail, &mut f)
        .inspect_err(|_| {
            let _ = fs::remove_file(&tmp);
        })?;
    fs::rename(&tmp, out)
        .map_err(|e| Error::io(e, "cannot move the sample into place").in_file(out))
}

fn fingerprint(iso: &IsoImage) -> Result<std::collections::BTreeMap<String, String>> {
    let mut m = std::collections::BTreeMap::new();
    for e in iso.walk()? {
        let v = match &e.kind {
            crate::iso::EntryKind::File => {
                let mut h = Sha256::new();
                let mut w = HashWriter(&mut h);
                iso.copy_file(&e, &mut w)?;
                format!("{:x}", h.finalize())
            }
            crate::iso::EntryKind::Symlink { target } => format!("-> {target}"),
            _ => "dir".into(),
        };
        m.insert(e.path, v);
    }
    Ok(m)
}

struct HashWriter<'a>(&'a mut Sha256);

impl Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Run the demo in `outdir` (created if needed; its demo files are replaced).
pub fn run(outdir: &Path) -> Result<DemoReport> {
    fs::create_dir_all(outdir)
        .map_err(|e| Error::io(e, "cannot create the demo directory").in_file(outdir))?;
    let sample = outdir.join("sample.iso");
    let ws = outdir.join("workspace");
    let remastered = outdir.join("remastered.iso");
    if ws.exists() {
        fs::remove_dir_all(&ws)
            .map_err(|e| Error::io(e, "cannot clear the old demo workspace").in_file(&ws))?;
    }
    write_sample(&sample)?;
    let iso = IsoImage::open(&sample)?;
    workspace::unpack(&iso, &ws, &UnpackOptions::default())?;
    // The edits a release engineer makes: an installer option, a new file, a removal.
    let cfg = ws.join("iso/boot/isolinux/isolinux.cfg");
    let text = fs::read_to_string(&cfg).map_err(|e| Error::io(e, "cannot read").in_file(&cfg))?;
    fs::write(
        &cfg,
        text.replace(
            "console=hvc0 console=tty0 ---",
            "console=hvc0 console=tty0 atexit=shell ---",
        ),
    )
    .map_err(|e| Error::io(e, "cannot write").in_file(&cfg))?;
    let notes = ws.join("iso/REMASTER-NOTES.txt");
    fs::write(
        &notes,
        "Remastered by xiso demo: atexit=shell added to the install entry.\n",
    )
    .map_err(|e| Error::io(e, "cannot write").in_file(&notes))?;
    let eula = ws.join("iso/EULA");
    fs::remove_file(&eula).map_err(|e| Error::io(e, "cannot remove").in_file(&eula))?;
    // And one installer file, through an overlay as `xiso patch-installer` takes it.
    let overlay = outdir.join("overlay");
    let marker = overlay.join("etc/xiso-marker");
    fs::create_dir_all(overlay.join("etc"))
        .and_then(|_| fs::write(&marker, "demo-remastered\n"))
        .map_err(|e| Error::io(e, "cannot write").in_file(&marker))?;
    let patched = workspace::patch_installer(&ws, Some(&overlay), &Default::default())?;
    let packed = workspace::pack(
        &ws,
        &remastered,
        &PackOptions {
            date: Some(SAMPLE_TIME + 86_400),
            ..Default::default()
        },
    )?;

    let before = fingerprint(&iso)?;
    let after_iso = IsoImage::open(&remastered)?;
    let after = fingerprint(&after_iso)?;
    let mut changes = Vec::new();
    for (p, v) in &after {
        match before.get(p) {
            None => changes.push(format!("added    {p}")),
            Some(old) if old != v => changes.push(format!("changed  {p}")),
            _ => {}
        }
    }
    for p in before.keys().filter(|p| !after.contains_key(*p)) {
        changes.push(format!("removed  {p}"));
    }
    if let Some(i) = &packed.installer {
        for p in &patched.replaced {
            changes.push(format!(
                "changed  /install.img:/{p} ({} as one bzip2 stream)",
                i.action
            ));
        }
    }
    let inspect = crate::inspect::inspect(&after_iso)?.to_text();
    Ok(DemoReport {
        sample,
        workspace: ws,
        remastered,
        changes,
        inspect,
    })
}
