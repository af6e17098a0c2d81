//! Reading an existing repository's primary, filelists and other metadata
//! back into [`PackageEntry`] values, so that a regeneration can keep the
//! entries of unchanged packages without re-reading their RPMs.
//!
//! The three files list the same packages in the same order (createrepo_c
//! writes them from one package list); filelists and other are paired with
//! primary by position and checked by `pkgid`, name and arch. An entry read
//! back writes the same XML as the one it was read from: what primary.xml
//! omits (dependency versions without flags) is not needed to write it again.

use std::io::{BufRead, BufReader, Read};

use super::entry::{ChangelogEntry, DepKind, Dependency, FileKind, PackageEntry, PackageFile};
use super::stream::{self, Detail, Element, Source};
use crate::error::{Error, ErrorKind, Result};
use crate::initrd::codec::{detect, Codec};
use flate2::bufread::MultiGzDecoder;

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
    let mut index = 0usize;
    for_each_package(filelists_gz, "filelists.xml", &mut |node, pos| {
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
    for_each_package(other_gz, "other.xml", &mut |node, pos| {
        let entry = paired(&mut entries, &mut index, &Key::of(&node), pos, "other.xml")?;
        entry.changelogs = changelogs_of(&node).map_err(|e| e.at(pos))?;
        Ok(())
    })?;
    check_count(&entries, index, "other.xml")?;
    Ok(entries)
}

/// Read the entries of a gzip-compressed primary.xml alone: names, versions,
/// checksums, dependencies and the files primary lists, without the full file
/// lists and changelogs (enough to name every package by NEVRA).
///
/// Errors as [`read_entries`].
pub(crate) fn read_primary(primary_gz: &mut dyn Read) -> Result<Vec<PackageEntry>> {
    let mut entries = Vec::new();
    for_each_package(primary_gz, "primary.xml", &mut |node, pos| {
        entries.push(primary_entry(node).map_err(|e| e.at(pos))?);
        Ok(())
    })?;
    Ok(entries)
}

/// The `pkgid`, `name` and `arch` attributes of a filelists/other `<package>`.
struct Key {
    pkgid: Option<String>,
    name: Option<String>,
    arch: Option<String>,
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

/// The packages of one of filelists/other as [`Part`]s, up to the first error of the
/// stream itself (returned beside them, so that the pairing errors of the packages
/// before it come first, as when the file is paired while it is read).
fn parts<T>(
    gz: &mut dyn Read,
    what: &str,
    value: &dyn Fn(&Element) -> Result<T>,
) -> (Vec<Part<T>>, Option<Error>) {
    let mut out = Vec::new();
    let result = for_each_package(gz, what, &mut |node, pos| {
        out.push(Part {
            key: Key::of(&node),
            pos,
            value: value(&node),
        });
        Ok(())
    });
    (out, result.err())
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

/// What a [`parts`] thread that panicked stands for.
fn panicked<T>(what: &str) -> (Vec<Part<T>>, Option<Error>) {
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
    (parts, stream_error): (Vec<Part<T>>, Option<Error>),
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
        let filelists = s.spawn(|| parts(filelists_gz, "filelists.xml", &files_of));
        let other = s.spawn(|| parts(other_gz, "other.xml", &changelogs_of));
        let primary = read_primary(primary_gz);
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

fn number<T: std::str::FromStr>(v: Option<&str>, what: &str) -> Result<T> {
    v.and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| Error::new(ErrorKind::Corrupt, format!("{what} is not a number")))
}

fn file_of(node: &Element) -> Result<PackageFile> {
    let kind = match node.attr("type") {
        None | Some("file") => FileKind::File,
        Some("dir") => FileKind::Dir,
        Some("ghost") => FileKind::Ghost,
        Some(other) => {
            return Err(Error::new(
                ErrorKind::Corrupt,
                format!("<file type={other:?}> is not file, dir or ghost"),
            ))
        }
    };
    Ok(PackageFile {
        path: node.text.clone(),
        kind,
    })
}

/// The entry of a primary `<package>`, taken apart (its strings are moved, not
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

/// Call `f` with every `<package>` of a gzip XML file ([`stream::for_each_package`]).
fn for_each_package(
    gz: &mut dyn Read,
    what: &str,
    f: &mut dyn FnMut(Element, u64) -> Result<()>,
) -> Result<()> {
    let mut compressed = BufReader::new(gz);
    let head = compressed
        .fill_buf()
        .map_err(|e| Error::io(e, format!("reading {what}.gz")))?;
    if detect(head) != Codec::Gzip {
        return Err(Error::unsupported(format!(
            "{what} is not gzip-compressed; xiso reads and writes gzip metadata only"
        )));
    }
    let mut xml = BufReader::new(MultiGzDecoder::new(compressed));
    stream::for_each_package(&mut xml, what, Source::Gzip, Detail::Tree, None, &mut |p| {
        let pos = p.offset;
        f(p, pos)
    })
}
