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
use crate::workspace::{self, manifest::Manifest, PackOptions, PackReport};

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
    /// With --sign: do not keep the old [keys] keys in the new key file.
    #[cfg_attr(feature = "cli", arg(long, requires = "sign"))]
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
    }

    /// Whether an edit needs the installer root unpacked. Overlays that are only
    /// appended (`--patch-installer` with `--installer-append`, and no
    /// `--add-rpm-installer` or `--answerfile`) do not: install.img is then never
    /// decoded, and the overlay goes after its bytes as one more archive.
    pub fn touches_installer(&self) -> bool {
        !self.add_rpm_installer.is_empty()
            || self.answerfile.is_some()
            || (!self.patch_installer.is_empty() && !self.installer_append)
    }

    /// Refuse contradictions and missing inputs before any work.
    pub fn check(&self) -> Result<()> {
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

    /// The `boot-args` step of this plan: kernel and Xen edits and the serial port,
    /// the same value `xiso boot-args --add … --xen-add … --serial …` builds; `None`
    /// when the plan edits no boot argument.
    pub fn boot_args_options(
        &self,
        date: Option<i64>,
    ) -> Result<Option<workspace::BootArgsOptions>> {
        let o = workspace::BootArgsOptions {
            edit: ArgEdit::new(self.boot_arg.clone(), self.remove_boot_arg.clone())?,
            xen_edit: ArgEdit::new_xen(self.xen_arg.clone(), self.remove_xen_arg.clone())?,
            serial: self.serial,
            entry: None,
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
    let work = crate::fs::StagedDir::sibling(output, ".xiso-remaster-")?;
    let result = run_steps(&iso, work.path(), output, plan, opts);
    drop(work);
    let (steps, pack, warnings) = result?;
    Ok(RemasterReport {
        input: input.to_path_buf(),
        input_bytes: iso.source().len(),
        output: output.to_path_buf(),
        output_bytes: pack.bytes,
        steps,
        pack,
        seconds: started.elapsed().as_secs_f64(),
        warnings,
        truncation,
    })
}

/// `.OUT.xiso-remaster-PID` next to the output; leftovers of dead processes removed.
type Steps = (Vec<StepReport>, PackReport, Vec<String>);

fn run_steps(
    iso: &IsoImage,
    work: &Path,
    output: &Path,
    plan: &Plan,
    opts: &RemasterOptions,
) -> Result<Steps> {
    let (_, fixed) = workspace::resolve_date(opts.date)?;
    let mut steps = Vec::new();
    let mut warnings = Vec::new();
    let mut step = |name: &str, f: &mut dyn FnMut() -> Result<serde_json::Value>| -> Result<()> {
        if let Some(p) = &opts.progress {
            p(name);
        }
        let t = Instant::now();
        let detail = f()?;
        steps.push(StepReport {
            step: name.to_string(),
            seconds: t.elapsed().as_secs_f64(),
            detail,
        });
        Ok(())
    };
    step("unpack", &mut || {
        let r = workspace::unpack_sparse(iso, work, plan.touches_installer(), &|_| false)?;
        Ok(json(&r))
    })?;
    let repo_edit = !plan.add_rpm.is_empty() || plan.refresh_from.is_some();
    if repo_edit {
        materialize_unreusable_rpms(iso, work)?;
    }
    for ov in &plan.overlay {
        step("overlay", &mut || Ok(json(&workspace::overlay(work, ov)?)))?;
    }
    if repo_edit {
        step("add-rpm", &mut || {
            let o = workspace::AddRpmOptions {
                allow_downgrade: plan.allow_downgrade,
                deps_check: !plan.no_deps_check,
                metadata: crate::repo::MetadataOptions::from_env()?,
                allow_src: false,
                allow_arch: Vec::new(),
                pull_in: plan.pull_in,
                refresh_from: plan.refresh_from.clone(),
            };
            let r = workspace::add_rpms(work, &plan.add_rpm, &o)?;
            warnings.extend(r.warnings.iter().cloned());
            Ok(json(&r))
        })?;
    }
    if !plan.add_rpm_installer.is_empty() {
        step("add-rpm-installer", &mut || {
            let o = workspace::InstallerRpmOptions::default();
            Ok(json(&workspace::add_rpms_installer(
                work,
                &plan.add_rpm_installer,
                &o,
            )?))
        })?;
    }
    for ov in &plan.patch_installer {
        step("patch-installer", &mut || {
            let r =
                workspace::patch_installer(work, Some(ov), &workspace::PatchOptions::default())?;
            Ok(json(&r))
        })?;
    }
    if let Some(f) = &plan.answerfile {
        step("answerfile", &mut || {
            let xml = fs::read(f).map_err(|e| Error::io(e, "cannot read").in_file(f))?;
            let o = workspace::AnswerfileOptions {
                entry: None,
                date: fixed,
            };
            Ok(json(
                &workspace::answerfile(work, &xml, &o).map_err(|e| e.in_file(f))?,
            ))
        })?;
    }
    if plan.netinstall {
        step("netinstall", &mut || {
            let o = workspace::NetinstallOptions { date: fixed };
            Ok(json(&workspace::netinstall(work, &o)?))
        })?;
    }
    if let Some(o) = plan.boot_args_options(fixed)? {
        step("boot-args", &mut || {
            Ok(json(&workspace::boot_args(work, &o)?))
        })?;
    }
    if let Some(key) = &plan.sign {
        step("sign", &mut || {
            let armored =
                fs::read(key).map_err(|e| Error::io(e, "cannot read the key").in_file(key))?;
            let passphrase = match &plan.sign_passphrase_file {
                Some(p) => Some(
                    fs::read_to_string(p)
                        .map_err(|e| Error::io(e, "cannot read the passphrase").in_file(p))?
                        .lines()
                        .next()
                        .unwrap_or("")
                        .to_string(),
                ),
                None => None,
            };
            let o = workspace::SignOptions {
                nick: plan.sign_nick.clone(),
                passphrase,
                date: fixed,
                replace_keys: plan.replace_keys,
                no_sign_packages: plan.no_sign_packages,
            };
            Ok(json(
                &workspace::sign(work, &armored, &o).map_err(|e| e.in_file(key))?,
            ))
        })?;
    }
    if plan.disable_gpgcheck {
        step("disable-gpgcheck", &mut || {
            let o = workspace::DisableGpgcheckOptions {
                no_gpgcheck: false,
                date: fixed,
            };
            Ok(json(&workspace::disable_gpgcheck(work, &o)?))
        })?;
    }
    let mut pack_report = None;
    step("pack", &mut || {
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
        let r = workspace::pack(work, output, &o)?;
        let v = json(&r);
        pack_report = Some(r);
        Ok(v)
    })?;
    let pack = pack_report.ok_or_else(|| Error::invalid("pack produced no report"))?;
    warnings.extend(pack.warnings.iter().cloned());
    Ok((steps, pack, warnings))
}

/// RPMs whose size no longer matches their repodata entry (or that have none) would
/// be re-read by `add-rpm`: write those few in full instead of leaving holes. The
/// others keep their entries unread (`repo::update`'s rule for files still as the
/// source had them).
fn materialize_unreusable_rpms(iso: &IsoImage, work: &Path) -> Result<()> {
    let tree = work.join(workspace::manifest::TREE_DIR);
    let Ok(old) = crate::repo::update::OldRepo::load(&tree) else {
        return Ok(());
    };
    let mut m = Manifest::load(work)?;
    let mut keep = Vec::new();
    for rel in std::mem::take(&mut m.sparse) {
        let Some(rec) = m.entries.iter().find(|e| e.path == rel) else {
            continue;
        };
        // The rule of `repo::update::scan` for a file still as the source had it.
        let reusable = old
            .entries
            .get(&rel)
            .is_some_and(|e| e.checksum_type == "sha256" && e.size_package == rec.size);
        if !rel.ends_with(".rpm") || reusable {
            keep.push(rel);
            continue;
        }
        let path = tree.join(&rel);
        let mut f =
            fs::File::create(&path).map_err(|e| Error::io(e, "cannot write").in_file(&path))?;
        for &(lba, len) in &rec.extents {
            iso.source()
                .copy_range_to_file(u64::from(lba) * SECTOR, len, &mut f, &rel)?;
        }
        crate::fs::set_mtime(&f, rec.mtime);
    }
    m.sparse = keep;
    m.save(work)
}

/// A step's report as JSON (every report type is `Serialize`).
fn json<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}
