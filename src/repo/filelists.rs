//! A package's `<package>` element of filelists.xml, as createrepo_c writes it
//! (`src/xml_dump_filelists.c`): every file, with directory and ghost marks.

use super::entry::PackageEntry;
use super::primary::write_files;
use super::xml::XmlOut;

impl PackageEntry {
    /// The `<package pkgid name arch>` element, formatted and ending in a newline.
    pub fn filelists_xml(&self) -> String {
        let mut x = self.start_pkgid_package();
        write_files(&mut x, 1, self.files.iter());
        x.end(0, "package");
        x.buf
    }

    /// A new document opened with `<package pkgid name arch>` and its `<version>`,
    /// the head filelists.xml and other.xml share (`cr_xml_dump_filelists`,
    /// `cr_xml_dump_other`).
    pub(super) fn start_pkgid_package(&self) -> XmlOut {
        let mut x = XmlOut::new();
        x.start(
            0,
            "package",
            &[
                ("pkgid", &self.pkgid),
                ("name", &self.name),
                ("arch", &self.arch),
            ],
        );
        x.empty(
            1,
            "version",
            &[
                ("epoch", &self.epoch),
                ("ver", &self.version),
                ("rel", &self.release),
            ],
        );
        x
    }
}
