//! repodata readers: repomd.xml, comps, and primary/filelists/other (gzip, as the
//! installer requires). The input's first byte picks the reader; for the package
//! readers the rest splits at NUL into primary, filelists and other.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xiso::repo::comps::parse_groups;
use xiso::repo::read::read_entries;
use xiso::repo::repomd::Repomd;

/// `xml` as a gzip member of stored (uncompressed) deflate blocks. The readers take
/// gzip, as the installer does; compressing here would spend half of every execution
/// (and much of the coverage feedback) inside the instrumented compressor.
fn gzip(xml: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(xml.len() + 32);
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    let mut chunks = xml.chunks(0xffff).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(chunk) = chunks.next() {
        let len = chunk.len() as u16;
        out.push(u8::from(chunks.peek().is_none()));
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    let mut crc = flate2::Crc::new();
    crc.update(xml);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(xml.len() as u32).to_le_bytes());
    out
}

/// Once per process: a real gzip reader gives back what `gzip` wrapped (empty,
/// small, and more than one stored block).
fn check_gzip() {
    use std::io::Read;
    for sample in [&b""[..], b"<repomd/>", &[b'x'; 0x1_2345][..]] {
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gzip(sample)[..])
            .read_to_end(&mut back)
            .expect("stored-block gzip reads back");
        assert_eq!(back, sample, "stored-block gzip round trip");
    }
}

static CHECKED: std::sync::Once = std::sync::Once::new();

fuzz_target!(|data: &[u8]| {
    CHECKED.call_once(check_gzip);
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
