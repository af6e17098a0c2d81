//! `xiso remaster IN.iso OUT.iso …`: every edit in one command, from flags or from a
//! plan file kept in git.
//!
//! A remaster is exactly `unpack` + the edits + `pack` (the same code runs, so the
//! output is byte-identical to doing it by hand with the same `SOURCE_DATE_EPOCH`),
//! with three differences:
//!
//! - The workspace is private: a hidden directory next to OUT, deleted at the end
//!   (also on error and Ctrl-C; a later run removes one a killed run left behind).
//! - It is sparse: RPMs, files of 64 MiB and more, and install.img when no edit
//!   touches the installer are holes of the right size and mtime, never written.
//!   `pack` sees them unchanged and streams their extents from IN to OUT, so adding
//!   one RPM reads and writes the ISO about once. Only the small files the edits
//!   change (configs, repodata, efiboot.img) are ever copied.
//! - install.img is unpacked only when an edit needs the installer root
//!   (`--add-rpm-installer`, `--answerfile`, `--patch-installer` without
//!   `--installer-append`). With `--installer-append` and only `--patch-installer`
//!   edits it is never decoded: the workspace is one unpacked with `--no-installer`,
//!   where every overlay path is appended as a new entry (root:root, the overlay's
//!   modes), so the output equals `unpack --no-installer` + `patch-installer` +
//!   `pack --installer-append`.
//!
//! The steps, in this order (a [`Plan`] is a list of [`Edit`]s, [`Plan::edits`]):
//!
//! 1. `unpack` (`Workspace::unpack_sparse`; the source image stays open in the
//!    [`Workspace`] until `pack` has copied its extents);
//! 2. with `add-rpm` or `refresh-from`: the few RPMs whose repodata entry cannot be
//!    reused are written whole (`crate::repo::update::reusable_entry`);
//! 3. `overlay`, once per directory;
//! 4. `add-rpm` (with `pull-in`, `refresh-from`);
//! 5. `add-rpm-installer`;
//! 6. `patch-installer`, once per directory;
//! 7. `answerfile`;
//! 8. `netinstall`;
//! 9. `boot-args` (kernel and Xen arguments, `serial`);
//! 10. `sign` or `disable-gpgcheck`;
//! 11. [`Workspace::save`] writes the manifests the edits changed, then `pack`.
//!
//! The order is the one a careful manual run takes: files first, then the repository
//! over them (so an overlaid RPM is indexed), the installer, the boot menus (which
//! `answerfile` and `netinstall` edit too), and signing last, over the final
//! repository.
//!
//! ```no_run
//! use xiso::remaster::{remaster, Plan, RemasterOptions};
//!
//! // A release pipeline's recipe, e.g. kept in git as remaster.toml.
//! let plan = Plan::from_toml_file("remaster.toml".as_ref())?;
//! let report = remaster(
//!     "xcp-ng-8.3.0.iso".as_ref(),
//!     "xcp-ng-8.3.0-custom.iso".as_ref(),
//!     &plan,
//!     &RemasterOptions::default(),
//! )?;
//! println!("{} bytes, {} steps", report.output_bytes, report.steps.len());
//! # Ok::<(), xiso::Error>(())
//! ```

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::bootcfg::{ArgEdit, SerialConsole};
use crate::error::{Error, Result};
use crate::iso::IsoImage;
use crate::source::SECTOR;
use crate::workspace::{self, Edit, EditReport, PackOptions, PackReport, Workspace};

/// The edits of one remaster. Field names are the TOML keys (and the CLI flags).
///
/// ```toml
/// # remaster.toml (paths are relative to this file)
/// volid = "XCP-NG_830_CUSTOM"
/// add-rpm = ["extra/mydriver-1.0-1.x86_64.rpm"]
/// pull-in = true               # xcp-ng-deps is rewritten to require mydriver
/// refresh-from = "updates"     # newer versions of the media's packages
/// add-rpm-installer = ["installer-rpms/fix-1.0-1.noarch.rpm"]
/// patch-installer = ["installer-overlay"]
/// overlay = ["iso-overlay"]
/// boot-arg = ["console=ttyS0,115200"]
/// remove-boot-arg = ["quiet"]
/// xen-arg = ["dom0_mem=max:4096M"]    # Xen's own words (`xiso boot-args --xen-add`)
/// remove-xen-arg = ["dom0_max_vcpus"]
/// serial = "com2,115200"              # Xen's serial console on another port
/// answerfile = "answerfile.xml"
/// sign = "release-key.asc"     # or: disable-gpgcheck = true
/// installer-append = false
/// netinstall = false           # true: no repository on the media, `netinstall` on the boot lines
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
// With the `cli` feature the fields are also `xiso remaster`'s flags: each doc comment
// below is its flag's help text.
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct Plan {
    /// Add an RPM to the ISO's repository (repeatable).
    #[cfg_attr(feature = "cli", arg(long, value_name = "PKG.rpm"))]
    pub add_rpm: Vec<PathBuf>,
    /// Install an RPM into the installer root inside install.img (repeatable).
    #[cfg_attr(feature = "cli", arg(long, value_name = "PKG.rpm"))]
    pub add_rpm_installer: Vec<PathBuf>,
    /// Copy a directory onto the installer root (repeatable).
    #[cfg_attr(feature = "cli", arg(long, value_name = "DIR"))]
    pub patch_installer: Vec<PathBuf>,
    /// Copy a directory onto the ISO tree (repeatable).
    #[cfg_attr(feature = "cli", arg(long, value_name = "DIR"))]
    pub overlay: Vec<PathBuf>,
    /// Add an installer kernel argument in every boot entry (repeatable).
    #[cfg_attr(
        feature = "cli",
        arg(long, value_name = "ARG", allow_hyphen_values = true)
    )]
    pub boot_arg: Vec<String>,
    /// Remove an installer kernel argument by key (repeatable).
    #[cfg_attr(feature = "cli", arg(long, value_name = "KEY"))]
    pub remove_boot_arg: Vec<String>,
    /// Add a Xen argument in every Xen entry (repeatable), e.g. dom0_mem=max:4096M.
    #[cfg_attr(
        feature = "cli",
        arg(long, value_name = "ARG", allow_hyphen_values = true)
    )]
    pub xen_arg: Vec<String>,
    /// Remove a Xen argument by key (repeatable).
    #[cfg_attr(feature = "cli", arg(long, value_name = "KEY"))]
    pub remove_xen_arg: Vec<String>,
    /// Move Xen's serial console to comN (1..4), optionally at BAUD (com2,115200).
    #[cfg_attr(feature = "cli", arg(long, value_name = "comN[,BAUD]"))]
    pub serial: Option<SerialConsole>,
    /// Put an answerfile in the installer and boot it unattended.
    #[cfg_attr(feature = "cli", arg(long, value_name = "FILE.xml"))]
    pub answerfile: Option<PathBuf>,
    /// Sign repodata/repomd.xml with this armoured secret key.
    #[cfg_attr(
        feature = "cli",
        arg(long, value_name = "KEY.asc", conflicts_with = "disable_gpgcheck")
    )]
    pub sign: Option<PathBuf>,
    /// Name of the exported public key file (RPM-GPG-KEY-NICK).
    #[cfg_attr(feature = "cli", arg(long, value_name = "NICK", requires = "sign"))]
    pub sign_nick: Option<String>,
    /// File whose first line is the key's passphrase.
    #[cfg_attr(
        feature = "cli",
        arg(long = "passphrase-file", value_name = "FILE", requires = "sign")
    )]
    pub sign_passphrase_file: Option<PathBuf>,
    /// With `sign`: do not keep the old `[keys]` keys in the new key file.
    #[cfg_attr(
        feature = "cli",
        arg(
            long,
            requires = "sign",
            help = "With --sign: do not keep the old [keys] keys in the new key file"
        )
    )]
    pub replace_keys: bool,
    /// With --sign: sign only repomd.xml, leave every package as it is.
    #[cfg_attr(feature = "cli", arg(long, requires = "sign"))]
    pub no_sign_packages: bool,
    /// Turn the installer's repository signature check off.
    #[cfg_attr(feature = "cli", arg(long))]
    pub disable_gpgcheck: bool,
    /// New volume id.
    #[cfg_attr(feature = "cli", arg(long, value_name = "ID"))]
    pub volid: Option<String>,
    /// Append installer changes to install.img instead of rebuilding it (fast). With only
    /// --patch-installer edits, install.img is not even decoded: every overlay path is appended
    /// root:root with the overlay's modes (a replaced file does not keep the image's owner and
    /// mode; directories in the overlay set theirs too).
    #[cfg_attr(feature = "cli", arg(long))]
    pub installer_append: bool,
    /// Let --add-rpm replace a package by an older version.
    #[cfg_attr(feature = "cli", arg(long))]
    pub allow_downgrade: bool,
    /// Skip the dependency check of --add-rpm.
    #[cfg_attr(feature = "cli", arg(long))]
    pub no_deps_check: bool,
    /// Rewrite xcp-ng-deps (the install target) to require the --add-rpm packages, so the
    /// installer installs them (see `xiso add-rpm --help`).
    #[cfg_attr(feature = "cli", arg(long))]
    pub pull_in: bool,
    /// Replace the media's packages by newer ones of the same name and arch found under DIR
    /// (recursive; see `xiso add-rpm --help`).
    #[cfg_attr(feature = "cli", arg(long, value_name = "DIR"))]
    pub refresh_from: Option<PathBuf>,
    /// Make netinstall media, as XCP-ng's create-iso.sh --netinstall does: no Packages/,
    /// repodata/ or .treeinfo (the installer asks for a network repository), and `netinstall`
    /// right after /boot/vmlinuz on every installer line of every boot menu (efiboot.img's
    /// grub.cfg included).
    #[cfg_attr(feature = "cli", arg(long, conflicts_with_all = ["add_rpm", "refresh_from", "sign", "disable_gpgcheck"]))]
    pub netinstall: bool,
    /// Let --add-rpm accept source packages.
    #[cfg_attr(feature = "cli", arg(long))]
    pub allow_src: bool,
    /// Let --add-rpm accept packages built for ARCH (besides x86_64, noarch and the
    /// repository's arches; repeatable).
    #[cfg_attr(feature = "cli", arg(long, value_name = "ARCH"))]
    pub allow_arch: Vec<String>,
    /// With --add-rpm-installer: overwrite existing %config files (default: keep them,
    /// write PATH.rpmnew).
    #[cfg_attr(feature = "cli", arg(long))]
    pub replace_config: bool,
    /// Only the boot entries with this isolinux LABEL / GRUB menuentry title get the
    /// --boot-arg, --xen-arg, --serial and --answerfile edits (default: every entry).
    #[cfg_attr(feature = "cli", arg(long, value_name = "LABEL"))]
    pub entry: Option<String>,
}

impl Plan {
    /// Read a TOML plan; relative paths in it are taken from the file's directory.
    pub fn from_toml_file(path: &Path) -> Result<Plan> {
        let text = fs::read_to_string(path)
            .map_err(|e| Error::io(e, "cannot read the plan").in_file(path))?;
        let mut plan: Plan = toml::from_str(&text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start as u64);
            let msg = e.message().replace('\n', " ");
            Error::invalid(format!("plan is not valid: {msg} (byte {offset})")).in_file(path)
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        plan.rebase(base);
        Ok(plan)
    }

    fn rebase(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        for p in self
            .add_rpm
            .iter_mut()
            .chain(&mut self.add_rpm_installer)
            .chain(&mut self.patch_installer)
            .chain(&mut self.overlay)
            .chain(&mut self.answerfile)
            .chain(&mut self.sign)
            .chain(&mut self.sign_passphrase_file)
            .chain(&mut self.refresh_from)
        {
            fix(p);
        }
    }

    /// Add `other`'s edits to this plan (lists are appended, single values replaced).
    pub fn merge(&mut self, other: Plan) {
        self.add_rpm.extend(other.add_rpm);
        self.add_rpm_installer.extend(other.add_rpm_installer);
        self.patch_installer.extend(other.patch_installer);
        self.overlay.extend(other.overlay);
        self.boot_arg.extend(other.boot_arg);
        self.remove_boot_arg.extend(other.remove_boot_arg);
        self.xen_arg.extend(other.xen_arg);
        self.remove_xen_arg.extend(other.remove_xen_arg);
        self.serial = other.serial.or(self.serial.take());
        self.answerfile = other.answerfile.or(self.answerfile.take());
        self.sign = other.sign.or(self.sign.take());
        self.sign_nick = other.sign_nick.or(self.sign_nick.take());
        self.sign_passphrase_file = other
            .sign_passphrase_file
            .or(self.sign_passphrase_file.take());
        self.disable_gpgcheck |= other.disable_gpgcheck;
        self.replace_keys |= other.replace_keys;
        self.no_sign_packages |= other.no_sign_packages;
        self.volid = other.volid.or(self.volid.take());
        self.installer_append |= other.installer_append;
        self.allow_downgrade |= other.allow_downgrade;
        self.no_deps_check |= other.no_deps_check;
        self.pull_in |= other.pull_in;
        self.refresh_from = other.refresh_from.or(self.refresh_from.take());
        self.netinstall |= other.netinstall;
        self.allow_src |= other.allow_src;
        self.allow_arch.extend(other.allow_arch);
        self.replace_config |= other.replace_config;
        self.entry = other.entry.or(self.entry.take());
    }

    /// Whether an edit needs the installer root unpacked. Overlays that are only
    /// appended (`--patch-installer` with `--installer-append`, and no
    /// `--add-rpm-installer` or `--answerfile`) do not: install.img is then never
    /// decoded, and the overlay goes after its bytes as one more archive.
    pub(crate) fn touches_installer(&self) -> bool {
        !self.add_rpm_installer.is_empty()
            || self.answerfile.is_some()
            || (!self.patch_installer.is_empty() && !self.installer_append)
    }

    /// Refuse contradictions and missing inputs before any work.
    pub(crate) fn check(&self) -> Result<()> {
        if self.sign.is_some() && self.disable_gpgcheck {
            return Err(Error::invalid(
                "--sign and --disable-gpgcheck contradict each other: choose one",
            ));
        }
        if self.netinstall {
            let repo_edit = [
                (!self.add_rpm.is_empty(), "--add-rpm"),
                (self.refresh_from.is_some(), "--refresh-from"),
                (self.sign.is_some(), "--sign"),
                (self.disable_gpgcheck, "--disable-gpgcheck"),
            ];
            if let Some((_, flag)) = repo_edit.iter().find(|(set, _)| *set) {
                return Err(Error::invalid(format!(
                    "--netinstall removes the media's repository; {flag} edits it: choose one"
                )));
            }
        }
        for p in self
            .add_rpm
            .iter()
            .chain(&self.add_rpm_installer)
            .chain(&self.answerfile)
            .chain(&self.sign)
            .chain(&self.sign_passphrase_file)
        {
            if !p.is_file() {
                return Err(Error::new(
                    crate::error::ErrorKind::NotFound,
                    "no such file (named by the remaster plan)",
                )
                .in_file(p));
            }
        }
        if self.pull_in && self.add_rpm.is_empty() && self.refresh_from.is_none() {
            return Err(Error::invalid(
                "--pull-in makes the install target require the packages --add-rpm adds: give --add-rpm",
            ));
        }
        for p in self
            .patch_installer
            .iter()
            .chain(&self.overlay)
            .chain(&self.refresh_from)
        {
            if !p.is_dir() {
                return Err(Error::new(
                    crate::error::ErrorKind::NotFound,
                    "no such directory (named by the remaster plan)",
                )
                .in_file(p));
            }
        }
        self.boot_args_options(None)?;
        Ok(())
    }

    /// The edits of this plan in the order a remaster applies them (with every date
    /// left to `SOURCE_DATE_EPOCH`, else now, as the single commands do).
    pub fn edits(&self) -> Result<Vec<Edit>> {
        self.edits_dated(None)
    }

    /// [`Plan::edits`] with `date` for every timestamp the edits write (boot menus
    /// inside efiboot.img, signatures). The order is the module docs'.
    pub(crate) fn edits_dated(&self, date: Option<i64>) -> Result<Vec<Edit>> {
        let mut edits = Vec::new();
        for ov in &self.overlay {
            edits.push(Edit::Overlay(workspace::Overlay { dir: ov.clone() }));
        }
        if !self.add_rpm.is_empty() || self.refresh_from.is_some() {
            edits.push(Edit::AddRpm(workspace::AddRpm {
                packages: self.add_rpm.clone(),
                options: workspace::AddRpmOptions {
                    allow_downgrade: self.allow_downgrade,
                    deps_check: !self.no_deps_check,
                    metadata: crate::repo::MetadataOptions::from_env()?,
                    allow_src: self.allow_src,
                    allow_arch: self.allow_arch.clone(),
                    pull_in: self.pull_in,
                    refresh_from: self.refresh_from.clone(),
                },
            }));
        }
        if !self.add_rpm_installer.is_empty() {
            edits.push(Edit::AddRpmInstaller(workspace::AddRpmInstaller {
                packages: self.add_rpm_installer.clone(),
                options: workspace::InstallerRpmOptions {
                    replace_config: self.replace_config,
                },
            }));
        }
        for ov in &self.patch_installer {
            edits.push(Edit::PatchInstaller(workspace::PatchInstaller {
                overlay: Some(ov.clone()),
                options: workspace::PatchOptions::default(),
            }));
        }
        if let Some(f) = &self.answerfile {
            edits.push(Edit::Answerfile(workspace::Answerfile {
                file: f.clone(),
                options: workspace::AnswerfileOptions {
                    entry: self.entry.clone(),
                    date,
                },
            }));
        }
        if self.netinstall {
            edits.push(Edit::Netinstall(workspace::Netinstall {
                options: workspace::NetinstallOptions { date },
            }));
        }
        if let Some(options) = self.boot_args_options(date)? {
            edits.push(Edit::BootArgs(workspace::BootArgs { options }));
        }
        if let Some(key) = &self.sign {
            edits.push(Edit::Sign(workspace::Sign {
                key: key.clone(),
                passphrase_file: self.sign_passphrase_file.clone(),
                options: workspace::SignOptions {
                    nick: self.sign_nick.clone(),
                    passphrase: None,
                    date,
                    replace_keys: self.replace_keys,
                    no_sign_packages: self.no_sign_packages,
                },
            }));
        }
        if self.disable_gpgcheck {
            edits.push(Edit::DisableGpgcheck(workspace::DisableGpgcheck {
                options: workspace::DisableGpgcheckOptions {
                    no_gpgcheck: false,
                    date,
                },
            }));
        }
        Ok(edits)
    }

    /// The `boot-args` step of this plan: kernel and Xen edits and the serial port,
    /// the same value `xiso boot-args --add … --xen-add … --serial …` builds; `None`
    /// when the plan edits no boot argument.
    pub(crate) fn boot_args_options(
        &self,
        date: Option<i64>,
    ) -> Result<Option<workspace::BootArgsOptions>> {
        let o = workspace::BootArgsOptions {
            edit: ArgEdit::new(self.boot_arg.clone(), self.remove_boot_arg.clone())?,
            xen_edit: ArgEdit::new_xen(self.xen_arg.clone(), self.remove_xen_arg.clone())?,
            serial: self.serial,
            entry: self.entry.clone(),
            date,
            dry_run: false,
        };
        Ok((!o.edit.is_empty() || o.edits_xen()).then_some(o))
    }
}

/// Called with a short description when each step starts.
pub type ProgressFn = Box<dyn Fn(&str) + Sync>;

/// How [`remaster`] runs.
#[derive(Default)]
pub struct RemasterOptions {
    /// Fixed time for every timestamp (default `SOURCE_DATE_EPOCH`, else now).
    pub date: Option<i64>,
    /// Called with a short description when each step starts (progress display).
    pub progress: Option<ProgressFn>,
    /// `fsync` the output before renaming it into place ([`PackOptions::fsync`]).
    pub fsync: bool,
}

/// One step of a remaster and what it did.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    /// Step name (`unpack`, `add-rpm`, `boot-args`, …, `pack`).
    pub step: String,
    /// Wall time in seconds.
    pub seconds: f64,
    /// The step's own report (as the single command's `--json` prints it).
    pub detail: serde_json::Value,
}

/// What [`remaster`] did.
#[derive(Debug, Clone, Serialize)]
pub struct RemasterReport {
    /// Source image and its size.
    pub input: PathBuf,
    /// Source size in bytes.
    pub input_bytes: u64,
    /// Output image.
    pub output: PathBuf,
    /// Output size in bytes.
    pub output_bytes: u64,
    /// Every step in order.
    pub steps: Vec<StepReport>,
    /// The final pack.
    pub pack: PackReport,
    /// Total wall time in seconds.
    pub seconds: f64,
    /// Things the user should know.
    pub warnings: Vec<String>,
    /// The source is shorter than its tables say (a cut download), when it is; the
    /// output is complete anyway, as the tables are written anew.
    pub truncation: Option<crate::truncation::Truncation>,
}

/// Remaster `input` into `output` (see the module docs). On error nothing is left
/// behind: no output, no workspace.
pub fn remaster(
    input: &Path,
    output: &Path,
    plan: &Plan,
    opts: &RemasterOptions,
) -> Result<RemasterReport> {
    let started = Instant::now();
    plan.check()?;
    if fs::canonicalize(input).ok() == fs::canonicalize(output).ok() {
        return Err(Error::invalid("the output must not be the input").in_file(output));
    }
    let iso = IsoImage::open(input)?;
    let truncation = crate::truncation::check(&iso);
    let input_bytes = iso.source().len();
    let work = crate::fs::StagedDir::sibling(output, ".xiso-remaster-")?;
    let result = run_steps(iso, work.path(), output, plan, opts);
    drop(work);
    let (steps, pack, warnings) = result?;
    Ok(RemasterReport {
        input: input.to_path_buf(),
        input_bytes,
        output: output.to_path_buf(),
        output_bytes: pack.bytes,
        steps,
        pack,
        seconds: started.elapsed().as_secs_f64(),
        warnings,
        truncation,
    })
}

type Steps = (Vec<StepReport>, PackReport, Vec<String>);

/// Times one step and records its report.
struct StepLog<'a> {
    opts: &'a RemasterOptions,
    steps: Vec<StepReport>,
}

impl StepLog<'_> {
    fn run<T>(
        &mut self,
        name: &str,
        f: impl FnOnce() -> Result<(T, serde_json::Value)>,
    ) -> Result<T> {
        if let Some(p) = &self.opts.progress {
            p(name);
        }
        let t = Instant::now();
        let (value, detail) = f()?;
        self.steps.push(StepReport {
            step: name.to_string(),
            seconds: t.elapsed().as_secs_f64(),
            detail,
        });
        Ok(value)
    }
}

fn run_steps(
    iso: IsoImage,
    work: &Path,
    output: &Path,
    plan: &Plan,
    opts: &RemasterOptions,
) -> Result<Steps> {
    let (_, fixed) = workspace::resolve_date(opts.date)?;
    let edits = plan.edits_dated(fixed)?;
    let mut log = StepLog {
        opts,
        steps: Vec::new(),
    };
    let mut warnings = Vec::new();
    let mut ws = log.run("unpack", || {
        let (ws, r) = Workspace::unpack_sparse(iso, work, plan.touches_installer(), &|_| false)?;
        Ok((ws, json(&r)))
    })?;
    if edits.iter().any(Edit::edits_repository) {
        materialize_unreusable_rpms(&mut ws)?;
    }
    for edit in &edits {
        let report = log.run(edit.name(), || {
            let r = edit.apply(&mut ws)?;
            let v = r.to_json();
            Ok((r, v))
        })?;
        if let EditReport::AddRpm(r) = &report {
            warnings.extend(r.warnings.iter().cloned());
        }
    }
    ws.save()?;
    let pack = log.run("pack", || {
        let o = PackOptions {
            date: opts.date,
            volume_id: plan.volid.clone(),
            fsync: opts.fsync,
            installer: workspace::InstallerPackOptions {
                append: plan.installer_append,
                ..Default::default()
            },
            ..Default::default()
        };
        let r = ws.pack(output, &o)?;
        let v = json(&r);
        Ok((r, v))
    })?;
    warnings.extend(pack.warnings.iter().cloned());
    Ok((log.steps, pack, warnings))
}

/// RPMs whose size no longer matches their repodata entry (or that have none) would
/// be re-read by `add-rpm`: write those few in full instead of leaving holes. The
/// others keep their entries unread ([`crate::repo::update::reusable_entry`], the
/// rule `add-rpm`'s scan applies to them). The metadata read here is kept for
/// `add-rpm`.
fn materialize_unreusable_rpms(ws: &mut Workspace) -> Result<()> {
    let tree = ws.tree();
    let Ok(old) = ws.take_old_repo() else {
        return Ok(());
    };
    let sparse = match ws.manifest_mut() {
        Some(m) => std::mem::take(&mut m.sparse),
        None => return Ok(()),
    };
    let m = ws.manifest()?;
    let source = ws
        .source_image()
        .ok_or_else(|| Error::invalid("the source image is not open").in_file(ws.dir()))?
        .source();
    let mut keep = Vec::new();
    for rel in sparse {
        let Some(rec) = m.entries.iter().find(|e| e.path == rel) else {
            continue;
        };
        let reusable = crate::repo::update::reusable_entry(&old, &rel, rec.size).is_some();
        if !rel.ends_with(".rpm") || reusable {
            keep.push(rel);
            continue;
        }
        let path = tree.join(&rel);
        let mut f =
            fs::File::create(&path).map_err(|e| Error::io(e, "cannot write").in_file(&path))?;
        for &(lba, len) in &rec.extents {
            source.copy_range_to_file(u64::from(lba) * SECTOR, len, &mut f, &rel)?;
        }
        crate::fs::set_mtime(&f, rec.mtime);
    }
    if let Some(m) = ws.manifest_mut() {
        m.sparse = keep;
    }
    ws.keep_old_repo(old);
    Ok(())
}

/// A step's report as JSON (every report type is `Serialize`).
fn json<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_is_its_edits_in_the_documented_order() {
        let plan: Plan = toml::from_str(
            r#"
            sign = "key.asc"
            sign-nick = "release"
            boot-arg = ["console=ttyS0"]
            answerfile = "a.xml"
            patch-installer = ["p1", "p2"]
            add-rpm-installer = ["i.rpm"]
            add-rpm = ["x.rpm"]
            pull-in = true
            overlay = ["o"]
            "#,
        )
        .expect("the plan parses");
        let edits = plan.edits_dated(Some(7)).expect("edits");
        let names: Vec<&str> = edits.iter().map(Edit::name).collect();
        assert_eq!(
            names,
            [
                "overlay",
                "add-rpm",
                "add-rpm-installer",
                "patch-installer",
                "patch-installer",
                "answerfile",
                "boot-args",
                "sign",
            ]
        );
        let Edit::AddRpm(add) = &edits[1] else {
            panic!("add-rpm expected, got {:?}", edits[1]);
        };
        assert_eq!(add.packages, [PathBuf::from("x.rpm")]);
        assert!(add.options.pull_in && add.options.deps_check);
        let Edit::Sign(sign) = &edits[7] else {
            panic!("sign expected, got {:?}", edits[7]);
        };
        assert_eq!(sign.options.nick.as_deref(), Some("release"));
        assert_eq!(sign.options.date, Some(7));
        let Edit::PatchInstaller(p2) = &edits[4] else {
            panic!("patch-installer expected, got {:?}", edits[4]);
        };
        assert_eq!(p2.overlay.as_deref(), Some(Path::new("p2")));
    }

    /// The options of the single commands are plan keys too, and reach the edits.
    #[test]
    fn command_options_are_plan_keys() {
        let plan: Plan = toml::from_str(
            r#"
            add-rpm = ["x.src.rpm"]
            allow-src = true
            allow-arch = ["i686"]
            add-rpm-installer = ["i.rpm"]
            replace-config = true
            answerfile = "a.xml"
            boot-arg = ["quiet"]
            entry = "install"
            "#,
        )
        .expect("the plan parses");
        let edits = plan.edits().expect("edits");
        let Edit::AddRpm(add) = &edits[0] else {
            panic!("add-rpm expected, got {:?}", edits[0]);
        };
        assert!(add.options.allow_src);
        assert_eq!(add.options.allow_arch, ["i686"]);
        let Edit::AddRpmInstaller(inst) = &edits[1] else {
            panic!("add-rpm-installer expected, got {:?}", edits[1]);
        };
        assert!(inst.options.replace_config);
        let Edit::Answerfile(answers) = &edits[2] else {
            panic!("answerfile expected, got {:?}", edits[2]);
        };
        assert_eq!(answers.options.entry.as_deref(), Some("install"));
        let Edit::BootArgs(boot) = &edits[3] else {
            panic!("boot-args expected, got {:?}", edits[3]);
        };
        assert_eq!(boot.options.entry.as_deref(), Some("install"));
    }

    #[test]
    fn netinstall_and_disable_gpgcheck_come_in_their_places() {
        let plan = Plan {
            netinstall: true,
            disable_gpgcheck: true,
            remove_boot_arg: vec!["quiet".into()],
            ..Plan::default()
        };
        let names: Vec<&str> = plan
            .edits()
            .expect("edits")
            .iter()
            .map(Edit::name)
            .collect();
        assert_eq!(names, ["netinstall", "boot-args", "disable-gpgcheck"]);
    }
}
