//! Oracle test: xiso's primary/filelists/other `<package>` entries equal
//! createrepo_c's for every test RPM (`common::testdata_dir()`: the shared packages,
//! or those the tests build when they are absent), compared as parsed XML (names, attributes,
//! text) and, beyond that, byte for byte.
//!
//! createrepo_c runs once over a directory holding a copy of every package
//! (both folders, flat). No package is skipped: createrepo_c (with rpm 4.18)
//! reads the source RPM and the rpm 6 (`v6_*`) packages too, so xiso must
//! produce the same entries for them. It runs with `LC_ALL=C` because rpm
//! picks translated summaries by locale, and xiso always takes the untranslated
//! one. xiso reads the same copies, so even `<time file>` (the mtime) must match.

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{require_tool, run};
use quick_xml::events::Event;
use quick_xml::Reader;
use xiso::repo::PackageEntry;
use xiso::rpm::Package;

fn testdata_rpms() -> PathBuf {
    let dir = common::testdata_dir().join("rpms");
    assert!(
        dir.is_dir(),
        "TESTDATA MISSING: {} does not exist",
        dir.display()
    );
    dir
}

/// Every `*.rpm` under the testdata folders.
fn all_rpms() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in std::fs::read_dir(testdata_rpms()).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "rpm") {
                out.push(f);
            }
        }
    }
    out.sort();
    assert!(
        out.len() >= 20,
        "expected the test RPMs, found {} packages",
        out.len()
    );
    out
}

/// A parsed element: qualified name, attributes, text (whitespace-only text is
/// formatting and counts as empty), children.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Node {
    name: String,
    attrs: BTreeMap<String, String>,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn attr(&self, k: &str) -> &str {
        self.attrs.get(k).map_or("", String::as_str)
    }

    /// First difference between two trees, as a path and both sides.
    fn diff(&self, other: &Node, path: &str) -> Option<String> {
        let here = format!("{path}/{}", self.name);
        if self.name != other.name {
            return Some(format!(
                "{here}: element <{}> vs <{}>",
                self.name, other.name
            ));
        }
        if self.attrs != other.attrs {
            return Some(format!(
                "{here}: attributes {:?} vs {:?}",
                self.attrs, other.attrs
            ));
        }
        if self.text != other.text {
            return Some(format!("{here}: text {:?} vs {:?}", self.text, other.text));
        }
        for (i, (a, b)) in self.children.iter().zip(&other.children).enumerate() {
            if let Some(d) = a.diff(b, &format!("{here}[{i}]")) {
                return Some(d);
            }
        }
        if self.children.len() != other.children.len() {
            return Some(format!(
                "{here}: {} children vs {} ({:?} vs {:?})",
                self.children.len(),
                other.children.len(),
                self.children.iter().map(|c| &c.name).collect::<Vec<_>>(),
                other.children.iter().map(|c| &c.name).collect::<Vec<_>>()
            ));
        }
        None
    }
}

/// Parse XML into the children of its root (or the root itself for a fragment).
fn parse(xml: &str) -> Vec<Node> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<Node> = vec![Node {
        name: String::new(),
        attrs: BTreeMap::new(),
        text: String::new(),
        children: Vec::new(),
    }];
    let open = |e: &quick_xml::events::BytesStart<'_>, reader: &Reader<&[u8]>| Node {
        name: String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
        attrs: e
            .attributes()
            .map(|a| {
                let a = a.unwrap();
                (
                    String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                    a.decoded_and_normalized_value(
                        quick_xml::XmlVersion::Implicit1_0,
                        reader.decoder(),
                    )
                    .unwrap()
                    .into_owned(),
                )
            })
            .collect(),
        text: String::new(),
        children: Vec::new(),
    };
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => {
                let n = open(&e, &reader);
                stack.push(n);
            }
            Event::Empty(e) => {
                let n = open(&e, &reader);
                stack.last_mut().unwrap().children.push(n);
            }
            Event::End(_) => {
                let mut n = stack.pop().unwrap();
                if n.text.trim().is_empty() {
                    n.text.clear();
                }
                stack.last_mut().unwrap().children.push(n);
            }
            Event::Text(t) => stack
                .last_mut()
                .unwrap()
                .text
                .push_str(&t.xml10_content().unwrap()),
            Event::GeneralRef(r) => {
                let s = match r.resolve_char_ref().unwrap() {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&r.decode().unwrap())
                        .expect("predefined entity")
                        .to_string(),
                };
                stack.last_mut().unwrap().text.push_str(&s);
            }
            Event::CData(t) => stack
                .last_mut()
                .unwrap()
                .text
                .push_str(&t.decode().unwrap()),
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(stack.len(), 1, "unbalanced XML");
    stack.pop().unwrap().children
}

fn gunzip(path: &Path) -> String {
    let mut s = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut s)
        .unwrap();
    s
}

/// The `<package>` elements of a createrepo_c metadata file, parsed, plus
/// their raw text (createrepo_c writes each as one block ending in a newline).
fn packages(xml: &str) -> Vec<(Node, String)> {
    let root = parse(xml);
    assert_eq!(root.len(), 1, "one root element");
    let parsed = root.into_iter().next().unwrap().children;
    let raw: Vec<String> = xml
        .split("<package ")
        .skip(1)
        .map(|s| {
            let end = s.find("</package>\n").expect("package end") + "</package>\n".len();
            format!("<package {}", &s[..end])
        })
        .collect();
    assert_eq!(parsed.len(), raw.len());
    parsed.into_iter().zip(raw).collect()
}

fn metadata_file(repodata: &Path, kind: &str) -> PathBuf {
    std::fs::read_dir(repodata)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .ends_with(&format!("{kind}.xml.gz"))
        })
        .unwrap_or_else(|| {
            panic!(
                "createrepo_c wrote no {kind}.xml.gz in {}",
                repodata.display()
            )
        })
}

#[test]
fn entries_equal_createrepo_c_for_every_testdata_rpm() {
    require_tool("createrepo_c");
    let rpms = all_rpms();
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    for rpm in &rpms {
        let dest = repo.join(rpm.file_name().unwrap());
        assert!(
            !dest.exists(),
            "two testdata packages named {}",
            dest.display()
        );
        std::fs::copy(rpm, &dest).unwrap();
    }
    let out = run(Command::new("createrepo_c")
        .env("LC_ALL", "C")
        .args([
            "--no-database",
            "--general-compress-type=gz",
            "--simple-md-filenames",
        ])
        .arg(&repo));
    assert!(
        out.status.success(),
        "createrepo_c failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let repodata = repo.join("repodata");
    let primary = packages(&gunzip(&metadata_file(&repodata, "primary")));
    let filelists = packages(&gunzip(&metadata_file(&repodata, "filelists")));
    let other = packages(&gunzip(&metadata_file(&repodata, "other")));
    assert_eq!(primary.len(), rpms.len(), "createrepo_c read every package");

    let by_href: BTreeMap<String, &(Node, String)> = primary
        .iter()
        .map(|p| {
            let loc = p.0.children.iter().find(|c| c.name == "location").unwrap();
            (loc.attr("href").to_string(), p)
        })
        .collect();
    let by_pkgid = |list: &'_ [(Node, String)]| -> BTreeMap<String, (Node, String)> {
        list.iter()
            .map(|p| (p.0.attr("pkgid").to_string(), p.clone()))
            .collect()
    };
    let filelists = by_pkgid(&filelists);
    let other = by_pkgid(&other);

    let mut failures = Vec::new();
    let mut byte_exact = 0;
    for rpm in &rpms {
        let file_name = rpm.file_name().unwrap().to_string_lossy().into_owned();
        let pkg = Package::open(repo.join(&file_name)).unwrap();
        let entry = PackageEntry::from_package(&pkg, &file_name).unwrap();
        let theirs_primary = by_href
            .get(&file_name)
            .unwrap_or_else(|| panic!("createrepo_c has no entry for {file_name}"));
        let mut exact = true;
        for (kind, ours, theirs) in [
            ("primary", entry.primary_xml(), Some(&theirs_primary.1)),
            (
                "filelists",
                entry.filelists_xml(),
                filelists.get(&entry.pkgid).map(|p| &p.1),
            ),
            (
                "other",
                entry.other_xml(),
                other.get(&entry.pkgid).map(|p| &p.1),
            ),
        ] {
            let Some(theirs) = theirs else {
                failures.push(format!(
                    "{file_name}: no {kind} entry with pkgid {}",
                    entry.pkgid
                ));
                continue;
            };
            let ours_tree = parse(&ours).pop().unwrap();
            let theirs_tree = parse(theirs).pop().unwrap();
            if let Some(d) = theirs_tree.diff(&ours_tree, "") {
                failures.push(format!("{file_name} {kind}: createrepo_c vs xiso: {d}"));
            }
            exact &= &ours == theirs;
        }
        if exact {
            byte_exact += 1;
        } else {
            failures.push(format!(
                "{file_name}: equal as XML but not byte for byte (escaping or layout differs from libxml2's)"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{byte_exact} packages equal createrepo_c's entries byte for byte");
}

/// Cutting a real package anywhere inside its headers gives a Corrupt error that
/// names the file and an offset; never a panic, never a package.
#[test]
fn truncated_packages_are_corrupt_and_named() {
    let src = all_rpms()
        .into_iter()
        .find(|p| p.ends_with("Archer-3.4.5-6.x86_64.rpm"))
        .expect("Archer in testdata");
    let bytes = std::fs::read(&src).unwrap();
    let pkg = Package::open(&src).unwrap();
    let (_, header_end) = pkg.header_range();
    let tmp = tempfile::tempdir().unwrap();
    let cut_file = tmp.path().join("cut.rpm");
    let mut cuts: Vec<usize> = (0..header_end as usize).step_by(7).collect();
    cuts.push(header_end as usize - 1);
    for cut in cuts {
        std::fs::write(&cut_file, &bytes[..cut]).unwrap();
        let err = Package::open(&cut_file).expect_err("a truncated header must not read");
        assert_eq!(err.kind(), xiso::ErrorKind::Corrupt, "cut at {cut}: {err}");
        assert!(err.to_string().contains("cut.rpm"), "cut at {cut}: {err}");
        assert!(err.offset().is_some(), "cut at {cut}: {err}");
    }
    // Cut inside the payload: the headers are whole, so the package reads and
    // only its size and digest change.
    std::fs::write(&cut_file, &bytes[..header_end as usize]).unwrap();
    let short = Package::open(&cut_file).unwrap();
    assert_eq!(short.file_size, header_end);
    assert_ne!(short.sha256, pkg.sha256);
    // Not an RPM at all.
    std::fs::write(&cut_file, b"<html>not found</html>").unwrap();
    let err = Package::open(&cut_file).unwrap_err();
    assert!(err.to_string().contains("not an RPM"), "{err}");
}
