//! The `xiso` command line: parses arguments, calls the library, prints.
//!
//! Exit codes: 0 success, 1 findings (verify), 2 error (bad input, I/O, misuse).

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use xiso::iso::{EntryKind, IsoImage};

/// Remaster XCP-ng installer ISOs without root.
///
/// xiso reads and writes ISO 9660 images with Rock Ridge, Joliet, El Torito and
/// isohybrid MBR/GPT boot records, in pure Rust, as an ordinary user.
#[derive(Parser)]
#[command(name = "xiso", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Describe an ISO: volume, El Torito boot entries, hybrid MBR/GPT, .treeinfo, repodata, install.img.
    ///
    /// Example: xiso inspect xcp-ng-8.3.0.iso --json
    Inspect {
        /// The ISO image.
        iso: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List files (Rock Ridge names, modes, owners, sizes, symlink targets).
    ///
    /// Lists the whole tree below PATH (default: the root), hidden files included.
    /// Example: xiso ls xcp-ng.iso /boot/isolinux
    Ls {
        /// The ISO image.
        iso: PathBuf,
        /// Directory or file inside the image.
        #[arg(default_value = "/")]
        path: String,
        /// Only the entries directly in PATH, not the whole subtree.
        #[arg(short = 'd', long)]
        no_recurse: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Write one file from the image to standard output.
    ///
    /// Example: xiso cat xcp-ng.iso /.treeinfo
    Cat {
        /// The ISO image.
        iso: PathBuf,
        /// File inside the image.
        path: String,
    },
    /// Unpack an ISO into a workspace: DIR/iso/ (the tree) and DIR/.xiso/manifest.
    ///
    /// The whole image is checked before anything is written. DIR must be absent or
    /// empty unless --force. Example: xiso unpack xcp-ng.iso work/
    Unpack {
        /// The ISO image.
        iso: PathBuf,
        /// The workspace directory to create.
        dir: PathBuf,
        /// Unpack into a non-empty directory.
        #[arg(long)]
        force: bool,
    },
    /// Run the whole job on a built-in sample: build an XCP-ng-shaped ISO, inspect,
    /// unpack, edit, pack as hybrid BIOS/UEFI, and show what changed.
    ///
    /// Needs nothing but xiso. The sample's boot binaries are placeholders (it shows
    /// the structure; it does not boot). Example: xiso demo /tmp/xiso-demo
    Demo {
        /// Directory for sample.iso, workspace/ and remastered.iso.
        outdir: PathBuf,
    },
    /// Write a workspace back as a bootable hybrid BIOS/UEFI ISO.
    ///
    /// Untouched files are copied from the source image's extents, changed and new
    /// files from DIR/iso/. The El Torito entries are replayed (the isolinux boot info
    /// table rewritten for its new LBA) and the hybrid MBR/GPT rebuilt exactly as
    /// `isohybrid --uefi` lays it out, reusing the source's MBR boot code.
    /// With SOURCE_DATE_EPOCH (or --date) the output is byte-for-byte reproducible.
    /// The image is written to a temporary file next to OUT and renamed at the end.
    ///
    /// Example: SOURCE_DATE_EPOCH=1700000000 xiso pack work/ xcp-ng-custom.iso
    Pack {
        /// The workspace made by `xiso unpack`.
        dir: PathBuf,
        /// The ISO to write.
        out: PathBuf,
        /// Timestamp for every date and seed for every id (Unix seconds; overrides SOURCE_DATE_EPOCH).
        #[arg(long, value_name = "UNIX_SECONDS")]
        date: Option<i64>,
        /// Add the UEFI boot entry and EFI partition for boot/efiboot.img even if the source had none.
        #[arg(long)]
        uefi: bool,
        /// MBR boot code to use when the source was not hybrid (e.g. /usr/lib/ISOLINUX/isohdpfx.bin).
        #[arg(long, value_name = "FILE")]
        mbr_template: Option<PathBuf>,
        /// Write no hybrid MBR/GPT: the image boots from CD/DVD only.
        #[arg(long, conflicts_with = "mbr_template")]
        no_hybrid: bool,
        /// New volume id (default: the source's).
        #[arg(long, value_name = "ID")]
        volid: Option<String>,
        /// Print a JSON summary on stdout.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            if let Some(ioe) = e.downcast_ref::<io::Error>() {
                if ioe.kind() == io::ErrorKind::BrokenPipe {
                    return ExitCode::SUCCESS;
                }
            }
            let mut msg = format!("xiso: error: {e}");
            let mut src = e.source();
            while let Some(s) = src {
                let s_text = s.to_string();
                if !msg.contains(&s_text) {
                    msg.push_str(": ");
                    msg.push_str(&s_text);
                }
                src = s.source();
            }
            eprintln!("{msg}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match cli.command {
        Command::Inspect { iso, json } => {
            let img = IsoImage::open(&iso)?;
            let report = xiso::inspect::inspect(&img)?;
            if json {
                serde_json::to_writer_pretty(&mut out, &report)?;
                writeln!(out)?;
            } else {
                write!(out, "{}", report.to_text())?;
            }
        }
        Command::Ls {
            iso,
            path,
            no_recurse,
            json,
        } => {
            let img = IsoImage::open(&iso)?;
            let start = img.lookup(&path)?;
            let entries = if !start.is_dir() {
                vec![start]
            } else if no_recurse {
                img.read_dir(&start)?
            } else {
                let prefix = if start.path == "/" {
                    "/".to_string()
                } else {
                    format!("{}/", start.path)
                };
                img.walk()?
                    .into_iter()
                    .filter(|e| e.path.starts_with(&prefix))
                    .collect()
            };
            if json {
                serde_json::to_writer_pretty(&mut out, &entries)?;
                writeln!(out)?;
            } else {
                for e in &entries {
                    writeln!(out, "{}", ls_line(e))?;
                }
            }
        }
        Command::Cat { iso, path } => {
            let img = IsoImage::open(&iso)?;
            let e = img.lookup(&path)?;
            img.copy_file(&e, &mut out)?;
        }
        Command::Unpack { iso, dir, force } => {
            let img = IsoImage::open(&iso)?;
            let r = xiso::workspace::unpack(&img, &dir, &xiso::workspace::UnpackOptions { force })?;
            eprintln!(
                "unpacked {} files, {} directories, {} symlinks ({} bytes) into {}",
                r.files,
                r.dirs,
                r.symlinks,
                r.bytes,
                dir.display()
            );
        }
        Command::Demo { outdir } => {
            let r = xiso::demo::run(&outdir)?;
            writeln!(out, "1. built the sample      {}", r.sample.display())?;
            writeln!(out, "2. unpacked it into      {}", r.workspace.display())?;
            writeln!(out, "3. edited the workspace  (isolinux.cfg: atexit=shell; REMASTER-NOTES.txt added; EULA removed)")?;
            writeln!(out, "4. packed it as          {}", r.remastered.display())?;
            writeln!(out, "\nWhat changed:")?;
            for c in &r.changes {
                writeln!(out, "  {c}")?;
            }
            writeln!(
                out,
                "\nxiso inspect {}:\n{}",
                r.remastered.display(),
                r.inspect
            )?;
        }
        Command::Pack {
            dir,
            out: iso_out,
            date,
            uefi,
            mbr_template,
            no_hybrid,
            volid,
            json,
        } => {
            let opts = xiso::workspace::PackOptions {
                date,
                uefi,
                mbr_template,
                no_hybrid,
                volume_id: volid,
            };
            let r = xiso::workspace::pack(&dir, &iso_out, &opts)?;
            for w in &r.warnings {
                eprintln!("xiso: warning: {w}");
            }
            if json {
                serde_json::to_writer_pretty(&mut out, &r)?;
                writeln!(out)?;
            } else {
                eprintln!(
                    "wrote {} ({} bytes, {}): {} files copied from the source, {} from the workspace ({} new, {} removed)",
                    r.output.display(),
                    r.bytes,
                    if r.efi_partition {
                        "hybrid BIOS/UEFI"
                    } else if r.hybrid {
                        "hybrid BIOS"
                    } else {
                        "CD boot only"
                    },
                    r.tree.from_source,
                    r.tree.from_workspace,
                    r.tree.added,
                    r.tree.removed
                );
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `ls -l` style: mode, links, uid, gid, size, mtime, path [-> target].
fn ls_line(e: &xiso::iso::Entry) -> String {
    let mut line = format!(
        "{} {:>3} {:>5} {:>5} {:>12} {} {}",
        e.mode_string(),
        e.nlink,
        e.uid,
        e.gid,
        e.size,
        e.mtime
            .map(xiso::iso::time::format_unix)
            .unwrap_or_else(|| "-".repeat(19)),
        e.path
    );
    if let EntryKind::Symlink { target } = &e.kind {
        line.push_str(" -> ");
        line.push_str(target);
    }
    line
}
