//! `install.img`: the installer root, a compressed cpio archive.

pub mod codec;

pub use codec::{detect, Codec};
