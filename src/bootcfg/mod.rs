//! Boot menus: `isolinux.cfg` and GRUB `grub.cfg`, parsed only as far as kernel
//! arguments go, and edited with [`ArgEdit`].
//!
//! The installer's options are the words on the dom0 kernel's line (ARCHITECTURE.md §1): the
//! `vmlinuz` segment of an mboot.c32 `APPEND xen.gz … --- vmlinuz ARGS --- install.img`
//! line, a plain `KERNEL vmlinuz` + `APPEND ARGS` entry, and in GRUB the first
//! `module2`/`module`/`xen_module` of an entry (Xen's multiboot protocol makes the
//! first module the dom0 kernel) or a `linux`/`linuxefi` line. Xen's own words (the
//! `xen.gz` segment of mboot.c32 lines, GRUB's `multiboot2 /boot/xen.gz` and
//! `xen_hypervisor` lines) are hypervisor lines, edited only by
//! [`BootConfig::apply_xen`] and [`BootConfig::apply_serial`]. A [`BootConfig`] keeps
//! every line as read (line endings, tabs, comments, unknown commands), so printing
//! it without an edit gives the input's bytes back, and an edit rewrites only the
//! argument words it must.
//!
//! ```
//! use xiso::bootcfg::{ArgEdit, BootConfig};
//! let mut cfg = BootConfig::parse_grub(
//!     "menuentry \"install\" {\n    multiboot2 /boot/xen.gz dom0_mem=max:8192M\n    \
//!      module2 /boot/vmlinuz console=hvc0 quiet\n    module2 /install.img\n}\n",
//! );
//! let edit = ArgEdit::new(["xiso.test=1"], ["quiet"])?;
//! let changes = cfg.apply(&edit, None)?;
//! assert_eq!(changes[0].after, "console=hvc0 xiso.test=1");
//! assert!(cfg.text().contains("module2 /boot/vmlinuz console=hvc0 xiso.test=1\n"));
//! # Ok::<(), xiso::Error>(())
//! ```

mod args;
mod grub;
mod isolinux;
mod serial;

use std::ops::Range;

use serde::Serialize;

pub(crate) use args::key_of;
pub use args::ArgEdit;
pub use serial::SerialConsole;

use crate::error::{Error, ErrorKind, Result};

/// Which boot loader's syntax a config file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConfigKind {
    /// ISOLINUX / SYSLINUX (`LABEL`, `KERNEL`, `APPEND`).
    Isolinux,
    /// GRUB 2 (`menuentry "…" { … }`).
    Grub,
}

/// One kernel command line in a config: the entry it belongs to, the kernel it is
/// for, and where its argument words are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelLine {
    /// The isolinux `LABEL` or the GRUB `menuentry` title.
    pub entry: String,
    /// The kernel path the arguments are for (`/boot/vmlinuz`, `/boot/alt/vmlinuz`).
    pub kernel: String,
    line: usize,
    /// Byte range in the line: starts right after the kernel path (or the `APPEND`
    /// keyword) and ends after the last argument word. `None`: an isolinux entry
    /// without an `APPEND` line; one is inserted after line `line` when needed.
    args: Option<Range<usize>>,
    /// Indentation and line ending for an inserted `APPEND` line.
    insert: Option<(String, String)>,
}

/// One kernel line an edit looked at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArgChange {
    /// The isolinux `LABEL` or GRUB `menuentry` title.
    pub entry: String,
    /// The kernel the arguments are for.
    pub kernel: String,
    /// 1-based line number in the file as it was read.
    pub line: usize,
    /// The arguments before the edit (words separated as in the file).
    pub before: String,
    /// The arguments after the edit.
    pub after: String,
}

impl ArgChange {
    /// Whether the edit changed this line.
    pub fn changed(&self) -> bool {
        self.before != self.after
    }
}

/// A boot menu that prints back byte for byte, with its kernel lines located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootConfig {
    kind: ConfigKind,
    /// Lines including their terminators (`\n` or `\r\n`; the last may have none).
    lines: Vec<String>,
    kernels: Vec<KernelLine>,
    /// Xen's lines: `kernel` is the hypervisor image, the args are Xen's own.
    hypervisors: Vec<KernelLine>,
}

/// Which lines an edit goes to.
#[derive(Clone, Copy)]
enum Target {
    Kernel,
    Hypervisor,
}

impl BootConfig {
    /// Parse an `isolinux.cfg` (also `syslinux.cfg`, `pxelinux.cfg/default`).
    pub(crate) fn parse_isolinux(text: &str) -> BootConfig {
        let lines = split_lines(text);
        let (kernels, hypervisors) = isolinux::kernel_lines(&lines);
        BootConfig {
            kind: ConfigKind::Isolinux,
            lines,
            kernels,
            hypervisors,
        }
    }

    /// Parse a GRUB 2 config (`grub.cfg`, `grub-usb.cfg`).
    pub fn parse_grub(text: &str) -> BootConfig {
        let lines = split_lines(text);
        let (kernels, hypervisors) = grub::kernel_lines(&lines);
        BootConfig {
            kind: ConfigKind::Grub,
            lines,
            kernels,
            hypervisors,
        }
    }

    /// Parse `bytes` as `kind`; a config that is not UTF-8 is refused.
    pub fn parse(kind: ConfigKind, bytes: &[u8]) -> Result<BootConfig> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            Error::new(
                ErrorKind::Unsupported,
                format!(
                    "boot config is not UTF-8 text (first bad byte at {})",
                    e.valid_up_to()
                ),
            )
            .at(e.valid_up_to() as u64)
        })?;
        Ok(match kind {
            ConfigKind::Isolinux => BootConfig::parse_isolinux(text),
            ConfigKind::Grub => BootConfig::parse_grub(text),
        })
    }

    /// Every kernel command line found, in file order.
    pub fn kernel_lines(&self) -> &[KernelLine] {
        &self.kernels
    }

    /// Every hypervisor line (Xen's image and its own words), in file order: the
    /// `xen.gz` segment of mboot.c32 lines, GRUB's `multiboot2`/`multiboot`/
    /// `xen_hypervisor` lines of a Xen image. [`BootConfig::args`] gives the words.
    pub fn hypervisor_lines(&self) -> &[KernelLine] {
        &self.hypervisors
    }

    /// The Xen line that starts the kernel of `k`: the hypervisor line of the same
    /// entry on `k`'s line (mboot.c32) or after the previous kernel line and before
    /// `k` (GRUB's `multiboot2` before its `module2`). `None` when the entry starts
    /// the kernel directly.
    pub(crate) fn hypervisor_of(&self, k: &KernelLine) -> Option<&KernelLine> {
        let previous = self
            .kernels
            .iter()
            .map(|o| o.line)
            .filter(|&l| l < k.line)
            .max();
        self.hypervisors
            .iter()
            .rev()
            .filter(|h| h.entry == k.entry && h.line <= k.line)
            .find(|h| previous.is_none_or(|p| h.line > p))
    }

    /// `(entry, kernel, arguments)` of each of `lines` (the tests' view of a menu).
    #[cfg(test)]
    pub(crate) fn triples<'a>(
        &'a self,
        lines: &'a [KernelLine],
    ) -> Vec<(&'a str, &'a str, &'a str)> {
        lines
            .iter()
            .map(|k| (k.entry.as_str(), k.kernel.as_str(), self.args(k)))
            .collect()
    }

    /// The argument words of `k` as they appear in the file (without the leading
    /// separator).
    pub fn args(&self, k: &KernelLine) -> &str {
        match &k.args {
            Some(r) => trim_start_blank(&self.lines[k.line][r.clone()]),
            None => "",
        }
    }

    /// Names of the entries that have a kernel or a hypervisor line, in file order,
    /// once each.
    pub fn entries(&self) -> Vec<&str> {
        let mut v: Vec<&str> = Vec::new();
        let mut lines: Vec<&KernelLine> = self.kernels.iter().chain(&self.hypervisors).collect();
        lines.sort_by_key(|k| k.line);
        for k in lines {
            if !v.contains(&k.entry.as_str()) {
                v.push(&k.entry);
            }
        }
        v
    }

    /// The whole file as text.
    pub fn text(&self) -> String {
        self.lines.concat()
    }

    /// Apply `edit` to every kernel line, or to those of the entries named `entry`.
    /// Returns one [`ArgChange`] per kernel line looked at (changed or not); an
    /// `entry` that matches nothing gives an empty list (the caller decides whether
    /// that is an error: a label may exist in one menu and not another).
    pub fn apply(&mut self, edit: &ArgEdit, entry: Option<&str>) -> Result<Vec<ArgChange>> {
        self.edit_lines(Target::Kernel, entry, &|t| edit.apply(t))
    }

    /// Apply `edit` to Xen's own words ([`BootConfig::hypervisor_lines`]), of every
    /// entry or those named `entry`; returns one [`ArgChange`] per line looked at
    /// (its `kernel` is the hypervisor image), as [`BootConfig::apply`] does.
    pub fn apply_xen(&mut self, edit: &ArgEdit, entry: Option<&str>) -> Result<Vec<ArgChange>> {
        self.apply_hypervisor(edit, None, entry)
    }

    /// Apply `serial` (when given) and then `edit` to Xen's own words in one pass,
    /// so that each hypervisor line gives one [`ArgChange`] holding both: `boot-args
    /// --serial com2 --xen-add dom0_mem=…`. The port switch goes first, so a word
    /// `edit` adds explicitly (`com2=57600,8n1`) is the one that stays.
    pub(crate) fn apply_hypervisor(
        &mut self,
        edit: &ArgEdit,
        serial: Option<&SerialConsole>,
        entry: Option<&str>,
    ) -> Result<Vec<ArgChange>> {
        self.edit_lines(Target::Hypervisor, entry, &|t| match serial {
            Some(s) => edit.apply(&s.apply(t)),
            None => edit.apply(t),
        })
    }

    /// Move Xen's serial console to `serial`'s port (`SerialConsole::apply`) on
    /// every hypervisor line, or those of the entries named `entry`.
    pub fn apply_serial(
        &mut self,
        serial: &SerialConsole,
        entry: Option<&str>,
    ) -> Result<Vec<ArgChange>> {
        self.apply_hypervisor(&ArgEdit::default(), Some(serial), entry)
    }

    fn edit_lines(
        &mut self,
        target: Target,
        entry: Option<&str>,
        edit: &dyn Fn(&str) -> String,
    ) -> Result<Vec<ArgChange>> {
        let mut changes = Vec::new();
        let mut inserts: Vec<(usize, String)> = Vec::new();
        let targets = match target {
            Target::Kernel => &self.kernels,
            Target::Hypervisor => &self.hypervisors,
        };
        for k in targets {
            if entry.is_some_and(|e| e != k.entry) {
                continue;
            }
            let line = &mut self.lines[k.line];
            let (before, after) = match (&k.args, &k.insert) {
                (Some(r), _) => {
                    let old = line[r.clone()].to_string();
                    let new = edit(&old);
                    line.replace_range(r.clone(), &new);
                    (old, new)
                }
                (None, Some((indent, eol))) => {
                    let new = edit("");
                    if !new.is_empty() {
                        inserts.push((k.line + 1, format!("{indent}APPEND{new}{eol}")));
                    }
                    (String::new(), new)
                }
                (None, None) => {
                    return Err(Error::new(
                        ErrorKind::Unsupported,
                        format!("entry {:?}: no argument line to edit", k.entry),
                    ))
                }
            };
            changes.push(ArgChange {
                entry: k.entry.clone(),
                kernel: k.kernel.clone(),
                line: k.line + 1,
                before: trim_start_blank(&before).to_string(),
                after: trim_start_blank(&after).to_string(),
            });
        }
        for (at, text) in inserts.into_iter().rev() {
            // An insert after a last line without a terminator needs one first.
            if let Some(prev) = self.lines.get_mut(at - 1) {
                if !prev.ends_with('\n') {
                    prev.push_str(if text.ends_with("\r\n") { "\r\n" } else { "\n" });
                }
            }
            self.lines.insert(at, text);
        }
        // Ranges moved: locate the kernel lines again.
        *self = match self.kind {
            ConfigKind::Isolinux => BootConfig::parse_isolinux(&self.text()),
            ConfigKind::Grub => BootConfig::parse_grub(&self.text()),
        };
        Ok(changes)
    }
}

/// Lines with their terminators, so that `concat` gives the input back.
fn split_lines(text: &str) -> Vec<String> {
    text.split_inclusive('\n').map(str::to_string).collect()
}

/// A line without its `\n` / `\r\n` terminator.
fn content(line: &str) -> &str {
    let l = line.strip_suffix('\n').unwrap_or(line);
    l.strip_suffix('\r').unwrap_or(l)
}

/// The whitespace the boot loaders and the kernel split on: C's `isspace` (space,
/// tab, LF, VT, FF, CR). ASCII only, as in syslinux, GRUB and the Linux and Xen
/// command-line parsers: U+00A0 and the other Unicode spaces are part of a word.
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// `s` without leading [`is_blank`] characters.
fn trim_start_blank(s: &str) -> &str {
    s.trim_start_matches(is_blank)
}

/// `s` without trailing [`is_blank`] characters.
fn trim_end_blank(s: &str) -> &str {
    s.trim_end_matches(is_blank)
}

/// Whitespace-separated ([`is_blank`]) words of `s` with their byte ranges.
fn words(s: &str) -> Vec<(Range<usize>, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        match (is_blank(c), start) {
            (false, None) => start = Some(i),
            (true, Some(st)) => {
                out.push((st..i, &s[st..i]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(st) = start {
        out.push((st..s.len(), &s[st..]));
    }
    out
}

/// The file name of a kernel path (`/boot/alt/vmlinuz` → `vmlinuz`).
fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Whether `path` is a Linux kernel whose command line is the installer's: not a
/// boot-loader module (`.c32`, `.0`, `.bin`, `.efi`, …) and not memtest (which is
/// loaded like a kernel but takes no installer options).
fn is_linux_kernel(path: &str) -> bool {
    let name = file_name(path).to_ascii_lowercase();
    const NOT_LINUX: &[&str] = &[".c32", ".com", ".cbt", ".bin", ".bs", ".bss", ".0", ".efi"];
    !name.starts_with("memtest") && !NOT_LINUX.iter().any(|ext| name.ends_with(ext))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ODD: &[&str] = &[
        "",
        "\n\n",
        "no newline at the end",
        "LABEL x\r\n\tKERNEL /boot/vmlinuz\r\n\tAPPEND  a   b\t \r\n",
        "menuentry \"é ü\" {\r\n\tlinux /boot/vmlinuz  quiet\t# c\r\n}   \r\n\r\n",
        "  # only a comment\n\tset x=1 \nmenuentry x{\nmodule2 /v a\n}",
        "LABEL a\n  KERNEL mboot.c32\n  APPEND x --- /boot/vmlinuz a  --- /i.img   \nLABEL b\n",
    ];

    /// A config read and printed without an edit, or with an edit that matches no
    /// word, gives the input's bytes back.
    #[test]
    fn round_trip_is_byte_identical() {
        let noop = ArgEdit::new(Vec::<String>::new(), ["absent-key"]).unwrap();
        for kind in [ConfigKind::Isolinux, ConfigKind::Grub] {
            for text in ODD {
                let mut cfg = BootConfig::parse(kind, text.as_bytes()).unwrap();
                assert_eq!(cfg.text(), *text, "{kind:?}");
                cfg.apply(&noop, None).unwrap();
                assert_eq!(cfg.text(), *text, "{kind:?} after a no-op edit");
            }
        }
    }

    /// Words split on ASCII whitespace only, as the loaders and the kernel do: a
    /// no-break space (U+00A0) stays inside its word, a vertical tab separates.
    #[test]
    fn only_ascii_whitespace_separates_words() {
        assert_eq!(
            words("a\u{a0}b\x0bc\u{2003}d  e")
                .iter()
                .map(|(_, w)| *w)
                .collect::<Vec<_>>(),
            ["a\u{a0}b", "c\u{2003}d", "e"]
        );
        let text = "LABEL x\n  KERNEL /boot/vmlinuz\n  APPEND quiet\u{a0}x console=tty0\n";
        let mut cfg = BootConfig::parse(ConfigKind::Isolinux, text.as_bytes()).unwrap();
        let edit = ArgEdit::new(["quiet"], ["console"]).unwrap();
        cfg.apply(&edit, None).unwrap();
        // `quiet\u{a0}x` is one word, not `quiet`: the edit adds `quiet`.
        assert_eq!(cfg.args(&cfg.kernel_lines()[0]), "quiet\u{a0}x quiet");
        assert!(ArgEdit::new(["a\u{a0}b"], Vec::<String>::new()).is_ok());
        assert!(ArgEdit::new(["a\tb"], Vec::<String>::new()).is_err());
    }

    #[test]
    fn not_utf8_is_refused_with_the_offset() {
        let e = BootConfig::parse(ConfigKind::Grub, b"menuentry \"\xff\" {\n").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert_eq!(e.offset(), Some(11));
    }

    #[test]
    fn edits_keep_trailing_whitespace_and_comments() {
        let mut cfg = BootConfig::parse_grub(ODD[4]);
        cfg.apply(&ArgEdit::new(["install"], ["quiet"]).unwrap(), None)
            .unwrap();
        assert_eq!(
            cfg.text(),
            "menuentry \"é ü\" {\r\n\tlinux /boot/vmlinuz install\t# c\r\n}   \r\n\r\n"
        );
        let mut cfg = BootConfig::parse_isolinux(ODD[6]);
        cfg.apply(&ArgEdit::new(["z"], Vec::<String>::new()).unwrap(), None)
            .unwrap();
        assert_eq!(
            cfg.text(),
            ODD[6].replace("/boot/vmlinuz a  ---", "/boot/vmlinuz a z  ---")
        );
    }
}
