//! `--serial comN[,BAUD]`: move Xen's serial console to another port in one step.
//!
//! XCP-ng's serial entries give Xen `comX=BAUD,8n1 console=comX,vga` (Xen's
//! `docs/misc/xen-command-line.pandoc`: `com1`..`com4` configure a UART,
//! `console=` lists where Xen's console goes); dom0 writes to `hvc0`, which Xen
//! forwards there, so the port is Xen's words only. The switch renames every
//! `comX=` word to `comN=` (with `BAUD,8n1` when a baud rate is given, else the old
//! value) and every `comX` item of a `console=` list to `comN`. Entries without a
//! serial console (`no-serial`) have neither and stay as they are.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::args::{join_words, key_of, split_words};
use crate::error::{Error, Result};

/// The serial port (and speed) Xen's console should use. Written (in a plan file,
/// in JSON) as the flag's value: `"com2"` or `"com2,115200"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct SerialConsole {
    /// 1..=4 (`com1`..`com4`).
    pub port: u8,
    /// Bits per second; `None` keeps each entry's.
    pub baud: Option<u32>,
}

/// `comN` with N in 1..=4.
fn port_of(name: &str) -> Option<u8> {
    let n = name.strip_prefix("com")?;
    match n {
        "1" | "2" | "3" | "4" => n.parse().ok(),
        _ => None,
    }
}

impl FromStr for SerialConsole {
    type Err = Error;

    fn from_str(s: &str) -> Result<SerialConsole> {
        let bad = || {
            Error::invalid(format!(
                "--serial {s}: expected comN or comN,BAUD with N 1..4 (e.g. com2 or com2,115200)"
            ))
        };
        let (name, baud) = match s.split_once(',') {
            Some((n, b)) => (n, Some(b)),
            None => (s, None),
        };
        let port = port_of(name).ok_or_else(bad)?;
        let baud = match baud {
            Some(b) => Some(b.parse::<u32>().ok().filter(|&b| b > 0).ok_or_else(bad)?),
            None => None,
        };
        Ok(SerialConsole { port, baud })
    }
}

impl TryFrom<String> for SerialConsole {
    type Error = Error;

    fn try_from(s: String) -> Result<SerialConsole> {
        s.parse()
    }
}

impl From<SerialConsole> for String {
    fn from(s: SerialConsole) -> String {
        s.to_string()
    }
}

impl fmt::Display for SerialConsole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "com{}", self.port)?;
        if let Some(b) = self.baud {
            write!(f, ",{b}")?;
        }
        Ok(())
    }
}

impl SerialConsole {
    /// Rewrite Xen's argument text (as [`super::ArgEdit::apply`] takes it) for this
    /// port; text without a serial word comes back unchanged.
    pub(crate) fn apply(&self, text: &str) -> String {
        let (mut words, trailing) = split_words(text);
        let port = format!("com{}", self.port);
        for (_, w) in &mut words {
            let key = key_of(w);
            if port_of(key).is_some() {
                let value = match (self.baud, w.split_once('=')) {
                    (Some(b), _) => Some(format!("{b},8n1")),
                    (None, Some((_, v))) => Some(v.to_string()),
                    (None, None) => None,
                };
                *w = match value {
                    Some(v) => format!("{port}={v}"),
                    None => port.clone(),
                };
            } else if key == "console" {
                if let Some((_, list)) = w.split_once('=') {
                    let items: Vec<&str> = list
                        .split(',')
                        .map(|i| if port_of(i).is_some() { &port } else { i })
                        .collect();
                    *w = format!("console={}", items.join(","));
                }
            }
        }
        join_words(&words, trailing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switches_the_port_and_keeps_the_rest() {
        let s: SerialConsole = "com2".parse().unwrap();
        assert_eq!(
            s.apply(" dom0_mem=max:8192M com1=115200,8n1  console=com1,vga"),
            " dom0_mem=max:8192M com2=115200,8n1  console=com2,vga"
        );
        let s: SerialConsole = "com3,57600".parse().unwrap();
        assert_eq!(
            s.apply(" com1=115200,8n1 console=vga,com1 com=1"),
            " com3=57600,8n1 console=vga,com3 com=1"
        );
        // no serial console: unchanged, byte for byte
        for t in [" dom0_mem=max:8192M console=vga ", "", " console=dbgp"] {
            assert_eq!(s.apply(t), t);
        }
        assert_eq!(s.to_string(), "com3,57600");
    }

    #[test]
    fn bad_ports_are_refused() {
        for bad in ["com0", "com5", "ttyS1", "com2,", "com2,fast", "com2,0", ""] {
            assert!(bad.parse::<SerialConsole>().is_err(), "{bad}");
        }
    }
}
