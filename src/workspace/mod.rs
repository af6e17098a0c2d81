//! The on-disk workspace written by `xiso unpack`, and its manifest.
//!
//! Layout:
//!
//! ```text
//! DIR/iso/                 the ISO tree as ordinary files (editable)
//! DIR/.xiso/manifest       JSON, versioned: source identity, volume descriptors,
//!                          El Torito entries, and every entry's ISO metadata
//! DIR/.xiso/system-area    the source's first 32 KiB (MBR boot code, partition tables)
//! ```
//!
//! A filesystem owned by an ordinary user cannot hold everything an ISO can (owners,
//! device nodes, read-only modes that would block edits), so the manifest keeps the
//! truth and the files on disk are the editable copy.

pub mod manifest;
mod pack;
mod pack_tree;
mod unpack;

pub use manifest::Manifest;
pub use pack::{
    isohybrid_parts, pack, resolve_date, temp_output, IsohybridParts, PackOptions, PackReport,
};
pub use pack_tree::TreeStats;
pub use unpack::{source_identity, unpack, UnpackOptions, UnpackReport};
