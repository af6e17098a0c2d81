//! Boot structures outside the file tree: the isolinux boot info table, the
//! hybrid system area (MBR partition table + GPT) that lets the image boot from USB,
//! the FAT image `boot/efiboot.img` behind the UEFI entry, and the dom0 kernel's
//! boot protocol header.

pub(crate) mod bzimage;
pub mod efiboot;
pub mod hybrid;
pub mod info_table;
pub mod sysarea;
