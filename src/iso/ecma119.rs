//! ECMA-119 (ISO 9660) definitions shared by the reader ([`super`]) and the writer
//! ([`super::write`]): volume descriptor types and the byte positions of a volume
//! descriptor (8.4) and of a directory record (9.1), and the directory record flags
//! (9.1.6). One place, so both directions agree on the format.

use std::ops::Range;

/// Volume descriptor type: boot record (ECMA-119 8.2; El Torito's is one).
pub(crate) const VD_BOOT_RECORD: u8 = 0;
/// Standard identifier of every volume descriptor (8.1.2).
pub(crate) const STANDARD_ID: &[u8; 5] = b"CD001";
/// Byte range of the standard identifier in a volume descriptor.
pub(crate) const VD_ID: Range<usize> = 1..6;
/// Byte of the volume descriptor version (8.1.3; always 1).
pub(crate) const VD_VERSION: usize = 6;

/// The first seven bytes of a volume descriptor of type `kind`: type, `CD001`, version 1.
pub(crate) fn descriptor_header(kind: u8) -> [u8; 7] {
    let mut h = [kind, 0, 0, 0, 0, 0, 1];
    h[VD_ID].copy_from_slice(STANDARD_ID);
    h
}
