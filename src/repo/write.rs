//! Writing a repository's metadata: primary, filelists and other as gzip
//! (the installer's EL7 yum reads nothing else), and the repomd.xml index.
//!
//! The layout is createrepo_c's (`cr_xml_dump_*`, `cr_repomd_xml_dump`):
//! SHA-256 checksums of the compressed and the open file, sizes, and
//! `<timestamp>`/`<revision>` from one caller-given time (`SOURCE_DATE_EPOCH`
//! when set), so two runs over the same packages give the same bytes. With
//! unique metadata file names (createrepo_c's default) each file is named
//! `<sha256>-primary.xml.gz` and so on.

use std::borrow::Borrow;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use sha2::{Digest, Sha256};

use super::entry::PackageEntry;
use super::repomd::{Checksum, Repomd, RepomdRecord};
use super::xml::{escape_attr, escape_text};
use crate::error::{Error, Result, ResultExt};
use crate::fs::StagedFile;
use crate::rpm::Package;

/// How metadata is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataOptions {
    /// `<revision>` and every `<timestamp>`, seconds since the epoch.
    pub timestamp: u64,
    /// Name files `<sha256>-<type>.xml.gz` (createrepo_c's default) rather than `<type>.xml.gz`.
    pub unique_md_filenames: bool,
}

impl MetadataOptions {
    /// Unique file names, the time from `SOURCE_DATE_EPOCH` when it is set, else now.
    pub fn from_env() -> Result<MetadataOptions> {
        let timestamp = match std::env::var("SOURCE_DATE_EPOCH") {
            Ok(v) => v.trim().parse().map_err(|_| {
                Error::invalid(format!(
                    "SOURCE_DATE_EPOCH={v:?} is not a number of seconds"
                ))
            })?,
            Err(_) => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        };
        Ok(MetadataOptions {
            timestamp,
            unique_md_filenames: true,
        })
    }
}

/// Entries for every `*.rpm` below `root` (the repository root; `repodata/`
/// is skipped), each with its href relative to `root`, sorted by href.
pub fn entries_for_dir(root: &Path) -> Result<Vec<PackageEntry>> {
    package_files(root)?
        .into_iter()
        .map(|(href, path)| {
            let pkg = Package::open(&path)?;
            PackageEntry::from_package(&pkg, &href).in_file(&path)
        })
        .collect()
}

/// Every `*.rpm` file below `root` (the repository root; `repodata/` is
/// skipped) as `(href relative to root, path)`, sorted by href.
pub(crate) fn package_files(root: &Path) -> Result<Vec<(String, PathBuf)>> {
    Ok(list(root)?.into_iter().map(|l| (l.href, l.path)).collect())
}

/// A package file below the repository root, as [`list`] found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listed {
    /// The path relative to the root, `/`-separated (its `<location href>`).
    pub href: String,
    pub path: PathBuf,
    /// Its size and modification time (seconds), as `stat` gives them.
    pub size: u64,
    pub mtime: i64,
}

/// Every `*.rpm` file below `root` (`repodata/` skipped; symbolic links are
/// neither followed nor listed), sorted by href, each with its size and mtime.
/// Each directory is read and its files stat'ed through one descriptor (a
/// repository of a thousand packages is listed on the path of every add-rpm);
/// its entries are visited in file-name order, depth first, so that the first
/// error is the same on every run. A package whose path is not UTF-8 is an error.
pub(crate) fn list(root: &Path) -> Result<Vec<Listed>> {
    let mut out = Vec::new();
    walk(root, Prefix::Root, &mut out)?;
    out.sort_by(|a, b| a.href.cmp(&b.href));
    Ok(out)
}

/// The href of a directory [`walk`] reads.
enum Prefix {
    /// The repository root.
    Root,
    /// A directory below it.
    Dir(String),
    /// A directory with a name that is not UTF-8 on its path (a package in it is an error).
    NotUtf8,
}

impl Prefix {
    /// The href of `name` in this directory (`None`: not UTF-8).
    fn child(&self, name: &[u8]) -> Option<String> {
        let name = std::str::from_utf8(name).ok()?;
        match self {
            Prefix::Root => Some(name.to_string()),
            Prefix::Dir(h) => Some(format!("{h}/{name}")),
            Prefix::NotUtf8 => None,
        }
    }
}

fn walk(dir: &Path, prefix: Prefix, out: &mut Vec<Listed>) -> Result<()> {
    use rustix::fs::{AtFlags, FileType, Mode, OFlags};
    use std::os::unix::ffi::OsStrExt;
    let failed = |e: rustix::io::Errno, at: &Path| {
        Error::io(io::Error::from(e), "listing packages").in_file(at)
    };
    let fd = rustix::fs::open(
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| failed(e, dir))?;
    let mut names = Vec::new();
    for entry in rustix::fs::Dir::read_from(&fd).map_err(|e| failed(e, dir))? {
        let entry = entry.map_err(|e| failed(e, dir))?;
        let name = entry.file_name();
        if name.to_bytes() != b"." && name.to_bytes() != b".." {
            names.push((name.to_owned(), entry.file_type()));
        }
    }
    names.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for (name, mut kind) in names {
        let bytes = name.to_bytes();
        if matches!(prefix, Prefix::Root) && bytes == b"repodata" {
            continue;
        }
        let path = dir.join(std::ffi::OsStr::from_bytes(bytes));
        let mut stat = None;
        if kind == FileType::Unknown {
            // No d_type from this file system: ask, without following a link.
            let st = rustix::fs::statat(&fd, &name, AtFlags::SYMLINK_NOFOLLOW)
                .map_err(|e| failed(e, &path))?;
            kind = FileType::from_raw_mode(st.st_mode);
            stat = Some(st);
        }
        match kind {
            FileType::Directory => {
                let sub = prefix.child(bytes).map_or(Prefix::NotUtf8, Prefix::Dir);
                walk(&path, sub, out)?;
            }
            FileType::RegularFile if is_rpm(bytes) => {
                let href = prefix.child(bytes).ok_or_else(|| {
                    Error::unsupported("package path is not UTF-8").in_file(&path)
                })?;
                let st = match stat {
                    Some(st) => st,
                    None => rustix::fs::statat(&fd, &name, AtFlags::empty())
                        .map_err(|e| failed(e, &path))?,
                };
                out.push(Listed {
                    href,
                    path,
                    size: u64::try_from(st.st_size).unwrap_or(0),
                    mtime: st.st_mtime,
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether a file name's extension is `rpm` (as `Path::extension`: after the
/// last dot, a leading dot alone not counting).
fn is_rpm(name: &[u8]) -> bool {
    match name.iter().rposition(|&b| b == b'.') {
        Some(0) | None => false,
        Some(dot) => &name[dot + 1..] == b"rpm",
    }
}

/// Write primary, filelists and other `.xml.gz` for `entries` into
/// `repodata_dir` (created if missing) and return the index describing them;
/// [`repomd_xml`] renders it. Files of earlier runs are left alone: the caller
/// decides what else the directory keeps.
pub fn write_metadata<E: Borrow<PackageEntry> + Sync>(
    repodata_dir: &Path,
    entries: &[E],
    opts: &MetadataOptions,
) -> Result<Repomd> {
    fs::create_dir_all(repodata_dir)
        .map_err(|e| Error::io(e, "creating the repodata directory"))
        .in_file(repodata_dir)?;
    let n = entries.len();
    let kinds: [(&str, String, &str, RenderFn); 3] = [
        (
            "primary",
            format!("<metadata xmlns=\"http://linux.duke.edu/metadata/common\" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\" packages=\"{n}\">\n"),
            "</metadata>",
            PackageEntry::primary_xml,
        ),
        (
            "filelists",
            format!("<filelists xmlns=\"http://linux.duke.edu/metadata/filelists\" packages=\"{n}\">\n"),
            "</filelists>",
            PackageEntry::filelists_xml,
        ),
        (
            "other",
            format!("<otherdata xmlns=\"http://linux.duke.edu/metadata/other\" packages=\"{n}\">\n"),
            "</otherdata>",
            PackageEntry::other_xml,
        ),
    ];
    // The three files are independent: each is rendered and compressed on its own
    // thread, so the write takes about as long as primary's alone (its bytes unchanged).
    let write_one = |(data_type, open, close, render): (&str, String, &str, RenderFn)| {
        let mut staged = StagedFile::new(&repodata_dir.join(format!("{data_type}.xml.gz")))?;
        let tmp = staged.path().to_path_buf();
        let written = write_gz(staged.file(), |w| {
            w.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")?;
            w.write_all(open.as_bytes())?;
            for e in entries {
                w.write_all(render(e.borrow()).as_bytes())?;
            }
            w.write_all(close.as_bytes())
        })
        .in_file(&tmp)?;
        let name = if opts.unique_md_filenames {
            format!("{}-{data_type}.xml.gz", written.sha256)
        } else {
            format!("{data_type}.xml.gz")
        };
        let dest = repodata_dir.join(&name);
        staged.commit_to(&dest)?;
        Ok(written.record(data_type, &name, opts.timestamp))
    };
    let results: Vec<Result<RepomdRecord>> = std::thread::scope(|s| {
        let write_one = &write_one;
        let handles: Vec<_> = kinds
            .into_iter()
            .map(|kind| s.spawn(move || write_one(kind)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::invalid("a metadata writing thread panicked")))
            })
            .collect()
    });
    let records = results.into_iter().collect::<Result<Vec<_>>>()?;
    Ok(Repomd {
        revision: Some(opts.timestamp.to_string()),
        records,
    })
}

/// Add the comps file `comps` to the repository in `repodata_dir` as createrepo_c
/// `-g` does: a `group` record for the XML as it is (checksum and size of the
/// file) and a `group_gz` record for its gzip (with open checksum and size). yum
/// and dnf read `group_gz` when present, else `group`.
pub(crate) fn write_groups(
    repodata_dir: &Path,
    comps: &[u8],
    opts: &MetadataOptions,
) -> Result<Vec<RepomdRecord>> {
    let plain_sha = hex(&Sha256::digest(comps));
    let name = |sha: &str, ext: &str| {
        if opts.unique_md_filenames {
            format!("{sha}-comps.{ext}")
        } else {
            format!("comps.{ext}")
        }
    };
    let plain_name = name(&plain_sha, "xml");
    let mut staged = StagedFile::new(&repodata_dir.join(&plain_name))?;
    staged.write_all_synced(comps, None)?;
    staged.commit()?;
    // An uncompressed file has no open-checksum or open-size in createrepo_c's record.
    let mut group = Written {
        sha256: plain_sha,
        size: comps.len() as u64,
        open_sha256: String::new(),
        open_size: 0,
    }
    .record("group", &plain_name, opts.timestamp);
    group.open_checksum = None;
    group.open_size = None;
    let mut records = vec![group];
    let mut staged = StagedFile::new(&repodata_dir.join("comps.xml.gz"))?;
    let tmp = staged.path().to_path_buf();
    let written = write_gz(staged.file(), |w| w.write_all(comps)).in_file(&tmp)?;
    let gz_name = name(&written.sha256, "xml.gz");
    staged.commit_to(&repodata_dir.join(&gz_name))?;
    records.push(written.record("group_gz", &gz_name, opts.timestamp));
    Ok(records)
}

/// The whole `repodata/` of a new repository as `(href, bytes)` pairs, repomd.xml
/// last: metadata for `entries` (and the comps file `comps`, when given) written
/// into `staging` (a directory created here and removed before returning), then
/// read back. For media built in memory (the demo's sample, a driver disk).
pub(crate) fn metadata_files(
    staging: &Path,
    entries: &[PackageEntry],
    comps: Option<&[u8]>,
    opts: &MetadataOptions,
) -> Result<Vec<(String, Vec<u8>)>> {
    let staged = crate::fs::StagedDir::at(staging.to_path_buf());
    let result = (|| {
        let mut repomd = write_metadata(staging, entries, opts)?;
        if let Some(comps) = comps {
            repomd.records.extend(write_groups(staging, comps, opts)?);
        }
        let mut files = Vec::new();
        for rec in &repomd.records {
            let name = rec
                .location_href
                .strip_prefix("repodata/")
                .unwrap_or(&rec.location_href);
            let path = staging.join(name);
            let data = fs::read(&path)
                .map_err(|e| Error::io(e, "reading back the metadata"))
                .in_file(&path)?;
            files.push((rec.location_href.clone(), data));
        }
        files.push((
            "repodata/repomd.xml".to_string(),
            repomd_xml(&repomd).into_bytes(),
        ));
        Ok(files)
    })();
    drop(staged);
    result
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Renders one package's element of one metadata file.
type RenderFn = fn(&PackageEntry) -> String;

fn sha256(value: String) -> Checksum {
    Checksum {
        algorithm: "sha256".to_string(),
        value,
    }
}

/// repomd.xml for `repomd`, in createrepo_c's layout and record element order.
pub fn repomd_xml(repomd: &Repomd) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<repomd xmlns=\"http://linux.duke.edu/metadata/repo\" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\">\n",
    );
    if let Some(rev) = &repomd.revision {
        s.push_str("  <revision>");
        escape_text(rev, &mut s);
        s.push_str("</revision>\n");
    }
    let checksum = |s: &mut String, tag: &str, c: &Option<Checksum>| {
        if let Some(c) = c {
            s.push_str(&format!("    <{tag} type=\""));
            escape_attr(&c.algorithm, s);
            s.push_str("\">");
            escape_text(&c.value, s);
            s.push_str(&format!("</{tag}>\n"));
        }
    };
    let number = |s: &mut String, tag: &str, n: Option<u64>| {
        if let Some(n) = n {
            s.push_str(&format!("    <{tag}>{n}</{tag}>\n"));
        }
    };
    for r in &repomd.records {
        s.push_str("  <data type=\"");
        escape_attr(&r.data_type, &mut s);
        s.push_str("\">\n");
        checksum(&mut s, "checksum", &r.checksum);
        checksum(&mut s, "open-checksum", &r.open_checksum);
        checksum(&mut s, "header-checksum", &r.header_checksum);
        s.push_str("    <location");
        if let Some(base) = &r.location_base {
            s.push_str(" xml:base=\"");
            escape_attr(base, &mut s);
            s.push('"');
        }
        s.push_str(" href=\"");
        escape_attr(&r.location_href, &mut s);
        s.push_str("\"/>\n");
        number(&mut s, "timestamp", r.timestamp);
        number(&mut s, "size", r.size);
        number(&mut s, "open-size", r.open_size);
        number(&mut s, "header-size", r.header_size);
        number(&mut s, "database_version", r.database_version);
        s.push_str("  </data>\n");
    }
    s.push_str("</repomd>\n");
    s
}

/// What [`write_gz`] measured.
struct Written {
    sha256: String,
    size: u64,
    open_sha256: String,
    open_size: u64,
}

impl Written {
    /// The repomd.xml record of this file, `repodata/<name>`.
    fn record(self, data_type: &str, name: &str, timestamp: u64) -> RepomdRecord {
        RepomdRecord {
            data_type: data_type.to_string(),
            location_href: format!("repodata/{name}"),
            location_base: None,
            checksum: Some(sha256(self.sha256)),
            open_checksum: Some(sha256(self.open_sha256)),
            header_checksum: None,
            size: Some(self.size),
            open_size: Some(self.open_size),
            header_size: None,
            timestamp: Some(timestamp),
            database_version: None,
            offset: 0,
        }
    }
}

/// Write a gzip file through `fill`, measuring both the open and the stored bytes.
fn write_gz(
    file: &mut File,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<Written> {
    let stored = Measure::new(BufWriter::new(file));
    // GzEncoder writes mtime 0 and no file name: the bytes depend only on the XML.
    let mut gz = Measure::new(GzEncoder::new(stored, Compression::default()));
    fill(&mut gz).map_err(|e| Error::io(e, "writing a metadata file"))?;
    let (open_sha256, open_size, encoder) = gz.finish();
    let stored = encoder
        .finish()
        .map_err(|e| Error::io(e, "finishing the gzip stream"))?;
    let (sha256, size, mut buffered) = stored.finish();
    buffered
        .flush()
        .map_err(|e| Error::io(e, "writing a metadata file"))?;
    Ok(Written {
        sha256,
        size,
        open_sha256,
        open_size,
    })
}

/// A writer that hashes and counts what passes through.
struct Measure<W> {
    inner: W,
    hasher: Sha256,
    count: u64,
}

impl<W: Write> Measure<W> {
    fn new(inner: W) -> Self {
        Measure {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    fn finish(self) -> (String, u64, W) {
        let digest = self.hasher.finalize();
        let hex = digest.iter().map(|b| format!("{b:02x}")).collect();
        (hex, self.count, self.inner)
    }
}

impl<W: Write> Write for Measure<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod list_tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;

    /// The walkdir listing `list` replaced, kept as its reference.
    fn reference(root: &Path) -> Result<Vec<(String, PathBuf)>> {
        let mut hrefs = Vec::new();
        for item in walkdir::WalkDir::new(root).sort_by_file_name() {
            let item = item.map_err(|e| Error::io(io::Error::other(e.to_string()), "listing"))?;
            let rel = item.path().strip_prefix(root).unwrap();
            if rel.starts_with("repodata") || !item.file_type().is_file() {
                continue;
            }
            if rel.extension().is_some_and(|e| e == "rpm") {
                let href = rel
                    .iter()
                    .map(|c| c.to_str().ok_or_else(|| Error::unsupported("not UTF-8")))
                    .collect::<Result<Vec<_>>>()?
                    .join("/");
                hrefs.push((href, item.path().to_path_buf()));
            }
        }
        hrefs.sort();
        Ok(hrefs)
    }

    /// Nested directories, a nested `repodata/` (listed) beside the root's (not),
    /// links, names that only look like packages, and a directory whose name is
    /// not UTF-8 but holds no package: what walkdir listed, with each file's stat.
    #[test]
    fn list_matches_walkdir() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let files = [
            "Packages/b-1.0-1.noarch.rpm",
            "Packages/a-1.0-1.x86_64.rpm",
            "Packages/sub/deeper/c-2.rpm",
            "Packages/README",
            "Packages/.rpm",
            "Packages/..rpm",
            "Packages/x.rpm.bak",
            "Packages/x.",
            "repodata/ignored.rpm",
            "other/repodata/kept.rpm",
            "top.rpm",
        ];
        for f in files {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, f.as_bytes()).unwrap();
        }
        std::fs::create_dir(root.join("Packages/dir.rpm")).unwrap();
        std::os::unix::fs::symlink("a-1.0-1.x86_64.rpm", root.join("Packages/link.rpm")).unwrap();
        std::os::unix::fs::symlink("sub", root.join("Packages/linkdir")).unwrap();
        let odd = root.join(std::ffi::OsStr::from_bytes(b"odd-\xff"));
        std::fs::create_dir(&odd).unwrap();
        std::fs::write(odd.join("notes.txt"), b"x").unwrap();

        let listed = list(root).unwrap();
        let want = reference(root).unwrap();
        assert_eq!(
            listed
                .iter()
                .map(|l| (l.href.clone(), l.path.clone()))
                .collect::<Vec<_>>(),
            want
        );
        assert_eq!(listed.len(), 6, "{listed:?}");
        assert!(listed.iter().any(|l| l.href == "other/repodata/kept.rpm"));
        for l in &listed {
            let meta = std::fs::metadata(&l.path).unwrap();
            assert_eq!(l.size, meta.len());
            assert_eq!(l.mtime, std::os::unix::fs::MetadataExt::mtime(&meta));
        }

        // A package below a name that is not UTF-8: refused by both.
        std::fs::write(odd.join("p.rpm"), b"x").unwrap();
        let err = list(root).unwrap_err();
        assert!(err.to_string().contains("not UTF-8"), "{err}");
        assert!(reference(root).is_err());
        // A directory that cannot be read: named in the error.
        let missing = list(&root.join("nowhere")).unwrap_err();
        assert!(missing.to_string().contains("nowhere"), "{missing}");
    }
}
