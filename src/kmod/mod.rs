//! A pure-Rust `depmod`: the module indexes of one kernel in an installer root.
//!
//! [`depmod`] does what kmod 30's `depmod -b ROOT -C ROOT/etc/depmod.d KVER` does: it
//! reads the root's `depmod.d` configuration (`config`; the host's is never looked
//! at), finds the modules under `ROOT/lib/modules/KVER/` (`*.ko`, `*.ko.gz`, `*.ko.xz`,
//! `*.ko.zst`, skipping `build/`, `source/` and `exclude`d directories; of two modules
//! with one name the one the `search`/`override` priorities prefer), reads each one's `.modinfo`, exported and needed symbols
//! ([`elf`]), resolves every needed symbol to the module exporting it, orders the
//! modules like depmod (`modules.order` first, in its order; the rest in kmod's hash
//! order, see `order`) and writes, each through a temporary file renamed into place:
//!
//! | file | content |
//! | --- | --- |
//! | `modules.dep` / `.bin` | each module and every module it needs, loaded-first last |
//! | `modules.alias` / `.bin` | the `alias=` entries of `.modinfo` |
//! | `modules.softdep` | the `softdep=` entries |
//! | `modules.symbols` / `.bin` | `symbol:NAME` aliases of exported symbols |
//! | `modules.builtin.bin` | the modules of `modules.builtin` (empty without it) |
//! | `modules.builtin.alias.bin` | the aliases of `modules.builtin.modinfo` (empty without it) |
//! | `modules.devname` | `devname:` aliases with their `char-`/`block-major` numbers |
//!
//! The text files are equal to depmod's and the `.bin` files byte-identical (`index`).
//! Differences, all on inputs depmod itself treats as broken: a module that cannot be
//! read or parsed is an error naming the file and offset (depmod warns and lists the
//! module without dependencies) and nothing is written; of two modules with one name
//! and the same priority the first in sorted path order wins (depmod: directory
//! order); `.ko.gz` is read even where kmod was built without zlib (Debian's kmod 30);
//! `external` directories are not searched.
//!
//! Unresolved symbols are reported, never fatal. They can only be told from the
//! kernel's own symbols with `ROOT/boot/System.map-KVER`; without it the report says so
//! and lists none.

pub(crate) mod config;
pub mod elf;
pub(crate) mod index;
pub(crate) mod order;

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, ErrorKind, Result, ResultExt};
use crate::initrd::codec::{self, Codec};
use elf::ModuleElf;
use index::Index;

/// Extensions depmod takes for modules.
const MODULE_EXTS: [&str; 4] = [".ko", ".ko.gz", ".ko.xz", ".ko.zst"];
/// Symbols the kernel's loader provides itself (depmod's "fake" symbols).
const LOADER_SYMBOLS: [&str; 3] = ["__this_module", "_GLOBAL_OFFSET_TABLE_", "TOC."];

/// What [`depmod`] did.
#[derive(Debug, Clone, Serialize)]
pub struct DepmodReport {
    /// The modules directory (`ROOT/lib/modules/KVER`, symlinks resolved inside ROOT).
    pub dir: PathBuf,
    /// The files written, in the order depmod writes them.
    pub files: Vec<String>,
    /// How many modules the indexes list.
    pub modules: usize,
    /// Whether `boot/System.map-KVER` was there to tell kernel symbols from missing ones.
    pub kernel_symbols_checked: bool,
    /// Needed symbols that neither a module nor the kernel provides (`depmod -e`).
    pub unresolved: Vec<UnresolvedSymbol>,
}

/// A module needing a symbol nothing provides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnresolvedSymbol {
    /// The module's path relative to the modules directory.
    pub module: String,
    /// The symbol.
    pub symbol: String,
}

/// One module found on disk.
#[derive(Debug)]
struct Module {
    /// Path relative to the modules directory, as found (through symlinks).
    relpath: String,
    /// The file to read.
    file: PathBuf,
    /// Name: the file name up to the first dot, `-` as `_`.
    name: String,
    elf: ModuleElf,
}

/// Regenerate the module indexes of kernel `kver` in the installer root `root`.
pub fn depmod(root: &Path, kver: &str) -> Result<DepmodReport> {
    if kver.is_empty() || kver.contains('/') || kver == "." || kver == ".." {
        return Err(Error::invalid(format!("{kver:?} is not a kernel version")));
    }
    let dir = resolve_in_root(root, Path::new(&format!("lib/modules/{kver}")))?;
    if !dir.is_dir() {
        return Err(Error::new(
            ErrorKind::NotFound,
            format!("no modules directory for kernel {kver}"),
        )
        .in_file(&dir));
    }

    let config = config::Config::load(root, kver)?;
    let mut found = Found::default();
    let mut ancestors = Vec::new();
    let walk = Walk {
        root,
        config: &config,
    };
    walk.find_modules(&dir, "", &mut ancestors, &mut found)?;
    let elfs = read_modules(&found.list)?;
    let mut modules: Vec<Module> = found
        .list
        .into_iter()
        .zip(elfs)
        .map(|((relpath, file, name), elf)| Module {
            relpath,
            file,
            name,
            elf,
        })
        .collect();
    sort_modules(&dir, &mut modules)?;
    let graph = Graph::build(&modules)?;

    let kernel = read_system_map(&resolve_in_root(
        root,
        Path::new(&format!("boot/System.map-{kver}")),
    )?)?;
    let unresolved = match &kernel {
        Some(kernel) => graph
            .unknown
            .iter()
            .filter(|(_, s)| {
                let s = s.strip_prefix('.').unwrap_or(s);
                !kernel.contains(s) && !LOADER_SYMBOLS.contains(&s)
            })
            .map(|(m, s)| UnresolvedSymbol {
                module: modules[*m].relpath.clone(),
                symbol: s.clone(),
            })
            .collect(),
        None => Vec::new(),
    };

    let outputs = render(&dir, &modules, &graph)?;
    write_all(&dir, &outputs)?;
    Ok(DepmodReport {
        dir,
        files: outputs.iter().map(|(n, _)| n.to_string()).collect(),
        modules: modules.len(),
        kernel_symbols_checked: kernel.is_some(),
        unresolved,
    })
}

/// The kernel version whose modules directory holds `path`, an installed file's
/// path (`/lib/modules/KVER/…` or `/usr/lib/modules/KVER/…`), so a caller that
/// installed files knows which kernels need [`depmod`].
///
/// ```
/// use xiso::kmod::kernel_of_path;
/// assert_eq!(kernel_of_path("/lib/modules/4.19.0+1/updates/igb.ko"), Some("4.19.0+1"));
/// assert_eq!(kernel_of_path("usr/lib/modules/6.1.0/modules.dep"), Some("6.1.0"));
/// assert_eq!(kernel_of_path("/lib/modules/6.1.0"), None);
/// assert_eq!(kernel_of_path("/lib/firmware/x.bin"), None);
/// ```
pub fn kernel_of_path(path: &str) -> Option<&str> {
    let p = path.trim_start_matches('/');
    let p = p.strip_prefix("usr/").unwrap_or(p);
    let (kver, rest) = p.strip_prefix("lib/modules/")?.split_once('/')?;
    (!kver.is_empty() && kver != "." && kver != ".." && !rest.is_empty()).then_some(kver)
}

/// `root/rel` with every symlink resolved inside `root` ([`crate::fs::resolve_in_root`]).
fn resolve_in_root(root: &Path, rel: &Path) -> Result<PathBuf> {
    let comps = crate::fs::resolve_in_root(root, rel, "the kernel's root")?;
    Ok(crate::fs::join_all(root, &comps))
}

/// The module name of a file name: up to the first dot, `-` read as `_`.
fn module_name(file_name: &str) -> String {
    file_name.split('.').next().unwrap_or("").replace('-', "_")
}

/// The module search: where the root is and what its configuration says.
struct Walk<'a> {
    root: &'a Path,
    config: &'a config::Config,
}

/// The module files found: (path as shown, file to read, module name), and where
/// each name is in that list.
#[derive(Default)]
struct Found {
    list: Vec<(String, PathBuf, String)>,
    by_name: HashMap<String, usize>,
}

impl Walk<'_> {
    /// Walk `real` (shown as `rel`) for modules, depmod's way: skip `build`, `source`
    /// and `exclude`d names, follow symlinks (inside the root), keep one module per
    /// name as the configuration's priorities say.
    fn find_modules(
        &self,
        real: &Path,
        rel: &str,
        ancestors: &mut Vec<PathBuf>,
        found: &mut Found,
    ) -> Result<()> {
        let root = self.root;
        let read = |e| Error::io(e, "cannot read the directory");
        let mut entries: Vec<fs::DirEntry> = fs::read_dir(real)
            .map_err(read)
            .in_file(real)?
            .collect::<std::io::Result<_>>()
            .map_err(read)
            .in_file(real)?;
        entries.sort_by_key(|e| e.file_name());
        ancestors.push(real.to_path_buf());
        for e in entries {
            let name = e.file_name().to_string_lossy().into_owned();
            if name == "build" || name == "source" || self.config.excludes.contains(&name) {
                continue;
            }
            let mut path = e.path();
            let mut ft = e
                .file_type()
                .map_err(|e| Error::io(e, "cannot stat"))
                .in_file(&path)?;
            if ft.is_symlink() {
                let under = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
                path = resolve_in_root(root, &under)?;
                match fs::metadata(&path) {
                    Ok(md) => ft = md.file_type(),
                    Err(_) => continue, // dangling: depmod skips it too
                }
            }
            let shown = format!("{rel}{name}");
            if ft.is_dir() {
                if !ancestors.contains(&path) {
                    self.find_modules(&path, &format!("{shown}/"), ancestors, found)?;
                }
            } else if ft.is_file()
                && MODULE_EXTS
                    .iter()
                    .any(|x| name.len() > x.len() && name.ends_with(x))
            {
                let modname = module_name(&name);
                match found.by_name.get(&modname) {
                    None => {
                        found.by_name.insert(modname.clone(), found.list.len());
                        found.list.push((shown, path, modname));
                    }
                    Some(&i) => {
                        let old = stem(&found.list[i].0, modname.len());
                        if !self.config.keeps_old(old, stem(&shown, modname.len())) {
                            found.list[i] = (shown, path, modname);
                        }
                    }
                }
            }
        }
        ancestors.pop();
        Ok(())
    }
}

/// A module's relative path up to the end of its name (no `.ko…` extension).
fn stem(relpath: &str, name_len: usize) -> &str {
    let cut = relpath.rfind('/').map_or(0, |i| i + 1);
    relpath.get(..cut + name_len).unwrap_or(relpath)
}

/// Read every module found, on all cores (decompressing xz dominates); the first
/// error in list order wins, so the error does not depend on thread timing.
fn read_modules(list: &[(String, PathBuf, String)]) -> Result<Vec<ModuleElf>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let chunk = list.len().div_ceil(threads).max(1);
    let parts: Vec<Result<Vec<ModuleElf>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = list
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(|(_, f, _)| read_module(f)).collect()))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::invalid("a module reader thread panicked")))
            })
            .collect()
    });
    let mut out = Vec::with_capacity(list.len());
    for p in parts {
        out.extend(p?);
    }
    Ok(out)
}

/// Read a module file, decompressing gzip, xz and zstd, and parse it.
fn read_module(file: &Path) -> Result<ModuleElf> {
    let data = fs::read(file)
        .map_err(|e| Error::io(e, "cannot read the module"))
        .in_file(file)?;
    let head = &data[..data.len().min(codec::DETECT_LEN)];
    let c = codec::detect(head);
    let data = match c {
        Codec::Gzip | Codec::Xz | Codec::Zstd => {
            let mut out = Vec::new();
            crate::initrd::stream::decoder(c, Box::new(Cursor::new(data)))
                .in_file(file)?
                .read_to_end(&mut out)
                .map_err(|e| {
                    Error::new(
                        ErrorKind::Corrupt,
                        format!("cannot decompress the {} module: {e}", c.name()),
                    )
                })
                .in_file(file)?;
            out
        }
        _ => data,
    };
    elf::parse(&data)
        .map_err(|e| {
            if c == Codec::Gzip || c == Codec::Xz || c == Codec::Zstd {
                e.in_path(format!("(decompressed {})", c.name()))
            } else {
                e
            }
        })
        .in_file(file)
}

/// Put the modules in depmod's order: kmod's hash order of the names, then (stable)
/// the modules listed in `modules.order` first, in its order. A `modules.order`
/// whose last line lacks its newline is ignored, as depmod does.
fn sort_modules(dir: &Path, modules: &mut [Module]) -> Result<()> {
    order::sort_like_hash(modules, order::MODULE_BUCKETS, |m| &m.name);
    let path = dir.join("modules.order");
    let text = match fs::read(&path) {
        Ok(t) => String::from_utf8_lossy(&t).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(e, "cannot read modules.order").in_file(&path)),
    };
    if !text.is_empty() && !text.ends_with('\n') {
        return Ok(());
    }
    let mut rank: HashMap<&str, usize> = HashMap::new();
    for (i, line) in text.split('\n').enumerate() {
        rank.insert(line, i);
    }
    let key = |m: &Module| {
        let stem = uncompressed_relpath(m);
        rank.get(stem.as_str()).copied().unwrap_or(usize::MAX)
    };
    modules.sort_by_cached_key(key);
    Ok(())
}

/// The relative path with the compression extension dropped (`….ko`), the key
/// depmod looks `modules.order` lines up by.
fn uncompressed_relpath(m: &Module) -> String {
    format!("{}.ko", stem(&m.relpath, m.name.len()))
}

/// Symbols, dependencies and their order.
struct Graph {
    /// Exported symbol → index of the module providing it (the last one in order).
    owners: HashMap<String, usize>,
    /// Each module's direct dependencies, sorted by `rank`.
    deps: Vec<Vec<usize>>,
    /// Topological rank: modules nothing needs come first.
    rank: Vec<usize>,
    /// (module, symbol) pairs of strong needs no module provides.
    unknown: Vec<(usize, String)>,
}

impl Graph {
    fn build(modules: &[Module]) -> Result<Graph> {
        let mut owners = HashMap::new();
        for (i, m) in modules.iter().enumerate() {
            for s in &m.elf.exports {
                owners.insert(s.clone(), i);
            }
        }
        let n = modules.len();
        let mut deps: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut users = vec![0usize; n];
        let mut unknown = Vec::new();
        for (i, m) in modules.iter().enumerate() {
            for need in m.elf.needs.iter().flatten() {
                let name = need.name.strip_prefix('.').unwrap_or(&need.name);
                match owners.get(name) {
                    Some(&o) if !deps[i].contains(&o) => {
                        deps[i].push(o);
                        users[o] += 1;
                    }
                    Some(_) => {}
                    None if !need.weak => unknown.push((i, need.name.clone())),
                    None => {}
                }
            }
        }
        // Kahn's algorithm with depmod's stack of roots.
        let mut rank = vec![usize::MAX; n];
        let mut left = users.clone();
        let mut roots: Vec<usize> = (0..n).filter(|&i| left[i] == 0).collect();
        let mut sorted = 0;
        while let Some(src) = roots.pop() {
            rank[src] = sorted;
            sorted += 1;
            for &d in &deps[src] {
                left[d] -= 1;
                if left[d] == 0 {
                    roots.push(d);
                }
            }
        }
        if sorted < n {
            let cyclic: Vec<&str> = (0..n)
                .filter(|&i| left[i] > 0)
                .map(|i| modules[i].name.as_str())
                .collect();
            return Err(Error::new(
                ErrorKind::Corrupt,
                format!(
                    "modules depend on each other in a cycle: {}",
                    cyclic.join(", ")
                ),
            ));
        }
        for d in &mut deps {
            d.sort_by_key(|&x| rank[x]);
        }
        Ok(Graph {
            owners,
            deps,
            rank,
            unknown,
        })
    }

    /// Every module `m` needs, directly or not, in load-last-first order.
    fn all_deps(&self, m: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut stack = vec![m];
        while let Some(x) = stack.pop() {
            for &d in &self.deps[x] {
                if seen.insert(d) {
                    out.push(d);
                    stack.push(d);
                }
            }
        }
        out.sort_by_key(|&x| self.rank[x]);
        out
    }
}

/// `alias_normalize`: `-` as `_` outside `[…]`; `None` for unbalanced brackets.
fn normalize_alias(alias: &str) -> Option<String> {
    let mut out = String::with_capacity(alias.len());
    let mut in_class = false;
    for c in alias.chars() {
        match c {
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            ']' => return None,
            '-' if !in_class => {
                out.push('_');
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    (!in_class).then_some(out)
}

/// The `.modinfo` values of `key`, in order.
fn info<'a>(m: &'a Module, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    m.elf
        .modinfo
        .iter()
        .filter(move |(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Every output file's name and bytes, in depmod's order.
fn render(dir: &Path, modules: &[Module], g: &Graph) -> Result<Vec<(&'static str, Vec<u8>)>> {
    let mut dep = String::new();
    let mut dep_bin = Index::new();
    for (i, m) in modules.iter().enumerate() {
        let mut line = format!("{}:", m.relpath);
        for d in g.all_deps(i) {
            line.push(' ');
            line.push_str(&modules[d].relpath);
        }
        dep_bin.insert(&m.name, &line, i as u32).in_file(&m.file)?;
        dep.push_str(&line);
        dep.push('\n');
    }

    let mut alias = String::from("# Aliases extracted from modules themselves.\n");
    let mut alias_bin = Index::new();
    let mut softdep = String::from("# Soft dependencies extracted from modules themselves.\n");
    for (i, m) in modules.iter().enumerate() {
        for a in info(m, "alias") {
            alias.push_str(&format!("alias {a} {}\n", m.name));
            if let Some(norm) = normalize_alias(a) {
                alias_bin
                    .insert(&norm, &m.name, i as u32)
                    .in_file(&m.file)?;
            }
        }
        for s in info(m, "softdep") {
            softdep.push_str(&format!("softdep {} {s}\n", m.name));
        }
    }

    let mut symbols: Vec<(&String, usize)> = g.owners.iter().map(|(s, &o)| (s, o)).collect();
    order::sort_like_hash(&mut symbols, order::SYMBOL_BUCKETS, |(s, _)| s.as_str());
    let mut sym_text = String::from("# Aliases for symbols, used by symbol_request().\n");
    let mut sym_bin = Index::new();
    for (s, o) in symbols {
        let owner = &modules[o];
        sym_text.push_str(&format!("alias symbol:{s} {}\n", owner.name));
        sym_bin
            .insert(&format!("symbol:{s}"), &owner.name, o as u32)
            .in_file(&owner.file)?;
    }

    Ok(vec![
        ("modules.dep", dep.into_bytes()),
        ("modules.dep.bin", dep_bin.write()),
        ("modules.alias", alias.into_bytes()),
        ("modules.alias.bin", alias_bin.write()),
        ("modules.softdep", softdep.into_bytes()),
        ("modules.symbols", sym_text.into_bytes()),
        ("modules.symbols.bin", sym_bin.write()),
        ("modules.builtin.bin", builtin_bin(dir)?),
        ("modules.builtin.alias.bin", builtin_alias_bin(dir)?),
        ("modules.devname", devname(modules).into_bytes()),
    ])
}

/// An optional input file of the modules directory.
fn read_optional(dir: &Path, name: &str) -> Result<Option<Vec<u8>>> {
    let path = dir.join(name);
    match fs::read(&path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(e, format!("cannot read {name}")).in_file(&path)),
    }
}

/// `modules.builtin.bin`: every module of `modules.builtin` (lines starting with a
/// letter) by name, with an empty value. Empty when there is no `modules.builtin`.
fn builtin_bin(dir: &Path) -> Result<Vec<u8>> {
    let Some(text) = read_optional(dir, "modules.builtin")? else {
        return Ok(Vec::new());
    };
    let mut idx = Index::new();
    for line in String::from_utf8_lossy(&text).split_inclusive('\n') {
        if !line.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        let base = line.rsplit('/').next().unwrap_or(line);
        idx.insert(&module_name(base), "", 0)
            .in_file(dir.join("modules.builtin"))?;
    }
    Ok(idx.write())
}

/// `modules.builtin.alias.bin`: the `MOD.alias=VALUE` records of
/// `modules.builtin.modinfo`, read with depmod's stream parser. Empty when there is
/// no `modules.builtin.modinfo`.
fn builtin_alias_bin(dir: &Path) -> Result<Vec<u8>> {
    let Some(data) = read_optional(dir, "modules.builtin.modinfo")? else {
        return Ok(Vec::new());
    };
    // Read up to `end`, a NUL or the end; the text only counts when `end` stopped it.
    fn take<'a>(data: &'a [u8], pos: &mut usize, end: u8) -> &'a [u8] {
        let start = *pos;
        while *pos < data.len() && data[*pos] != end && data[*pos] != 0 {
            *pos += 1;
        }
        let hit = *pos < data.len() && data[*pos] == end;
        let s = &data[start..*pos];
        if *pos < data.len() {
            *pos += 1;
        }
        if hit {
            s
        } else {
            &[]
        }
    }
    let mut idx = Index::new();
    let mut pos = 0;
    while pos < data.len() {
        let modname = take(&data, &mut pos, b'.');
        if modname.is_empty() {
            continue;
        }
        let key = take(&data, &mut pos, b'=');
        if key != b"alias" {
            take(&data, &mut pos, 0);
            continue;
        }
        let value = take(&data, &mut pos, 0);
        if value.is_empty() {
            continue;
        }
        let value = String::from_utf8_lossy(value);
        if let Some(norm) = normalize_alias(&value) {
            idx.insert(&norm, &String::from_utf8_lossy(modname), 0)
                .in_file(dir.join("modules.builtin.modinfo"))?;
        }
    }
    Ok(idx.write())
}

/// `sscanf(s, "PREFIX%u-%u")`: the two numbers after `prefix`.
fn major_minor(s: &str, prefix: &str) -> Option<(u32, u32)> {
    let rest = s.strip_prefix(prefix)?;
    let num = |t: &str| -> Option<(u32, usize)> {
        let digits = t.bytes().take_while(u8::is_ascii_digit).count();
        Some((t[..digits].parse().ok()?, digits))
    };
    let (major, n) = num(rest)?;
    let rest = rest[n..].strip_prefix('-')?;
    let (minor, _) = num(rest)?;
    Some((major, minor))
}

/// `modules.devname`: modules with a `devname:` alias and a device number alias.
fn devname(modules: &[Module]) -> String {
    let mut out = String::new();
    for m in modules {
        let mut name = None;
        let mut dev = None;
        for a in info(m, "alias") {
            if let Some(n) = a.strip_prefix("devname:") {
                name = Some(n);
            } else if let Some((ma, mi)) = major_minor(a, "char-major-") {
                dev = Some(('c', ma, mi));
            } else if let Some((ma, mi)) = major_minor(a, "block-major-") {
                dev = Some(('b', ma, mi));
            }
            if name.is_some() && dev.is_some() {
                break;
            }
        }
        if let (Some(n), Some((t, ma, mi))) = (name, dev) {
            if out.is_empty() {
                out.push_str("# Device nodes to trigger on-demand module loading.\n");
            }
            out.push_str(&format!("{} {n} {t}{ma}:{mi}\n", m.name));
        }
    }
    out
}

/// The kernel's symbol names from a `System.map`, or `None` without a usable one.
fn read_system_map(path: &Path) -> Result<Option<HashSet<String>>> {
    let text = match fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(e, "cannot read System.map").in_file(path)),
    };
    let mut names = HashSet::new();
    for line in String::from_utf8_lossy(&text).lines() {
        // `ADDRESS TYPE NAME`; anything else (Debian ships a one-line placeholder
        // pointing at the -dbg package) means this is not a usable map.
        match line.split(' ').collect::<Vec<_>>()[..] {
            [addr, kind, name]
                if !name.is_empty()
                    && kind.len() == 1
                    && addr.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                names.insert(name.strip_prefix("__ksymtab_").unwrap_or(name).to_string());
            }
            _ => return Ok(None),
        }
    }
    Ok((!names.is_empty()).then_some(names))
}

/// Write every output to a temporary next to it, then rename them all into place;
/// on a failure the temporaries go and no index changes.
fn write_all(dir: &Path, outputs: &[(&str, Vec<u8>)]) -> Result<()> {
    let mut staged = Vec::with_capacity(outputs.len());
    for (name, bytes) in outputs {
        let mut file = crate::fs::StagedFile::new(&dir.join(name))?;
        file.write_all_synced(bytes, None)?;
        staged.push(file);
    }
    staged
        .into_iter()
        .try_for_each(crate::fs::StagedFile::commit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_normalization_keeps_classes() {
        assert_eq!(
            normalize_alias("pci:v0000-[a-c]x-y").as_deref(),
            Some("pci:v0000_[a-c]x_y")
        );
        assert_eq!(normalize_alias("a]b"), None);
        assert_eq!(normalize_alias("a[b"), None);
    }

    #[test]
    fn names_and_device_numbers() {
        assert_eq!(module_name("snd-hda-intel.ko.xz"), "snd_hda_intel");
        assert_eq!(
            major_minor("char-major-10-229", "char-major-"),
            Some((10, 229))
        );
        assert_eq!(major_minor("char-major-10-*", "char-major-"), None);
    }

    #[test]
    fn root_symlinks_stay_inside_the_root() {
        let t = std::env::temp_dir().join(format!("xiso-kmod-unit-{}", std::process::id()));
        let _ = fs::remove_dir_all(&t);
        fs::create_dir_all(t.join("usr/lib/modules/1")).unwrap();
        std::os::unix::fs::symlink("/usr/lib", t.join("lib")).unwrap();
        std::os::unix::fs::symlink("../../../../../..", t.join("usr/up")).unwrap();
        assert_eq!(
            resolve_in_root(&t, Path::new("lib/modules/1")).unwrap(),
            t.join("usr/lib/modules/1")
        );
        assert_eq!(
            resolve_in_root(&t, Path::new("usr/up/etc")).unwrap(),
            t.join("etc")
        );
        fs::remove_dir_all(&t).unwrap();
    }
}
