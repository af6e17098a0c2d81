//! The isolinux boot info table (El Torito `-boot-info-table`): bytes 8..64 of the BIOS boot image.
