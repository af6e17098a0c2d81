//! What depmod reads from a kernel module: an ELF64 little-endian relocatable file.
//!
//! Three things, read the way kmod's `libkmod-elf.c` reads them:
//! - `.modinfo`: NUL-separated `key=value` strings (`alias=`, `softdep=`, …);
//! - the exported symbols: the `__crc_NAME` entries of `.symtab` (kernels built with
//!   `CONFIG_MODVERSIONS`), else the strings of `__ksymtab_strings`;
//! - the symbols the module needs: the undefined (`SHN_UNDEF`) `.symtab` entries, then
//!   the `__versions` entries no symbol referred to (`module_layout`).
//!
//! Every read is bounds-checked; a damaged file is an error at the byte offset of the
//! field that is wrong, never a panic.

use crate::error::{Error, Result};

const SHDR_SIZE: u64 = 64;
const SYM_SIZE: u64 = 24;
/// `struct modversion_info` on 64-bit: a `u64` CRC then a 56-byte name.
const MODVERSION_SIZE: u64 = 64;
const CRC_PREFIX: &[u8] = b"__crc_";
const SHT_NOBITS: u32 = 8;
const STB_WEAK: u8 = 2;
const EM_SPARCV9: u16 = 43;
const EM_SPARC: u16 = 2;
const STT_REGISTER: u8 = 13;

/// A symbol the module needs from the kernel or from another module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeededSymbol {
    /// The symbol's name as written in the module.
    pub name: String,
    /// A weak reference: a missing provider is not an error.
    pub weak: bool,
}

/// The facts depmod uses about one module.
#[derive(Debug, Clone, Default)]
pub struct ModuleElf {
    /// `.modinfo` entries in file order; a string without `=` has itself as value.
    pub modinfo: Vec<(String, String)>,
    /// Exported symbol names.
    pub exports: Vec<String>,
    /// Needed symbols, in `.symtab` order then unreferenced `__versions` entries.
    /// `None` when the module has no `.symtab`/`.strtab` (kmod then records no needs).
    pub needs: Option<Vec<NeededSymbol>>,
}

/// A section header's fields that matter here.
#[derive(Debug, Clone, Copy)]
struct Section {
    name_off: u32,
    kind: u32,
    offset: u64,
    size: u64,
    /// Where the header itself is, for error offsets.
    header_at: u64,
}

/// A parsed ELF file: the bytes and the section table.
struct Elf<'a> {
    data: &'a [u8],
    sections: Vec<Section>,
    names: &'a [u8],
    machine: u16,
}

fn u16_at(data: &[u8], off: u64) -> Result<u16> {
    let b = bytes_at(data, off, 2)?;
    Ok(u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(data: &[u8], off: u64) -> Result<u32> {
    let b = bytes_at(data, off, 4)?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn u64_at(data: &[u8], off: u64) -> Result<u64> {
    let b = bytes_at(data, off, 8)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    Ok(u64::from_le_bytes(a))
}

fn bytes_at(data: &[u8], off: u64, len: u64) -> Result<&[u8]> {
    let end = off.checked_add(len);
    match end {
        Some(end) if end <= data.len() as u64 => Ok(&data[off as usize..end as usize]),
        _ => Err(Error::corrupt(
            off,
            format!(
                "{len} bytes needed past the end of the file ({} bytes)",
                data.len()
            ),
        )),
    }
}

/// The NUL-terminated string at `off` in `table` (up to the table's end without a NUL).
fn c_str(table: &[u8], off: usize) -> &[u8] {
    let rest = table.get(off..).unwrap_or(&[]);
    let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    &rest[..end]
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl<'a> Elf<'a> {
    fn parse(data: &'a [u8]) -> Result<Elf<'a>> {
        let ident =
            bytes_at(data, 0, 16).map_err(|_| Error::corrupt(0, "too short for an ELF header"))?;
        if &ident[..4] != b"\x7fELF" {
            return Err(Error::corrupt(0, "not an ELF file (no \\x7fELF magic)"));
        }
        if ident[4] != 2 || ident[5] != 1 {
            return Err(Error::unsupported(format!(
                "ELF class {} data {}: only 64-bit little-endian modules are read",
                ident[4], ident[5]
            ))
            .at(4));
        }
        let shoff = u64_at(data, 0x28)?;
        let machine = u16_at(data, 0x12)?;
        let shentsize = u16_at(data, 0x3a)?;
        let shnum = u16_at(data, 0x3c)?;
        let shstrndx = u16_at(data, 0x3e)?;
        if u64::from(shentsize) != SHDR_SIZE {
            return Err(Error::corrupt(
                0x3a,
                format!("section header size {shentsize}, expected {SHDR_SIZE}"),
            ));
        }
        let table_end = shoff.checked_add(u64::from(shnum) * SHDR_SIZE);
        if table_end.is_none_or(|e| e > data.len() as u64) {
            return Err(Error::corrupt(
                0x28,
                format!(
                    "section header table ({shnum} entries at offset {shoff}) ends past the end of the file ({} bytes)",
                    data.len()
                ),
            ));
        }
        let mut sections = Vec::with_capacity(usize::from(shnum));
        for i in 0..u64::from(shnum) {
            let at = shoff + i * SHDR_SIZE;
            sections.push(Section {
                name_off: u32_at(data, at)?,
                kind: u32_at(data, at + 4)?,
                offset: u64_at(data, at + 0x18)?,
                size: u64_at(data, at + 0x20)?,
                header_at: at,
            });
        }
        let strs = sections
            .get(usize::from(shstrndx))
            .filter(|_| shstrndx != 0)
            .copied()
            .ok_or_else(|| {
                Error::corrupt(
                    0x3e,
                    format!("section name table index {shstrndx} is not a section"),
                )
            })?;
        let mut elf = Elf {
            data,
            sections,
            names: &[],
            machine,
        };
        let names = elf.contents(&strs)?;
        if names.last() != Some(&0) {
            return Err(Error::corrupt(
                strs.offset,
                "section name table does not end with a NUL",
            ));
        }
        elf.names = names;
        Ok(elf)
    }

    /// A section's bytes; an error at its header when they lie past the end of the file.
    fn contents(&self, s: &Section) -> Result<&'a [u8]> {
        let end = s.offset.checked_add(s.size);
        match end {
            Some(end) if end <= self.data.len() as u64 => {
                Ok(&self.data[s.offset as usize..end as usize])
            }
            _ => Err(Error::corrupt(
                s.header_at,
                format!(
                    "section {:?} (offset {}, size {}) ends past the end of the file ({} bytes)",
                    text(c_str(self.names, s.name_off as usize)),
                    s.offset,
                    s.size,
                    self.data.len()
                ),
            )),
        }
    }

    /// The first section (after the null one) named `name`, with its contents.
    fn section(&self, name: &str) -> Result<Option<(&Section, &'a [u8])>> {
        for s in self.sections.iter().skip(1) {
            if (s.name_off as usize) >= self.names.len()
                || c_str(self.names, s.name_off as usize) != name.as_bytes()
            {
                continue;
            }
            if s.kind == SHT_NOBITS {
                return Ok(Some((s, &[])));
            }
            return Ok(Some((s, self.contents(s)?)));
        }
        Ok(None)
    }
}

/// The non-empty NUL-separated strings of a section, as kmod splits them.
fn strings(buf: &[u8]) -> Vec<&[u8]> {
    buf.split(|&b| b == 0).filter(|s| !s.is_empty()).collect()
}

/// A `.symtab` entry's fields that matter here.
struct Sym {
    name_off: u32,
    info: u8,
    shndx: u16,
}

/// `.symtab` entries (without the null one 0) and `.strtab`.
struct SymbolTable<'a> {
    syms: Vec<Sym>,
    strtab: &'a [u8],
}

/// The symbol table and its string table, when both are there and well formed.
fn symtab<'a>(elf: &Elf<'a>) -> Result<Option<SymbolTable<'a>>> {
    let Some((_, strtab)) = elf.section(".strtab")? else {
        return Ok(None);
    };
    let Some((sec, symtab)) = elf.section(".symtab")? else {
        return Ok(None);
    };
    if !(symtab.len() as u64).is_multiple_of(SYM_SIZE) {
        return Err(Error::corrupt(
            sec.header_at,
            format!(
                ".symtab size {} is not a multiple of {SYM_SIZE}",
                symtab.len()
            ),
        ));
    }
    let mut syms = Vec::with_capacity(symtab.len() / SYM_SIZE as usize);
    for (i, e) in symtab.chunks_exact(SYM_SIZE as usize).enumerate().skip(1) {
        let sym = Sym {
            name_off: u32::from_le_bytes([e[0], e[1], e[2], e[3]]),
            info: e[4],
            shndx: u16::from_le_bytes([e[6], e[7]]),
        };
        if sym.name_off as usize >= strtab.len() {
            return Err(Error::corrupt(
                sec.offset + i as u64 * SYM_SIZE,
                format!(
                    ".symtab entry {i} names offset {} past the end of .strtab ({} bytes)",
                    sym.name_off,
                    strtab.len()
                ),
            ));
        }
        syms.push(sym);
    }
    Ok(Some(SymbolTable { syms, strtab }))
}

/// Read what depmod needs from an uncompressed module image.
pub fn parse(data: &[u8]) -> Result<ModuleElf> {
    let elf = Elf::parse(data)?;
    let mut out = ModuleElf::default();

    if let Some((_, info)) = elf.section(".modinfo")? {
        for s in strings(info) {
            let (k, v) = match s.iter().position(|&b| b == b'=') {
                Some(eq) => (&s[..eq], &s[eq + 1..]),
                None => (s, s),
            };
            out.modinfo.push((text(k), text(v)));
        }
    }

    let symtab = symtab(&elf)?;
    if let Some(SymbolTable { syms, strtab }) = &symtab {
        for s in syms {
            if let Some(name) = c_str(strtab, s.name_off as usize).strip_prefix(CRC_PREFIX) {
                out.exports.push(text(name));
            }
        }
    }
    if out.exports.is_empty() {
        if let Some((_, ks)) = elf.section("__ksymtab_strings")? {
            out.exports = strings(ks).into_iter().map(text).collect();
        }
    }

    if let Some(SymbolTable { syms, strtab }) = &symtab {
        let versions = match elf.section("__versions")? {
            Some((_, v)) if (v.len() as u64).is_multiple_of(MODVERSION_SIZE) => v,
            _ => &[],
        };
        let version_names: Vec<&[u8]> = versions
            .chunks_exact(MODVERSION_SIZE as usize)
            .map(|e| c_str(&e[8..], 0))
            .collect();
        let mut visited = vec![false; version_names.len()];
        let sparc = elf.machine == EM_SPARC || elf.machine == EM_SPARCV9;
        let mut needs = Vec::new();
        for s in syms {
            if s.shndx != 0 || (sparc && s.info & 0xf == STT_REGISTER) {
                continue;
            }
            let name = c_str(strtab, s.name_off as usize);
            if name.is_empty() {
                continue;
            }
            if let Some(i) = version_names.iter().position(|v| *v == name) {
                visited[i] = true;
            }
            needs.push(NeededSymbol {
                name: text(name),
                weak: s.info >> 4 == STB_WEAK,
            });
        }
        for (name, seen) in version_names.iter().zip(&visited) {
            if !seen {
                needs.push(NeededSymbol {
                    name: text(name),
                    weak: false,
                });
            }
        }
        out.needs = Some(needs);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_short_and_foreign_files() {
        assert_eq!(parse(b"\x7fELF").unwrap_err().offset(), Some(0));
        assert!(parse(&[0u8; 64]).unwrap_err().message().contains("magic"));
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = 1;
        h[5] = 1;
        assert!(parse(&h).unwrap_err().message().contains("64-bit"));
    }

    #[test]
    fn section_table_past_eof_is_an_error_at_e_shoff() {
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = 2;
        h[5] = 1;
        h[0x28..0x30].copy_from_slice(&1000u64.to_le_bytes());
        h[0x3a..0x3c].copy_from_slice(&64u16.to_le_bytes());
        h[0x3c..0x3e].copy_from_slice(&3u16.to_le_bytes());
        let e = parse(&h).unwrap_err();
        assert_eq!(e.offset(), Some(0x28));
        assert!(e.message().contains("past the end"), "{e}");
    }

    #[test]
    fn strings_skip_runs_of_nuls() {
        assert_eq!(
            strings(b"\0\0a=1\0\0b\0c=2"),
            vec![&b"a=1"[..], b"b", b"c=2"]
        );
    }
}
