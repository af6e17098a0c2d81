//! Parser for `xorriso -indev X -report_el_torito plain -report_system_area plain`,
//! the oracle the boot tests compare against. The format is documented by
//! `xorriso -report_el_torito help -report_system_area help`; every line is
//! `Label padded to 19 chars: fields…`.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use super::boot_fixtures::run;

/// One `El Torito boot img` line plus its conditional lines.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct XBootImage {
    pub number: u32,
    /// "BIOS", "PPC", "Mac", "UEFI" or a hex number.
    pub platform: String,
    pub bootable: bool,
    /// "none", "fd1.2", "fd1.4", "fd2.8", "hd".
    pub emulation: String,
    pub load_segment: u16,
    pub hd_partition_type: u8,
    pub load_size: u32,
    pub lba: u32,
    pub path: Option<String>,
    pub opts: Vec<String>,
    pub id_string_hex: Option<String>,
    pub sel_crit_hex: Option<String>,
    pub hdsiz512: Option<u64>,
    /// Upper bound in 2048-blocks of an image outside the directory tree.
    pub img_blks: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct XMbrPartition {
    pub number: u8,
    pub status: u8,
    pub partition_type: u8,
    pub start: u64,
    pub blocks: u64,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct XGptPartition {
    pub name_hex: String,
    pub name_local: Option<String>,
    pub guid_hex: String,
    pub type_guid_hex: String,
    pub flags: u64,
    pub start: u64,
    pub size: u64,
    pub path: Option<String>,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct XApmPartition {
    pub name: String,
    pub type_: String,
    pub start: u64,
    pub size: u64,
}

/// Everything the two reports say.
#[derive(Debug, Default)]
pub struct XorrisoReport {
    /// (LBA, number of 2048-blocks).
    pub catalog: Option<(u32, u32)>,
    pub boot_images: Vec<XBootImage>,
    pub system_area_summary: Option<String>,
    pub iso_size_512: Option<u64>,
    pub mbr_partitions: Vec<XMbrPartition>,
    /// MBR partition number → path of the file starting at its start block.
    pub mbr_partition_paths: BTreeMap<u8, String>,
    pub mbr_heads_per_cyl: Option<u32>,
    pub mbr_secs_per_head: Option<u32>,
    pub partition_offset: Option<u64>,
    pub gpt_present: bool,
    pub gpt_disk_guid_hex: Option<String>,
    /// (entry array start block, number of entries, "overlapping"/"separated").
    pub gpt_entry_array: Option<(u64, u32, String)>,
    /// (first usable, last usable, backup header block).
    pub gpt_lba_range: Option<(u64, u64, u64)>,
    pub gpt_array_crc_wrong: Option<String>,
    pub gpt_backup_problems: Option<String>,
    pub gpt_partitions: BTreeMap<u32, XGptPartition>,
    pub apm_present: bool,
    pub apm_block_size: Option<u32>,
    pub apm_partitions: BTreeMap<u32, XApmPartition>,
    /// Lines the parser did not recognise, so a test can show them.
    pub unparsed: Vec<String>,
}

fn hex_u64(s: &str) -> u64 {
    u64::from_str_radix(s.trim_start_matches("0x"), 16)
        .unwrap_or_else(|e| panic!("xorriso printed {s:?} where a hex number belongs: {e}"))
}

fn dec<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse()
        .unwrap_or_else(|e| panic!("xorriso printed {s:?} where a decimal number belongs: {e:?}"))
}

impl XorrisoReport {
    /// Run xorriso on `iso` and parse its report. Panics with a clear message when
    /// xorriso is not installed.
    pub fn of(iso: &Path) -> Self {
        let text = run(
            "xorriso",
            &[
                "-indev",
                iso.to_str().expect("temp paths are UTF-8"),
                "-report_el_torito",
                "plain",
                "-report_system_area",
                "plain",
            ],
        );
        Self::parse(&text)
    }

    fn image(&mut self, n: u32) -> &mut XBootImage {
        match self.boot_images.iter().position(|i| i.number == n) {
            Some(i) => &mut self.boot_images[i],
            None => panic!("xorriso mentions boot image {n} before its `El Torito boot img` line"),
        }
    }

    /// Parse report text (other xorriso chatter is ignored).
    pub fn parse(text: &str) -> Self {
        let mut r = XorrisoReport::default();
        for line in text.lines() {
            let Some((label, rest)) = line.split_once(':') else {
                continue;
            };
            let label = label.trim();
            let rest = rest.trim();
            let f: Vec<&str> = rest.split_whitespace().collect();
            let num = |i: usize| -> u32 { dec(f[i]) };
            match label {
                "El Torito catalog" => r.catalog = Some((dec(f[0]), dec(f[1]))),
                "El Torito images"
                | "El Torito cat path"
                | "MBR partition table"
                | "GPT"
                | "APM" => {}
                "El Torito boot img" => r.boot_images.push(XBootImage {
                    number: num(0),
                    platform: f[1].to_string(),
                    bootable: f[2] == "y",
                    emulation: f[3].to_string(),
                    load_segment: hex_u64(f[4]) as u16,
                    hd_partition_type: hex_u64(f[5]) as u8,
                    load_size: dec(f[6]),
                    lba: dec(f[7]),
                    ..Default::default()
                }),
                "El Torito img path" => r.image(num(0)).path = Some(f[1..].join(" ")),
                "El Torito img opts" => {
                    r.image(num(0)).opts = f[1..].iter().map(|s| s.to_string()).collect()
                }
                "El Torito id string" => r.image(num(0)).id_string_hex = Some(f[1].to_string()),
                "El Torito sel crit" => r.image(num(0)).sel_crit_hex = Some(f[1].to_string()),
                "El Torito img blks" => r.image(num(0)).img_blks = Some(dec(f[1])),
                "El Torito hdsiz/512" => r.image(num(0)).hdsiz512 = Some(dec(f[1])),
                "System area summary" => r.system_area_summary = Some(rest.to_string()),
                "ISO image size/512" => r.iso_size_512 = Some(dec(f[0])),
                "MBR partition" => r.mbr_partitions.push(XMbrPartition {
                    number: dec(f[0]),
                    status: hex_u64(f[1]) as u8,
                    partition_type: hex_u64(f[2]) as u8,
                    start: dec(f[3]),
                    blocks: dec(f[4]),
                }),
                "MBR partition path" => {
                    r.mbr_partition_paths.insert(dec(f[0]), f[1..].join(" "));
                }
                "MBR heads per cyl" => r.mbr_heads_per_cyl = Some(dec(f[0])),
                "MBR secs per head" => r.mbr_secs_per_head = Some(dec(f[0])),
                "Partition offset" => r.partition_offset = Some(dec(f[0])),
                "GPT disk GUID" => {
                    r.gpt_present = true;
                    r.gpt_disk_guid_hex = Some(f[0].to_string());
                }
                "GPT entry array" => {
                    r.gpt_entry_array = Some((dec(f[0]), dec(f[1]), f[2].to_string()))
                }
                "GPT lba range" => r.gpt_lba_range = Some((dec(f[0]), dec(f[1]), dec(f[2]))),
                "GPT array CRC wrong" => r.gpt_array_crc_wrong = Some(rest.to_string()),
                "GPT backup problems" => r.gpt_backup_problems = Some(rest.to_string()),
                "GPT partition name" => {
                    r.gpt(num(0)).name_hex = f.get(1).unwrap_or(&"").to_string()
                }
                "GPT partname local" => r.gpt(num(0)).name_local = Some(f[1..].join(" ")),
                "GPT partition GUID" => r.gpt(num(0)).guid_hex = f[1].to_string(),
                "GPT type GUID" => r.gpt(num(0)).type_guid_hex = f[1].to_string(),
                "GPT partition flags" => r.gpt(num(0)).flags = hex_u64(f[1]),
                "GPT start and size" => {
                    let p = r.gpt(num(0));
                    p.start = dec(f[1]);
                    p.size = dec(f[2]);
                }
                "GPT partition path" => r.gpt(num(0)).path = Some(f[1..].join(" ")),
                "APM block size" => {
                    r.apm_present = true;
                    r.apm_block_size = Some(dec(f[0]));
                }
                "APM partition name" => r.apm(num(0)).name = f[1..].join(" "),
                "APM partition type" => r.apm(num(0)).type_ = f[1..].join(" "),
                "APM start and size" => {
                    let p = r.apm(num(0));
                    p.start = dec(f[1]);
                    p.size = dec(f[2]);
                }
                l if l.starts_with("El Torito") || l.starts_with("GPT") || l.starts_with("MBR") => {
                    r.unparsed.push(line.to_string())
                }
                _ => {}
            }
        }
        r
    }

    fn gpt(&mut self, n: u32) -> &mut XGptPartition {
        self.gpt_partitions.entry(n).or_default()
    }

    fn apm(&mut self, n: u32) -> &mut XApmPartition {
        self.apm_partitions.entry(n).or_default()
    }
}
