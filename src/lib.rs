//! # xiso — remaster XCP-ng installer ISOs without root
//!
//! The crate reads an installer ISO (ISO 9660 + Rock Ridge + Joliet + El Torito +
//! an isohybrid MBR/GPT system area), lets a caller change it, and writes a new
//! hybrid BIOS/UEFI image. Nothing needs root, loop mounts or external programs.
//!
//! Module map (the ISO's anatomy):
//!
//! | module | concern |
//! | --- | --- |
//! | [`source`] | random-access reading of the input file |
//! | [`iso`] | ISO 9660 volume descriptors, directory tree, Rock Ridge, Joliet, El Torito catalog |
//! | [`boot`] | boot info table, hybrid system area (MBR + GPT), `efiboot.img` edits |
//! | [`bootcfg`] | `isolinux.cfg` and `grub.cfg`: kernel-argument edits that keep every other byte |
//! | [`initrd`] | `install.img`: compression codecs, cpio newc |
//! | [`kmod`] | a pure-Rust `depmod`: `modules.dep`, `modules.alias`, … and their `.bin` indexes |
//! | [`treeinfo`] | `.treeinfo` reading |
//! | [`openpgp`] | OpenPGP keys and signatures (rPGP): key files, detached signatures, EL7's algorithms |
//! | [`rpm`] | RPM headers, version comparison, package signatures |
//! | [`repo`] | `repodata/`: summary, package entries as createrepo_c writes them |
//! | [`inspect`](mod@inspect) | the `xiso inspect` report; boot menus with Xen's and dom0's words apart |
//! | [`truncation`] | a source shorter than its own tables say (a cut download) |
//! | [`verify`](mod@verify) | the `xiso verify` checks: boot records, hybrid tables, `.treeinfo`, repodata, packages |
//! | [`workspace`] | `xiso unpack` / `xiso pack`: the on-disk workspace, its manifest, boot replay; `boot-args`, `sign`, `answerfile` edits |
//! | [`remaster`](mod@remaster) | `xiso remaster`: a [`Plan`] of edits from source ISO to output in one run |
//! | [`driver_disk`] | `xiso driver-disk`: the driver disk (update.xml, metapackage, comps groups) XCP-ng 8.3's installer accepts |
//! | [`diff`](mod@diff) | `xiso diff`: files, packages, boot menus and installer files that differ between two images |
//! | [`demo`] | `xiso demo`: the whole job on a built-in sample |
//! | [`cleanup`] | temporaries to delete when interrupted |
//!
//! `ARCHITECTURE.md` in the repository explains the media rules these modules follow
//! and how they fit together. The `xiso` binary is the `cli` feature (on by default);
//! `default-features = false` builds the library without clap, indicatif or ctrlc.
//!
//! ## The pipeline
//!
//! What a pipeline needs is re-exported here, at the crate root:
//!
//! - read: [`IsoImage`] (open, walk, read files), [`inspect()`], [`verify()`],
//!   [`diff()`] with [`DiffOptions`];
//! - edit on disk: [`unpack`] into a [`Workspace`], apply [`Edit`]s to it, [`pack`]
//!   it into a new image;
//! - all at once: [`remaster()`] with a [`Plan`] (from a TOML file or built in code)
//!   and [`RemasterOptions`];
//! - driver disks: [`build_driver_disk`] with [`DriverDiskOptions`];
//! - errors: one [`Error`] with an [`ErrorKind`], and [`Result`].
//!
//! The modules stay public for the format-level work (a parser, a writer, a codec).
//! `examples/remaster_sample.rs` is a runnable pipeline step.
//!
//! ```no_run
//! use xiso::{IsoImage, Plan, RemasterOptions};
//!
//! let iso = IsoImage::open("xcp-ng-8.3.0.iso")?;
//! for entry in iso.walk()? {
//!     println!("{} {}", entry.path, entry.size);
//! }
//! let plan = Plan {
//!     boot_arg: vec!["console=ttyS0,115200".into()],
//!     volid: Some("XCP-NG_830_CUSTOM".into()),
//!     ..Plan::default()
//! };
//! let custom = "xcp-ng-8.3.0-custom.iso".as_ref();
//! xiso::remaster("xcp-ng-8.3.0.iso".as_ref(), custom, &plan, &RemasterOptions::default())?;
//! let report = xiso::verify(&IsoImage::open(custom)?)?;
//! print!("{}", report.to_text());
//! # Ok::<(), xiso::Error>(())
//! ```
#![deny(missing_docs)]
// A type a public item hands out can also be named by the caller.
#![warn(unnameable_types)]

pub mod boot;
pub mod bootcfg;
pub mod cleanup;
pub mod demo;
pub mod diff;
pub mod driver_disk;
mod error;
mod fs;
pub mod initrd;
pub mod inspect;
pub mod iso;
pub mod kmod;
pub mod openpgp;
pub mod remaster;
pub mod repo;
pub mod rpm;
pub mod source;
pub mod treeinfo;
pub mod truncation;
pub mod verify;
pub mod workspace;

// The pipeline: what a caller needs for the main jobs (see the crate docs).
pub use diff::{diff, DiffOptions, DiffReport};
pub use driver_disk::{build as build_driver_disk, DriverDiskOptions, DriverDiskReport};
pub use error::{Error, ErrorKind, Result};
pub use inspect::{inspect, InspectReport};
pub use iso::IsoImage;
pub use remaster::{remaster, Plan, RemasterOptions, RemasterReport};
pub use verify::{verify, VerifyReport};
pub use workspace::{
    pack, unpack, Edit, EditReport, PackOptions, PackReport, UnpackOptions, UnpackReport, Workspace,
};
