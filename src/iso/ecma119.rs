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

/// Byte ranges of a primary or supplementary volume descriptor's seven identifier
/// fields, in [`crate::iso::VolumeIds`] order: volume set (8.4.19), publisher (8.4.20),
/// data preparer (8.4.21), application (8.4.22), copyright file (8.4.23), abstract
/// file (8.4.24) and bibliographic file (8.4.25).
pub const VD_IDENTIFIERS: [Range<usize>; 7] = [
    190..318,
    318..446,
    446..574,
    574..702,
    702..739,
    739..776,
    776..813,
];

/// Directory record flag: hidden ("existence" bit 0, ECMA-119 9.1.6).
pub const FLAG_HIDDEN: u8 = 0x01;
/// Directory record flag: directory (bit 1).
pub const FLAG_DIR: u8 = 0x02;
/// Directory record flag: not the final record of a multi-extent file (bit 7, 6.5.1).
pub const FLAG_MULTI_EXTENT: u8 = 0x80;

/// Directory record: byte of the record length (9.1.1).
pub const DR_LEN: usize = 0;
/// Directory record: the extent's LBA, both-endian (9.1.3; the reader takes the LE half).
pub const DR_EXTENT: usize = 2;
/// Directory record: the data length, both-endian (9.1.4).
pub const DR_SIZE: usize = 10;
/// Directory record: the seven-byte recording date (9.1.5).
pub const DR_DATE: Range<usize> = 18..25;
/// Directory record: the file flags (9.1.6).
pub const DR_FLAGS: usize = 25;
/// Directory record: the length of the file identifier (9.1.10).
pub const DR_NAME_LEN: usize = 32;
/// Fixed part of a directory record before the file identifier (9.1.11).
pub const RECORD_HEADER: usize = 33;
