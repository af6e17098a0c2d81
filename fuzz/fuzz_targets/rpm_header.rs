//! The RPM path `add-rpm` takes: lead, signature and main headers, then every tag
//! createrepo_c's rules read into a package entry.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xiso::repo::entry::PackageEntry;
use xiso::rpm::Package;

fuzz_target!(|data: &[u8]| {
    let Ok(pkg) = Package::from_reader(data, 0) else {
        return;
    };
    let _ = (pkg.header_range(), pkg.check_size(), pkg.sha256_hex());
    let _ = (pkg.name(), pkg.evr(), pkg.arch(), pkg.is_source());
    let _ = (pkg.source_rpm(), pkg.installed_size(), pkg.archive_size());
    if let Ok(entry) = PackageEntry::from_package(&pkg, "Packages/fuzz.rpm") {
        let _ = entry.primary_xml();
    }
});
