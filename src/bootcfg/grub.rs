//! Kernel lines of a GRUB 2 config. Blocks are tracked by braces (`menuentry`,
//! `submenu`, `function`, each `… {` … `}`); inside a `menuentry` the kernel lines
//! are `linux`/`linuxefi`/`linux16 PATH ARGS` and the FIRST
//! `module2`/`module`/`xen_module` (multiboot2's and XenServer 8's dom0 kernel; the
//! later modules are the initrd). `multiboot2 xen.gz ARGS` (and XenServer 8's
//! `xen_hypervisor`) is Xen's own line: a hypervisor line, edited only by the Xen
//! edits. A word starting with `#` starts a comment, as in GRUB's lexer.
//! Quoted words with spaces are not supported inside kernel arguments (none of
//! XCP-ng's menus has one).

use super::{content, file_name, is_blank, trim_start_blank, words, KernelLine};

enum Block {
    Menuentry { title: String, modules: usize },
    Other,
}

/// The dom0 kernel lines and the hypervisor lines (`multiboot2`/`multiboot`/
/// `xen_hypervisor` of a Xen image), in file order.
pub(super) fn kernel_lines(lines: &[String]) -> (Vec<KernelLine>, Vec<KernelLine>) {
    let mut out = Vec::new();
    let mut xen = Vec::new();
    let mut stack: Vec<Block> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let text = content(line);
        let mut ws = words(text);
        if let Some(c) = ws.iter().position(|(_, w)| w.starts_with('#')) {
            ws.truncate(c);
        }
        let Some((_, cmd)) = ws.first() else {
            continue;
        };
        match *cmd {
            "}" => {
                stack.pop();
                continue;
            }
            "menuentry" => {
                if ws.last().is_some_and(|(_, w)| w.ends_with('{')) {
                    let title = title(&text[ws[0].0.end..]);
                    stack.push(Block::Menuentry { title, modules: 0 });
                }
                continue;
            }
            _ => {}
        }
        if ws.last().is_some_and(|(_, w)| w.ends_with('{')) {
            stack.push(Block::Other);
            continue;
        }
        let Some(Block::Menuentry { title, modules }) = stack
            .iter_mut()
            .rev()
            .find(|b| matches!(b, Block::Menuentry { .. }))
        else {
            continue;
        };
        let is_kernel = match *cmd {
            "linux" | "linuxefi" | "linux16" => true,
            "module2" | "module" | "xen_module" => {
                *modules += 1;
                *modules == 1
            }
            _ => false,
        };
        let is_xen = matches!(*cmd, "multiboot2" | "multiboot" | "xen_hypervisor");
        if !is_kernel && !is_xen {
            continue;
        }
        // Options such as `module2 --nounzip` come before the path.
        let Some(p) = ws.iter().skip(1).position(|(_, w)| !w.starts_with("--")) else {
            continue;
        };
        let (path_range, path) = &ws[p + 1];
        if is_xen && !file_name(path).to_ascii_lowercase().starts_with("xen") {
            continue;
        }
        let end = ws.last().map_or(path_range.end, |(r, _)| r.end);
        let found = KernelLine {
            entry: title.clone(),
            kernel: path.to_string(),
            line: i,
            args: Some(path_range.end..end),
            insert: None,
        };
        if is_xen {
            xen.push(found);
        } else {
            out.push(found);
        }
    }
    (out, xen)
}

/// The title of a `menuentry` from the text after the keyword: a `"…"` or `'…'`
/// string (backslash escapes in double quotes), else the first word.
fn title(rest: &str) -> String {
    let rest = trim_start_blank(rest);
    let mut chars = rest.chars();
    match chars.next() {
        Some(q @ ('"' | '\'')) => {
            let mut t = String::new();
            let mut escaped = false;
            for c in chars {
                match c {
                    '\\' if q == '"' && !escaped => escaped = true,
                    c if c == q && !escaped => break,
                    c => {
                        t.push(c);
                        escaped = false;
                    }
                }
            }
            t
        }
        _ => rest
            .split(|c: char| is_blank(c) || c == '{')
            .next()
            .unwrap_or("")
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use crate::bootcfg::{ArgEdit, BootConfig, SerialConsole};

    /// The shape of XCP-ng 8.3's `EFI/xenserver/grub.cfg` (create-install-image
    /// templates): a `function` block, multiboot2 entries whose first module2 is the
    /// dom0 kernel, a kernel-alt entry, and memtest through `chainloader`.
    const XCPNG: &str = "set default=\"0\"\n\nfunction load_video {\n  insmod efi_gop\n  \
        insmod all_video\n}\n\nload_video\nset gfxpayload=keep\ninsmod gzio\n\nset timeout=5\n\n\
        menuentry \"install\" {\n    multiboot2 /boot/xen.gz dom0_mem=max:8192M \
        com1=115200,8n1 console=com1,vga\n    module2 /boot/vmlinuz console=hvc0 console=tty0\n    \
        module2 /install.img\n}\n\n\
        menuentry \"no-serial\" {\n    multiboot2 /boot/xen.gz console=vga\n    module2 \
        /boot/vmlinuz console=tty0\n    module2 /install.img\n}\n\n\
        menuentry \"install with alternate/debug kernel (kernel-alt)\" {\n    multiboot2 \
        /boot/xen.gz console=com1,vga\n    module2 /boot/alt/vmlinuz console=hvc0 console=tty0 \
        kernel-alt\n    module2 /install.img\n}\n\n\
        menuentry \"memtest\" {\n    chainloader /boot/memtest.efi\n}\n";

    #[test]
    fn xcpng_shape_finds_the_first_module() {
        let cfg = BootConfig::parse_grub(XCPNG);
        let got = cfg.triples(cfg.kernel_lines());
        assert_eq!(
            got,
            [
                ("install", "/boot/vmlinuz", "console=hvc0 console=tty0"),
                ("no-serial", "/boot/vmlinuz", "console=tty0"),
                (
                    "install with alternate/debug kernel (kernel-alt)",
                    "/boot/alt/vmlinuz",
                    "console=hvc0 console=tty0 kernel-alt"
                ),
            ]
        );
        assert_eq!(cfg.text(), XCPNG);
    }

    #[test]
    fn edit_changes_only_dom0_lines() {
        let mut cfg = BootConfig::parse_grub(XCPNG);
        let edit = ArgEdit::new(["xiso.test=1"], ["console"]).unwrap();
        let changes = cfg.apply(&edit, None).unwrap();
        assert_eq!(changes.len(), 3);
        let text = cfg.text();
        assert!(text.contains("    module2 /boot/vmlinuz xiso.test=1\n    module2 /install.img\n"));
        assert!(text.contains("    module2 /boot/alt/vmlinuz kernel-alt xiso.test=1\n"));
        // Xen's console= on multiboot2 stays.
        assert!(text.contains("multiboot2 /boot/xen.gz console=vga\n"));
        assert!(!text.contains("/install.img xiso.test"));
    }

    /// Xen's edits go to the multiboot2 and xen_hypervisor lines only.
    #[test]
    fn xen_edits_change_only_hypervisor_lines() {
        let mut cfg = BootConfig::parse_grub(XCPNG);
        assert_eq!(cfg.hypervisor_lines().len(), 3);
        let edit = ArgEdit::new_xen(["iommu=verbose"], ["console"]).unwrap();
        cfg.apply_xen(&edit, Some("no-serial")).unwrap();
        let text = cfg.text();
        assert!(text.contains("    multiboot2 /boot/xen.gz iommu=verbose\n"));
        assert_eq!(text.matches("iommu=verbose").count(), 1);
        assert!(text.contains("module2 /boot/vmlinuz console=tty0\n"));
        let src = "menuentry \"xs8\" {\n xen_hypervisor /boot/xen.gz console=vga\n \
                   xen_module /boot/vmlinuz a\n}\nmenuentry \"m\" {\n multiboot2 /boot/memtest.bin x\n}\n";
        let mut cfg = BootConfig::parse_grub(src);
        assert_eq!(cfg.hypervisor_lines().len(), 1, "memtest is not Xen");
        cfg.apply_xen(&edit, None).unwrap();
        assert_eq!(
            cfg.text(),
            src.replace("/boot/xen.gz console=vga", "/boot/xen.gz iommu=verbose")
        );
    }

    /// `--serial` and `--xen-add` on one line give one change holding both, the
    /// port switch first; each kernel line finds the Xen line of its own entry.
    #[test]
    fn serial_and_xen_edit_in_one_pass_and_xen_of_each_kernel() {
        let mut cfg = BootConfig::parse_grub(XCPNG);
        let serial: SerialConsole = "com2,57600".parse().unwrap();
        let edit = ArgEdit::new_xen(["iommu=0"], ["dom0_mem"]).unwrap();
        let changes = cfg.apply_hypervisor(&edit, Some(&serial), None).unwrap();
        let after: Vec<&str> = changes.iter().map(|c| c.after.as_str()).collect();
        assert_eq!(
            after,
            [
                "com2=57600,8n1 console=com2,vga iommu=0",
                "console=vga iommu=0",
                "console=com2,vga iommu=0"
            ]
        );
        assert_eq!(changes[0].line, 15, "line numbers of the file as read");
        let xen_of: Vec<Option<&str>> = cfg
            .kernel_lines()
            .iter()
            .map(|k| cfg.hypervisor_of(k).map(|h| cfg.args(h)))
            .collect();
        assert_eq!(
            xen_of,
            [
                Some("com2=57600,8n1 console=com2,vga iommu=0"),
                Some("console=vga iommu=0"),
                Some("console=com2,vga iommu=0")
            ]
        );
        // A direct kernel after a Xen entry of the same title is not Xen's.
        let src = "menuentry \"a\" {\n multiboot2 /boot/xen.gz x\n module2 /boot/vmlinuz k\n}\n\
                   menuentry \"a\" {\n linux /boot/vmlinuz d\n}\n";
        let cfg = BootConfig::parse_grub(src);
        let ks = cfg.kernel_lines();
        assert_eq!(ks.len(), 2);
        assert!(cfg.hypervisor_of(&ks[0]).is_some());
        assert!(cfg.hypervisor_of(&ks[1]).is_none());
    }

    #[test]
    fn linux_lines_xen_module_comments_and_crlf() {
        let src = "# menu\r\nmenuentry 'plain' --class os {\r\n\tlinuxefi /boot/vmlinuz quiet # why\r\n\
                   \tinitrdefi /install.img\r\n}\r\nsubmenu \"more\" {\r\n  menuentry \"xs8\" {\r\n    \
                   xen_hypervisor /boot/xen.gz console=vga\r\n    xen_module /boot/vmlinuz console=tty0\r\n    \
                   xen_module /install.img\r\n  }\r\n}\r\n#linux /boot/vmlinuz commented\r\n";
        let mut cfg = BootConfig::parse_grub(src);
        assert_eq!(cfg.entries(), ["plain", "xs8"]);
        cfg.apply(&ArgEdit::new(["install"], ["quiet"]).unwrap(), None)
            .unwrap();
        assert_eq!(
            cfg.text(),
            src.replace("vmlinuz quiet # why", "vmlinuz install # why")
                .replace("vmlinuz console=tty0\r", "vmlinuz console=tty0 install\r")
        );
    }

    #[test]
    fn nounzip_option_and_entry_filter() {
        let src = "menuentry \"a\" {\n module2 --nounzip /boot/vmlinuz x\n module2 /i.img\n}\n\
                   menuentry \"b\" {\n linux /boot/vmlinuz y\n}\n";
        let mut cfg = BootConfig::parse_grub(src);
        let changes = cfg
            .apply(
                &ArgEdit::new(["z"], Vec::<String>::new()).unwrap(),
                Some("a"),
            )
            .unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(
            cfg.text(),
            src.replace("/boot/vmlinuz x", "/boot/vmlinuz x z")
        );
    }
}
