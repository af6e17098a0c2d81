//! A package's `<package>` element of other.xml, as createrepo_c writes it
//! (`src/xml_dump_other.c`): the changelog.

use super::entry::PackageEntry;

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
}
