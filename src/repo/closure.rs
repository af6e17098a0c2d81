//! Dependency closure: is every package the installer may install complete
//! inside the repository?
//!
//! The walk starts from the install target: the `xcp-ng-deps` package when the
//! repository has it (the XCP-ng installer installs it and its dependencies),
//! else the mandatory packages of the comps groups, else every package. Each
//! Requires of a reached package must be provided inside the repository:
//! * a name by a package's provides (its own `name = epoch:version-release`
//!   included) whose version range overlaps the require's ([`VersionedName::overlaps`]);
//! * a path (`/…`) by a package's files (filelists) or provides;
//! * a rich dependency by evaluating it ([`RichDep`]): `or` needs one
//!   alternative, `and`/`with` all terms, `(a if b)` needs `a` only when `b`
//!   can be installed, `(a unless b)` needs `a` or `b`;
//! * `rpmlib(…)` is rpm's own and always satisfied (createrepo_c drops it too).
//!
//! Every provider of a satisfied require is reached in turn (a repository
//! check: anything the solver could pick must itself be complete). Source
//! packages are neither walked nor providers. An unresolved require is
//! reported once per package, with the shortest chain that reached it.

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;

use serde::Serialize;

use super::comps::parse_groups;
use super::entry::{Dependency, PackageEntry};
use super::richdep::{Cmp, RichDep, VersionedName};
use crate::error::Result;
use crate::rpm::Evr;

/// The package the XCP-ng installer installs: the walk starts here when present.
pub(crate) const INSTALL_TARGET: &str = "xcp-ng-deps";

/// Where the walk started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum StartFrom {
    /// The [`INSTALL_TARGET`] package.
    InstallTarget,
    /// The mandatory packages of the comps groups.
    CompsMandatory,
    /// Every (binary) package.
    AllPackages,
}

/// One step of a chain: a package and the require of it that led on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ChainLink {
    /// `name-[epoch:]version-release.arch`
    pub package: String,
    /// The require that reached the next package.
    pub requirement: String,
}

/// A require nothing in the repository provides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Unresolved {
    /// The package that requires it (`name-[epoch:]version-release.arch`), or
    /// `comps group ID` for a mandatory package missing from the repository.
    pub package: String,
    /// The require as rpm writes it (`foo >= 1.2`, `/usr/bin/sh`, `(a or b)`).
    pub requirement: String,
    /// The packages from a start package to `package` (excluded), each with
    /// the require that pulled the next one; empty when `package` is a start.
    pub chain: Vec<ChainLink>,
    /// `name.arch` of the requiring package (for comparing two reports).
    #[serde(skip)]
    pub key: String,
}

impl fmt::Display for Unresolved {
    /// `A-1-1.noarch → requires B → B-2-1.noarch → requires D (nothing provides it)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for link in &self.chain {
            write!(f, "{} → requires {} → ", link.package, link.requirement)?;
        }
        write!(
            f,
            "{} → requires {} (nothing in the repository provides it)",
            self.package, self.requirement
        )
    }
}

/// The result of [`check`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ClosureReport {
    /// How the start set was chosen.
    pub start_from: StartFrom,
    /// The names the walk started from.
    pub start: Vec<String>,
    /// Packages reached (start packages included).
    pub reached: usize,
    /// Requires nothing provides, in walk order.
    pub unresolved: Vec<Unresolved>,
    /// `location_href` of every package reached.
    #[serde(skip)]
    pub reached_hrefs: HashSet<String>,
}

impl ClosureReport {
    /// Whether the installer installs the package at `href`: reached from the
    /// install target (`xcp-ng-deps` or the comps mandatory packages). A
    /// repository with neither has no install target, so nothing is installed.
    pub(crate) fn installs(&self, href: &str) -> bool {
        self.start_from != StartFrom::AllPackages && self.reached_hrefs.contains(href)
    }
}

/// Check the dependency closure of `entries` (see the module docs); `comps` is
/// the repository's comps file (plain or gzip) when it has one.
///
/// Errors only when `comps` is not comps XML.
pub(crate) fn check<E: Borrow<PackageEntry>>(
    entries: &[E],
    comps: Option<&[u8]>,
) -> Result<ClosureReport> {
    let entries: Vec<&PackageEntry> = entries.iter().map(Borrow::borrow).collect();
    let entries = &entries[..];
    let index = Index::new(entries);
    let binary = |e: &&&PackageEntry| e.arch != "src";
    let mut unresolved = Vec::new();
    let (start_from, start): (StartFrom, Vec<String>) = if entries
        .iter()
        .filter(binary)
        .any(|e| e.name == INSTALL_TARGET)
    {
        (StartFrom::InstallTarget, vec![INSTALL_TARGET.to_string()])
    } else {
        let groups = match comps {
            Some(c) => parse_groups(c)?,
            None => Vec::new(),
        };
        let mut names: Vec<String> = Vec::new();
        for g in &groups {
            for name in &g.mandatory {
                if !entries.iter().filter(binary).any(|e| &e.name == name) {
                    unresolved.push(Unresolved {
                        package: format!("comps group {}", g.id),
                        requirement: name.clone(),
                        chain: Vec::new(),
                        key: format!("comps group {}", g.id),
                    });
                } else if !names.contains(name) {
                    names.push(name.clone());
                }
            }
        }
        if groups.iter().any(|g| !g.mandatory.is_empty()) {
            (StartFrom::CompsMandatory, names)
        } else {
            let mut all: Vec<String> = entries
                .iter()
                .filter(binary)
                .map(|e| e.name.clone())
                .collect();
            all.sort();
            all.dedup();
            (StartFrom::AllPackages, all)
        }
    };

    // Breadth first, so every package is reached by a shortest chain.
    let mut reached_by: Vec<Option<Option<(usize, String)>>> = vec![None; entries.len()];
    let mut queue = VecDeque::new();
    let start_names: HashSet<&str> = start.iter().map(String::as_str).collect();
    for (i, e) in entries.iter().enumerate() {
        if e.arch != "src" && start_names.contains(e.name.as_str()) {
            reached_by[i] = Some(None);
            queue.push_back(i);
        }
    }
    let mut reached = queue.len();
    while let Some(i) = queue.pop_front() {
        for dep in &entries[i].requires {
            if dep.name.starts_with("rpmlib(") {
                continue;
            }
            let text = requirement_text(dep);
            let providers = match RichDep::parse(&dep.name) {
                Ok(RichDep::Name(_)) => index.resolve(&RichDep::Name(versioned(dep))),
                Ok(rich) => index.resolve(&rich),
                Err(_) => None,
            };
            let Some(providers) = providers else {
                unresolved.push(Unresolved {
                    package: nevra(entries[i]),
                    requirement: text,
                    chain: chain(entries, &reached_by, i),
                    key: format!("{}.{}", entries[i].name, entries[i].arch),
                });
                continue;
            };
            for p in providers {
                if reached_by[p].is_none() {
                    reached_by[p] = Some(Some((i, text.clone())));
                    reached += 1;
                    queue.push_back(p);
                }
            }
        }
    }
    let reached_hrefs = entries
        .iter()
        .zip(&reached_by)
        .filter(|(_, r)| r.is_some())
        .map(|(e, _)| e.location_href.clone())
        .collect();
    Ok(ClosureReport {
        start_from,
        start,
        reached,
        unresolved,
        reached_hrefs,
    })
}

fn chain(
    entries: &[&PackageEntry],
    reached_by: &[Option<Option<(usize, String)>>],
    mut i: usize,
) -> Vec<ChainLink> {
    let mut links = Vec::new();
    while let Some(Some((parent, req))) = &reached_by[i] {
        links.push(ChainLink {
            package: nevra(entries[*parent]),
            requirement: req.clone(),
        });
        i = *parent;
        if links.len() > entries.len() {
            break; // cannot happen: each package is reached once
        }
    }
    links.reverse();
    links
}

/// `name-[epoch:]version-release.arch`
fn nevra(e: &PackageEntry) -> String {
    let epoch = if e.epoch.is_empty() || e.epoch == "0" {
        String::new()
    } else {
        format!("{}:", e.epoch)
    };
    format!("{}-{epoch}{}-{}.{}", e.name, e.version, e.release, e.arch)
}

/// A primary.xml dependency as a name with a range.
fn versioned(dep: &Dependency) -> VersionedName {
    let range = dep
        .flags
        .as_deref()
        .and_then(Cmp::from_flags)
        .and_then(|cmp| {
            let version = dep.version.clone()?;
            let epoch = dep.epoch.as_deref().unwrap_or("0").parse().ok()?;
            Some((
                cmp,
                Evr {
                    epoch,
                    version,
                    release: dep.release.clone(),
                },
            ))
        });
    VersionedName {
        name: dep.name.clone(),
        range,
    }
}

fn requirement_text(dep: &Dependency) -> String {
    versioned(dep).to_string()
}

/// Who provides what, among the binary packages.
struct Index<'a> {
    provides: HashMap<&'a str, Vec<(usize, VersionedName)>>,
    files: HashMap<&'a str, Vec<usize>>,
}

impl<'a> Index<'a> {
    fn new(entries: &[&'a PackageEntry]) -> Index<'a> {
        let mut provides: HashMap<&'a str, Vec<(usize, VersionedName)>> = HashMap::new();
        let mut files: HashMap<&'a str, Vec<usize>> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            if e.arch == "src" {
                continue;
            }
            // rpm adds `name = epoch:version-release` to every package's provides.
            let own = VersionedName {
                name: e.name.clone(),
                range: Some((
                    Cmp::Eq,
                    Evr::new(e.epoch.parse().unwrap_or(0), &e.version, &e.release),
                )),
            };
            provides.entry(&e.name).or_default().push((i, own));
            for p in &e.provides {
                provides.entry(&p.name).or_default().push((i, versioned(p)));
            }
            for f in &e.files {
                files.entry(&f.path).or_default().push(i);
            }
        }
        Index { provides, files }
    }

    /// The packages providing `req`.
    fn providers(&self, req: &VersionedName) -> Vec<usize> {
        let mut found: Vec<usize> = self
            .provides
            .get(req.name.as_str())
            .into_iter()
            .flatten()
            .filter(|(_, p)| p.overlaps(req))
            .map(|(i, _)| *i)
            .collect();
        if req.name.starts_with('/') {
            found.extend(self.files.get(req.name.as_str()).into_iter().flatten());
        }
        found.sort_unstable();
        found.dedup();
        found
    }

    /// `None` when `dep` cannot be satisfied inside the repository, else the
    /// packages it pulls in.
    fn resolve(&self, dep: &RichDep) -> Option<Vec<usize>> {
        match dep {
            RichDep::Name(n) => Some(self.providers(n)).filter(|p| !p.is_empty()),
            RichDep::And(terms) | RichDep::With(terms) => {
                let mut all = Vec::new();
                for t in terms {
                    all.extend(self.resolve(t)?);
                }
                Some(all)
            }
            RichDep::Or(terms) => terms.iter().find_map(|t| self.resolve(t)),
            RichDep::Without(a, _) => self.resolve(a),
            RichDep::If {
                then,
                cond,
                otherwise,
            } => match (self.resolve(cond).is_some(), otherwise) {
                // `cond` may be installed (then `then` is needed) or not (`otherwise`).
                (true, Some(o)) => self.resolve(then).or_else(|| self.resolve(o)),
                (true, None) => self.resolve(then),
                (false, Some(o)) => self.resolve(o),
                (false, None) => Some(Vec::new()),
            },
            RichDep::Unless {
                then,
                cond,
                otherwise,
            } => match (self.resolve(cond), otherwise) {
                (Some(_), Some(o)) => self.resolve(then).or_else(|| self.resolve(o)),
                (Some(c), None) => self.resolve(then).or(Some(c)),
                (None, _) => self.resolve(then),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::entry::{FileKind, PackageFile};

    fn dep(s: &str) -> Dependency {
        // `name [FLAGS [epoch:]version[-release]]`
        let mut parts = s.splitn(3, ' ');
        let name = parts.next().unwrap().to_string();
        let flags = parts.next().map(str::to_string);
        let evr = parts.next().map(|v| Evr::parse(v).unwrap());
        Dependency {
            name,
            flags,
            epoch: evr.as_ref().map(|e| e.epoch.to_string()),
            version: evr.as_ref().map(|e| e.version.clone()),
            release: evr.and_then(|e| e.release),
            pre: false,
        }
    }

    fn pkg(
        name: &str,
        version: &str,
        requires: &[&str],
        provides: &[&str],
        files: &[&str],
    ) -> PackageEntry {
        PackageEntry {
            name: name.into(),
            arch: "noarch".into(),
            epoch: "0".into(),
            version: version.into(),
            release: "1".into(),
            checksum_type: "sha256".into(),
            pkgid: String::new(),
            summary: String::new(),
            description: String::new(),
            packager: String::new(),
            url: String::new(),
            time_file: 0,
            time_build: 0,
            size_package: 0,
            size_installed: 0,
            size_archive: 0,
            location_href: format!("Packages/{name}-{version}-1.noarch.rpm"),
            location_base: None,
            license: String::new(),
            vendor: String::new(),
            group: String::new(),
            buildhost: String::new(),
            sourcerpm: String::new(),
            header_start: 0,
            header_end: 0,
            provides: provides.iter().map(|p| dep(p)).collect(),
            requires: requires
                .iter()
                .map(|r| {
                    if r.starts_with('(') {
                        Dependency {
                            name: r.to_string(),
                            flags: None,
                            epoch: None,
                            version: None,
                            release: None,
                            pre: false,
                        }
                    } else {
                        dep(r)
                    }
                })
                .collect(),
            conflicts: vec![],
            obsoletes: vec![],
            suggests: vec![],
            enhances: vec![],
            recommends: vec![],
            supplements: vec![],
            files: files
                .iter()
                .map(|f| PackageFile {
                    path: f.to_string(),
                    kind: FileKind::File,
                })
                .collect(),
            changelogs: vec![],
        }
    }

    fn missing(r: &ClosureReport) -> Vec<(String, String)> {
        r.unresolved
            .iter()
            .map(|u| (u.package.clone(), u.requirement.clone()))
            .collect()
    }

    #[test]
    fn versions_files_and_rpmlib() {
        let repo = [
            pkg(
                "app",
                "1.0",
                &[
                    "lib GE 1.1",
                    "/usr/bin/tool",
                    "rpmlib(CompressedFileNames) LE 3.0.4-1",
                    "virtual(x) EQ 2",
                    "app",
                ],
                &[],
                &[],
            ),
            pkg("lib", "1.2", &[], &["virtual(x) EQ 2"], &["/usr/bin/tool"]),
        ];
        let r = check(&repo, None).unwrap();
        assert_eq!(r.start_from, StartFrom::AllPackages);
        assert!(r.unresolved.is_empty(), "{:?}", r.unresolved);
        // Walked, but without an install target the installer installs nothing.
        assert_eq!(r.reached_hrefs.len(), 2);
        assert!(!r.installs("Packages/app-1.0-1.noarch.rpm"));

        let repo = [
            pkg(
                "app",
                "1.0",
                &["lib GE 1.3", "/usr/bin/other", "virtual(x) LT 2"],
                &[],
                &[],
            ),
            pkg("lib", "1.2", &[], &["virtual(x) EQ 2"], &["/usr/bin/tool"]),
        ];
        let r = check(&repo, None).unwrap();
        assert_eq!(
            missing(&r),
            [
                ("app-1.0-1.noarch".into(), "lib >= 1.3".into()),
                ("app-1.0-1.noarch".into(), "/usr/bin/other".into()),
                ("app-1.0-1.noarch".into(), "virtual(x) < 2".into()),
            ]
        );
    }

    #[test]
    fn rich_dependencies_are_evaluated() {
        let repo = [
            pkg(
                "app",
                "1",
                &[
                    "(a or nope)",
                    "(a and b >= 2)",
                    "(nope if absent)",
                    "(b if a else nope)",
                    "(nope unless a)",
                    "(a with b)",
                    "(a without b)",
                    "((nope or b) and (a or nope))",
                ],
                &[],
                &[],
            ),
            pkg("a", "1", &[], &[], &[]),
            pkg("b", "2", &[], &[], &[]),
        ];
        let r = check(&repo, None).unwrap();
        assert!(r.unresolved.is_empty(), "{:?}", r.unresolved);
        let repo = [
            pkg(
                "app",
                "1",
                &[
                    "(nope or nada)",
                    "(nope if a)",
                    "(a and nope)",
                    "(nope unless absent)",
                    "(a or",
                ],
                &[],
                &[],
            ),
            pkg("a", "1", &[], &[], &[]),
        ];
        let r = check(&repo, None).unwrap();
        assert_eq!(r.unresolved.len(), 5, "{:?}", r.unresolved);
    }

    #[test]
    fn chains_start_from_the_install_target() {
        let repo = [
            pkg(INSTALL_TARGET, "8.3", &["mid"], &[], &[]),
            pkg("mid", "1", &["(leaf or other)"], &[], &[]),
            pkg("leaf", "1", &["gone GE 2"], &[], &[]),
            // Not reached from the target: its missing require does not count.
            pkg("stray", "1", &["also-gone"], &[], &[]),
        ];
        let r = check(&repo, None).unwrap();
        assert_eq!(r.start_from, StartFrom::InstallTarget);
        assert_eq!(r.reached, 3);
        assert!(r.installs("Packages/leaf-1-1.noarch.rpm"));
        assert!(!r.installs("Packages/stray-1-1.noarch.rpm"));
        assert_eq!(r.unresolved.len(), 1);
        let u = &r.unresolved[0];
        assert_eq!(
            u.to_string(),
            "xcp-ng-deps-8.3-1.noarch → requires mid → mid-1-1.noarch → requires (leaf or other) → \
             leaf-1-1.noarch → requires gone >= 2 (nothing in the repository provides it)"
        );
    }

    #[test]
    fn comps_mandatory_packages_are_the_start() {
        let comps = br#"<comps><group><id>core</id><packagelist>
            <packagereq type="mandatory">a</packagereq>
            <packagereq type="mandatory">absent</packagereq>
            <packagereq type="optional">stray</packagereq>
            </packagelist></group></comps>"#;
        let repo = [
            pkg("a", "1", &["b"], &[], &[]),
            pkg("b", "1", &[], &[], &[]),
            pkg("stray", "1", &["also-gone"], &[], &[]),
        ];
        let r = check(&repo, Some(comps)).unwrap();
        assert_eq!(r.start_from, StartFrom::CompsMandatory);
        assert_eq!(r.start, ["a"]);
        assert!(r.installs("Packages/b-1-1.noarch.rpm"));
        assert!(!r.installs("Packages/stray-1-1.noarch.rpm"));
        assert_eq!(missing(&r), [("comps group core".into(), "absent".into())]);
        assert!(check(&repo, Some(b"<comps><group>")).is_err());
    }
}
