//! Shell completions and man pages are generated from the command line definition.

mod common;

use common::{ok_output, tmpdir, xiso};

#[test]
fn completions_and_man_pages_cover_every_command() {
    for shell in ["bash", "zsh", "fish"] {
        let o = ok_output(xiso().args(["completions", shell]));
        let text = String::from_utf8_lossy(&o.stdout);
        for cmd in ["remaster", "unpack", "pack", "diff", "verify", "add-rpm"] {
            assert!(text.contains(cmd), "{shell} completion lacks {cmd}");
        }
        assert!(
            text.contains("add-rpm-installer"),
            "{shell}: remaster flags missing"
        );
    }
    let o = ok_output(xiso().arg("man"));
    let page = String::from_utf8_lossy(&o.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH xiso"),
        "{page}"
    );
    assert!(page.contains("remaster"));
    let t = tmpdir("man");
    ok_output(xiso().arg("man").arg("--out-dir").arg(t.path()));
    for page in ["xiso.1", "xiso-remaster.1", "xiso-diff.1", "xiso-pack.1"] {
        let p = t.path().join(page);
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(".TH"), "{page} is not a man page");
    }
    let remaster = std::fs::read_to_string(t.path().join("xiso-remaster.1")).unwrap();
    assert!(
        remaster.contains("plan"),
        "the remaster page lacks the plan option"
    );
}
