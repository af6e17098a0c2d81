//! RPM packages: headers and version comparison.
//!
//! * [`header`]: the lead, signature and main headers of an RPM file;
//! * [`package`]: an RPM file as the repository sees it ([`Package::open`]);
//! * [`evr`]: `epoch:version-release` comparison, rpm's `rpmvercmp`;
//! * [`tag`]: the tag numbers xiso reads.

pub mod evr;
pub mod header;
pub mod package;
pub mod tag;

pub use evr::{rpmvercmp, Evr};
pub use header::{Header, IndexEntry, TagType};
pub use package::Package;
