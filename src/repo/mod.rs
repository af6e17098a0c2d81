//! `repodata/`: the package repository metadata on the ISO.

pub mod repomd;
