//! RPM packages: headers and version comparison.
//!
//! * `header`: the lead, signature and main headers of an RPM file;
//! * `package`: an RPM file as the repository sees it ([`Package::open`]);
//! * [`payload`]: the file list and the cpio payload (`Payload::open`);
//! * `rpmdb`: the rpmdb of an installed root, read-only ([`sqlite`] reads
//!   `rpmdb.sqlite`, [`bdb`] the EL7 Berkeley DB `Packages`);
//! * `rewrite`: a package with added requires and a new release (`--pull-in`);
//! * [`sign`]: signing a package as `rpmsign --addsign --rpmv3` does;
//! * `signature`: checking its signatures and digests as yum's gpgcheck does;
//! * `stripped`: rpm's stripped cpio payloads;
//! * `evr`: `epoch:version-release` comparison, rpm's `rpmvercmp`;
//! * `tag`: the tag numbers xiso reads.

pub mod bdb;
pub(crate) mod evr;
pub(crate) mod header;
pub(crate) mod package;
pub mod payload;
pub(crate) mod rewrite;
pub(crate) mod rpmdb;
pub mod sign;
pub(crate) mod signature;
pub mod sqlite;
pub(crate) mod stripped;
pub(crate) mod tag;

pub(crate) use evr::{rpmvercmp, Evr};
pub use header::Header;
pub use package::Package;
pub use payload::Payload;
