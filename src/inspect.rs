//! The `xiso inspect` report.

use crate::error::Result;
use crate::iso::{Entry, IsoImage};
use crate::workspace::manifest::BootEntryRecord;

/// El Torito entries of `iso` as the manifest records them.
pub fn boot_entry_records(_iso: &IsoImage, _entries: &[Entry]) -> Result<Vec<BootEntryRecord>> {
    Ok(Vec::new())
}
