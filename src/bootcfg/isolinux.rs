//! Kernel lines of an ISOLINUX config (syslinux `doc/syslinux.txt`): keywords are
//! case-insensitive, `LABEL name` starts an entry, `KERNEL`/`LINUX` names what it
//! boots and `APPEND` its command line. For `mboot.c32` the `APPEND` line is
//! `xen.gz XEN-ARGS --- vmlinuz DOM0-ARGS --- install.img …` (modules separated by
//! `---`); the dom0 kernel is the first module. Lines before the first `LABEL`
//! (global defaults) are left alone.

use super::{
    content, file_name, is_linux_kernel, trim_end_blank, trim_start_blank, words, KernelLine,
};

struct Entry {
    label: String,
    kernel: Option<(usize, String)>,
    append: Option<usize>,
}

/// The dom0 kernel lines and the hypervisor lines (`xen.gz` and its words up to the
/// first `---` of an mboot.c32 `APPEND`), in file order.
pub(super) fn kernel_lines(lines: &[String]) -> (Vec<KernelLine>, Vec<KernelLine>) {
    let mut entries: Vec<Entry> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let ws = words(content(line));
        let Some((_, keyword)) = ws.first() else {
            continue;
        };
        let keyword = keyword.to_ascii_lowercase();
        if keyword == "label" {
            let label = ws
                .get(1)
                .map_or("", |(r, _)| trim_end_blank(&content(line)[r.start..]));
            entries.push(Entry {
                label: label.to_string(),
                kernel: None,
                append: None,
            });
            continue;
        }
        let Some(entry) = entries.last_mut() else {
            continue;
        };
        match keyword.as_str() {
            "kernel" | "linux" => {
                if let Some((_, path)) = ws.get(1) {
                    entry.kernel = Some((i, path.to_string()));
                }
            }
            "append" => entry.append = Some(i),
            _ => {}
        }
    }

    let mut out = Vec::new();
    let mut xen = Vec::new();
    for e in entries {
        let Some((kline, kernel)) = e.kernel else {
            continue;
        };
        if file_name(&kernel).eq_ignore_ascii_case("mboot.c32") {
            if let Some(k) = e
                .append
                .and_then(|a| mboot_segment(&lines[a], a, &e.label, 0))
            {
                xen.push(k);
            }
            if let Some(k) = e
                .append
                .and_then(|a| mboot_segment(&lines[a], a, &e.label, 1))
            {
                out.push(k);
            }
        } else if is_linux_kernel(&kernel) {
            match e.append {
                Some(a) => {
                    let text = content(&lines[a]);
                    let ws = words(text);
                    let start = ws[0].0.end;
                    let end = ws.last().map_or(start, |(r, _)| r.end);
                    out.push(KernelLine {
                        entry: e.label,
                        kernel,
                        line: a,
                        args: Some(start..end),
                        insert: None,
                    });
                }
                None => {
                    let l = &lines[kline];
                    let text = content(l);
                    let indent = &text[..text.len() - trim_start_blank(text).len()];
                    let eol = &l[text.len()..];
                    // A last line without a terminator: use the file's first one.
                    let eol = match (eol, lines.first()) {
                        ("", Some(first)) if first.ends_with("\r\n") => "\r\n",
                        ("", _) => "\n",
                        (eol, _) => eol,
                    };
                    out.push(KernelLine {
                        entry: e.label,
                        kernel,
                        line: kline,
                        args: None,
                        insert: Some((indent.to_string(), eol.to_string())),
                    });
                }
            }
        }
    }
    (out, xen)
}

/// Segment `n` of an mboot.c32 `APPEND` line, whose words after the keyword are
/// modules separated by `---`: 0 is the hypervisor (`xen.gz XEN-ARGS`), 1 the dom0
/// kernel (`vmlinuz ARGS`). The segment's first word is the image path.
fn mboot_segment(line: &str, index: usize, label: &str, n: usize) -> Option<KernelLine> {
    let ws = words(content(line));
    let seg = ws.get(1..)?.split(|(_, w)| *w == "---").nth(n)?;
    let (path_range, path) = seg.first()?;
    let end = seg.last().map_or(path_range.end, |(r, _)| r.end);
    Some(KernelLine {
        entry: label.to_string(),
        kernel: path.to_string(),
        line: index,
        args: Some(path_range.end..end),
        insert: None,
    })
}

#[cfg(test)]
mod tests {
    use crate::bootcfg::{ArgEdit, BootConfig};

    /// The shape of XCP-ng 8.3's `boot/isolinux/isolinux.cfg` (create-install-image
    /// templates): mboot.c32 entries for install, serial-less, safe, multipath,
    /// kernel-alt and shell, then memtest as a plain `LINUX` entry.
    const XCPNG: &str = "SERIAL 0 115200\nDEFAULT install\nPROMPT 1\nTIMEOUT 50\n\
        DISPLAY pg_main\nF1 pg_main\n\n\
        LABEL install\n\tKERNEL mboot.c32\n\tAPPEND /boot/xen.gz dom0_max_vcpus=1-16 \
        dom0_mem=max:8192M com1=115200,8n1 console=com1,vga --- /boot/vmlinuz console=hvc0 \
        console=tty0 --- /install.img\n\
        LABEL no-serial\n\tKERNEL mboot.c32\n\tAPPEND /boot/xen.gz dom0_mem=max:8192M \
        console=vga --- /boot/vmlinuz console=tty0 --- /install.img\n\
        LABEL install-alt\n\tKERNEL mboot.c32\n\tAPPEND /boot/xen.gz console=com1,vga \
        --- /boot/alt/vmlinuz console=hvc0 console=tty0 kernel-alt --- /install.img\n\n\
        LABEL shell\n\tKERNEL mboot.c32\n\tAPPEND /boot/xen.gz console=com1,vga --- \
        /boot/vmlinuz console=hvc0 console=tty0 bash-shell --- /install.img\n\n\
        LABEL memtest\n\tLINUX /boot/memtest.bin\n";

    #[test]
    fn xcpng_shape_finds_the_dom0_segments() {
        let cfg = BootConfig::parse_isolinux(XCPNG);
        let got = cfg.triples(cfg.kernel_lines());
        assert_eq!(
            got,
            [
                ("install", "/boot/vmlinuz", "console=hvc0 console=tty0"),
                ("no-serial", "/boot/vmlinuz", "console=tty0"),
                (
                    "install-alt",
                    "/boot/alt/vmlinuz",
                    "console=hvc0 console=tty0 kernel-alt"
                ),
                (
                    "shell",
                    "/boot/vmlinuz",
                    "console=hvc0 console=tty0 bash-shell"
                ),
            ]
        );
        assert_eq!(cfg.text(), XCPNG);
    }

    #[test]
    fn edit_touches_only_the_vmlinuz_segment() {
        let mut cfg = BootConfig::parse_isolinux(XCPNG);
        let edit = ArgEdit::new(["install", "console=ttyS0"], ["kernel-alt"]).unwrap();
        let changes = cfg.apply(&edit, None).unwrap();
        assert_eq!(changes.len(), 4);
        let text = cfg.text();
        assert!(text.contains(
            "\tAPPEND /boot/xen.gz dom0_max_vcpus=1-16 dom0_mem=max:8192M com1=115200,8n1 \
             console=com1,vga --- /boot/vmlinuz console=ttyS0 install --- /install.img\n"
        ));
        assert!(text.contains("--- /boot/alt/vmlinuz console=ttyS0 install --- /install.img\n"));
        // Xen's console=com1,vga is in the first segment and stays.
        assert_eq!(text.matches("console=com1,vga").count(), 3);
        assert!(text.ends_with("LABEL memtest\n\tLINUX /boot/memtest.bin\n"));
        // Every other line is unchanged.
        let (old, new): (Vec<_>, Vec<_>) = (XCPNG.lines().collect(), text.lines().collect());
        assert_eq!(old.len(), new.len());
        let differing = old.iter().zip(&new).filter(|(a, b)| a != b).count();
        assert_eq!(differing, 4);
    }

    /// Xen's words are the segment between xen.gz and the first `---`; an edit
    /// there leaves dom0's segment and the installer image alone, and `--serial`
    /// moves both serial words of the serial entries only.
    #[test]
    fn xen_edits_touch_only_the_hypervisor_segment() {
        use crate::bootcfg::SerialConsole;
        let mut cfg = BootConfig::parse_isolinux(XCPNG);
        let xen = cfg.triples(cfg.hypervisor_lines());
        assert_eq!(xen.len(), 4);
        assert_eq!(
            xen[1],
            (
                "no-serial",
                "/boot/xen.gz",
                "dom0_mem=max:8192M console=vga"
            )
        );
        let edit =
            ArgEdit::new_xen(["iommu=verbose", "dom0_mem=max:4096M"], ["dom0_max_vcpus"]).unwrap();
        let changes = cfg.apply_xen(&edit, None).unwrap();
        assert_eq!(changes.len(), 4);
        assert!(cfg.text().contains(
            "\tAPPEND /boot/xen.gz dom0_mem=max:4096M com1=115200,8n1 console=com1,vga \
             iommu=verbose --- /boot/vmlinuz console=hvc0 console=tty0 --- /install.img\n"
        ));
        assert_eq!(cfg.text().matches("iommu=verbose").count(), 4);
        let serial: SerialConsole = "com2".parse().unwrap();
        let changes = cfg.apply_serial(&serial, None).unwrap();
        assert_eq!(changes.iter().filter(|c| c.changed()).count(), 3);
        let text = cfg.text();
        assert!(!text.contains("com1"), "{text}");
        assert_eq!(text.matches("com2=115200,8n1 console=com2,vga").count(), 1);
        assert_eq!(text.matches("console=com2,vga").count(), 3);
        // The dom0 segments are as they were.
        let dom0: Vec<String> = cfg
            .kernel_lines()
            .iter()
            .map(|k| cfg.args(k).to_string())
            .collect();
        let orig = BootConfig::parse_isolinux(XCPNG);
        let before: Vec<&str> = orig.kernel_lines().iter().map(|k| orig.args(k)).collect();
        assert_eq!(dom0, before);
        // An empty Xen segment takes the new word right after the image.
        let mut cfg = BootConfig::parse_isolinux(
            "LABEL a\n KERNEL mboot.c32\n APPEND /xen.gz --- /vmlinuz q --- /i.img\n",
        );
        cfg.apply_xen(&edit, Some("a")).unwrap();
        assert!(cfg
            .text()
            .contains("APPEND /xen.gz iommu=verbose dom0_mem=max:4096M --- /vmlinuz q ---"));
    }

    #[test]
    fn plain_kernel_entry_keeps_initrd_and_crlf() {
        let src = "default install\r\n# comment\r\nlabel install\r\n  kernel /boot/vmlinuz\r\n  \
                   append initrd=/install.img quiet  panic=-1\r\nlabel menu\r\n  kernel menu.c32\r\n";
        let mut cfg = BootConfig::parse_isolinux(src);
        assert_eq!(cfg.entries(), ["install"]);
        let edit = ArgEdit::new(["xiso.test=1"], ["quiet"]).unwrap();
        cfg.apply(&edit, None).unwrap();
        assert_eq!(
            cfg.text(),
            src.replace(
                "initrd=/install.img quiet  panic=-1",
                "initrd=/install.img  panic=-1 xiso.test=1"
            )
        );
    }

    #[test]
    fn entry_without_append_gets_one() {
        let src = "LABEL a\r\n\tKERNEL /boot/vmlinuz\r\nLABEL b\r\n\tKERNEL /boot/vmlinuz";
        let mut cfg = BootConfig::parse_isolinux(src);
        let changes = cfg
            .apply(
                &ArgEdit::new(["install"], Vec::<String>::new()).unwrap(),
                Some("b"),
            )
            .unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(
            cfg.text(),
            "LABEL a\r\n\tKERNEL /boot/vmlinuz\r\nLABEL b\r\n\tKERNEL /boot/vmlinuz\r\n\tAPPEND install\r\n"
        );
        // A remove on an entry without APPEND inserts nothing.
        let mut cfg = BootConfig::parse_isolinux(src);
        cfg.apply(
            &ArgEdit::new(Vec::<String>::new(), ["quiet"]).unwrap(),
            None,
        )
        .unwrap();
        assert_eq!(cfg.text(), src);
    }

    #[test]
    fn entry_filter_matches_the_label_only() {
        let mut cfg = BootConfig::parse_isolinux(XCPNG);
        let edit = ArgEdit::new(["xiso.test=1"], Vec::<String>::new()).unwrap();
        let changes = cfg.apply(&edit, Some("shell")).unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(
            changes[0].after,
            "console=hvc0 console=tty0 bash-shell xiso.test=1"
        );
        assert_eq!(cfg.text().matches("xiso.test=1").count(), 1);
        assert!(cfg.apply(&edit, Some("nope")).unwrap().is_empty());
    }
}
