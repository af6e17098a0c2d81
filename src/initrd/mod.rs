//! `install.img`: the installer root, a compressed cpio archive.
//!
//! * [`codec`]: which compression a stream uses, told by its magic bytes;
//! * [`stream`]: streaming decode and single-stream, multi-threaded encode of those codecs;
//! * `bz2index` and `bz2splice`: a bzip2 image's block index, and a rewrite that
//!   copies its unchanged blocks;
//! * [`cpio`]: the newc archive format, read and written as a stream;
//! * `media`: an ISO's `install.img` read straight from the image.

pub(crate) mod bz2index;
pub(crate) mod bz2splice;
pub mod codec;
pub mod cpio;
pub(crate) mod media;
pub mod stream;

pub(crate) use codec::{detect, Codec};
