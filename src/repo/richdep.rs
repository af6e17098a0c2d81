//! Dependency expressions: versioned names and rpm's rich (boolean) dependencies.
//!
//! A plain dependency is a name with an optional comparison (`foo >= 1.2-3`);
//! whether a provide satisfies a require is rpm's range overlap
//! (`rpmdsCompare`, `lib/rpmds.c`): both ranges are versioned by their flags
//! and an EVR, and they overlap when some version lies in both.
//!
//! Rich dependencies (rpm ≥ 4.13, `lib/rpmds.c` `rpmrichParse`) are written in
//! parentheses: `(a or b)`, `(a and b)`, `(a with b)`, `(a without b)`,
//! `(a if b)`, `(a if b else c)`, `(a unless b)`, `(a unless b else c)`; terms
//! nest, a chain repeats one operator (`(a or b or c)`), and a name may itself
//! hold balanced parentheses (`libfoo.so.1()(64bit)`).

use std::cmp::Ordering;
use std::fmt;

use crate::error::{Error, Result};
use crate::rpm::Evr;

/// The comparison of a versioned dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    /// `<` (`LT`)
    Lt,
    /// `<=` (`LE`)
    Le,
    /// `=` (`EQ`)
    Eq,
    /// `>=` (`GE`)
    Ge,
    /// `>` (`GT`)
    Gt,
}

impl Cmp {
    /// From the `flags` attribute of primary.xml (`LT`, `LE`, `EQ`, `GE`, `GT`).
    pub(crate) fn from_flags(flags: &str) -> Option<Cmp> {
        Some(match flags {
            "LT" => Cmp::Lt,
            "LE" => Cmp::Le,
            "EQ" => Cmp::Eq,
            "GE" => Cmp::Ge,
            "GT" => Cmp::Gt,
            _ => return None,
        })
    }

    /// From an operator inside a rich dependency.
    fn from_operator(op: &str) -> Option<Cmp> {
        Some(match op {
            "<" => Cmp::Lt,
            "<=" | "=<" => Cmp::Le,
            "=" | "==" => Cmp::Eq,
            ">=" | "=>" => Cmp::Ge,
            ">" => Cmp::Gt,
            _ => return None,
        })
    }

    /// rpm's sense bits: (less, equal, greater).
    fn senses(self) -> (bool, bool, bool) {
        match self {
            Cmp::Lt => (true, false, false),
            Cmp::Le => (true, true, false),
            Cmp::Eq => (false, true, false),
            Cmp::Ge => (false, true, true),
            Cmp::Gt => (false, false, true),
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Eq => "=",
            Cmp::Ge => ">=",
            Cmp::Gt => ">",
        }
    }
}

/// A name with an optional version range: one require or one provide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VersionedName {
    /// The capability: a package name, a virtual provide, or a file path.
    pub name: String,
    /// The range; `None` for an unversioned dependency (any version).
    pub range: Option<(Cmp, Evr)>,
}

impl VersionedName {
    /// An unversioned name.
    pub(crate) fn any(name: impl Into<String>) -> VersionedName {
        VersionedName {
            name: name.into(),
            range: None,
        }
    }

    /// Whether a provide `self` satisfies a require `other` of the same name:
    /// the two version ranges overlap (rpm's `rpmdsCompare`). An unversioned
    /// side matches any version; a release is compared only when both sides
    /// have one.
    pub(crate) fn overlaps(&self, other: &VersionedName) -> bool {
        let (Some((ca, a)), Some((cb, b))) = (&self.range, &other.range) else {
            return true;
        };
        let (al, ae, ag) = ca.senses();
        let (bl, be, bg) = cb.senses();
        match a.compare(b) {
            Ordering::Less => ag || bl,
            Ordering::Greater => al || bg,
            Ordering::Equal => (ae && be) || (al && bl) || (ag && bg),
        }
    }
}

impl fmt::Display for VersionedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some((cmp, evr)) = &self.range {
            write!(f, " {} {evr}", cmp.symbol())?;
        }
        Ok(())
    }
}

/// A dependency expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RichDep {
    /// A name with an optional version range.
    Name(VersionedName),
    /// `(a and b …)`: all of them.
    And(Vec<RichDep>),
    /// `(a or b …)`: at least one.
    Or(Vec<RichDep>),
    /// `(a with b …)`: one package providing all of them.
    With(Vec<RichDep>),
    /// `(a without b)`: a package providing `a` but not `b`.
    Without(Box<RichDep>, Box<RichDep>),
    /// `(then if cond [else otherwise])`: `then` is needed when `cond` is installed.
    If {
        /// Needed when `cond` is installed.
        then: Box<RichDep>,
        /// The condition.
        cond: Box<RichDep>,
        /// Needed when `cond` is not installed.
        otherwise: Option<Box<RichDep>>,
    },
    /// `(then unless cond [else otherwise])`: `then` is needed unless `cond` is installed.
    Unless {
        /// Needed when `cond` is not installed.
        then: Box<RichDep>,
        /// The condition.
        cond: Box<RichDep>,
        /// Needed when `cond` is installed.
        otherwise: Option<Box<RichDep>>,
    },
}

impl RichDep {
    /// Parse a rich dependency `( … )`; any other text is a plain name.
    /// The whole string must be consumed.
    pub(crate) fn parse(s: &str) -> Result<RichDep> {
        if !s.trim_start().starts_with('(') {
            return Ok(RichDep::Name(VersionedName::any(s)));
        }
        let mut p = Parser { s, pos: 0 };
        let dep = p.group()?;
        p.skip_space();
        if p.pos != s.len() {
            return Err(p.error("text after the closing parenthesis"));
        }
        Ok(dep)
    }
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    And,
    Or,
    With,
    Without,
    If,
    Unless,
}

impl<'a> Parser<'a> {
    fn error(&self, what: &str) -> Error {
        Error::invalid(format!(
            "rich dependency {:?}: {what} at character {}",
            self.s, self.pos
        ))
    }

    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    /// A word: up to whitespace or an unbalanced `)`; parentheses inside a
    /// name must balance (`libfoo.so.1()(64bit)`).
    fn word(&mut self) -> Result<&'a str> {
        self.skip_space();
        let start = self.pos;
        let mut depth = 0usize;
        for (i, c) in self.rest().char_indices() {
            match c {
                '(' => depth += 1,
                ')' if depth == 0 => {
                    self.pos = start + i;
                    break;
                }
                ')' => depth -= 1,
                c if c.is_whitespace() && depth == 0 => {
                    self.pos = start + i;
                    break;
                }
                _ => {}
            }
            self.pos = start + i + c.len_utf8();
        }
        if self.pos == start {
            return Err(self.error("expected a name"));
        }
        Ok(&self.s[start..self.pos])
    }

    fn peek_word(&mut self) -> Option<&'a str> {
        let save = self.pos;
        let w = self.word().ok();
        self.pos = save;
        w
    }

    /// `( term op term … )`
    fn group(&mut self) -> Result<RichDep> {
        self.skip_space();
        if !self.rest().starts_with('(') {
            return Err(self.error("expected '('"));
        }
        self.pos += 1;
        let first = self.term()?;
        self.skip_space();
        if self.rest().starts_with(')') {
            self.pos += 1;
            return Ok(first);
        }
        let op = self.operator()?;
        let dep = match op {
            Op::If | Op::Unless => {
                let cond = Box::new(self.term()?);
                self.skip_space();
                let otherwise = if self.peek_word() == Some("else") {
                    self.word()?;
                    Some(Box::new(self.term()?))
                } else {
                    None
                };
                let then = Box::new(first);
                if op == Op::If {
                    RichDep::If {
                        then,
                        cond,
                        otherwise,
                    }
                } else {
                    RichDep::Unless {
                        then,
                        cond,
                        otherwise,
                    }
                }
            }
            Op::Without => RichDep::Without(Box::new(first), Box::new(self.term()?)),
            Op::And | Op::Or | Op::With => {
                let mut terms = vec![first, self.term()?];
                loop {
                    self.skip_space();
                    if self.rest().starts_with(')') {
                        break;
                    }
                    if self.operator()? != op {
                        return Err(self.error("different operators chained without parentheses"));
                    }
                    terms.push(self.term()?);
                }
                match op {
                    Op::And => RichDep::And(terms),
                    Op::Or => RichDep::Or(terms),
                    _ => RichDep::With(terms),
                }
            }
        };
        self.skip_space();
        if !self.rest().starts_with(')') {
            return Err(self.error("expected ')'"));
        }
        self.pos += 1;
        Ok(dep)
    }

    fn operator(&mut self) -> Result<Op> {
        let save = self.pos;
        let op = match self.word()? {
            "and" => Op::And,
            "or" => Op::Or,
            "with" => Op::With,
            "without" => Op::Without,
            "if" => Op::If,
            "unless" => Op::Unless,
            _ => {
                self.pos = save;
                return Err(self.error("expected and, or, with, without, if or unless"));
            }
        };
        Ok(op)
    }

    /// A nested group or `name [op version]`.
    fn term(&mut self) -> Result<RichDep> {
        self.skip_space();
        if self.rest().starts_with('(') {
            return self.group();
        }
        let name = self.word()?;
        let range = match self.peek_word().and_then(Cmp::from_operator) {
            Some(cmp) => {
                self.word()?;
                let version = self.word()?;
                let evr = Evr::parse(version).ok_or_else(|| self.error("bad version"))?;
                Some((cmp, evr))
            }
            None => None,
        };
        Ok(RichDep::Name(VersionedName {
            name: name.to_string(),
            range,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(name: &str) -> RichDep {
        RichDep::Name(VersionedName::any(name))
    }

    fn v(name: &str, cmp: Cmp, evr: &str) -> VersionedName {
        VersionedName {
            name: name.to_string(),
            range: Some((cmp, Evr::parse(evr).unwrap())),
        }
    }

    #[test]
    fn parses_every_operator_of_rpm_rich_deps() {
        assert_eq!(
            RichDep::parse("(pkgA or pkgB)").unwrap(),
            RichDep::Or(vec![n("pkgA"), n("pkgB")])
        );
        assert_eq!(
            RichDep::parse("((pkgS or pkgT) and pkgU)").unwrap(),
            RichDep::And(vec![RichDep::Or(vec![n("pkgS"), n("pkgT")]), n("pkgU")])
        );
        assert_eq!(
            RichDep::parse("(pkgBB >= 2.0 or pkgCC >= 3.0-1)").unwrap(),
            RichDep::Or(vec![
                RichDep::Name(v("pkgBB", Cmp::Ge, "2.0")),
                RichDep::Name(v("pkgCC", Cmp::Ge, "3.0-1")),
            ])
        );
        assert_eq!(
            RichDep::parse("(pkgG if pkgH else pkgI)").unwrap(),
            RichDep::If {
                then: Box::new(n("pkgG")),
                cond: Box::new(n("pkgH")),
                otherwise: Some(Box::new(n("pkgI"))),
            }
        );
        assert_eq!(
            RichDep::parse("(pkgE unless pkgF)").unwrap(),
            RichDep::Unless {
                then: Box::new(n("pkgE")),
                cond: Box::new(n("pkgF")),
                otherwise: None,
            }
        );
        assert_eq!(
            RichDep::parse("(pkgQ without pkgR)").unwrap(),
            RichDep::Without(Box::new(n("pkgQ")), Box::new(n("pkgR")))
        );
        assert_eq!(
            RichDep::parse("(a with b with c)").unwrap(),
            RichDep::With(vec![n("a"), n("b"), n("c")])
        );
        assert_eq!(
            RichDep::parse("(pkgV or (pkgW and pkgX) or pkgY)").unwrap(),
            RichDep::Or(vec![
                n("pkgV"),
                RichDep::And(vec![n("pkgW"), n("pkgX")]),
                n("pkgY")
            ])
        );
    }

    #[test]
    fn names_keep_balanced_parentheses() {
        assert_eq!(
            RichDep::parse("(libfoo.so.1()(64bit) or python3dist(foo) < 2)").unwrap(),
            RichDep::Or(vec![
                n("libfoo.so.1()(64bit)"),
                RichDep::Name(v("python3dist(foo)", Cmp::Lt, "2")),
            ])
        );
        // Not rich: the name as it is.
        assert_eq!(
            RichDep::parse("perl(Foo::Bar)").unwrap(),
            n("perl(Foo::Bar)")
        );
    }

    #[test]
    fn refuses_malformed_expressions() {
        for bad in [
            "(a or b",
            "(a or b and c)",
            "(a xor b)",
            "(a or b) c",
            "()",
            "(a or)",
            "(a >= x:1)",
        ] {
            assert!(RichDep::parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn version_ranges_overlap_as_rpm_compares_them() {
        let p = |cmp, evr| v("foo", cmp, evr);
        // Provide foo = 1.2-3 against requires.
        let prov = p(Cmp::Eq, "1.2-3");
        assert!(prov.overlaps(&p(Cmp::Ge, "1.2")));
        assert!(prov.overlaps(&p(Cmp::Ge, "1.1")));
        assert!(!prov.overlaps(&p(Cmp::Gt, "1.2-3")));
        assert!(prov.overlaps(&p(Cmp::Gt, "1.1")));
        assert!(prov.overlaps(&p(Cmp::Le, "1.2-3")));
        assert!(!prov.overlaps(&p(Cmp::Lt, "1.2-3")));
        assert!(!prov.overlaps(&p(Cmp::Lt, "1.2")));
        assert!(prov.overlaps(&p(Cmp::Eq, "1.2")), "no release: any release");
        assert!(!prov.overlaps(&p(Cmp::Eq, "1.2-4")));
        assert!(!prov.overlaps(&p(Cmp::Ge, "1:1.0")), "epoch first");
        assert!(prov.overlaps(&p(Cmp::Lt, "1.2.1")));
        assert!(!prov.overlaps(&p(Cmp::Eq, "1.2~rc1")), "~ sorts before");
        // Open ranges on both sides.
        assert!(p(Cmp::Le, "2").overlaps(&p(Cmp::Ge, "1")));
        assert!(!p(Cmp::Lt, "1").overlaps(&p(Cmp::Gt, "1")));
        assert!(p(Cmp::Ge, "1").overlaps(&p(Cmp::Ge, "5")));
        // Unversioned on either side matches.
        assert!(VersionedName::any("foo").overlaps(&p(Cmp::Gt, "9")));
        assert!(p(Cmp::Eq, "1").overlaps(&VersionedName::any("foo")));
    }

    #[test]
    fn display_writes_the_requirement() {
        assert_eq!(v("foo", Cmp::Ge, "1:2.0-3").to_string(), "foo >= 1:2.0-3");
        assert_eq!(VersionedName::any("/bin/sh").to_string(), "/bin/sh");
    }
}
