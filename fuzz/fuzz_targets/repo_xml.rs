//! repodata readers: repomd.xml, comps, and primary/filelists/other (gzip, as the
//! installer requires). The input's first byte picks the reader; for the package
//! readers the rest splits at NUL into primary, filelists and other.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use xiso::repo::comps::parse_groups;
use xiso::repo::read::read_entries;
use xiso::repo::repomd::Repomd;

fn gzip(xml: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(xml).expect("in memory");
    e.finish().expect("in memory")
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, xml)) = data.split_first() else {
        return;
    };
    match which % 4 {
        0 => {
            if let Ok(md) = Repomd::parse(xml) {
                let _ = md.record("primary");
                for r in &md.records {
                    let _ = xiso::repo::repomd::validate_href(&r.location_href);
                }
                let _ = xiso::repo::summarize(&md, None, false);
            }
        }
        1 => {
            if let Ok(groups) = parse_groups(xml) {
                let _ = groups.len();
            }
        }
        2 => {
            let mut parts = xml.splitn(3, |&b| b == 0).map(gzip);
            let (p, f, o) = (
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default(),
            );
            if let Ok(entries) = read_entries(&mut &p[..], &mut &f[..], &mut &o[..]) {
                for e in &entries {
                    let _ = e.primary_xml();
                }
            }
        }
        _ => {
            let _ = xiso::repo::count_primary_packages(&gzip(xml)[..]);
        }
    }
});
