//! The system area (first 32 KiB): MBR partition table and GPT as isohybrid writes them.
