//! ISO 9660 reading: volume descriptors (ECMA-119 8), directory records (9.1),
//! Rock Ridge (SUSP/RRIP 1.12), Joliet, and the El Torito boot catalog.

pub mod eltorito;
pub mod write;
