//! One package as the repository metadata describes it, built from its RPM
//! headers by createrepo_c's rules (`src/parsehdr.c`, `cr_package_from_header`;
//! `src/parsepkg.c` for the file's identity).
//!
//! The rules that decide what a package's entry says:
//! * the epoch is `0` when the header has none; the arch is `src` for source
//!   packages (see [`Package::is_source`]);
//! * the installed and archive sizes are rpm 4's `LONGSIZE`/`SIZE` and
//!   `LONGARCHIVESIZE`/`ARCHIVESIZE` (see [`Package::archive_size`]);
//! * files: directory or ghost marks; the full list in filelists, and in primary
//!   only those under `/etc/`, containing `bin/`, or `/usr/lib/sendmail`;
//! * dependencies keep header order; flags are written only for the five
//!   comparison senses (`LT GT EQ LE GE`), and a version string is split into
//!   epoch (default `0`), version and release at the first `:` and `-`; a rich
//!   dependency `(a or b)` is an ordinary name;
//! * a dependency whose version has a non-numeric epoch is dropped;
//! * requires drop `rpmlib(…)`, the package's own primary files, exact copies of
//!   its own provides and repeats of the previous same-named require; only the
//!   highest `libc.so.6(…)` require is kept (last); `pre="1"` marks requires
//!   flagged `PREREQ`, `SCRIPT_PRE` or `SCRIPT_POST`;
//! * the changelog keeps the newest N entries (createrepo_c's default 10), written
//!   oldest first, trailing spaces trimmed from authors, and equal timestamps
//!   made distinct by adding a second to the older entries.

use std::collections::{HashMap, HashSet};

use super::xml::header_text;
use crate::error::{Error, Result};
use crate::rpm::tag::{self, main as t};
use crate::rpm::Package;

/// createrepo_c's `--changelog-limit` default (`DEFAULT_CHANGELOG_LIMIT`).
pub(crate) const DEFAULT_CHANGELOG_LIMIT: usize = 10;

/// One dependency (`<rpm:entry>`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dependency {
    /// The name (for rich dependencies, the whole expression).
    pub name: String,
    /// `EQ`, `LT`, `LE`, `GT` or `GE`; `None` for an unversioned dependency.
    pub flags: Option<String>,
    /// Epoch of the version (`0` when the version has none).
    pub epoch: Option<String>,
    /// The version.
    pub version: Option<String>,
    /// The release, when the version string has one.
    pub release: Option<String>,
    /// `pre="1"`: needed before installation (requires only).
    pub pre: bool,
}

/// How a file is marked in the metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A file (no `type` attribute).
    File,
    /// `type="dir"`.
    Dir,
    /// `type="ghost"`: owned but not in the payload.
    Ghost,
}

/// One file of the package (`<file>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageFile {
    /// The absolute path.
    pub path: String,
    /// Directory, ghost or plain.
    pub kind: FileKind,
}

/// One changelog entry (`<changelog>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangelogEntry {
    /// The author line (name, address and usually the version).
    pub author: String,
    /// Seconds since the epoch.
    pub date: i64,
    /// The text.
    pub text: String,
}

/// Which dependency list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DepKind {
    /// `rpm:provides`
    Provides,
    /// `rpm:conflicts`
    Conflicts,
    /// `rpm:obsoletes`
    Obsoletes,
    /// `rpm:requires`
    Requires,
    /// `rpm:suggests`
    Suggests,
    /// `rpm:enhances`
    Enhances,
    /// `rpm:recommends`
    Recommends,
    /// `rpm:supplements`
    Supplements,
}

impl DepKind {
    /// The order of the lists inside primary.xml's `<format>` (createrepo_c's
    /// `cr_xml_dump_primary_dump_format`), which reading it back follows too.
    pub(crate) const PRIMARY_ORDER: [DepKind; 8] = [
        DepKind::Provides,
        DepKind::Requires,
        DepKind::Conflicts,
        DepKind::Obsoletes,
        DepKind::Suggests,
        DepKind::Enhances,
        DepKind::Recommends,
        DepKind::Supplements,
    ];

    /// Header reading order (createrepo_c's `dep_items`) and the tags.
    const ALL: [(DepKind, u32, u32, u32); 8] = [
        (
            DepKind::Provides,
            t::PROVIDENAME,
            t::PROVIDEFLAGS,
            t::PROVIDEVERSION,
        ),
        (
            DepKind::Conflicts,
            t::CONFLICTNAME,
            t::CONFLICTFLAGS,
            t::CONFLICTVERSION,
        ),
        (
            DepKind::Obsoletes,
            t::OBSOLETENAME,
            t::OBSOLETEFLAGS,
            t::OBSOLETEVERSION,
        ),
        (
            DepKind::Requires,
            t::REQUIRENAME,
            t::REQUIREFLAGS,
            t::REQUIREVERSION,
        ),
        (
            DepKind::Suggests,
            t::SUGGESTNAME,
            t::SUGGESTFLAGS,
            t::SUGGESTVERSION,
        ),
        (
            DepKind::Enhances,
            t::ENHANCENAME,
            t::ENHANCEFLAGS,
            t::ENHANCEVERSION,
        ),
        (
            DepKind::Recommends,
            t::RECOMMENDNAME,
            t::RECOMMENDFLAGS,
            t::RECOMMENDVERSION,
        ),
        (
            DepKind::Supplements,
            t::SUPPLEMENTNAME,
            t::SUPPLEMENTFLAGS,
            t::SUPPLEMENTVERSION,
        ),
    ];

    /// The element name in primary.xml.
    pub(crate) fn element(self) -> &'static str {
        match self {
            DepKind::Provides => "rpm:provides",
            DepKind::Conflicts => "rpm:conflicts",
            DepKind::Obsoletes => "rpm:obsoletes",
            DepKind::Requires => "rpm:requires",
            DepKind::Suggests => "rpm:suggests",
            DepKind::Enhances => "rpm:enhances",
            DepKind::Recommends => "rpm:recommends",
            DepKind::Supplements => "rpm:supplements",
        }
    }
}

/// A package's entry in primary.xml, filelists.xml and other.xml.
///
/// Build it with [`PackageEntry::from_package`]; write its primary.xml part with
/// [`write_primary`](PackageEntry::write_primary) (`repo::write` writes all three files).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackageEntry {
    /// `<name>`
    pub name: String,
    /// `<arch>` (`src` for source packages)
    pub arch: String,
    /// `<version epoch>`
    pub epoch: String,
    /// `<version ver>`
    pub version: String,
    /// `<version rel>`
    pub release: String,
    /// `<checksum type>`: always `sha256` here.
    pub checksum_type: String,
    /// `<checksum>`: the package id, the file's digest in hex.
    pub pkgid: String,
    /// `<summary>`
    pub summary: String,
    /// `<description>`
    pub description: String,
    /// `<packager>`
    pub packager: String,
    /// `<url>`
    pub url: String,
    /// `<time file>`: the file's modification time.
    pub time_file: i64,
    /// `<time build>`
    pub time_build: u64,
    /// `<size package>`: the file's size.
    pub size_package: u64,
    /// `<size installed>`
    pub size_installed: u64,
    /// `<size archive>`
    pub size_archive: u64,
    /// `<location href>`: relative to the repository root, e.g. `Packages/foo.rpm`.
    pub location_href: String,
    /// `<location xml:base>`, rarely used.
    pub location_base: Option<String>,
    /// `<rpm:license>`
    pub license: String,
    /// `<rpm:vendor>`
    pub vendor: String,
    /// `<rpm:group>`
    pub group: String,
    /// `<rpm:buildhost>`
    pub buildhost: String,
    /// `<rpm:sourcerpm>`
    pub sourcerpm: String,
    /// `<rpm:header-range start>`
    pub header_start: u64,
    /// `<rpm:header-range end>`
    pub header_end: u64,
    /// The dependency lists, in primary.xml order of kinds.
    pub provides: Vec<Dependency>,
    /// Requires after createrepo_c's filtering.
    pub requires: Vec<Dependency>,
    /// Conflicts.
    pub conflicts: Vec<Dependency>,
    /// Obsoletes.
    pub obsoletes: Vec<Dependency>,
    /// Suggests.
    pub suggests: Vec<Dependency>,
    /// Enhances.
    pub enhances: Vec<Dependency>,
    /// Recommends.
    pub recommends: Vec<Dependency>,
    /// Supplements.
    pub supplements: Vec<Dependency>,
    /// Every file in header order.
    pub files: Vec<PackageFile>,
    /// The changelog, oldest first.
    pub changelogs: Vec<ChangelogEntry>,
}

impl PackageEntry {
    /// The entry createrepo_c writes for `pkg` stored at `href` (relative to the
    /// repository root), with its default changelog limit.
    pub fn from_package(pkg: &Package, href: &str) -> Result<PackageEntry> {
        PackageEntry::from_package_with_limit(pkg, href, Some(DEFAULT_CHANGELOG_LIMIT))
    }

    /// As [`from_package`](Self::from_package), keeping at most
    /// `changelog_limit` changelog entries (`None`: all of them).
    pub(crate) fn from_package_with_limit(
        pkg: &Package,
        href: &str,
        changelog_limit: Option<usize>,
    ) -> Result<PackageEntry> {
        let h = &pkg.header;
        let text = |tag: u32, what: &str| -> Result<String> {
            header_text(h.string(tag)?.unwrap_or_default(), what)
        };
        let (header_start, header_end) = pkg.header_range();
        let arch = if pkg.is_source()? {
            "src".to_string()
        } else {
            text(t::ARCH, "arch")?
        };
        let files = read_files(pkg)?;
        let mut entry = PackageEntry {
            name: text(t::NAME, "name")?,
            arch,
            epoch: h.number(t::EPOCH)?.unwrap_or(0).to_string(),
            version: text(t::VERSION, "version")?,
            release: text(t::RELEASE, "release")?,
            checksum_type: "sha256".to_string(),
            pkgid: pkg.sha256_hex(),
            summary: text(t::SUMMARY, "summary")?,
            description: text(t::DESCRIPTION, "description")?,
            packager: text(t::PACKAGER, "packager")?,
            url: text(t::URL, "url")?,
            time_file: pkg.file_mtime,
            time_build: h.number(t::BUILDTIME)?.unwrap_or(0),
            size_package: pkg.file_size,
            size_installed: pkg.installed_size()?,
            size_archive: pkg.archive_size()?,
            location_href: header_text(href.as_bytes(), "location")?,
            location_base: None,
            license: text(t::LICENSE, "license")?,
            vendor: text(t::VENDOR, "vendor")?,
            group: text(t::GROUP, "group")?,
            buildhost: text(t::BUILDHOST, "buildhost")?,
            sourcerpm: header_text(&pkg.source_rpm()?, "sourcerpm")?,
            header_start,
            header_end,
            changelogs: read_changelog(pkg, changelog_limit)?,
            // The dependency lists and files are filled below.
            ..PackageEntry::default()
        };
        read_dependencies(pkg, &files, &mut entry)?;
        entry.files = files
            .into_iter()
            .map(|(raw, kind)| {
                Ok(PackageFile {
                    path: header_text(&raw, "file name")?,
                    kind,
                })
            })
            .collect::<Result<_>>()?;
        Ok(entry)
    }

    /// The dependency list of `kind`.
    pub(crate) fn dependencies(&self, kind: DepKind) -> &[Dependency] {
        match kind {
            DepKind::Provides => &self.provides,
            DepKind::Conflicts => &self.conflicts,
            DepKind::Obsoletes => &self.obsoletes,
            DepKind::Requires => &self.requires,
            DepKind::Suggests => &self.suggests,
            DepKind::Enhances => &self.enhances,
            DepKind::Recommends => &self.recommends,
            DepKind::Supplements => &self.supplements,
        }
    }

    pub(crate) fn dependencies_mut(&mut self, kind: DepKind) -> &mut Vec<Dependency> {
        match kind {
            DepKind::Provides => &mut self.provides,
            DepKind::Conflicts => &mut self.conflicts,
            DepKind::Obsoletes => &mut self.obsoletes,
            DepKind::Requires => &mut self.requires,
            DepKind::Suggests => &mut self.suggests,
            DepKind::Enhances => &mut self.enhances,
            DepKind::Recommends => &mut self.recommends,
            DepKind::Supplements => &mut self.supplements,
        }
    }
}

/// createrepo_c's `cr_is_primary`: the files primary.xml lists, because yum
/// resolves file requires on them without downloading filelists.
pub(crate) fn is_primary_file(path: &str) -> bool {
    path.starts_with("/etc/") || path == "/usr/lib/sendmail" || path.contains("bin/")
}

/// Full file names (raw bytes) and kinds, in header order. rpm builds them
/// from `DIRNAMES[DIRINDEXES[i]] + BASENAMES[i]` (old packages carry
/// `OLDFILENAMES`); createrepo_c lists files only when the flags and modes are
/// there too, and stops at the shortest of the arrays.
fn read_files(pkg: &Package) -> Result<Vec<(Vec<u8>, FileKind)>> {
    let h = &pkg.header;
    let names: Vec<Vec<u8>> = match (
        h.strings(t::BASENAMES)?,
        h.numbers(t::DIRINDEXES)?,
        h.strings(t::DIRNAMES)?,
    ) {
        (Some(bases), Some(indexes), Some(dirs)) => {
            let mut v = Vec::with_capacity(bases.len());
            for (i, (base, &index)) in bases.iter().zip(&indexes).enumerate() {
                let dir = usize::try_from(index)
                    .ok()
                    .and_then(|ix| dirs.get(ix))
                    .ok_or_else(|| {
                        Error::corrupt(
                            h.entry(t::DIRINDEXES)
                                .map_or(0, |e| u64::from(e.offset) + h.start()),
                            format!(
                                "file {i}: directory index {index} is past the {} directories",
                                dirs.len()
                            ),
                        )
                    })?;
                v.push([*dir, *base].concat());
            }
            v
        }
        (None, _, _) => match h.strings(t::OLDFILENAMES)? {
            Some(old) => old.into_iter().map(<[u8]>::to_vec).collect(),
            None => return Ok(Vec::new()),
        },
        _ => return Ok(Vec::new()),
    };
    let (Some(flags), Some(modes)) = (h.numbers(t::FILEFLAGS)?, h.numbers(t::FILEMODES)?) else {
        return Ok(Vec::new());
    };
    const S_IFMT: u64 = 0o170000;
    const S_IFDIR: u64 = 0o040000;
    Ok(names
        .into_iter()
        .zip(flags.into_iter().zip(modes))
        .map(|(name, (flags, mode))| {
            let kind = if mode & S_IFMT == S_IFDIR {
                FileKind::Dir
            } else if flags & tag::file::GHOST != 0 {
                FileKind::Ghost
            } else {
                FileKind::File
            };
            (name, kind)
        })
        .collect())
}

/// createrepo_c's `cr_flag_to_str`: only the five comparison senses have names.
fn flag_name(flags: u64) -> Option<&'static str> {
    match flags & 0xf {
        2 => Some("LT"),
        4 => Some("GT"),
        8 => Some("EQ"),
        10 => Some("LE"),
        12 => Some("GE"),
        _ => None,
    }
}

/// A dependency version split as createrepo_c's `cr_str_to_evr` splits it:
/// epoch before the first `:` (`0` when absent or empty), release after the
/// first `-` that follows. `None` for an epoch that C's `strtol` would not
/// read whole (createrepo_c then drops the dependency).
#[allow(clippy::type_complexity)]
fn split_evr(v: &[u8]) -> Option<(Option<&[u8]>, Option<&[u8]>, Option<&[u8]>)> {
    if v.is_empty() {
        return Some((None, None, None));
    }
    let (epoch, rest): (&[u8], &[u8]) = match v.iter().position(|&c| c == b':') {
        Some(colon) => {
            let e = &v[..colon];
            if !e.is_empty() && !strtol_whole(e) {
                return None;
            }
            (if e.is_empty() { b"0" } else { e }, &v[colon + 1..])
        }
        None => (b"0", v),
    };
    let (version, release) = match rest.iter().position(|&c| c == b'-') {
        Some(dash) => {
            let r = &rest[dash + 1..];
            (&rest[..dash], if r.is_empty() { None } else { Some(r) })
        }
        None => (rest, None),
    };
    Some((Some(epoch), Some(version), release))
}

/// Whether C's `strtol(s, &end, 10)` consumes all of `s`: optional white
/// space, an optional sign, then only digits (at least one).
fn strtol_whole(s: &[u8]) -> bool {
    let s = match s.iter().position(|&c| !matches!(c, b' ' | b'\t'..=b'\r')) {
        Some(i) => &s[i..],
        None => return false,
    };
    let s = s
        .strip_prefix(b"+")
        .or_else(|| s.strip_prefix(b"-"))
        .unwrap_or(s);
    !s.is_empty() && s.iter().all(u8::is_ascii_digit)
}

/// What makes a require a repeat of the previous one with its name: flags, version, pre.
type RequireKey = (Option<&'static str>, Vec<u8>, bool);

fn read_dependencies(
    pkg: &Package,
    files: &[(Vec<u8>, FileKind)],
    entry: &mut PackageEntry,
) -> Result<()> {
    let h = &pkg.header;
    let file_names: HashSet<&[u8]> = files.iter().map(|(n, _)| n.as_slice()).collect();
    // name + flags + version of every provide, as createrepo_c concatenates them.
    let mut provided: HashSet<Vec<u8>> = HashSet::new();
    // The last require kept for each name: (flags, version, pre).
    let mut last_require: HashMap<Vec<u8>, RequireKey> = HashMap::new();
    for (kind, name_tag, flags_tag, version_tag) in DepKind::ALL {
        let (Some(names), Some(flags), Some(versions)) = (
            h.strings(name_tag)?,
            h.numbers(flags_tag)?,
            h.strings(version_tag)?,
        ) else {
            continue;
        };
        let mut highest_libc: Option<(Vec<u8>, Dependency)> = None;
        for ((&name, &num_flags), &version) in names.iter().zip(&flags).zip(&versions) {
            let flag = flag_name(num_flags);
            let nfv = [name, flag.unwrap_or("").as_bytes(), version].concat();
            let mut pre = false;
            if kind == DepKind::Requires {
                if name.starts_with(b"rpmlib(") {
                    continue;
                }
                if name.first() == Some(&b'/')
                    && file_names.contains(name)
                    && is_primary_file(&String::from_utf8_lossy(name))
                {
                    continue;
                }
                if provided.contains(&nfv) {
                    continue;
                }
                pre = num_flags
                    & (tag::sense::PREREQ | tag::sense::SCRIPT_PRE | tag::sense::SCRIPT_POST)
                    != 0;
                if let Some((f, v, p)) = last_require.get(name) {
                    if *f == flag && v.as_slice() == version && *p == pre {
                        continue;
                    }
                }
            }
            let Some((epoch, ver, rel)) = split_evr(version) else {
                continue;
            };
            let opt = |b: Option<&[u8]>, what: &str| -> Result<Option<String>> {
                b.map(|b| header_text(b, what)).transpose()
            };
            let dep = Dependency {
                name: header_text(name, "dependency name")?,
                flags: flag.map(str::to_string),
                epoch: opt(epoch, "dependency epoch")?,
                version: opt(ver, "dependency version")?,
                release: opt(rel, "dependency release")?,
                pre,
            };
            match kind {
                DepKind::Provides => {
                    provided.insert(nfv);
                }
                DepKind::Requires => {
                    if name.starts_with(b"libc.so.6") {
                        // createrepo_c keeps only the highest libc.so.6(GLIBC_x) require.
                        let keep_new = match &highest_libc {
                            None => true,
                            Some((old, _)) => libc_newer(old, name),
                        };
                        if keep_new {
                            highest_libc = Some((name.to_vec(), dep));
                        }
                        continue;
                    }
                    last_require.insert(name.to_vec(), (flag, version.to_vec(), pre));
                }
                _ => {}
            }
            entry.dependencies_mut(kind).push(dep);
        }
        if let Some((_, dep)) = highest_libc {
            entry.requires.push(dep);
        }
    }
    Ok(())
}

/// createrepo_c's `cr_compare_dependency(old, new) == 2`: whether the version
/// inside the parentheses of `new` (from its first digit) is higher than
/// `old`'s, e.g. `libc.so.6(GLIBC_2.4)` over `libc.so.6(GLIBC_2.3.4)(64bit)`.
fn libc_newer(old: &[u8], new: &[u8]) -> bool {
    // createrepo_c checks, in turn: a `(` at all, a `)` after it, something
    // inside, a digit before the `)`; the name that fails a check first loses
    // to the other, and both failing the same check compare equal.
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    enum Part<'a> {
        NoParen,
        NoClose,
        Empty,
        NoDigit,
        Version(&'a [u8]),
    }
    fn part(s: &[u8]) -> Part<'_> {
        let Some(open) = s.iter().position(|&c| c == b'(') else {
            return Part::NoParen;
        };
        let Some(close) = s[open..].iter().position(|&c| c == b')').map(|c| open + c) else {
            return Part::NoClose;
        };
        if close == open + 1 {
            return Part::Empty;
        }
        match s[open + 1..close].iter().position(u8::is_ascii_digit) {
            Some(d) => Part::Version(&s[open + 1 + d..close]),
            None => Part::NoDigit,
        }
    }
    match (part(old), part(new)) {
        (Part::Version(a), Part::Version(b)) => {
            crate::rpm::rpmvercmp(&String::from_utf8_lossy(a), &String::from_utf8_lossy(b))
                == std::cmp::Ordering::Less
        }
        (a, b) => a < b,
    }
}

fn read_changelog(pkg: &Package, limit: Option<usize>) -> Result<Vec<ChangelogEntry>> {
    let h = &pkg.header;
    let (Some(times), Some(names), Some(texts)) = (
        h.numbers(t::CHANGELOGTIME)?,
        h.strings(t::CHANGELOGNAME)?,
        h.strings(t::CHANGELOGTEXT)?,
    ) else {
        return Ok(Vec::new());
    };
    let take = limit.unwrap_or(usize::MAX);
    // Header order is newest first; createrepo_c prepends, so the result is oldest first.
    let mut out: Vec<ChangelogEntry> = Vec::new();
    let mut last_time = 0i64;
    for ((&time, &name), &text) in times.iter().zip(&names).zip(&texts).take(take) {
        let time = time as i64;
        let mut author = name;
        while author.len() > 1 && author.last() == Some(&b' ') {
            author = &author[..author.len() - 1];
        }
        out.insert(
            0,
            ChangelogEntry {
                author: header_text(author, "changelog author")?,
                date: time,
                text: header_text(text, "changelog text")?,
            },
        );
        if last_time == time {
            // Same second as the entry before: push the older ones a second later each.
            for (expected, older) in (time..).zip(out.iter_mut().skip(1)) {
                if older.date != expected {
                    break;
                }
                older.date += 1;
            }
        } else {
            last_time = time;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primary_files_follow_createrepo_c() {
        for p in [
            "/etc/passwd",
            "/usr/bin/ls",
            "/opt/x/sbin/y",
            "/usr/lib/sendmail",
            "/bin/",
        ] {
            assert!(is_primary_file(p), "{p}");
        }
        for p in [
            "/etc",
            "/usr/lib/sendmail.cf",
            "/usr/lib64/libc.so",
            "/binx",
        ] {
            assert!(!is_primary_file(p), "{p}");
        }
    }

    #[test]
    fn evr_split_follows_cr_str_to_evr() {
        let s = |v: &str| {
            split_evr(v.as_bytes()).map(|(e, v, r)| {
                let f = |x: Option<&[u8]>| x.map(|b| String::from_utf8_lossy(b).into_owned());
                (f(e), f(v), f(r))
            })
        };
        let some = |x: &str| Some(x.to_string());
        assert_eq!(s("1.0-1"), Some((some("0"), some("1.0"), some("1"))));
        assert_eq!(s("2:1.0"), Some((some("2"), some("1.0"), None)));
        assert_eq!(s(":1.0-"), Some((some("0"), some("1.0"), None)));
        assert_eq!(s("1.0-1-2"), Some((some("0"), some("1.0"), some("1-2"))));
        assert_eq!(s(" -3:1"), Some((some(" -3"), some("1"), None)));
        assert_eq!(s(""), Some((None, None, None)));
        assert_eq!(s("x:1.0"), None);
        assert_eq!(s("1x:1.0"), None);
    }

    #[test]
    fn flags_name_only_comparisons() {
        assert_eq!(flag_name(8 | 64), Some("EQ"));
        assert_eq!(flag_name(10), Some("LE"));
        assert_eq!(flag_name(0x1000_0000), None);
        assert_eq!(flag_name(6), None);
    }

    #[test]
    fn libc_keeps_the_highest_glibc_version() {
        assert!(libc_newer(
            b"libc.so.6(GLIBC_2.3.4)(64bit)",
            b"libc.so.6(GLIBC_2.4)(64bit)"
        ));
        assert!(!libc_newer(
            b"libc.so.6(GLIBC_2.14)(64bit)",
            b"libc.so.6(GLIBC_2.4)(64bit)"
        ));
        assert!(libc_newer(b"libc.so.6", b"libc.so.6()(64bit)"));
        assert!(libc_newer(
            b"libc.so.6()(64bit)",
            b"libc.so.6(GLIBC_2.2.5)(64bit)"
        ));
        assert!(!libc_newer(b"libc.so.6(GLIBC)(64bit)", b"libc.so.6(X"));
        assert!(!libc_newer(
            b"libc.so.6(GLIBC_2.4)",
            b"libc.so.6(GLIBC_2.4)"
        ));
    }
}
