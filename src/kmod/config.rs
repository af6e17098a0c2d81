//! The root's `depmod.d` configuration: which of two modules with one name wins.
//!
//! Read from the installer root, not the host: `etc/depmod.d`, `run/depmod.d`,
//! `usr/local/lib/depmod.d`, `lib/depmod.d` (kmod's directories; a file name seen in
//! an earlier directory hides the later ones), `*.conf` files in name order. Of the
//! commands, `search` (directories by priority, `built-in` for everything else),
//! `override MODULE KVER-REGEX SUBDIR` and `exclude` (directory names) matter for
//! depmod's output and are honoured; `external` (directories outside the modules
//! tree) and `include` are ignored. Without a `search`, the list is `updates` alone,
//! as in depmod.

use std::fs;
use std::path::Path;

use crate::error::Result;

/// One `search` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Search {
    /// `built-in`: every directory no other entry names.
    BuiltIn,
    /// `external`: the external directories (never any here).
    External,
    /// A subdirectory of the modules directory.
    Path(String),
}

/// The parsed configuration.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// Highest priority last (depmod prepends as it reads).
    searches: Vec<Search>,
    /// `SUBDIR/MODULE`, the first matching one deciding (depmod prepends these too).
    overrides: Vec<String>,
    /// Directory names skipped anywhere in the tree (besides `build` and `source`).
    pub excludes: Vec<String>,
}

const CONFIG_DIRS: [&str; 4] = [
    "etc/depmod.d",
    "run/depmod.d",
    "usr/local/lib/depmod.d",
    "lib/depmod.d",
];

impl Config {
    /// Read the configuration of `root` for kernel `kver`.
    pub(crate) fn load(root: &Path, kver: &str) -> Result<Config> {
        let mut files: Vec<(String, std::path::PathBuf)> = Vec::new();
        for dir in CONFIG_DIRS {
            let dir = super::resolve_in_root(root, Path::new(dir))?;
            let Ok(rd) = fs::read_dir(&dir) else {
                continue;
            };
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') || name.len() < 6 || !name.ends_with(".conf") {
                    continue;
                }
                let path =
                    super::resolve_in_root(root, e.path().strip_prefix(root).unwrap_or(&e.path()))?;
                if path.is_dir() || files.iter().any(|(n, _)| *n == name) {
                    continue;
                }
                files.push((name, path));
            }
        }
        files.sort();
        let mut cfg = Config {
            searches: Vec::new(),
            overrides: Vec::new(),
            excludes: Vec::new(),
        };
        for (_, path) in files {
            if let Ok(text) = fs::read(&path) {
                cfg.parse(&String::from_utf8_lossy(&text), kver);
            }
        }
        if cfg.searches.is_empty() {
            cfg.searches.push(Search::Path("updates".into()));
        }
        Ok(cfg)
    }

    fn parse(&mut self, text: &str, kver: &str) {
        // Lines ending in a backslash continue on the next one.
        let joined = text.replace("\\\n", "");
        for line in joined.lines() {
            if line.starts_with('#') {
                continue;
            }
            let mut words = line.split([' ', '\t']).filter(|w| !w.is_empty());
            match words.next() {
                Some("search") => {
                    for w in words {
                        self.searches.insert(
                            0,
                            match w {
                                "built-in" => Search::BuiltIn,
                                "external" => Search::External,
                                p => Search::Path(p.to_string()),
                            },
                        );
                    }
                }
                Some("override") => {
                    let (Some(module), Some(version), Some(subdir)) =
                        (words.next(), words.next(), words.next())
                    else {
                        continue;
                    };
                    if kernel_matches(version, kver) {
                        self.overrides.insert(0, format!("{subdir}/{module}"));
                    }
                }
                Some("exclude") => self.excludes.extend(words.map(str::to_string)),
                _ => {}
            }
        }
    }

    /// Whether the module already kept (`old`) wins over a new one with the same
    /// name (`new`); both are paths relative to the modules directory without the
    /// `.ko…` extension. depmod's `depmod_module_is_higher_priority`.
    pub(crate) fn keeps_old(&self, old: &str, new: &str) -> bool {
        for o in &self.overrides {
            if new == o {
                return false;
            }
            if old == o {
                return true;
            }
        }
        let under = |p: &str, dir: &str| {
            p.len() > dir.len() && p.as_bytes()[dir.len()] == b'/' && p.starts_with(dir)
        };
        let (mut builtin, mut old_prio, mut new_prio) = (-1i64, -1i64, -1i64);
        for (i, s) in self.searches.iter().enumerate() {
            match s {
                Search::BuiltIn => builtin = i as i64,
                Search::External => {}
                Search::Path(dir) if under(new, dir) => new_prio = i as i64,
                Search::Path(dir) if under(old, dir) => old_prio = i as i64,
                Search::Path(_) => {}
            }
        }
        if new_prio < 0 {
            new_prio = builtin;
        }
        if old_prio < 0 {
            old_prio = builtin;
        }
        new_prio <= old_prio
    }
}

/// `override`'s kernel pattern: `*`, or a POSIX extended regex searched in `kver`.
/// Literals, `.`, `*`, `+`, `?`, `^`, `$` and `\` escapes are understood; a pattern
/// using anything else does not match (the override is skipped).
fn kernel_matches(pattern: &str, kver: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    #[derive(Clone, Copy)]
    enum Atom {
        Any,
        Char(u8),
    }
    #[derive(Clone, Copy)]
    struct Piece {
        atom: Atom,
        min: usize,
        max: usize,
    }
    let p = pattern.as_bytes();
    let anchored_start = p.first() == Some(&b'^');
    let mut i = usize::from(anchored_start);
    let mut end = p.len();
    let anchored_end = end > i && p[end - 1] == b'$' && (end < 2 || p[end - 2] != b'\\');
    if anchored_end {
        end -= 1;
    }
    let mut pieces: Vec<Piece> = Vec::new();
    while i < end {
        let atom = match p[i] {
            b'.' => Atom::Any,
            b'\\' if i + 1 < end => {
                i += 1;
                Atom::Char(p[i])
            }
            b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'|' | b'^' | b'$' | b'\\' | b'*' | b'+'
            | b'?' => return false,
            c => Atom::Char(c),
        };
        i += 1;
        let (min, max) = match p.get(i).filter(|_| i < end) {
            Some(b'*') => (0, usize::MAX),
            Some(b'+') => (1, usize::MAX),
            Some(b'?') => (0, 1),
            _ => (1, 1),
        };
        if (min, max) != (1, 1) {
            i += 1;
        }
        pieces.push(Piece { atom, min, max });
    }
    fn here(pieces: &[Piece], s: &[u8], anchored_end: bool) -> bool {
        let Some((first, rest)) = pieces.split_first() else {
            return !anchored_end || s.is_empty();
        };
        let fits = |c: u8| match first.atom {
            Atom::Any => true,
            Atom::Char(x) => x == c,
        };
        let mut n = 0;
        while n < first.min {
            if n >= s.len() || !fits(s[n]) {
                return false;
            }
            n += 1;
        }
        loop {
            if here(rest, &s[n..], anchored_end) {
                return true;
            }
            if n >= first.max || n >= s.len() || !fits(s[n]) {
                return false;
            }
            n += 1;
        }
    }
    let s = kver.as_bytes();
    if anchored_start {
        here(&pieces, s, anchored_end)
    } else {
        (0..=s.len()).any(|k| here(&pieces, &s[k..], anchored_end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str) -> Config {
        let mut c = Config {
            searches: Vec::new(),
            overrides: Vec::new(),
            excludes: Vec::new(),
        };
        c.parse(text, "3.10.0-1160.el7.x86_64");
        if c.searches.is_empty() {
            c.searches.push(Search::Path("updates".into()));
        }
        c
    }

    #[test]
    fn default_search_prefers_updates_then_first_found() {
        let c = cfg("");
        assert!(!c.keeps_old("kernel/a/x", "updates/x"));
        assert!(c.keeps_old("updates/x", "kernel/a/x"));
        assert!(c.keeps_old("kernel/a/x", "extra/x"));
    }

    #[test]
    fn el7_dist_conf_and_overrides() {
        let c = cfg("# dist.conf\nsearch updates extra built-in weak-updates\n");
        assert!(!c.keeps_old("kernel/a/x", "extra/x"));
        assert!(c.keeps_old("extra/x", "kernel/a/x"));
        assert!(!c.keeps_old("extra/x", "updates/x"));
        assert!(c.keeps_old("kernel/x", "weak-updates/x"));
        let c = cfg("search updates extra built-in\noverride x 3\\.10.* kernel/a\n");
        assert!(c.keeps_old("kernel/a/x", "updates/x"));
        let c = cfg("override x 4\\.19.* kernel/a\n");
        assert!(!c.keeps_old("kernel/a/x", "updates/x"));
    }

    #[test]
    fn kernel_patterns() {
        let k = "3.10.0-1160.el7.x86_64";
        assert!(kernel_matches("*", k));
        assert!(kernel_matches("3.10", k));
        assert!(kernel_matches("^3\\.10\\..*el7", k));
        assert!(kernel_matches("x86_64$", k));
        assert!(!kernel_matches("^4\\.19", k));
        assert!(!kernel_matches("el7$", k));
        assert!(!kernel_matches("(3|4)", k));
    }
}
