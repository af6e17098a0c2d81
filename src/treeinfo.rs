//! `.treeinfo`: the INI file the installer needs to accept the media.
//!
//! The XCP-ng installer (`repository.py`) reads it with Python's `ConfigParser`:
//! either `[system-v1]` (`platform_name`, `platform_version`, `product_name`,
//! `product_version`, as in XCP-ng 8.3's template) or `[platform]` + `[branding]`
//! (`name`, `version`, as in XCP-ng 8.2 and XenServer), then `[build] number` and
//! `[keys] key1`, the file name of the GPG key on the media. `[general]` and
//! `[images-*]` are there for Pulp/productmd.
//!
//! ARCHITECTURE.md §1 asks to keep the file byte-identical unless the user asks for a change,
//! so [`TreeInfo`] keeps every line as it was read (comments, blank lines, spacing,
//! line endings) and edits touch only the lines they must.
//!
//! Parsing follows `ConfigParser`: comment lines start with `#` or `;` (after
//! optional whitespace), `key = value` or `key: value`, keys compared without case
//! (ConfigParser's `optionxform` lower-cases them), sections with case, indented
//! lines continue the previous value, and when a key repeats the last one wins.

use std::fmt;

use serde::Serialize;

use crate::error::{Error, ErrorKind, Result};

/// A parsed `.treeinfo` that re-serializes byte-identically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeInfo {
    lines: Vec<Line>,
}

/// One physical line (or an entry with its continuation lines), text kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    /// The line as read, including its line ending (the last line may have none).
    text: String,
    kind: LineKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum LineKind {
    /// Blank line, comment, or a byte-order mark alone.
    Other,
    /// `[name]`.
    Section(String),
    /// `key = value`; `value_span` is the byte range of the value in the first line
    /// of `text` (continuation lines follow it in `text`).
    Entry {
        section: String,
        key: String,
        value: String,
        value_span: (usize, usize),
    },
}

/// Which section layout the installer will read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TreeInfoLayout {
    /// `[system-v1]` (XCP-ng 8.3 template).
    SystemV1,
    /// `[platform]` + `[branding]` (XCP-ng ≤ 8.2, XenServer).
    PlatformBranding,
    /// Neither: the installer will refuse the media.
    Missing,
}

/// What `xiso inspect` reports about `.treeinfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TreeInfoSummary {
    /// `[general] family`.
    pub family: Option<String>,
    /// `[general] name`.
    pub name: Option<String>,
    /// `[general] version`.
    pub version: Option<String>,
    /// Which installer layout is present.
    pub layout: TreeInfoLayout,
    /// `[system-v1] platform_name` or `[platform] name`.
    pub platform_name: Option<String>,
    /// `[system-v1] platform_version` or `[platform] version`.
    pub platform_version: Option<String>,
    /// `[system-v1] product_name` (or `product_brand`) or `[branding] name`.
    pub product_brand: Option<String>,
    /// `[system-v1] product_version` or `[branding] version`.
    pub product_version: Option<String>,
    /// `[build] number`.
    pub build_number: Option<String>,
    /// `[keys] key1`: the GPG key file on the media the installer verifies with.
    pub key1: Option<String>,
    /// Section names in file order (duplicates listed once).
    pub sections: Vec<String>,
}

impl TreeInfo {
    /// Parse `.treeinfo` text.
    ///
    /// Errors are [`ErrorKind::Corrupt`] with the byte offset of the offending line
    /// and its 1-based line number in the message.
    pub fn parse(text: &str) -> Result<TreeInfo> {
        let mut lines: Vec<Line> = Vec::new();
        let mut section: Option<String> = None;
        let mut offset = 0usize;
        for (index, raw) in text.split_inclusive('\n').enumerate() {
            let line_no = index + 1;
            let line_offset = offset;
            offset += raw.len();
            let body = strip_eol(raw);
            // A UTF-8 byte-order mark is not part of the first line's syntax.
            let (body, bom) = match body.strip_prefix('\u{feff}') {
                Some(rest) if index == 0 => (rest, '\u{feff}'.len_utf8()),
                _ => (body, 0),
            };
            let trimmed = body.trim();
            let corrupt = |msg: String| {
                Error::corrupt(
                    line_offset as u64,
                    format!(".treeinfo line {line_no}: {msg}"),
                )
            };

            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                lines.push(Line {
                    text: raw.to_string(),
                    kind: LineKind::Other,
                });
                continue;
            }

            let indented = body.starts_with([' ', '\t']);
            if indented {
                // ConfigParser: an indented line continues the previous value.
                if let Some(Line {
                    text,
                    kind: LineKind::Entry { value, .. },
                }) = lines.last_mut()
                {
                    if !text.ends_with('\n') {
                        return Err(corrupt("continuation after a line without ending".into()));
                    }
                    value.push('\n');
                    value.push_str(trimmed);
                    text.push_str(raw);
                    continue;
                }
            }

            if let Some(rest) = trimmed.strip_prefix('[') {
                let name = rest
                    .strip_suffix(']')
                    .ok_or_else(|| corrupt(format!("unterminated section header {trimmed:?}")))?;
                if name.is_empty() {
                    return Err(corrupt("empty section name".into()));
                }
                section = Some(name.to_string());
                lines.push(Line {
                    text: raw.to_string(),
                    kind: LineKind::Section(name.to_string()),
                });
                continue;
            }

            let Some(current) = &section else {
                return Err(corrupt(format!("{trimmed:?} comes before any [section]")));
            };
            let delim = body.find(['=', ':']).ok_or_else(|| {
                corrupt(format!(
                    "{trimmed:?} is neither `key = value` nor a section"
                ))
            })?;
            let key = body[..delim].trim();
            if key.is_empty() {
                return Err(corrupt("empty key".into()));
            }
            let after = &body[delim + 1..];
            let value = after.trim();
            let value_start = bom + delim + 1 + (after.len() - after.trim_start().len());
            let value_span = (value_start, value_start + value.len());
            lines.push(Line {
                text: raw.to_string(),
                kind: LineKind::Entry {
                    section: current.clone(),
                    key: key.to_ascii_lowercase(),
                    value: value.to_string(),
                    value_span,
                },
            });
        }
        Ok(TreeInfo { lines })
    }

    /// The value of `key` in `section` (key without case, last occurrence wins).
    pub fn get(&self, section: &str, key: &str) -> Option<&str> {
        self.find(section, key).map(|i| match &self.lines[i].kind {
            LineKind::Entry { value, .. } => value.as_str(),
            _ => unreachable!("find returns entries only"),
        })
    }

    /// Whether `[section]` exists.
    pub(crate) fn has_section(&self, section: &str) -> bool {
        self.lines
            .iter()
            .any(|l| matches!(&l.kind, LineKind::Section(s) if s == section))
    }

    /// Section names in file order, each once.
    pub fn sections(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for line in &self.lines {
            if let LineKind::Section(s) = &line.kind {
                if !out.contains(s) {
                    out.push(s.clone());
                }
            }
        }
        out
    }

    /// `(key, value)` pairs of `section` in file order (keys lower-cased).
    pub fn entries(&self, section: &str) -> Vec<(&str, &str)> {
        self.lines
            .iter()
            .filter_map(|l| match &l.kind {
                LineKind::Entry {
                    section: s,
                    key,
                    value,
                    ..
                } if s == section => Some((key.as_str(), value.as_str())),
                _ => None,
            })
            .collect()
    }

    /// Which installer layout this file has.
    pub fn layout(&self) -> TreeInfoLayout {
        if self.has_section("system-v1") {
            TreeInfoLayout::SystemV1
        } else if self.has_section("platform") && self.has_section("branding") {
            TreeInfoLayout::PlatformBranding
        } else {
            TreeInfoLayout::Missing
        }
    }

    /// The facts `xiso inspect` shows, read the way the installer reads them.
    pub fn summary(&self) -> TreeInfoSummary {
        let get = |s: &str, k: &str| self.get(s, k).map(str::to_string);
        let layout = self.layout();
        let (platform_name, platform_version, product_brand, product_version) = match layout {
            TreeInfoLayout::SystemV1 => (
                get("system-v1", "platform_name"),
                get("system-v1", "platform_version"),
                get("system-v1", "product_name").or_else(|| get("system-v1", "product_brand")),
                get("system-v1", "product_version"),
            ),
            _ => (
                get("platform", "name"),
                get("platform", "version"),
                get("branding", "name"),
                get("branding", "version"),
            ),
        };
        TreeInfoSummary {
            family: get("general", "family"),
            name: get("general", "name"),
            version: get("general", "version"),
            layout,
            platform_name,
            platform_version,
            product_brand,
            product_version,
            build_number: get("build", "number"),
            key1: get("keys", "key1"),
            sections: self.sections(),
        }
    }

    /// Set `key` in `section` to `value`, changing only that line.
    ///
    /// An existing entry keeps its key spelling, delimiter and spacing (its
    /// continuation lines are dropped); a new key is added after the last entry of
    /// the section; a new section is appended at the end of the file.
    pub fn set(&mut self, section: &str, key: &str, value: &str) -> Result<()> {
        check_name(section, "section")?;
        check_name(key, "key")?;
        if key.contains(['=', ':']) || key.starts_with(['[', '#', ';', ' ', '\t']) {
            return Err(Error::invalid(format!(".treeinfo: invalid key {key:?}")));
        }
        if value.contains(['\n', '\r']) || value.trim() != value {
            return Err(Error::invalid(format!(
                ".treeinfo: value {value:?} must be one line without surrounding spaces"
            )));
        }
        let eol = self.eol();

        if let Some(i) = self.find(section, key) {
            let line = &mut self.lines[i];
            let LineKind::Entry {
                value: old,
                value_span,
                ..
            } = &mut line.kind
            else {
                unreachable!("find returns entries only");
            };
            let first_len = line.text.find('\n').map_or(line.text.len(), |n| n + 1);
            let first = &line.text[..first_len];
            let (start, end) = *value_span;
            let mut prefix = first[..start].to_string();
            if old.is_empty() && !value.is_empty() && !prefix.ends_with([' ', '\t']) {
                // `variant =` becomes `variant = x`, not `variant =x`.
                prefix.push(' ');
            }
            let new_start = prefix.len();
            let mut text = prefix;
            text.push_str(value);
            text.push_str(&first[end..]);
            line.text = text;
            *value_span = (new_start, new_start + value.len());
            *old = value.to_string();
            return Ok(());
        }

        let new_line = Line {
            text: format!("{key} = {value}{eol}"),
            kind: LineKind::Entry {
                section: section.to_string(),
                key: key.to_ascii_lowercase(),
                value: value.to_string(),
                value_span: (key.len() + 3, key.len() + 3 + value.len()),
            },
        };
        // After the section's last entry, or right after its header when it has none.
        let mut insert_at = None;
        let mut current: Option<&str> = None;
        for (i, line) in self.lines.iter().enumerate() {
            match &line.kind {
                LineKind::Section(s) => {
                    current = Some(s);
                    if s == section {
                        insert_at = Some(i + 1);
                    }
                }
                LineKind::Entry { .. } if current == Some(section) => insert_at = Some(i + 1),
                _ => {}
            }
        }
        match insert_at {
            Some(at) => {
                if let Some(next) = self.lines.get(at).filter(|l| continues_value(&l.text)) {
                    // The indented line would become a continuation of the new key
                    // and vanish from the file's structure.
                    let offset: usize = self.lines[..at].iter().map(|l| l.text.len()).sum();
                    return Err(Error::corrupt(
                        offset as u64,
                        format!(
                            ".treeinfo: cannot add {key} to [{section}]: the indented line {:?} \
                             after it would become part of the new value",
                            next.text.trim()
                        ),
                    ));
                }
                self.ensure_eol_before(at, eol);
                self.lines.insert(at, new_line);
            }
            None => {
                let at = self.lines.len();
                self.ensure_eol_before(at, eol);
                if self.lines.last().is_some_and(|l| !l.text.trim().is_empty()) {
                    self.lines.push(Line {
                        text: eol.to_string(),
                        kind: LineKind::Other,
                    });
                }
                self.lines.push(Line {
                    text: format!("[{section}]{eol}"),
                    kind: LineKind::Section(section.to_string()),
                });
                self.lines.push(new_line);
            }
        }
        Ok(())
    }

    /// Turn every `key` entry of `section` into a `#` comment (continuation lines
    /// too). Returns [`ErrorKind::NotFound`] when there is none.
    pub fn comment_out(&mut self, section: &str, key: &str) -> Result<()> {
        let key_lc = key.to_ascii_lowercase();
        let mut found = false;
        for line in &mut self.lines {
            if matches!(&line.kind, LineKind::Entry { section: s, key: k, .. } if s == section && *k == key_lc)
            {
                let mut text = String::with_capacity(line.text.len() + 2);
                for physical in line.text.split_inclusive('\n') {
                    text.push('#');
                    text.push_str(physical);
                }
                line.text = text;
                line.kind = LineKind::Other;
                found = true;
            }
        }
        if found {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::NotFound,
                format!(".treeinfo has no [{section}] {key}"),
            ))
        }
    }

    fn find(&self, section: &str, key: &str) -> Option<usize> {
        let key_lc = key.to_ascii_lowercase();
        self.lines.iter().rposition(|l| {
            matches!(&l.kind, LineKind::Entry { section: s, key: k, .. } if s == section && *k == key_lc)
        })
    }

    /// The file's line ending, taken from its first line (`\n` if it has none).
    fn eol(&self) -> &'static str {
        match self.lines.first() {
            Some(l) if l.text.ends_with("\r\n") => "\r\n",
            _ => "\n",
        }
    }

    /// Give the line before `at` a line ending if it lacks one (last line of a file
    /// without a final newline), so an inserted line starts on its own line.
    fn ensure_eol_before(&mut self, at: usize, eol: &str) {
        if let Some(prev) = at.checked_sub(1).and_then(|i| self.lines.get_mut(i)) {
            if !prev.text.ends_with('\n') {
                prev.text.push_str(eol);
            }
        }
    }
}

impl fmt::Display for TreeInfo {
    /// The file text: byte-identical to the input when nothing was edited.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.lines {
            f.write_str(&line.text)?;
        }
        Ok(())
    }
}

/// Whether this physical line, placed right after an entry, would continue its value
/// (indented, not blank, not a comment: the rule [`TreeInfo::parse`] follows).
fn continues_value(raw: &str) -> bool {
    let trimmed = raw.trim();
    raw.starts_with([' ', '\t']) && !trimmed.is_empty() && !trimmed.starts_with(['#', ';'])
}

fn strip_eol(raw: &str) -> &str {
    let s = raw.strip_suffix('\n').unwrap_or(raw);
    s.strip_suffix('\r').unwrap_or(s)
}

fn check_name(name: &str, what: &str) -> Result<()> {
    if name.is_empty() || name.contains(['\n', '\r', ']']) || name.trim() != name {
        return Err(Error::invalid(format!(
            ".treeinfo: invalid {what} name {name:?}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_comments_crlf_and_spacing() {
        let text = "\u{feff}# top\r\n[general]\r\n; c\r\nName=X \r\n\r\nlong = a\r\n  b\r\n[keys]\r\nkey1:K";
        let ti = TreeInfo::parse(text).unwrap();
        assert_eq!(ti.to_string(), text);
        assert_eq!(ti.get("general", "name"), Some("X"));
        assert_eq!(ti.get("general", "long"), Some("a\nb"));
        assert_eq!(ti.get("keys", "KEY1"), Some("K"));
    }

    #[test]
    fn set_existing_new_and_missing_section() {
        let mut ti =
            TreeInfo::parse("[general]\r\nvariant =\r\nname=X # keep\r\n[keys]\r\nkey1 = A")
                .unwrap();
        ti.set("general", "variant", "v").unwrap();
        ti.set("general", "NAME", "Y").unwrap();
        ti.set("keys", "key2", "B").unwrap();
        ti.set("build", "number", "7").unwrap();
        assert_eq!(
            ti.to_string(),
            "[general]\r\nvariant = v\r\nname=Y\r\n[keys]\r\nkey1 = A\r\nkey2 = B\r\n\r\n[build]\r\nnumber = 7\r\n"
        );
        assert_eq!(ti.get("general", "name"), Some("Y"));
        assert!(ti.set("keys", "k", "a\nb").is_err());
        assert!(ti.set("keys", "a=b", "x").is_err());
    }

    #[test]
    fn comment_out_only_touches_that_line() {
        let mut ti = TreeInfo::parse("[keys]\nkey1 = A\nkey2 = B\n").unwrap();
        ti.comment_out("keys", "key1").unwrap();
        assert_eq!(ti.to_string(), "[keys]\n#key1 = A\nkey2 = B\n");
        assert_eq!(ti.get("keys", "key1"), None);
        assert_eq!(
            ti.comment_out("keys", "key1").unwrap_err().kind(),
            ErrorKind::NotFound
        );
    }

    #[test]
    fn errors_carry_line_and_offset() {
        let e = TreeInfo::parse("# c\nkey = v\n").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt);
        assert_eq!(e.offset(), Some(4));
        assert!(e.message().contains("line 2"), "{e}");

        let e = TreeInfo::parse("[a]\nx = 1\n[general\n").unwrap_err();
        assert_eq!(e.offset(), Some(10));
        assert!(e.message().contains("line 3"), "{e}");

        let e = TreeInfo::parse("[a]\njunk\n").unwrap_err();
        assert_eq!(e.offset(), Some(4));
    }

    /// The fuzz target's property: after a successful `set`, the text parses back
    /// with that value and every section still in place.
    fn assert_set_round_trips(text: &str) -> Result<()> {
        let mut t = TreeInfo::parse(text).unwrap();
        let sections = t.sections();
        t.set("keys", "key1", "RPM-GPG-KEY-fuzz")?;
        let again = TreeInfo::parse(&t.to_string()).unwrap();
        assert_eq!(again.get("keys", "key1"), Some("RPM-GPG-KEY-fuzz"));
        let mut want = sections;
        if !want.iter().any(|s| s == "keys") {
            want.push("keys".into());
        }
        assert_eq!(again.sections(), want);
        Ok(())
    }

    #[test]
    fn set_refuses_to_swallow_an_indented_line() {
        // Found by the treeinfo fuzz target: an indented section header right after
        // `[keys]` turned into the new key's continuation line.
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/fuzz/treeinfo-indented-section.treeinfo"
        );
        let crash = std::fs::read_to_string(path).unwrap();
        let e = assert_set_round_trips(&crash).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt);
        assert!(e.message().contains("indented line"), "{e}");
        assert_eq!(e.offset(), Some(crash.find("[keys]").unwrap() as u64 + 7));

        let e = assert_set_round_trips("[keys]\n  [other]\nname = x\n").unwrap_err();
        assert_eq!(e.offset(), Some(7), "{e}");
        // An indented comment or a blank line is not a continuation: the key goes in.
        assert_set_round_trips("[keys]\n  # note\n[other]\nname = x\n").unwrap();
        assert_set_round_trips("[keys]\n\n  [other]\nname = x\n").unwrap();
        assert_set_round_trips("[keys]\nkey2 = b\n[other]\n").unwrap();
    }
}
