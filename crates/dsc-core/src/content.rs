//! Is a raw file text at all? Rows that are not valid UTF-8 or that look binary are rejected
//! with a reason before any text rule runs.

use serde::{Deserialize, Serialize};

/// How much of a file is probed for binary content, and what counts as binary.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct BinaryProbe {
    /// Bytes inspected at the start of the file (git probes 8000).
    pub probe_bytes: usize,
    /// Share of control characters in the probe above which the file is binary.
    pub max_control_frac: f64,
}

impl Default for BinaryProbe {
    fn default() -> Self {
        Self {
            probe_bytes: 8192,
            max_control_frac: 0.3,
        }
    }
}

/// Why raw bytes are not usable text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentProblem {
    InvalidUtf8,
    Binary,
}

impl ContentProblem {
    pub fn as_str(self) -> &'static str {
        match self {
            ContentProblem::InvalidUtf8 => "invalid_utf8",
            ContentProblem::Binary => "binary",
        }
    }
}

/// Decode `raw` as text: the `&str` when it is valid UTF-8 and does not look binary.
pub fn decode_text<'a>(raw: &'a [u8], probe: &BinaryProbe) -> Result<&'a str, ContentProblem> {
    let text = std::str::from_utf8(raw).map_err(|_| ContentProblem::InvalidUtf8)?;
    if looks_binary(raw, probe) {
        return Err(ContentProblem::Binary);
    }
    Ok(text)
}

/// A NUL byte in the probe (git's rule), or too many control characters.
pub fn looks_binary(raw: &[u8], probe: &BinaryProbe) -> bool {
    let head = &raw[..raw.len().min(probe.probe_bytes)];
    if head.is_empty() {
        return false;
    }
    if head.contains(&0) {
        return true;
    }
    let control = head.iter().filter(|&&b| is_binary_control(b)).count();
    control as f64 / head.len() as f64 > probe.max_control_frac
}

/// Control bytes that do not occur in text: everything below 0x20 except tab, newlines,
/// vertical tab, form feed and escape (ANSI colour codes appear in real logs and tests).
fn is_binary_control(b: u8) -> bool {
    b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | 0x1b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_passes() {
        assert_eq!(
            decode_text("héllo\n".as_bytes(), &BinaryProbe::default()),
            Ok("héllo\n")
        );
    }

    #[test]
    fn invalid_utf8_is_rejected() {
        let err = decode_text(&[b'a', 0xff, b'b'], &BinaryProbe::default());
        assert_eq!(err, Err(ContentProblem::InvalidUtf8));
    }

    #[test]
    fn nul_byte_means_binary() {
        assert_eq!(
            decode_text(b"ab\0cd", &BinaryProbe::default()),
            Err(ContentProblem::Binary)
        );
    }

    #[test]
    fn many_control_bytes_mean_binary() {
        let raw: Vec<u8> = (0..100)
            .map(|i| if i % 2 == 0 { 0x01 } else { b'a' })
            .collect();
        assert_eq!(
            decode_text(&raw, &BinaryProbe::default()),
            Err(ContentProblem::Binary)
        );
    }

    #[test]
    fn empty_is_text() {
        assert_eq!(decode_text(b"", &BinaryProbe::default()), Ok(""));
    }
}
