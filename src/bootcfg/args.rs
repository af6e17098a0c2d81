//! Kernel command-line words and the `--add` / `--remove` edit.
//!
//! A command line is whitespace-separated words; a word is a bare flag (`quiet`,
//! `install`) or `KEY=VALUE` (`console=tty0`, `answerfile=file:///a.xml`). Edits keep
//! every untouched word and the whitespace before it exactly as it was, so a no-op
//! edit gives the same bytes and a real one a one-word diff.

use serde::Serialize;

use super::{is_blank, trim_start_blank};
use crate::error::{Error, Result};

/// Keys `boot-args` refuses to touch: `initrd=` names the installer image in a plain
/// isolinux entry, and changing it is not an argument edit.
const PROTECTED_KEYS: &[&str] = &["initrd"];

/// An edit of a kernel command line: words to remove (by key), then words to add.
///
/// `--add KEY=VALUE` replaces every existing `KEY=…` word (the new one takes the place
/// of the first; note that this collapses repeatable keys such as `console=`), a bare
/// word is added once, and `--remove KEY` drops both `KEY` and every `KEY=…`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ArgEdit {
    add: Vec<String>,
    remove: Vec<String>,
    /// Bare words put first, right after the kernel path (see [`ArgEdit::first`]).
    first: Vec<String>,
}

/// The key of a word: the part before the first `=`, or the whole bare word.
pub(crate) fn key_of(word: &str) -> &str {
    word.split_once('=').map_or(word, |(k, _)| k)
}

impl ArgEdit {
    /// Check and build an edit. Refused: empty words, words with whitespace or
    /// quotes, the mboot.c32 separator `---`, words starting with `#` (a comment in
    /// GRUB), a `--remove` that holds `=`, a key both added and removed, and `initrd`.
    pub fn new(
        add: impl IntoIterator<Item = impl Into<String>>,
        remove: impl IntoIterator<Item = impl Into<String>>,
    ) -> Result<ArgEdit> {
        ArgEdit::named(("--add", "--remove"), add, remove)
    }

    /// [`ArgEdit::new`] for Xen's words: errors name `--xen-add` / `--xen-remove`.
    pub fn new_xen(
        add: impl IntoIterator<Item = impl Into<String>>,
        remove: impl IntoIterator<Item = impl Into<String>>,
    ) -> Result<ArgEdit> {
        ArgEdit::named(("--xen-add", "--xen-remove"), add, remove)
    }

    fn named(
        (add_flag, remove_flag): (&str, &str),
        add: impl IntoIterator<Item = impl Into<String>>,
        remove: impl IntoIterator<Item = impl Into<String>>,
    ) -> Result<ArgEdit> {
        let add: Vec<String> = add.into_iter().map(Into::into).collect();
        let remove: Vec<String> = remove.into_iter().map(Into::into).collect();
        for w in &add {
            check_word(add_flag, w)?;
        }
        for k in &remove {
            check_word(remove_flag, k)?;
            if k.contains('=') {
                return Err(Error::invalid(format!(
                    "{remove_flag} {k}: give the key only ({remove_flag} {} removes `{0}` and every `{0}=…`)",
                    key_of(k)
                )));
            }
        }
        if let Some(w) = add.iter().find(|w| remove.iter().any(|k| k == key_of(w))) {
            return Err(Error::invalid(format!(
                "{add_flag} {w} and {remove_flag} {} name the same key",
                key_of(w)
            )));
        }
        Ok(ArgEdit {
            add,
            remove,
            first: Vec::new(),
        })
    }

    /// Also put the bare word `w` first on the line, right after the kernel path,
    /// unless the line has it already: where XCP-ng's `create-iso.sh` puts
    /// `netinstall` (`sed s@/vmlinuz@/vmlinuz netinstall@`).
    pub(crate) fn first(mut self, w: &str) -> Result<ArgEdit> {
        check_word("first", w)?;
        if w.contains('=') {
            return Err(Error::invalid(format!(
                "{w}: only a bare word can be put first"
            )));
        }
        self.first.push(w.to_string());
        Ok(self)
    }

    /// True when the edit changes nothing on any line.
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty() && self.first.is_empty()
    }

    /// Apply the edit to the argument text that follows a kernel path (or the
    /// `APPEND` keyword): `text` is empty or starts with whitespace. Untouched words
    /// keep their spacing; new words are appended after one space.
    pub(crate) fn apply(&self, text: &str) -> String {
        let (mut words, trailing) = split_words(text);
        words.retain(|(_, w)| !self.remove.iter().any(|k| k == key_of(w)));
        for new in &self.add {
            let key = key_of(new);
            if new.contains('=') {
                let mut first = true;
                words.retain_mut(|(_, w)| {
                    if key_of(w) != key {
                        return true;
                    }
                    if std::mem::take(&mut first) {
                        w.clone_from(new);
                        true
                    } else {
                        false
                    }
                });
                if first {
                    words.push((" ", new.clone()));
                }
            } else if !words.iter().any(|(_, w)| w == new) {
                words.push((" ", new.clone()));
            }
        }
        for (i, w) in self.first.iter().enumerate() {
            if !words.iter().any(|(_, old)| old == w) {
                words.insert(i, (" ", w.clone()));
            }
        }
        join_words(&words, trailing)
    }
}

/// Argument text as (whitespace before, word) pairs and the whitespace after the
/// last word, so that [`join_words`] gives the text back.
pub(super) fn split_words(text: &str) -> (Vec<(&str, String)>, &str) {
    let mut words: Vec<(&str, String)> = Vec::new();
    let mut rest = text;
    loop {
        let start = rest.len() - trim_start_blank(rest).len();
        if start == rest.len() {
            break;
        }
        let (ws, tail) = rest.split_at(start);
        let end = tail.find(is_blank).unwrap_or(tail.len());
        words.push((ws, tail[..end].to_string()));
        rest = &tail[end..];
    }
    (words, rest)
}

/// The inverse of [`split_words`].
pub(super) fn join_words(words: &[(&str, String)], trailing: &str) -> String {
    let mut out = String::new();
    for (ws, w) in words {
        out.push_str(ws);
        out.push_str(w);
    }
    out.push_str(trailing);
    out
}

fn check_word(flag: &str, w: &str) -> Result<()> {
    let why = if w.is_empty() {
        Some("an empty word")
    } else if w.chars().any(is_blank) {
        Some("one word, without spaces")
    } else if w.contains(['"', '\'']) {
        Some("a word without quotes")
    } else if w == "---" {
        Some("not `---` (the mboot.c32 module separator)")
    } else if w.starts_with('#') {
        Some("not a word starting with `#` (a comment in GRUB)")
    } else if key_of(w).is_empty() {
        Some("KEY or KEY=VALUE with a non-empty KEY")
    } else {
        None
    };
    if let Some(why) = why {
        let shown = if w.is_empty() { "\"\"" } else { w };
        let msg = if why == "an empty word" {
            format!("{flag} {shown}: an empty word is not a kernel argument")
        } else {
            format!("{flag} {shown}: expected {why}")
        };
        return Err(Error::invalid(msg));
    }
    if PROTECTED_KEYS.contains(&key_of(w)) {
        return Err(Error::invalid(format!(
            "{flag} {w}: `{}=` names the installer image; boot-args does not change it",
            key_of(w)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(add: &[&str], remove: &[&str]) -> ArgEdit {
        ArgEdit::new(add.iter().copied(), remove.iter().copied()).unwrap()
    }

    #[test]
    fn add_appends_once_and_replaces_key_value() {
        let e = edit(&["xiso.test=1", "install"], &[]);
        assert_eq!(
            e.apply(" console=hvc0\tconsole=tty0"),
            " console=hvc0\tconsole=tty0 xiso.test=1 install"
        );
        // idempotent
        let once = e.apply(" quiet");
        assert_eq!(e.apply(&once), once);
        // KEY=VALUE replaces in place, duplicates of the key go
        let e = edit(&["console=ttyS0"], &[]);
        assert_eq!(
            e.apply(" a console=hvc0  b console=tty0 c"),
            " a console=ttyS0  b c"
        );
    }

    #[test]
    fn first_words_go_right_after_the_kernel_once() {
        let e = edit(&["install"], &[]).first("netinstall").unwrap();
        assert_eq!(
            e.apply("  console=hvc0 quiet"),
            " netinstall  console=hvc0 quiet install"
        );
        assert_eq!(e.apply(""), " netinstall install");
        let once = e.apply(" quiet");
        assert_eq!(e.apply(&once), once);
        assert!(edit(&[], &[]).first("a=1").is_err());
        assert!(edit(&[], &[]).first("a b").is_err());
    }

    #[test]
    fn remove_drops_bare_and_key_value_words() {
        let e = edit(&[], &["quiet", "console"]);
        assert_eq!(
            e.apply("  quiet console=hvc0 panic=-1 quiet=x quietly console"),
            " panic=-1 quietly"
        );
        assert_eq!(e.apply(""), "");
    }

    #[test]
    fn untouched_text_is_identical() {
        let e = edit(&[], &["absent"]);
        for t in ["", " a  b\t\tc", "\ta=1 b", " x "] {
            assert_eq!(e.apply(t), t);
        }
    }

    #[test]
    fn bad_words_are_refused() {
        for (add, remove) in [
            (vec![""], vec![]),
            (vec!["a b"], vec![]),
            (vec!["---"], vec![]),
            (vec!["#x"], vec![]),
            (vec!["=1"], vec![]),
            (vec!["initrd=/x.img"], vec![]),
            (vec!["a=\"b c\""], vec![]),
            (vec![], vec!["initrd"]),
            (vec![], vec!["quiet=1"]),
            (vec!["quiet=1"], vec!["quiet"]),
        ] {
            let r = ArgEdit::new(add.clone(), remove.clone());
            assert!(r.is_err(), "{add:?} {remove:?} was accepted");
        }
    }
}
