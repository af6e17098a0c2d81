//! Text rules shared by the primary, filelists and other writers.
//!
//! createrepo_c passes every header string through `cr_xmlNewTextChild` /
//! `cr_xmlNewProp` (`src/xml_dump.c`): a string that libxml2's `xmlCheckUTF8`
//! accepts is written as it is, any other is taken as Latin-1 and converted to
//! UTF-8, dropping C0 controls and the C1 range 0x80–0xBF. A package holding a
//! C0 control other than tab, LF and CR (which XML 1.0 cannot carry) is refused
//! (`cr_Package_contains_forbidden_control_chars`). Serialisation follows
//! libxml2's `xmlNodeDump` with formatting on, so that the output is byte for
//! byte what createrepo_c writes for the same values.

use crate::error::{Error, Result};

/// The text an entity or character reference stands for (`&amp;` → `&`, `&#38;` → `&`),
/// or `None` for a reference XML does not predefine (no DTD is read).
pub(crate) fn resolve_reference(r: &quick_xml::events::BytesRef<'_>) -> Option<String> {
    match r.resolve_char_ref() {
        Ok(Some(c)) => Some(c.to_string()),
        Ok(None) => r
            .decode()
            .ok()
            .and_then(|n| quick_xml::escape::resolve_predefined_entity(&n).map(str::to_string)),
        Err(_) => None,
    }
}

/// Convert a header string to the text createrepo_c writes for it.
///
/// `what` names the field for the error when the string holds a control
/// character createrepo_c refuses.
pub(crate) fn header_text(raw: &[u8], what: &str) -> Result<String> {
    if let Some(&c) = raw.iter().find(|&&c| forbidden_control(c)) {
        return Err(Error::unsupported(format!(
            "{what} contains control character 0x{c:02x}, which repository XML cannot carry"
        )));
    }
    if libxml_utf8(raw) {
        return String::from_utf8(raw.to_vec()).map_err(|_| {
            Error::unsupported(format!(
                "{what} is malformed UTF-8 (overlong or surrogate sequences) that createrepo_c would copy into invalid XML"
            ))
        });
    }
    let mut out = String::with_capacity(raw.len() * 2);
    for &c in raw {
        match c {
            0..=0x7f => out.push(char::from(c)),
            // Latin-1 C1 controls: "probably misencoded cp-1252"; createrepo_c skips them.
            0x80..=0xbf => {}
            _ => out.push(char::from(c)),
        }
    }
    Ok(out)
}

/// Control characters XML 1.0 forbids (all C0 but tab, LF, CR).
fn forbidden_control(c: u8) -> bool {
    c < 32 && c != b'\t' && c != b'\n' && c != b'\r'
}

/// libxml2's `xmlCheckUTF8`: lead bytes and continuation-byte counts only
/// (overlong forms and surrogates pass).
fn libxml_utf8(s: &[u8]) -> bool {
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        let extra = if c & 0x80 == 0 {
            0
        } else if c & 0xe0 == 0xc0 {
            1
        } else if c & 0xf0 == 0xe0 {
            2
        } else if c & 0xf8 == 0xf0 {
            3
        } else {
            return false;
        };
        for k in 1..=extra {
            match s.get(i + k) {
                Some(&b) if b & 0xc0 == 0x80 => {}
                _ => return false,
            }
        }
        i += 1 + extra;
    }
    true
}

/// Escape element text as libxml2 does: `&`, `<`, `>` and CR.
pub(crate) fn escape_text(s: &str, out: &mut String) {
    escape(
        s,
        out,
        |b| matches!(b, b'&' | b'<' | b'>' | b'\r'),
        |ch, out| match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push_str("&#13;"),
        },
    );
}

/// Escape an attribute value as libxml2 does for a node without a document:
/// markup characters, whitespace other than space, and every non-ASCII
/// character as a hexadecimal character reference.
pub(crate) fn escape_attr(s: &str, out: &mut String) {
    escape(
        s,
        out,
        |b| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\n' | b'\r' | b'\t') || !b.is_ascii(),
        |ch, out| match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => {
                use std::fmt::Write;
                let _ = write!(out, "&#x{:X};", u32::from(c));
            }
        },
    );
}

/// Append `s` to `out` with each character that starts with a byte `special`
/// accepts replaced by what `replace` writes (the runs between are copied whole:
/// this runs for every string of every metadata entry written).
fn escape(s: &str, out: &mut String, special: fn(u8) -> bool, replace: fn(char, &mut String)) {
    let bytes = s.as_bytes();
    let (mut run, mut i) = (0, 0);
    while i < bytes.len() {
        if special(bytes[i]) {
            out.push_str(&s[run..i]);
            // `special` accepts ASCII bytes and lead bytes only (a special
            // character's continuation bytes are skipped with it).
            let ch = s[i..].chars().next().expect("i is on a character boundary");
            replace(ch, out);
            i += ch.len_utf8();
            run = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&s[run..]);
}

/// A small element builder for the formatted layout createrepo_c writes.
pub(crate) struct XmlOut {
    /// The text written so far.
    pub buf: String,
}

impl XmlOut {
    /// An empty buffer.
    pub(crate) fn new() -> XmlOut {
        XmlOut { buf: String::new() }
    }

    /// `<name a="v"…` at `depth` (two spaces per level), not yet closed.
    pub(crate) fn open_tag(&mut self, depth: usize, name: &str, attrs: &[(&str, &str)]) {
        for _ in 0..depth {
            self.buf.push_str("  ");
        }
        self.buf.push('<');
        self.buf.push_str(name);
        for (k, v) in attrs {
            self.buf.push(' ');
            self.buf.push_str(k);
            self.buf.push_str("=\"");
            escape_attr(v, &mut self.buf);
            self.buf.push('"');
        }
    }

    /// `<name attrs/>` on its own line.
    pub(crate) fn empty(&mut self, depth: usize, name: &str, attrs: &[(&str, &str)]) {
        self.open_tag(depth, name, attrs);
        self.buf.push_str("/>\n");
    }

    /// `<name attrs>text</name>` on its own line (empty text still gets both tags).
    pub(crate) fn text(&mut self, depth: usize, name: &str, attrs: &[(&str, &str)], text: &str) {
        self.open_tag(depth, name, attrs);
        self.buf.push('>');
        escape_text(text, &mut self.buf);
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push_str(">\n");
    }

    /// `<name attrs>` followed by a newline: children follow.
    pub(crate) fn start(&mut self, depth: usize, name: &str, attrs: &[(&str, &str)]) {
        self.open_tag(depth, name, attrs);
        self.buf.push_str(">\n");
    }

    /// `</name>` at `depth`.
    pub(crate) fn end(&mut self, depth: usize, name: &str) {
        for _ in 0..depth {
            self.buf.push_str("  ");
        }
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push_str(">\n");
    }
}

impl Default for XmlOut {
    fn default() -> Self {
        XmlOut::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_is_converted_and_c1_dropped() {
        assert_eq!(header_text(b"caf\xe9", "x").unwrap(), "café");
        assert_eq!(header_text(b"a\x85b\xff", "x").unwrap(), "abÿ");
        assert_eq!(header_text("čaj".as_bytes(), "x").unwrap(), "čaj");
        assert_eq!(header_text(b"tab\there\r\n", "x").unwrap(), "tab\there\r\n");
    }

    #[test]
    fn controls_and_libxml_only_utf8_are_refused() {
        let err = header_text(b"bell\x07", "summary").unwrap_err();
        assert!(err.message().contains("summary"), "{err}");
        // An overlong NUL passes xmlCheckUTF8 but is not UTF-8.
        assert!(header_text(b"\xc0\x80", "x").is_err());
    }

    #[test]
    fn escaping_follows_libxml2() {
        let mut s = String::new();
        escape_text("a<b>&c\r\"'", &mut s);
        assert_eq!(s, "a&lt;b&gt;&amp;c&#13;\"'");
        let mut s = String::new();
        escape_attr("<à\"\n\tč>", &mut s);
        assert_eq!(s, "&lt;&#xE0;&quot;&#10;&#9;&#x10D;&gt;");
        // Runs between the escaped characters, at both ends and none at all.
        let mut s = String::new();
        escape_attr("ab&cd€ef", &mut s);
        assert_eq!(s, "ab&amp;cd&#x20AC;ef");
        let mut s = String::new();
        escape_text("plain", &mut s);
        escape_text("x\r", &mut s);
        escape_text("", &mut s);
        assert_eq!(s, "plainx&#13;");
    }
}
