//! Boot structures outside the file tree: the isolinux boot info table and the
//! hybrid system area (MBR partition table + GPT) that lets the image boot from USB.

pub mod hybrid;
pub mod info_table;
pub mod sysarea;
