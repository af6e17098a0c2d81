//! Reading an existing repository's primary, filelists and other metadata
//! back into [`PackageEntry`] values, so that a regeneration can keep the
//! entries of unchanged packages without re-reading their RPMs.
//!
//! The three files list the same packages in the same order (createrepo_c
//! writes them from one package list); filelists and other are paired with
//! primary by position and checked by `pkgid`, name and arch. An entry read
//! back writes the same XML as the one it was read from: what primary.xml
//! omits (dependency versions without flags) is not needed to write it again.
//!
//! Each file is read by one streaming XML reader straight into entries, files
//! and changelogs (`Primary`, `Children`): no element tree is built, since this
//! runs for every package of the old metadata on the path of every add-rpm. When
//! a whole repository is read (`read_entries_concurrently`), filelists and other
//! are read on threads of their own and primary.xml in two halves on two more
//! (`read_primary_split`). The tests hold the element-tree reader these replaced
//! and check that both give the same entries and the same first error.

use std::borrow::Cow;
use std::io::{BufRead, BufReader, Read};

use super::entry::{ChangelogEntry, DepKind, Dependency, FileKind, PackageEntry, PackageFile};
use super::stream::{self, Build, Source};
use crate::error::{Error, ErrorKind, Result};
use crate::initrd::codec::{detect, Codec};
use flate2::bufread::MultiGzDecoder;
use quick_xml::encoding::Decoder;
use quick_xml::events::BytesStart;

/// Read the entries of a repository from its gzip-compressed primary,
/// filelists and other files.
///
/// Errors are [`ErrorKind::Corrupt`] (with the offset in the decompressed XML
/// and the file named by `what`) for malformed XML, a missing required
/// element or attribute, or files that do not describe the same packages.
pub fn read_entries(
    primary_gz: &mut dyn Read,
    filelists_gz: &mut dyn Read,
    other_gz: &mut dyn Read,
) -> Result<Vec<PackageEntry>> {
    let mut entries = read_primary(primary_gz)?;
    pair_parts(
        &mut entries,
        parts::<File>(filelists_gz, "filelists.xml"),
        "filelists.xml",
        &|e, files| e.files = files,
    )?;
    pair_parts(
        &mut entries,
        parts::<Changelog>(other_gz, "other.xml"),
        "other.xml",
        &|e, changelogs| e.changelogs = changelogs,
    )?;
    Ok(entries)
}

/// Read the entries of a gzip-compressed primary.xml alone: names, versions,
/// checksums, dependencies and the files primary lists, without the full file
/// lists and changelogs (enough to name every package by NEVRA).
///
/// Errors as [`read_entries`].
pub(crate) fn read_primary(primary_gz: &mut dyn Read) -> Result<Vec<PackageEntry>> {
    primary_entries(&mut gzip_xml(primary_gz, "primary.xml")?, Source::Gzip)
}

/// The entries of primary.xml's XML.
fn primary_entries(xml: &mut dyn BufRead, source: Source) -> Result<Vec<PackageEntry>> {
    let mut entries = Vec::new();
    let mut build = Primary {
        stack: Vec::new(),
        draft: Draft::default(),
        package: &mut |entry| {
            entries.push(entry);
            Ok(())
        },
    };
    stream::read(xml, "primary.xml", source, None, &mut build)?;
    Ok(entries)
}

/// [`read_primary`] of a whole gzip file, its two halves parsed on two threads:
/// parsing primary.xml is the longest step of reading a repository's metadata.
/// The XML is cut before a `<package>` start tag in the middle; each half,
/// completed with the root's start or end tag, is a document of its own. Should
/// the cut not fall between two packages of the root, a half is not well-formed
/// and fails; any failure (and any error of the file) is left to [`read_primary`]
/// over the whole file, so the entries and the first error are the same.
pub(crate) fn read_primary_split(gz: &[u8]) -> Result<Vec<PackageEntry>> {
    let whole = || read_primary(&mut &gz[..]);
    // Sized once from the gzip trailer (the size mod 2^32 of the last member; only
    // a hint, bounded by what deflate can reach) rather than grown by doubling.
    let hint = gz
        .len()
        .checked_sub(4)
        .and_then(|at| gz.get(at..))
        .and_then(|t| <[u8; 4]>::try_from(t).ok())
        .map_or(0, |t| u32::from_le_bytes(t) as usize);
    let mut xml = Vec::with_capacity(hint.min(gz.len().saturating_mul(1032)));
    if MultiGzDecoder::new(gz).read_to_end(&mut xml).is_err() {
        return whole();
    }
    read_halves(&xml).map_or_else(whole, Ok)
}

/// The entries of primary.xml's XML read in two halves on two threads (`None`:
/// not cut, or a half did not read; see [`read_primary_split`]).
fn read_halves(xml: &[u8]) -> Option<Vec<PackageEntry>> {
    let (root, close, cut) = halves(xml)?;
    let (first, second) = std::thread::scope(|s| {
        let second = s.spawn(|| primary_entries(&mut root.chain(&xml[cut..]), Source::Plain));
        let first = primary_entries(&mut xml[..cut].chain(close.as_bytes()), Source::Plain);
        (first, second.join())
    });
    let mut first = first.ok()?;
    first.extend(second.ok()?.ok()?);
    Some(first)
}

/// Where [`read_primary_split`] cuts `xml`: the root's start tag, its end tag,
/// and the offset of the first `\n<package` start tag after the middle (`None`:
/// too small to be worth it, or no such tag).
fn halves(xml: &[u8]) -> Option<(&[u8], String, usize)> {
    const WORTH_IT: usize = 256 << 10;
    if xml.len() < WORTH_IT {
        return None;
    }
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    let (start, end, name) = loop {
        let start = usize::try_from(reader.buffer_position()).ok()?;
        match reader.read_event_into(&mut buf).ok()? {
            quick_xml::events::Event::Start(e) => {
                let name = std::str::from_utf8(e.name().into_inner()).ok()?.to_string();
                let end = usize::try_from(reader.buffer_position()).ok()?;
                break (start, end, name);
            }
            quick_xml::events::Event::Decl(_)
            | quick_xml::events::Event::Comment(_)
            | quick_xml::events::Event::DocType(_)
            | quick_xml::events::Event::PI(_)
            | quick_xml::events::Event::Text(_) => buf.clear(),
            _ => return None,
        }
    };
    let mut from = (xml.len() / 2).max(end);
    loop {
        let at = from + xml[from..].windows(9).position(|w| w == b"\n<package")? + 1;
        if matches!(
            xml.get(at + 8),
            Some(b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/')
        ) {
            return Some((&xml[start..end], format!("</{name}>"), at));
        }
        from = at;
    }
}

/// Where an open element of a primary `<package>` puts what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// Read for well-formedness only: an element the entry does not use, or not
    /// the first of its name (the entry takes the first child of each name).
    Skip,
    /// The `<package>` itself.
    Package,
    /// A text field (an index into [`Draft::texts`]).
    Text(usize),
    /// The first `<format>`.
    Format,
    /// The first list of a kind of dependency (its index in [`DepKind::PRIMARY_ORDER`]
    /// and in [`Draft::deps`]).
    Deps(usize),
    /// A `<file>` of the first `<format>` (its text is the path).
    File,
}

/// The package's children that the entry reads, in [`Draft::seen`]'s bit order:
/// the text fields first (their bit is their index into [`Draft::texts`]).
const PACKAGE_TEXTS: [&str; 7] = [
    "name",
    "arch",
    "checksum",
    "summary",
    "description",
    "packager",
    "url",
];
const FORMAT_TEXTS: [&str; 5] = [
    "rpm:license",
    "rpm:vendor",
    "rpm:group",
    "rpm:buildhost",
    "rpm:sourcerpm",
];
const TEXTS: usize = PACKAGE_TEXTS.len() + FORMAT_TEXTS.len();
/// The bits of the three text children an entry cannot do without (their
/// indices in [`PACKAGE_TEXTS`], checked when compiling).
const NAME: u32 = 1 << 0;
const ARCH: u32 = 1 << 1;
const CHECKSUM: u32 = 1 << 2;
const _: () = assert!(
    matches!(PACKAGE_TEXTS[0].as_bytes(), b"name")
        && matches!(PACKAGE_TEXTS[1].as_bytes(), b"arch")
        && matches!(PACKAGE_TEXTS[2].as_bytes(), b"checksum")
);
const VERSION: u32 = 1 << TEXTS;
const TIME: u32 = VERSION << 1;
const SIZE: u32 = VERSION << 2;
const LOCATION: u32 = VERSION << 3;
const FORMAT: u32 = VERSION << 4;
const HEADER_RANGE: u32 = VERSION << 5;
/// The bit of the first dependency list of a kind ([`DepKind::PRIMARY_ORDER`]'s index).
const DEPS: u32 = VERSION << 6;

/// One `<package>` of primary.xml as it is read: what its first children of each
/// name said, checked when it ends ([`Draft::entry`]).
#[derive(Debug, Default)]
struct Draft {
    offset: u64,
    /// Which children were met (see [`PACKAGE_TEXTS`] and the bits after it).
    seen: u32,
    texts: [String; TEXTS],
    epoch: Option<String>,
    version: Option<String>,
    release: Option<String>,
    checksum_type: Option<String>,
    time_file: Option<i64>,
    time_build: Option<u64>,
    size_package: Option<u64>,
    size_installed: Option<u64>,
    size_archive: Option<u64>,
    href: Option<String>,
    base: Option<String>,
    header_start: Option<u64>,
    header_end: Option<u64>,
    deps: [Vec<Dependency>; DepKind::PRIMARY_ORDER.len()],
    /// Each file's path and kind (or the error its unknown `type` is).
    files: Vec<(String, Result<FileKind>)>,
}

impl Draft {
    /// Whether `bit` is met for the first time (and mark it).
    fn first(&mut self, bit: u32) -> bool {
        let first = self.seen & bit == 0;
        self.seen |= bit;
        first
    }

    /// The entry, checked in the order the fields are listed so that the first
    /// error is the same whatever else is wrong.
    fn entry(mut self) -> Result<PackageEntry> {
        for (bit, what) in [
            (VERSION, "<version>"),
            (CHECKSUM, "<checksum>"),
            (TIME, "<time>"),
            (SIZE, "<size>"),
            (LOCATION, "<location>"),
            (FORMAT, "<format>"),
            (NAME, "<name>"),
            (ARCH, "<arch>"),
        ] {
            if self.seen & bit == 0 {
                return Err(missing(what));
            }
        }
        fn number<T>(v: Option<T>, what: &str) -> Result<T> {
            v.ok_or_else(|| Error::new(ErrorKind::Corrupt, format!("{what} is not a number")))
        }
        let time_file = number(self.time_file, "<time file>")?;
        let time_build = number(self.time_build, "<time build>")?;
        let size_package = number(self.size_package, "<size package>")?;
        let size_installed = number(self.size_installed, "<size installed>")?;
        let size_archive = number(self.size_archive, "<size archive>")?;
        let location_href = self.href.ok_or_else(|| missing("<location href>"))?;
        let header_start = number(self.header_start, "<rpm:header-range start>")?;
        let header_end = number(self.header_end, "<rpm:header-range end>")?;
        let files = std::mem::take(&mut self.files)
            .into_iter()
            .map(|(path, kind)| Ok(PackageFile { path, kind: kind? }))
            .collect::<Result<Vec<_>>>()?;
        let [name, arch, pkgid, summary, description, packager, url, license, vendor, group, buildhost, sourcerpm] =
            self.texts;
        let mut entry = PackageEntry {
            name,
            arch,
            epoch: self.epoch.unwrap_or_else(|| "0".to_string()),
            version: self.version.unwrap_or_default(),
            release: self.release.unwrap_or_default(),
            checksum_type: self.checksum_type.unwrap_or_default(),
            pkgid,
            summary,
            description,
            packager,
            url,
            time_file,
            time_build,
            size_package,
            size_installed,
            size_archive,
            location_href,
            location_base: self.base,
            license,
            vendor,
            group,
            buildhost,
            sourcerpm,
            header_start,
            header_end,
            // Primary lists only the primary files; filelists replaces them with
            // all. Changelogs come from other.xml.
            files,
            ..PackageEntry::default()
        };
        for (kind, deps) in DepKind::PRIMARY_ORDER.into_iter().zip(self.deps) {
            *entry.dependencies_mut(kind) = deps;
        }
        Ok(entry)
    }
}

/// Which attributes of an open element the entry takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attrs {
    None,
    Version,
    Checksum,
    Time,
    Size,
    Location,
    HeaderRange,
    /// The `type` of the last file.
    File,
    /// The last dependency of the list at this index of [`DepKind::PRIMARY_ORDER`].
    Dependency(usize),
}

impl Draft {
    /// Take the attribute `key` of an element whose attributes are `attrs`.
    fn attribute(&mut self, attrs: Attrs, key: &[u8], value: Cow<'_, str>) {
        match (attrs, key) {
            (Attrs::Version, b"epoch") => self.epoch = Some(value.into_owned()),
            (Attrs::Version, b"ver") => self.version = Some(value.into_owned()),
            (Attrs::Version, b"rel") => self.release = Some(value.into_owned()),
            (Attrs::Checksum, b"type") => self.checksum_type = Some(value.into_owned()),
            (Attrs::Time, b"file") => self.time_file = parse_number(&value),
            (Attrs::Time, b"build") => self.time_build = parse_number(&value),
            (Attrs::Size, b"package") => self.size_package = parse_number(&value),
            (Attrs::Size, b"installed") => self.size_installed = parse_number(&value),
            (Attrs::Size, b"archive") => self.size_archive = parse_number(&value),
            (Attrs::Location, b"href") => self.href = Some(value.into_owned()),
            (Attrs::Location, b"xml:base") => self.base = Some(value.into_owned()),
            (Attrs::HeaderRange, b"start") => self.header_start = parse_number(&value),
            (Attrs::HeaderRange, b"end") => self.header_end = parse_number(&value),
            (Attrs::File, b"type") => {
                if let Some((_, kind)) = self.files.last_mut() {
                    *kind = file_kind(Some(&value));
                }
            }
            (Attrs::Dependency(i), _) => {
                let Some(dep) = self.deps[i].last_mut() else {
                    return;
                };
                match key {
                    b"name" => dep.name = value.into_owned(),
                    b"flags" => dep.flags = Some(value.into_owned()),
                    b"epoch" => dep.epoch = Some(value.into_owned()),
                    b"ver" => dep.version = Some(value.into_owned()),
                    b"rel" => dep.release = Some(value.into_owned()),
                    b"pre" => dep.pre = matches!(&*value, "1" | "true"),
                    _ => {}
                }
            }
            _ => {}
        }
    }
}

/// primary.xml's reader: each `<package>` straight into a [`PackageEntry`] (its
/// strings are moved, not copied, and no element tree is built: this runs once
/// per package of the old metadata, on the path of every add-rpm).
struct Primary<'p> {
    /// The open elements below the root.
    stack: Vec<Slot>,
    draft: Draft,
    package: &'p mut dyn FnMut(PackageEntry) -> Result<()>,
}

/// A number attribute, spaces around it allowed (`None`: not a number).
fn parse_number<T: std::str::FromStr>(v: &str) -> Option<T> {
    v.trim().parse().ok()
}

impl Build for Primary<'_> {
    const TEXT: bool = true;

    fn open(
        &mut self,
        depth: usize,
        tag: &BytesStart<'_>,
        decoder: Decoder,
        offset: u64,
    ) -> std::result::Result<(), String> {
        let name = tag.name().into_inner();
        let d = &mut self.draft;
        let (slot, attrs) = match self.stack.last() {
            None if depth == 1 && stream::local_bytes(name) == b"package" => {
                *d = Draft {
                    offset,
                    ..Draft::default()
                };
                (Slot::Package, Attrs::None)
            }
            Some(Slot::Package) => match name {
                b"version" if d.first(VERSION) => (Slot::Skip, Attrs::Version),
                b"time" if d.first(TIME) => (Slot::Skip, Attrs::Time),
                b"size" if d.first(SIZE) => (Slot::Skip, Attrs::Size),
                b"location" if d.first(LOCATION) => (Slot::Skip, Attrs::Location),
                b"format" if d.first(FORMAT) => (Slot::Format, Attrs::None),
                _ => match PACKAGE_TEXTS.iter().position(|t| t.as_bytes() == name) {
                    Some(i) if d.first(1 << i) => {
                        let attrs = if name == b"checksum" {
                            Attrs::Checksum
                        } else {
                            Attrs::None
                        };
                        (Slot::Text(i), attrs)
                    }
                    _ => (Slot::Skip, Attrs::None),
                },
            },
            Some(Slot::Format) => {
                if name == b"file" {
                    d.files.push((String::new(), Ok(FileKind::File)));
                    (Slot::File, Attrs::File)
                } else if name == b"rpm:header-range" {
                    let attrs = if d.first(HEADER_RANGE) {
                        Attrs::HeaderRange
                    } else {
                        Attrs::None
                    };
                    (Slot::Skip, attrs)
                } else if let Some(i) = FORMAT_TEXTS.iter().position(|t| t.as_bytes() == name) {
                    let i = PACKAGE_TEXTS.len() + i;
                    let slot = if d.first(1 << i) {
                        Slot::Text(i)
                    } else {
                        Slot::Skip
                    };
                    (slot, Attrs::None)
                } else {
                    match DepKind::PRIMARY_ORDER
                        .iter()
                        .position(|k| k.element().as_bytes() == name)
                    {
                        Some(i) if d.first(DEPS << i) => (Slot::Deps(i), Attrs::None),
                        _ => (Slot::Skip, Attrs::None),
                    }
                }
            }
            Some(&Slot::Deps(i)) if name == b"rpm:entry" => {
                d.deps[i].push(Dependency::default());
                (Slot::Skip, Attrs::Dependency(i))
            }
            _ => (Slot::Skip, Attrs::None),
        };
        for a in stream::attributes(tag, decoder) {
            let (key, value) = a?;
            d.attribute(attrs, key, value);
        }
        self.stack.push(slot);
        Ok(())
    }

    fn inside(&self) -> bool {
        !self.stack.is_empty()
    }

    fn text(&mut self, text: &str) {
        match self.stack.last() {
            Some(Slot::Text(i)) => self.draft.texts[*i].push_str(text),
            Some(Slot::File) => {
                if let Some((path, _)) = self.draft.files.last_mut() {
                    path.push_str(text);
                }
            }
            _ => {}
        }
    }

    fn close(&mut self, _depth: usize) -> Result<()> {
        if self.stack.pop() == Some(Slot::Package) {
            let draft = std::mem::take(&mut self.draft);
            let offset = draft.offset;
            (self.package)(draft.entry().map_err(|e| e.at(offset))?)?;
        }
        Ok(())
    }
}

/// The `pkgid`, `name` and `arch` attributes of a filelists/other `<package>`.
struct Key {
    pkgid: Option<String>,
    name: Option<String>,
    arch: Option<String>,
}

/// The entry at `index` of primary, checked against a filelists/other package.
fn paired<'a>(
    entries: &'a mut [PackageEntry],
    index: &mut usize,
    key: &Key,
    pos: u64,
    what: &str,
) -> Result<&'a mut PackageEntry> {
    let i = *index;
    *index += 1;
    let entry = entries.get_mut(i).ok_or_else(|| {
        Error::corrupt(pos, format!("{what}: more packages than primary.xml lists"))
    })?;
    if key.pkgid.as_deref() != Some(entry.pkgid.as_str())
        || key.name.as_deref() != Some(entry.name.as_str())
        || key.arch.as_deref() != Some(entry.arch.as_str())
    {
        return Err(Error::corrupt(
            pos,
            format!(
                "{what}: package {} is {:?} {:?}, but primary.xml lists {} {} there",
                i + 1,
                key.name.as_deref().unwrap_or_default(),
                key.pkgid.as_deref().unwrap_or_default(),
                entry.name,
                entry.pkgid
            ),
        ));
    }
    Ok(entry)
}

/// One `<package>` of filelists or other, taken apart on the thread that parsed it:
/// its key, offset, and its files or changelogs (or why they could not be read).
struct Part<T> {
    key: Key,
    pos: u64,
    value: Result<T>,
}

/// What [`parts`] read: the packages up to the first error of the stream, and that error.
type Parts<T> = (Vec<Part<T>>, Option<Error>);

/// The packages of one of filelists/other as [`Part`]s, up to the first error of the
/// stream itself (returned beside them, so that the pairing errors of the packages
/// before it come first, as when the file is paired while it is read).
fn parts<I: Item>(gz: &mut dyn Read, what: &str) -> Parts<Vec<I::Out>> {
    let mut build = Children::<I> {
        stack: Vec::new(),
        key: Key {
            pkgid: None,
            name: None,
            arch: None,
        },
        pos: 0,
        items: Vec::new(),
        parts: Vec::new(),
    };
    let result = gzip_xml(gz, what)
        .and_then(|mut xml| stream::read(&mut xml, what, Source::Gzip, None, &mut build));
    (build.parts, result.err())
}

/// What filelists and other list under each package: files and changelogs, each
/// built from its element's attributes and text.
trait Item: Sized {
    /// The element's name.
    const NAME: &'static [u8];
    type Out;
    fn new() -> Self;
    fn attribute(&mut self, key: &[u8], value: Cow<'_, str>);
    fn text(&mut self, text: &str);
    fn finish(self) -> Result<Self::Out>;
}

/// A filelists `<file>`.
struct File {
    path: String,
    kind: Result<FileKind>,
}

impl Item for File {
    const NAME: &'static [u8] = b"file";
    type Out = PackageFile;

    fn new() -> File {
        File {
            path: String::new(),
            kind: Ok(FileKind::File),
        }
    }

    fn attribute(&mut self, key: &[u8], value: Cow<'_, str>) {
        if key == b"type" {
            self.kind = file_kind(Some(&value));
        }
    }

    fn text(&mut self, text: &str) {
        self.path.push_str(text);
    }

    fn finish(self) -> Result<PackageFile> {
        Ok(PackageFile {
            path: self.path,
            kind: self.kind?,
        })
    }
}

/// An other.xml `<changelog>`.
struct Changelog {
    author: Option<String>,
    date: Option<i64>,
    text: String,
}

impl Item for Changelog {
    const NAME: &'static [u8] = b"changelog";
    type Out = ChangelogEntry;

    fn new() -> Changelog {
        Changelog {
            author: None,
            date: None,
            text: String::new(),
        }
    }

    fn attribute(&mut self, key: &[u8], value: Cow<'_, str>) {
        match key {
            b"author" => self.author = Some(value.into_owned()),
            b"date" => self.date = parse_number(&value),
            _ => {}
        }
    }

    fn text(&mut self, text: &str) {
        self.text.push_str(text);
    }

    fn finish(self) -> Result<ChangelogEntry> {
        Ok(ChangelogEntry {
            author: self.author.unwrap_or_default(),
            date: self
                .date
                .ok_or_else(|| Error::new(ErrorKind::Corrupt, "changelog date is not a number"))?,
            text: self.text,
        })
    }
}

/// Where an open element of a filelists/other `<package>` puts what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Skip,
    Package,
    Item,
}

/// filelists.xml's and other.xml's reader: each `<package>`'s key and its
/// [`Item`] children, straight from the events (as [`Primary`]).
struct Children<I: Item> {
    stack: Vec<Open>,
    key: Key,
    pos: u64,
    items: Vec<I>,
    parts: Vec<Part<Vec<I::Out>>>,
}

impl<I: Item> Build for Children<I> {
    const TEXT: bool = true;

    fn open(
        &mut self,
        depth: usize,
        tag: &BytesStart<'_>,
        decoder: Decoder,
        offset: u64,
    ) -> std::result::Result<(), String> {
        let name = tag.name().into_inner();
        let open = match self.stack.last() {
            None if depth == 1 && stream::local_bytes(name) == b"package" => {
                self.key = Key {
                    pkgid: None,
                    name: None,
                    arch: None,
                };
                self.pos = offset;
                Open::Package
            }
            Some(Open::Package) if name == I::NAME => {
                self.items.push(I::new());
                Open::Item
            }
            _ => Open::Skip,
        };
        for a in stream::attributes(tag, decoder) {
            let (key, value) = a?;
            match open {
                Open::Package => {
                    let slot = match key {
                        b"pkgid" => &mut self.key.pkgid,
                        b"name" => &mut self.key.name,
                        b"arch" => &mut self.key.arch,
                        _ => continue,
                    };
                    *slot = Some(value.into_owned());
                }
                Open::Item => {
                    if let Some(item) = self.items.last_mut() {
                        item.attribute(key, value);
                    }
                }
                Open::Skip => {}
            }
        }
        self.stack.push(open);
        Ok(())
    }

    fn inside(&self) -> bool {
        !self.stack.is_empty()
    }

    fn text(&mut self, text: &str) {
        if self.stack.last() == Some(&Open::Item) {
            if let Some(item) = self.items.last_mut() {
                item.text(text);
            }
        }
    }

    fn close(&mut self, _depth: usize) -> Result<()> {
        if self.stack.pop() == Some(Open::Package) {
            let key = std::mem::replace(
                &mut self.key,
                Key {
                    pkgid: None,
                    name: None,
                    arch: None,
                },
            );
            let value = std::mem::take(&mut self.items)
                .into_iter()
                .map(I::finish)
                .collect();
            self.parts.push(Part {
                key,
                pos: self.pos,
                value,
            });
        }
        Ok(())
    }
}

/// What a [`parts`] thread that panicked stands for.
fn panicked<T>(what: &str) -> Parts<T> {
    (
        Vec::new(),
        Some(Error::invalid(format!(
            "the {what} reading thread panicked"
        ))),
    )
}

/// Pair the [`parts`] of filelists or other with primary's entries in order.
fn pair_parts<T>(
    entries: &mut [PackageEntry],
    (parts, stream_error): Parts<T>,
    what: &str,
    set: &dyn Fn(&mut PackageEntry, T),
) -> Result<()> {
    let mut index = 0usize;
    for part in parts {
        let entry = paired(entries, &mut index, &part.key, part.pos, what)?;
        set(entry, part.value.map_err(|e| e.at(part.pos))?);
    }
    if let Some(e) = stream_error {
        return Err(e);
    }
    check_count(entries, index, what)
}

/// [`read_entries`] with filelists and other parsed on their own threads while
/// primary is parsed on this one; the same entries and the same first error.
pub(crate) fn read_entries_concurrently(
    primary_gz: &mut (dyn Read + Send),
    filelists_gz: &mut (dyn Read + Send),
    other_gz: &mut (dyn Read + Send),
) -> Result<Vec<PackageEntry>> {
    let (primary, filelists, other) = std::thread::scope(|s| {
        let filelists = s.spawn(|| parts::<File>(filelists_gz, "filelists.xml"));
        let other = s.spawn(|| parts::<Changelog>(other_gz, "other.xml"));
        let mut gz = Vec::new();
        let primary = match primary_gz.read_to_end(&mut gz) {
            Ok(_) => read_primary_split(&gz),
            Err(e) => Err(Error::io(e, "reading primary.xml.gz")),
        };
        let filelists = filelists
            .join()
            .unwrap_or_else(|_| panicked("filelists.xml"));
        let other = other.join().unwrap_or_else(|_| panicked("other.xml"));
        (primary, filelists, other)
    });
    let mut entries = primary?;
    pair_parts(&mut entries, filelists, "filelists.xml", &|e, files| {
        e.files = files
    })?;
    pair_parts(&mut entries, other, "other.xml", &|e, changelogs| {
        e.changelogs = changelogs
    })?;
    Ok(entries)
}

fn check_count(entries: &[PackageEntry], seen: usize, what: &str) -> Result<()> {
    if seen != entries.len() {
        return Err(Error::new(
            ErrorKind::Corrupt,
            format!(
                "{what} lists {seen} packages but primary.xml lists {}",
                entries.len()
            ),
        ));
    }
    Ok(())
}

fn missing(what: &str) -> Error {
    Error::new(
        ErrorKind::Corrupt,
        format!("primary.xml: package without {what}"),
    )
}

/// The kind a `<file type>` names.
fn file_kind(kind: Option<&str>) -> Result<FileKind> {
    match kind {
        None | Some("file") => Ok(FileKind::File),
        Some("dir") => Ok(FileKind::Dir),
        Some("ghost") => Ok(FileKind::Ghost),
        Some(other) => Err(Error::new(
            ErrorKind::Corrupt,
            format!("<file type={other:?}> is not file, dir or ghost"),
        )),
    }
}

/// The XML of a gzip-compressed metadata file (`what` names it in errors).
fn gzip_xml<'a>(gz: &'a mut dyn Read, what: &str) -> Result<impl BufRead + 'a> {
    let mut compressed = BufReader::new(gz);
    let head = compressed
        .fill_buf()
        .map_err(|e| Error::io(e, format!("reading {what}.gz")))?;
    if detect(head) != Codec::Gzip {
        return Err(Error::unsupported(format!(
            "{what} is not gzip-compressed; xiso reads and writes gzip metadata only"
        )));
    }
    Ok(BufReader::new(MultiGzDecoder::new(compressed)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::stream::{Detail, Element};
    use std::io::Write;

    /// The entry of a primary `<package>` element tree: the reader [`Primary`] replaced
    /// (kept as the reference it must agree with). Its strings are moved, not
    /// copied: this runs once per package of the old metadata, on the path of every
    /// add-rpm). Every check runs before anything is taken, in the order the fields are
    /// listed, so the first error is the same whatever else is wrong.
    fn primary_entry(mut p: Element) -> Result<PackageEntry> {
        let (time_file, time_build, size_package, size_installed, size_archive);
        let (header_start, header_end);
        {
            let p = &p;
            p.child("version").ok_or_else(|| missing("<version>"))?;
            p.child("checksum").ok_or_else(|| missing("<checksum>"))?;
            let time = p.child("time").ok_or_else(|| missing("<time>"))?;
            let size = p.child("size").ok_or_else(|| missing("<size>"))?;
            let location = p.child("location").ok_or_else(|| missing("<location>"))?;
            let format = p.child("format").ok_or_else(|| missing("<format>"))?;
            p.child("name").ok_or_else(|| missing("<name>"))?;
            p.child("arch").ok_or_else(|| missing("<arch>"))?;
            time_file = number(time.attr("file"), "<time file>")?;
            time_build = number(time.attr("build"), "<time build>")?;
            size_package = number(size.attr("package"), "<size package>")?;
            size_installed = number(size.attr("installed"), "<size installed>")?;
            size_archive = number(size.attr("archive"), "<size archive>")?;
            location
                .attr("href")
                .ok_or_else(|| missing("<location href>"))?;
            let range = format.child("rpm:header-range");
            header_start = number(
                range.and_then(|r| r.attr("start")),
                "<rpm:header-range start>",
            )?;
            header_end = number(range.and_then(|r| r.attr("end")), "<rpm:header-range end>")?;
        }
        let (epoch, version, release) = {
            let v = child_mut(&mut p, "version").expect("checked above");
            (
                take_attr(v, "epoch").unwrap_or_else(|| "0".to_string()),
                take_attr(v, "ver").unwrap_or_default(),
                take_attr(v, "rel").unwrap_or_default(),
            )
        };
        let (checksum_type, pkgid) = {
            let c = child_mut(&mut p, "checksum").expect("checked above");
            (
                take_attr(c, "type").unwrap_or_default(),
                std::mem::take(&mut c.text),
            )
        };
        let (location_href, location_base) = {
            let l = child_mut(&mut p, "location").expect("checked above");
            (
                take_attr(l, "href").expect("checked above"),
                take_attr(l, "xml:base"),
            )
        };
        let mut text = |name: &str| {
            child_mut(&mut p, name)
                .map(|c| std::mem::take(&mut c.text))
                .unwrap_or_default()
        };
        let (name, arch) = (text("name"), text("arch"));
        let (summary, description, packager, url) = (
            text("summary"),
            text("description"),
            text("packager"),
            text("url"),
        );
        let format = child_mut(&mut p, "format").expect("checked above");
        let mut ftext = |name: &str| {
            child_mut(format, name)
                .map(|c| std::mem::take(&mut c.text))
                .unwrap_or_default()
        };
        let mut entry = PackageEntry {
            name,
            arch,
            epoch,
            version,
            release,
            checksum_type,
            pkgid,
            summary,
            description,
            packager,
            url,
            time_file,
            time_build,
            size_package,
            size_installed,
            size_archive,
            location_href,
            location_base,
            license: ftext("rpm:license"),
            vendor: ftext("rpm:vendor"),
            group: ftext("rpm:group"),
            buildhost: ftext("rpm:buildhost"),
            sourcerpm: ftext("rpm:sourcerpm"),
            header_start,
            header_end,
            // The dependency lists and files are filled below; changelogs come from other.xml.
            ..PackageEntry::default()
        };
        for kind in DepKind::PRIMARY_ORDER {
            let Some(list) = child_mut(format, kind.element()) else {
                continue;
            };
            let deps: Vec<Dependency> = list
                .children
                .iter_mut()
                .filter(|c| c.name == "rpm:entry")
                .map(|c| Dependency {
                    name: take_attr(c, "name").unwrap_or_default(),
                    flags: take_attr(c, "flags"),
                    epoch: take_attr(c, "epoch"),
                    version: take_attr(c, "ver"),
                    release: take_attr(c, "rel"),
                    pre: matches!(c.attr("pre"), Some("1" | "true")),
                })
                .collect();
            *entry.dependencies_mut(kind) = deps;
        }
        // Primary lists only the primary files; filelists replaces them with all.
        entry.files = format
            .children
            .iter()
            .filter(|c| c.name == "file")
            .map(file_of)
            .collect::<Result<_>>()?;
        Ok(entry)
    }

    /// The first child of `e` named `name`, to take values out of.
    fn child_mut<'a>(e: &'a mut Element, name: &str) -> Option<&'a mut Element> {
        e.children.iter_mut().find(|c| c.name == name)
    }

    /// The value of `e`'s attribute `key`, moved out (each is taken once).
    fn take_attr(e: &mut Element, key: &str) -> Option<String> {
        e.attrs
            .iter_mut()
            .find(|(k, _)| k == key)
            .map(|(_, v)| std::mem::take(v))
    }

    impl Key {
        fn of(node: &Element) -> Key {
            let a = |k: &str| node.attr(k).map(str::to_string);
            Key {
                pkgid: a("pkgid"),
                name: a("name"),
                arch: a("arch"),
            }
        }
    }

    fn number<T: std::str::FromStr>(v: Option<&str>, what: &str) -> Result<T> {
        v.and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| Error::new(ErrorKind::Corrupt, format!("{what} is not a number")))
    }

    fn file_of(node: &Element) -> Result<PackageFile> {
        Ok(PackageFile {
            path: node.text.clone(),
            kind: file_kind(node.attr("type"))?,
        })
    }

    /// Call `f` with every `<package>` of a gzip XML file ([`stream::for_each_package`]).
    fn for_each_package(
        gz: &mut dyn Read,
        what: &str,
        f: &mut dyn FnMut(Element, u64) -> Result<()>,
    ) -> Result<()> {
        let mut xml = gzip_xml(gz, what)?;
        stream::for_each_package(&mut xml, what, Source::Gzip, Detail::Tree, None, &mut |p| {
            let pos = p.offset;
            f(p, pos)
        })
    }

    fn files_of(node: &Element) -> Result<Vec<PackageFile>> {
        node.children
            .iter()
            .filter(|c| c.name == "file")
            .map(file_of)
            .collect()
    }

    fn changelogs_of(node: &Element) -> Result<Vec<ChangelogEntry>> {
        node.children
            .iter()
            .filter(|c| c.name == "changelog")
            .map(|c| {
                Ok(ChangelogEntry {
                    author: c.attr("author").unwrap_or_default().to_string(),
                    date: number(c.attr("date"), "changelog date")?,
                    text: c.text.clone(),
                })
            })
            .collect()
    }

    /// The element-tree reader of the three files (the reference of [`read_entries`]):
    /// filelists and other paired with primary while they are read.
    fn reference_entries(p: &[u8], f: &[u8], o: &[u8]) -> Result<Vec<PackageEntry>> {
        let mut xml = Vec::new();
        MultiGzDecoder::new(p).read_to_end(&mut xml).unwrap();
        let mut entries = reference(&xml)?;
        let mut index = 0usize;
        for_each_package(&mut &f[..], "filelists.xml", &mut |node, pos| {
            let entry = paired(
                &mut entries,
                &mut index,
                &Key::of(&node),
                pos,
                "filelists.xml",
            )?;
            entry.files = files_of(&node).map_err(|e| e.at(pos))?;
            Ok(())
        })?;
        check_count(&entries, index, "filelists.xml")?;
        let mut index = 0usize;
        for_each_package(&mut &o[..], "other.xml", &mut |node, pos| {
            let entry = paired(&mut entries, &mut index, &Key::of(&node), pos, "other.xml")?;
            entry.changelogs = changelogs_of(&node).map_err(|e| e.at(pos))?;
            Ok(())
        })?;
        check_count(&entries, index, "other.xml")?;
        Ok(entries)
    }

    /// The element-tree reader's entries of a primary.xml (the reference).
    fn reference(xml: &[u8]) -> Result<Vec<PackageEntry>> {
        let mut entries = Vec::new();
        stream::for_each_package(
            &mut &xml[..],
            "primary.xml",
            Source::Plain,
            Detail::Tree,
            None,
            &mut |node| {
                let pos = node.offset;
                entries.push(primary_entry(node).map_err(|e| e.at(pos))?);
                Ok(())
            },
        )?;
        Ok(entries)
    }

    /// Both results, compared as entries or as error messages (offsets included).
    fn same(a: &Result<Vec<PackageEntry>>, b: &Result<Vec<PackageEntry>>) -> bool {
        match (a, b) {
            (Ok(a), Ok(b)) => a == b,
            (Err(a), Err(b)) => a.to_string() == b.to_string() && a.kind() == b.kind(),
            _ => false,
        }
    }

    const PACKAGE: &str = r#"<package type="rpm">
  <name>pk&amp;g<![CDATA[<x>]]>&#65;</name>
  <name>second name, ignored</name>
  <arch>x86_64</arch>
  <version epoch="1" ver="2.0" rel="3.el7"/>
  <checksum type="sha256" pkgid="YES">abc123</checksum>
  <summary>A summary &lt;here&gt;</summary>
  <description>Line one
line two</description>
  <packager/>
  <url>http://example.org/?a=1&amp;b=2</url>
  <time file="1700000000" build=" 1600000000 "/>
  <size package="1234" installed="5678" archive="910"/>
  <location xml:base="http://mirror/" href="Packages/pkg-2.0-3.el7.x86_64.rpm"/>
  <unknown a="b"><nested>text</nested></unknown>
  <format>
    <rpm:license>GPLv2 &amp; MIT</rpm:license>
    <rpm:vendor></rpm:vendor>
    <rpm:group>System</rpm:group>
    <rpm:buildhost>build</rpm:buildhost>
    <rpm:sourcerpm>pkg-2.0-3.el7.src.rpm</rpm:sourcerpm>
    <rpm:header-range start="4504" end="9999"/>
    <rpm:provides>
      <rpm:entry name="pkg" flags="EQ" epoch="1" ver="2.0" rel="3.el7"/>
      <rpm:entry name="libpkg.so()(64bit)"/>
    </rpm:provides>
    <rpm:requires>
      <rpm:entry name="/bin/sh" pre="1"/>
      <rpm:entry name="(a or b)"/>
      <other name="not an entry"/>
    </rpm:requires>
    <rpm:requires>
      <rpm:entry name="second list, ignored"/>
    </rpm:requires>
    <rpm:conflicts><rpm:entry name="old" flags="LT" ver="1"/></rpm:conflicts>
    <rpm:recommends><rpm:entry name="extra"/></rpm:recommends>
    <file>/usr/bin/pkg</file>
    <file type="dir">/etc/pkg</file>
    <file type="ghost">/var/log/pkg.log</file>
  </format>
  <format><rpm:license>second format, ignored</rpm:license></format>
</package>
"#;

    fn document(packages: &[String]) -> String {
        let mut xml = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata xmlns=\"http://linux.duke.edu/metadata/common\" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\" packages=\"3\">\n",
        );
        for p in packages {
            xml.push_str(p);
        }
        xml.push_str("</metadata>\n");
        xml
    }

    fn gzip(xml: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(xml).unwrap();
        gz.finish().unwrap()
    }

    /// The reader builds from the events what the element-tree reader built:
    /// the sample, and every variant of it with one line removed or doubled (a
    /// missing or repeated element, a broken tag, a bad number…), as entries or
    /// as the same first error at the same offset.
    #[test]
    fn reader_agrees_with_the_tree_reader() {
        let sample = document(&[
            PACKAGE.to_string(),
            "<other-root-child><package/></other-root-child>\n".to_string(),
            PACKAGE
                .replace("<package type", "<rpm:package type")
                .replace("</package>", "</rpm:package>"),
        ]);
        let whole = reference(sample.as_bytes()).unwrap();
        assert_eq!(whole.len(), 2);
        let e = &whole[0];
        assert_eq!(e.name, "pk&g<x>A");
        assert_eq!(
            (e.epoch.as_str(), e.time_build, e.size_archive),
            ("1", 1600000000, 910)
        );
        assert_eq!(e.location_base.as_deref(), Some("http://mirror/"));
        assert_eq!(e.requires.len(), 2);
        assert!(e.requires[0].pre);
        assert_eq!(e.files[1].kind, FileKind::Dir);
        assert_eq!(e.license, "GPLv2 & MIT");
        assert!(same(
            &primary_entries(&mut sample.as_bytes(), Source::Plain),
            &Ok(whole)
        ));

        let lines: Vec<&str> = sample.split_inclusive('\n').collect();
        let mut variants = 0;
        let mut errors = 0;
        for i in 0..lines.len() {
            for doubled in [false, true] {
                let mut xml = String::new();
                for (k, l) in lines.iter().enumerate() {
                    if k != i || doubled {
                        xml.push_str(l);
                    }
                    if k == i && doubled {
                        xml.push_str(l);
                    }
                }
                let want = reference(xml.as_bytes());
                let got = primary_entries(&mut xml.as_bytes(), Source::Plain);
                assert!(
                    same(&got, &want),
                    "line {i} (doubled: {doubled}): {got:?} != {want:?}"
                );
                variants += 1;
                errors += usize::from(want.is_err());
            }
        }
        // Both kinds of outcome were compared.
        assert!(
            errors > 10 && variants - errors > 10,
            "{errors} of {variants}"
        );
        for bad in [
            sample.replace(r#"type="dir""#, r#"type="socket""#),
            sample.replace(r#"file="1700000000""#, r#"file="soon""#),
            sample.replace(r#"<rpm:header-range start="4504" end="9999"/>"#, ""),
            sample.replace(r#"href="Packages"#, r#"hreff="Packages"#),
            sample.replace("&amp;b=2", "&bogus;"),
            sample.replace(r#"ver="2.0" rel"#, r#"ver="2.0" ver="2.1" rel"#),
        ] {
            let want = reference(bad.as_bytes());
            assert!(want.is_err());
            assert!(same(
                &primary_entries(&mut bad.as_bytes(), Source::Plain),
                &want
            ));
        }
    }

    /// A primary.xml big enough to be read in two halves gives the same entries
    /// as read whole, and so does every file where a cut before a `<package>` tag
    /// in the middle would not fall between two packages of the root (a comment, a
    /// CDATA section, a package inside a package), or that is broken after the cut.
    #[test]
    fn halves_agree_with_the_whole() {
        let package = |k: usize| {
            PACKAGE
                .replace("pk&amp;g", &format!("pkg{k}"))
                .replace("Packages/pkg-", &format!("Packages/pkg{k}-"))
        };
        let packages: Vec<String> = (0..400).map(package).collect();
        let good = document(&packages);
        assert!(good.len() > 256 << 10);
        let (_, _, cut) = halves(good.as_bytes()).expect("cut in two");
        assert!(cut > good.len() / 2 && cut < good.len() * 3 / 4, "{cut}");
        // Both halves read (not a fall-back to the whole file), and agree with it.
        let halved = read_halves(good.as_bytes()).expect("both halves read");
        assert!(same(
            &Ok(halved),
            &primary_entries(&mut good.as_bytes(), Source::Plain)
        ));
        let entries = read_primary_split(&gzip(good.as_bytes())).unwrap();
        assert_eq!(entries.len(), 400);
        assert_eq!(entries[399].name, "pkg399<x>A");
        assert!(same(
            &Ok(entries),
            &read_primary(&mut &gzip(good.as_bytes())[..])
        ));

        let middle = |insert: &str| {
            let mut p = packages.clone();
            p.insert(200, insert.to_string());
            document(&p)
        };
        let tricky = [
            middle(&format!(
                "<!-- {}-->\n",
                "\n<package type=\"rpm\">\n</package>\n".repeat(2000)
            )),
            middle(&format!(
                "<package type=\"rpm\"><description><![CDATA[{}]]></description></package>\n",
                "\n<package type=\"rpm\">\n</package>\n".repeat(2000)
            )),
            middle(&format!(
                "<package type=\"rpm\">\n{}</package>\n",
                (0..150).map(package).collect::<String>()
            )),
            middle(&package(9).replace("<version epoch", "<versio epoch")),
            good.replace("</metadata>", ""),
            good.replace("</metadata>", "</metadata><trailing/>"),
        ];
        for (i, xml) in tricky.iter().enumerate() {
            // The cut cannot stand in the first five: the halves must not read. (Content
            // after the root, the last, reads whole and in halves alike.)
            assert!(halves(xml.as_bytes()).is_some(), "variant {i} is cut");
            assert_eq!(read_halves(xml.as_bytes()).is_none(), i < 5, "variant {i}");
            let gz = gzip(xml.as_bytes());
            let got = read_primary_split(&gz);
            let want = read_primary(&mut &gz[..]);
            assert!(same(&got, &want), "variant {i}: {got:?} != {want:?}");
        }
        // A damaged gzip stream: the whole file's error.
        let mut gz = gzip(good.as_bytes());
        gz.truncate(gz.len() / 2);
        let want = read_primary(&mut &gz[..]);
        assert!(want.is_err());
        assert!(same(&read_primary_split(&gz), &want));
    }

    /// filelists and other are read straight into files and changelogs, paired
    /// with primary, as the element-tree reader read them: the sample, and every
    /// variant of either file with one line removed or doubled.
    #[test]
    fn files_and_changelogs_agree_with_the_tree_reader() {
        let primary = gzip(document(&[PACKAGE.to_string(), PACKAGE.to_string()]).as_bytes());
        let key = r#"pkgid="abc123" name="pk&amp;g&lt;x&gt;A" arch="x86_64""#;
        let filelists = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<filelists xmlns="http://linux.duke.edu/metadata/filelists" packages="2">
<package {key}>
  <version epoch="1" ver="2.0" rel="3.el7"/>
  <file>/usr/bin/pkg</file>
  <file type="dir">/etc/pkg</file>
  <other><file>nested, not a file of the package</file></other>
  <file type="ghost">/var/log/p&amp;kg.log</file>
</package>
<package {key}>
  <file type="file">/usr/bin/pkg</file>
</package>
</filelists>
"#
        );
        let other = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<otherdata xmlns="http://linux.duke.edu/metadata/other" packages="2">
<package {key}>
  <version epoch="1" ver="2.0" rel="3.el7"/>
  <changelog author="A &lt;a@example.org&gt; - 2.0-3" date="1700000000">- first
- second &amp; third</changelog>
  <changelog date=" 1600000000 ">- <![CDATA[<cdata>]]></changelog>
</package>
<package {key}>
</package>
</otherdata>
"#
        );
        let read = |f: &str, o: &str| {
            let (f, o) = (gzip(f.as_bytes()), gzip(o.as_bytes()));
            (
                read_entries(&mut &primary[..], &mut &f[..], &mut &o[..]),
                reference_entries(&primary, &f, &o),
                read_entries_concurrently(&mut &primary[..], &mut &f[..], &mut &o[..]),
            )
        };
        let (got, want, concurrent) = read(&filelists, &other);
        let entries = want.as_ref().unwrap();
        assert_eq!(entries[0].files.len(), 3);
        assert_eq!(entries[0].files[2].path, "/var/log/p&kg.log");
        assert_eq!(entries[0].changelogs[1].text, "- <cdata>");
        assert_eq!(entries[0].changelogs[1].author, "");
        assert!(same(&got, &want) && same(&concurrent, &want));

        let (mut variants, mut errors) = (0, 0);
        for (which, text) in [(0, &filelists), (1, &other)] {
            let lines: Vec<&str> = text.split_inclusive('\n').collect();
            for i in 0..lines.len() {
                for doubled in [false, true] {
                    let mut xml = String::new();
                    for (k, l) in lines.iter().enumerate() {
                        if k != i || doubled {
                            xml.push_str(l);
                        }
                        if k == i && doubled {
                            xml.push_str(l);
                        }
                    }
                    let (got, want, concurrent) = if which == 0 {
                        read(&xml, &other)
                    } else {
                        read(&filelists, &xml)
                    };
                    assert!(
                        same(&got, &want) && same(&concurrent, &want),
                        "file {which} line {i} (doubled: {doubled}): {got:?} != {want:?}"
                    );
                    variants += 1;
                    errors += usize::from(want.is_err());
                }
            }
        }
        assert!(
            errors > 5 && variants - errors > 5,
            "{errors} of {variants}"
        );
        for (f, o) in [
            (
                filelists.replace(r#"type="dir""#, r#"type="fifo""#),
                other.clone(),
            ),
            (
                filelists.clone(),
                other.replace(r#"date="1700000000""#, r#"date="today""#),
            ),
            (filelists.replace("abc123", "abc124"), other.clone()),
        ] {
            let (got, want, concurrent) = read(&f, &o);
            assert!(want.is_err());
            assert!(
                same(&got, &want) && same(&concurrent, &want),
                "{got:?} != {want:?}"
            );
        }
    }
}
