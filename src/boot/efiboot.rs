//! `boot/efiboot.img`: the FAT image behind the UEFI El Torito entry and the
//! isohybrid EFI partition. A USB stick booted in UEFI mode reads the
//! `EFI/*/grub.cfg` INSIDE this image, not the one in the ISO tree (ARCHITECTURE.md §1), so
//! a boot-menu edit must reach it too.
//!
//! The image is edited in memory with `fatfs` over a cursor on a fixed-size byte
//! slice: the file system cannot grow the image (its size is part of the El Torito
//! entry and the EFI partition), a failed edit leaves the image as it was (edits
//! run on a copy), and the only metadata written is the changed file's directory
//! entry and FAT chain. Its modification time is an explicit parameter, so the
//! result is reproducible.

use std::cell::Cell;
use std::io::{self, Cursor, Read, Write};

use fatfs::{Date, DateTime, FileSystem, FsOptions, Time, TimeProvider};

use crate::error::{Error, ErrorKind, Result};
use crate::iso::time::civil_from_days;

/// An `efiboot.img` held in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EfiBootImage {
    data: Vec<u8>,
}

thread_local! {
    /// The time fatfs stamps on what it writes, in Unix seconds. fatfs wants a
    /// `&'static` clock and runs synchronously on the caller's thread, so the time of
    /// the current edit is handed over here (see [`StampGuard`]).
    static FAT_NOW: Cell<i64> = const { Cell::new(0) };
}

/// fatfs's clock: the time set for the edit running on this thread (1980 outside one).
#[derive(Debug)]
struct EditClock;

impl TimeProvider for EditClock {
    fn get_current_date(&self) -> Date {
        self.get_current_date_time().date
    }
    fn get_current_date_time(&self) -> DateTime {
        dos_date_time(FAT_NOW.with(Cell::get))
    }
}

static EDIT_CLOCK: EditClock = EditClock;

/// Sets this thread's fatfs time for its lifetime.
struct StampGuard(i64);

impl StampGuard {
    fn new(unix: i64) -> StampGuard {
        StampGuard(FAT_NOW.with(|c| c.replace(unix)))
    }
}

impl Drop for StampGuard {
    fn drop(&mut self) {
        FAT_NOW.with(|c| c.set(self.0));
    }
}

/// A FAT timestamp (UTC, 2-second resolution) for Unix seconds, clamped to the
/// range FAT can hold (1980-01-01 .. 2107-12-31).
pub(crate) fn dos_date_time(unix: i64) -> DateTime {
    const MIN: i64 = 315_532_800; // 1980-01-01T00:00:00Z
    const MAX: i64 = 4_354_819_199; // 2107-12-31T23:59:59Z
    let t = unix.clamp(MIN, MAX);
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    // Bounded by the clamp above: year 1980..=2107, secs < 86 400.
    DateTime {
        date: Date {
            year: year as u16,
            month: month as u16,
            day: day as u16,
        },
        time: Time {
            hour: (secs / 3600) as u16,
            min: (secs / 60 % 60) as u16,
            sec: (secs % 60) as u16,
            millis: 0,
        },
    }
}

fn fat_error(e: io::Error, what: &str, path: &str) -> Error {
    match e.kind() {
        io::ErrorKind::NotFound => {
            Error::new(ErrorKind::NotFound, format!("{what}: {e}")).in_path(path.to_string())
        }
        io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => {
            Error::new(ErrorKind::Corrupt, format!("{what}: {e}")).in_path(path.to_string())
        }
        _ => Error::io(e, what).in_path(path.to_string()),
    }
}

/// Run a fatfs operation, turning a panic inside fatfs into a corruption error.
///
/// fatfs 0.3 trusts the cluster numbers it reads: a directory entry naming cluster 0
/// or 1 makes it compute `cluster - 2` and panic on the overflow (found by the
/// `efiboot` fuzz target). A damaged image must be an error, never a crash; every
/// edit runs on a copy, so nothing half-written survives the unwind.
fn guarded<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(Error::new(
            ErrorKind::Corrupt,
            "the FAT file system is damaged: its directory entries or cluster chains name impossible clusters",
        ))
    })
}

fn mount(data: &mut [u8]) -> Result<FileSystem<Cursor<&mut [u8]>>> {
    let opts = FsOptions::new()
        .update_accessed_date(false)
        .time_provider(&EDIT_CLOCK);
    FileSystem::new(Cursor::new(data), opts).map_err(|e| {
        Error::new(
            ErrorKind::Corrupt,
            format!("not a FAT file system xiso can read: {e}"),
        )
    })
}

/// fatfs 0.3 writes a long-name slot before the `.` and `..` entries of every
/// directory it creates; fsck.fat (and some firmware) want `.` and `..` in the first
/// two slots. Remove those slots from every directory below the root of a freshly
/// built FAT12/16 image (each directory one cluster, as [`EfiBootImage::build`]
/// makes them).
fn drop_dot_long_names(data: &mut [u8]) -> Result<()> {
    let bad = || Error::invalid("efiboot.img layout is not one xiso can tidy");
    let u16_at = |d: &[u8], o: usize| u16::from_le_bytes([d[o], d[o + 1]]) as usize;
    if data.len() < 512 {
        return Err(bad());
    }
    let bps = u16_at(data, 11);
    let spc = data[13] as usize;
    let reserved = u16_at(data, 14);
    let fats = data[16] as usize;
    let root_entries = u16_at(data, 17);
    let fat_sectors = u16_at(data, 22);
    let root = (reserved + fats * fat_sectors) * bps;
    let first_data = root + root_entries * 32;
    let cluster_len = spc * bps;
    if bps == 0 || cluster_len == 0 || first_data > data.len() {
        return Err(bad());
    }
    let mut dirs: Vec<usize> = Vec::new();
    let scan = |d: &[u8], start: usize, len: usize, dirs: &mut Vec<usize>| {
        for e in d[start..start + len].chunks_exact(32) {
            let name = &e[..11];
            if e[0] == 0 {
                break;
            }
            if e[0] != 0xE5 && e[11] & 0x10 != 0 && e[11] != 0x0F && name[0] != b'.' {
                dirs.push(u16_at(e, 26));
            }
        }
    };
    scan(data, root, root_entries * 32, &mut dirs);
    while let Some(c) = dirs.pop() {
        let start = first_data + c.checked_sub(2).ok_or_else(bad)? * cluster_len;
        if start + cluster_len > data.len() {
            return Err(bad());
        }
        let entries: Vec<[u8; 32]> = data[start..start + cluster_len]
            .chunks_exact(32)
            .map(|e| e.try_into().expect("32-byte chunks"))
            .collect();
        let is_dot = |e: &[u8; 32]| &e[..11] == b".          " || &e[..11] == b"..         ";
        let mut kept: Vec<[u8; 32]> = Vec::with_capacity(entries.len());
        let mut pending_lfn: Vec<[u8; 32]> = Vec::new();
        for e in entries {
            if e[0] != 0 && e[0] != 0xE5 && e[11] == 0x0F {
                pending_lfn.push(e);
                continue;
            }
            if !is_dot(&e) {
                kept.append(&mut pending_lfn);
            }
            pending_lfn.clear();
            kept.push(e);
        }
        kept.resize(cluster_len / 32, [0u8; 32]);
        for (i, e) in kept.iter().enumerate() {
            data[start + i * 32..start + i * 32 + 32].copy_from_slice(e);
        }
        let snapshot = data[start..start + cluster_len].to_vec();
        scan(&snapshot, 0, cluster_len, &mut dirs);
    }
    Ok(())
}

impl EfiBootImage {
    /// Take the bytes of an image; refused unless they hold a FAT file system.
    pub fn new(mut data: Vec<u8>) -> Result<EfiBootImage> {
        guarded(|| mount(&mut data).map(drop))?;
        Ok(EfiBootImage { data })
    }

    /// A new 1.44 MB FAT12 image holding `files` (paths like `EFI/BOOT/BOOTX64.EFI`;
    /// directories are created), every entry stamped with `mtime` (Unix seconds), so
    /// the same input gives the same bytes.
    pub(crate) fn build(files: &[(&str, &[u8])], mtime: i64) -> Result<EfiBootImage> {
        let mut data = vec![0u8; 1_474_560];
        let _stamp = StampGuard::new(mtime);
        let fail = |e: io::Error, what: &str, path: &str| fat_error(e, what, path);
        fatfs::format_volume(
            Cursor::new(&mut data[..]),
            fatfs::FormatVolumeOptions::new()
                .fat_type(fatfs::FatType::Fat12)
                .volume_id(0x5849_534f)
                .volume_label(*b"EFIBOOT    "),
        )
        .map_err(|e| fail(e, "cannot format", "efiboot.img"))?;
        {
            let fs = mount(&mut data)?;
            for (path, contents) in files {
                let mut dir = fs.root_dir();
                let (parents, name) = path.rsplit_once('/').unwrap_or(("", path));
                for part in parents.split('/').filter(|p| !p.is_empty()) {
                    dir = dir
                        .create_dir(part)
                        .map_err(|e| fail(e, "cannot create the directory", path))?;
                }
                let mut f = dir
                    .create_file(name)
                    .map_err(|e| fail(e, "cannot create", path))?;
                f.truncate()
                    .and_then(|_| f.write_all(contents))
                    .and_then(|_| f.flush())
                    .map_err(|e| fail(e, "cannot write", path))?;
            }
            fs.unmount()
                .map_err(|e| fail(e, "cannot finish writing", "efiboot.img"))?;
        }
        drop_dot_long_names(&mut data)?;
        EfiBootImage::new(data)
    }

    /// The image bytes (same length as given to [`EfiBootImage::new`]).
    pub fn as_bytes(&self) -> &[u8] {
        &self.data
    }

    /// The image bytes.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.data
    }

    /// Paths of the GRUB configs in the image: `EFI/<dir>/grub*.cfg`, sorted, with
    /// the names as the file system spells them.
    pub fn grub_configs(&self) -> Result<Vec<String>> {
        guarded(|| self.grub_configs_unguarded())
    }

    fn grub_configs_unguarded(&self) -> Result<Vec<String>> {
        let mut data = self.data.clone();
        let fs = mount(&mut data)?;
        let efi = match fs.root_dir().open_dir("EFI") {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(fat_error(e, "cannot open the directory", "EFI")),
        };
        let mut out = Vec::new();
        for d in efi.iter() {
            let d = d.map_err(|e| fat_error(e, "cannot read the directory", "EFI"))?;
            let dname = d.file_name();
            if !d.is_dir() || dname == "." || dname == ".." {
                continue;
            }
            let sub = d.to_dir();
            for f in sub.iter() {
                let f = f.map_err(|e| {
                    fat_error(e, "cannot read the directory", &format!("EFI/{dname}"))
                })?;
                let name = f.file_name();
                let lower = name.to_ascii_lowercase();
                if f.is_file() && lower.starts_with("grub") && lower.ends_with(".cfg") {
                    out.push(format!("EFI/{dname}/{name}"));
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// The contents of the file at `path` (names compared without case, as FAT does).
    pub fn read_file(&self, path: &str) -> Result<Vec<u8>> {
        guarded(|| self.read_file_unguarded(path))
    }

    fn read_file_unguarded(&self, path: &str) -> Result<Vec<u8>> {
        let mut data = self.data.clone();
        let fs = mount(&mut data)?;
        let mut f = fs
            .root_dir()
            .open_file(path)
            .map_err(|e| fat_error(e, "cannot open", path))?;
        let mut out = Vec::new();
        f.read_to_end(&mut out)
            .map_err(|e| fat_error(e, "cannot read", path))?;
        Ok(out)
    }

    /// Replace the contents of the existing file `path` and stamp it with `mtime`
    /// (Unix seconds). Identical contents leave the image untouched. On error
    /// (e.g. no free clusters left) the image is unchanged.
    pub fn replace_file(&mut self, path: &str, contents: &[u8], mtime: i64) -> Result<()> {
        if self.read_file(path)? == contents {
            return Ok(());
        }
        let mut data = self.data.clone();
        guarded(|| {
            let _stamp = StampGuard::new(mtime);
            let fs = mount(&mut data)?;
            let mut f = fs
                .root_dir()
                .open_file(path)
                .map_err(|e| fat_error(e, "cannot open", path))?;
            f.truncate()
                .and_then(|_| f.write_all(contents))
                .map_err(|e| fat_error(e, "cannot write", path))?;
            f.flush().map_err(|e| fat_error(e, "cannot write", path))?;
            drop(f);
            fs.unmount()
                .map_err(|e| fat_error(e, "cannot finish writing", path))
        })?;
        // On a damaged image (cross-linked or looping cluster chains) fatfs can
        // "succeed" and leave a file that reads back different: check the copy
        // before keeping it (found by the `efiboot` fuzz target).
        let edited = EfiBootImage { data };
        if edited.read_file(path).ok().as_deref() != Some(contents) {
            return Err(Error::new(
                ErrorKind::Corrupt,
                "the FAT file system is damaged: the rewritten file does not read back as written",
            )
            .in_path(path.to_string()));
        }
        self.data = edited.data;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fuzz target's crash input, kept gzip-compressed in `testdata/fuzz/`.
    fn fuzz_input(name: &str) -> Vec<u8> {
        let path = format!("{}/testdata/fuzz/{name}", env!("CARGO_MANIFEST_DIR"));
        let gz = std::fs::read(path).unwrap();
        let mut data = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut data)
            .unwrap();
        data
    }

    /// What the `efiboot` fuzz target does: every step may fail, none may panic.
    fn edit_like_the_fuzzer(data: Vec<u8>) {
        let Ok(mut img) = EfiBootImage::new(data) else {
            return;
        };
        let Ok(configs) = img.grub_configs() else {
            return;
        };
        for path in configs {
            if let Ok(mut text) = img.read_file(&path) {
                text.extend_from_slice(b"\n# xiso fuzz\n");
                if img.replace_file(&path, &text, 1_700_000_000).is_ok() {
                    assert_eq!(img.read_file(&path).ok(), Some(text), "{path} reads back");
                }
            }
        }
    }

    /// Regression (fuzz target `efiboot`): a directory entry naming cluster 1 made
    /// fatfs panic on `cluster - 2`.
    #[test]
    fn fuzz_directory_entry_naming_cluster_1_is_an_error_not_a_panic() {
        let data = fuzz_input("efiboot-cluster-underflow.img.gz");
        assert_eq!(data.len(), 35714);
        edit_like_the_fuzzer(data);
    }

    /// Regression (fuzz target `efiboot`): a panic inside fatfs during an edit,
    /// followed by a second one while the file system was dropped, aborted the process.
    #[test]
    fn fuzz_panic_while_dropping_the_file_system_does_not_abort() {
        edit_like_the_fuzzer(fuzz_input("efiboot-double-panic.img.gz"));
    }

    /// A 1.44 MB FAT12 image with EFI/BOOT/BOOTX64.EFI and EFI/xenserver/grub.cfg.
    fn image() -> Vec<u8> {
        EfiBootImage::build(
            &[
                ("EFI/BOOT/BOOTX64.EFI", &[0xAA; 5000]),
                ("EFI/xenserver/grub.cfg", b"menuentry \"install\" {\n}\n"),
            ],
            1_700_000_000,
        )
        .unwrap()
        .into_bytes()
    }

    #[test]
    fn replace_grows_the_file_and_keeps_the_size_and_others() {
        let orig = image();
        let mut img = EfiBootImage::new(orig.clone()).unwrap();
        assert_eq!(img.grub_configs().unwrap(), ["EFI/xenserver/grub.cfg"]);
        let big: Vec<u8> = (0..20_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        img.replace_file("EFI/xenserver/grub.cfg", &big, 1_700_000_000)
            .unwrap();
        assert_eq!(img.as_bytes().len(), orig.len());
        assert_eq!(img.read_file("EFI/xenserver/GRUB.CFG").unwrap(), big);
        assert_eq!(
            img.read_file("EFI/BOOT/BOOTX64.EFI").unwrap(),
            vec![0xAA; 5000]
        );
        // Stamped with the given time, not the clock's.
        let mut data = img.as_bytes().to_vec();
        let fs = mount(&mut data).unwrap();
        let entry = fs
            .root_dir()
            .open_dir("EFI/xenserver")
            .unwrap()
            .iter()
            .map(Result::unwrap)
            .find(|e| e.file_name() == "grub.cfg")
            .unwrap();
        assert_eq!(entry.modified(), dos_date_time(1_700_000_000));
        drop(entry);
        drop(fs);
        // Same input, same time: same bytes.
        let mut again = EfiBootImage::new(orig).unwrap();
        again
            .replace_file("EFI/xenserver/grub.cfg", &big, 1_700_000_000)
            .unwrap();
        assert_eq!(again, img);
    }

    #[test]
    fn identical_contents_change_nothing() {
        let orig = image();
        let mut img = EfiBootImage::new(orig.clone()).unwrap();
        img.replace_file("EFI/xenserver/grub.cfg", b"menuentry \"install\" {\n}\n", 0)
            .unwrap();
        assert_eq!(img.into_bytes(), orig);
    }

    #[test]
    fn no_space_leaves_the_image_unchanged() {
        let orig = image();
        let mut img = EfiBootImage::new(orig.clone()).unwrap();
        let huge = vec![b'x'; 2_000_000];
        let e = img
            .replace_file("EFI/xenserver/grub.cfg", &huge, 0)
            .unwrap_err();
        assert!(e.to_string().contains("grub.cfg"), "{e}");
        assert_eq!(img.into_bytes(), orig);
    }

    #[test]
    fn missing_file_and_bad_image() {
        let img = EfiBootImage::new(image()).unwrap();
        let e = img.read_file("EFI/xenserver/nope.cfg").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        let e = EfiBootImage::new(vec![0u8; 4096]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt);
    }

    #[test]
    fn dos_times() {
        let t = dos_date_time(1_700_000_000); // 2023-11-14T22:13:20Z
        assert_eq!((t.date.year, t.date.month, t.date.day), (2023, 11, 14));
        assert_eq!((t.time.hour, t.time.min, t.time.sec), (22, 13, 20));
        assert_eq!(dos_date_time(0).date.year, 1980);
        assert_eq!(dos_date_time(i64::MAX).date.year, 2107);
    }
}
