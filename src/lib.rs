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
//! | [`inspect`] | the `xiso inspect` report; boot menus with Xen's and dom0's words apart |
//! | [`truncation`] | a source shorter than its own tables say (a cut download) |
//! | [`verify`] | the `xiso verify` checks: boot records, hybrid tables, `.treeinfo`, repodata, packages |
//! | [`workspace`] | `xiso unpack` / `xiso pack`: the on-disk workspace, its manifest, boot replay; `boot-args`, `sign`, `answerfile` edits |
//! | [`remaster`] | `xiso remaster`: a [`remaster::Plan`] of edits from source ISO to output in one run |
//! | [`diff`] | `xiso diff`: files, packages, boot menus and installer files that differ between two images |
//! | [`demo`] | `xiso demo`: the whole job on a built-in sample |
//! | [`cleanup`] | temporaries to delete when interrupted |
//!
//! `ARCHITECTURE.md` in the repository explains the media rules these modules follow
//! and how they fit together. The `xiso` binary is the `cli` feature (on by default);
//! `default-features = false` builds the library without clap, indicatif or ctrlc.
//! `examples/remaster_sample.rs` is a runnable pipeline step.
//!
//! ```no_run
//! use xiso::iso::IsoImage;
//! let iso = IsoImage::open("xcp-ng-8.3.0.iso")?;
//! for entry in iso.walk()? {
//!     println!("{} {}", entry.path, entry.size);
//! }
//! # Ok::<(), xiso::Error>(())
//! ```
#![deny(missing_docs)]

pub mod boot;
pub mod bootcfg;
pub mod cleanup;
pub mod demo;
pub mod diff;
pub mod error;
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

pub use error::{Error, ErrorKind, Result};
