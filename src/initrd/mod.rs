//! `install.img`: the installer root, a compressed cpio archive.
//!
//! * [`codec`]: which compression a stream uses, told by its magic bytes;
//! * [`stream`]: streaming decode and single-stream, multi-threaded encode of those codecs.

pub mod codec;
pub mod stream;

pub use codec::{detect, Codec};
