//! Damaged inputs never panic: thousands of deterministic mutations of a real hybrid
//! ISO's first sectors and boot catalog either parse or give an error with an offset.

#[path = "common/boot_fixtures.rs"]
mod boot_fixtures;

use xiso::boot::sysarea::read_system_area;
use xiso::iso::eltorito::{parse_boot_record, read_boot_catalog};
use xiso::source::{Source, SECTOR};

/// xorshift64: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn mutated_system_area_and_catalog_never_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let iso = boot_fixtures::genisoimage_isohybrid(dir.path());
    let pristine = std::fs::read(&iso).expect("read fixture");
    let src = Source::open(&iso).expect("open");
    let vd = src.read_sector(17, "boot record").expect("LBA 17");
    let cat_lba = parse_boot_record(&vd, 17 * SECTOR)
        .expect("boot record")
        .expect("El Torito");
    let cat_off = cat_lba as usize * SECTOR as usize;
    // Mutate the MBR, GPT header and entries, and the catalog sector; also truncate.
    let regions = [(0usize, 512usize), (512, 92), (1024, 256), (cat_off, 256)];
    let file = dir.path().join("mutant.iso");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut errors = 0;
    for round in 0..400 {
        let mut bytes = pristine.clone();
        for _ in 0..1 + rng.below(8) {
            let (start, len) = regions[rng.below(regions.len())];
            let at = start + rng.below(len);
            bytes[at] = match rng.below(4) {
                0 => 0,
                1 => 0xFF,
                _ => rng.next() as u8,
            };
        }
        if round % 10 == 0 {
            bytes.truncate(rng.below(bytes.len()));
        }
        std::fs::write(&file, &bytes).expect("write mutant");
        let src = Source::open(&file).expect("open mutant");
        match read_system_area(&src) {
            Ok(_) => {}
            Err(e) => {
                assert!(bytes.len() < 512, "only a short file may fail: {e}");
                errors += 1;
            }
        }
        if let Err(e) = read_boot_catalog(&src, cat_lba) {
            assert!(e.offset().is_some(), "catalog error without an offset: {e}");
            errors += 1;
        }
    }
    assert!(errors > 0, "the mutations should have hit something");
}
