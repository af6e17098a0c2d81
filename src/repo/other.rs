//! A package's `<package>` element of other.xml, as createrepo_c writes it
//! (`src/xml_dump_other.c`): the changelog.

use std::io::Write;

use super::entry::PackageEntry;
use crate::error::{Error, Result};

impl PackageEntry {
    /// The `<package pkgid name arch>` element, formatted and ending in a newline.
    pub fn other_xml(&self) -> String {
        let mut x = self.start_pkgid_package();
        for c in &self.changelogs {
            x.text(
                1,
                "changelog",
                &[("author", &c.author), ("date", &c.date.to_string())],
                &c.text,
            );
        }
        x.end(0, "package");
        x.buf
    }

    /// Write [`other_xml`](Self::other_xml) to `out`.
    pub fn write_other(&self, out: &mut dyn Write) -> Result<()> {
        out.write_all(self.other_xml().as_bytes())
            .map_err(|e| Error::io(e, "writing other.xml"))
    }
}
