//! Per-file text statistics, computed in one pass over the bytes.
//!
//! Lengths are in characters (Unicode scalar values, as Python's `len(str)`), not bytes.
//! Lines are split on `\n`, `\r\n` and `\r`; a final line terminator does not start a new
//! line, so `"a\nb\n"` has two lines, like `str.splitlines()` for those terminators.
//! "Alphabetic" is a Unicode letter (general category L*, Python's `str.isalpha`);
//! "alphanumeric" is a letter or a number (category L* or N*).

use unicode_general_category::{get_general_category, GeneralCategory};

/// The statistics the rule-based filters read.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TextStats {
    pub n_bytes: u64,
    pub n_chars: u64,
    pub n_lines: u64,
    pub max_line_len: u64,
    pub avg_line_len: f64,
    pub alpha_frac: f64,
    pub alnum_frac: f64,
}

/// Compute [`TextStats`] of `text` in one pass over 64-byte blocks (plus a pass over the
/// non-ASCII characters, if any, for their Unicode categories).
pub fn text_stats(text: &str) -> TextStats {
    let bytes = text.as_bytes();
    let scan = scan_blocks(bytes);
    let (mut alpha, mut number) = ascii_letters_digits(bytes);
    if !text.is_ascii() {
        for c in text.chars().filter(|c| !c.is_ascii()) {
            match general_class(c) {
                Class::Letter => alpha += 1,
                Class::Number => number += 1,
                Class::Other => {}
            }
        }
    }
    let ratio = |num: u64, den: u64| {
        if den == 0 {
            0.0
        } else {
            num as f64 / den as f64
        }
    };
    let lines = &scan.lines;
    TextStats {
        n_bytes: bytes.len() as u64,
        n_chars: scan.chars,
        n_lines: lines.count,
        max_line_len: lines.longest,
        avg_line_len: ratio(lines.total, lines.count),
        alpha_frac: ratio(alpha, scan.chars),
        alnum_frac: ratio(alpha + number, scan.chars),
    }
}

/// Line count, longest line and total characters of all lines (terminators excluded).
#[derive(Default)]
struct Lines {
    count: u64,
    longest: u64,
    total: u64,
}

impl Lines {
    fn add(&mut self, chars: u64) {
        self.count += 1;
        self.longest = self.longest.max(chars);
        self.total += chars;
    }
}

/// Lines and characters of the bytes.
struct Scan {
    lines: Lines,
    chars: u64,
}

/// Bit masks of one 64-byte block: line terminators, `\r`s and UTF-8 continuation bytes.
/// Plain loops over a fixed-size array, so the compiler turns them into SIMD compares; the
/// line walk then touches only the terminators.
#[derive(Default)]
struct BlockMasks {
    term: u64,
    cr: u64,
    cont: u64,
}

fn block_masks(block: &[u8; 64]) -> BlockMasks {
    let mut m = BlockMasks::default();
    for (i, &b) in block.iter().enumerate() {
        m.term |= u64::from((b == b'\n') | (b == b'\r')) << i;
        m.cr |= u64::from(b == b'\r') << i;
        m.cont |= u64::from((b as i8) < -0x40) << i;
    }
    m
}

/// ASCII letters and digits. Counted in byte-wide lanes over 255-byte chunks (a chunk cannot
/// overflow a u8), which the compiler vectorises.
fn ascii_letters_digits(bytes: &[u8]) -> (u64, u64) {
    let (mut letters, mut digits) = (0u64, 0u64);
    for chunk in bytes.chunks(255) {
        let (mut l, mut d) = (0u8, 0u8);
        for &b in chunk {
            l += u8::from((b | 0x20).wrapping_sub(b'a') < 26);
            d += u8::from(b.wrapping_sub(b'0') < 10);
        }
        letters += u64::from(l);
        digits += u64::from(d);
    }
    (letters, digits)
}

/// Lines of UTF-8 bytes, in one pass. Every `\r` and `\n` ends a line, except the `\n` of a
/// `\r\n`; a line's length in characters is the difference of the character offsets of its
/// ends (byte offset minus the continuation bytes before it).
fn scan_blocks(bytes: &[u8]) -> Scan {
    let mut lines = Lines::default();
    let mut line_start = 0u64; // character offset where the current line starts
    let mut cont_before = 0u64; // continuation bytes before the current block
    let mut last_cr = None; // byte offset of the last \r
    for (index, chunk) in bytes.chunks(64).enumerate() {
        let mut block = [0u8; 64]; // zero padding matches none of the masks
        block[..chunk.len()].copy_from_slice(chunk);
        let m = block_masks(&block);
        let mut pending = m.term;
        while pending != 0 {
            let bit = pending.trailing_zeros();
            pending &= pending - 1;
            let pos = index * 64 + bit as usize;
            let below = (1u64 << bit) - 1;
            let offset = pos as u64 - cont_before - u64::from((m.cont & below).count_ones());
            let is_cr = (m.cr >> bit) & 1 == 1;
            let completes_crlf = !is_cr && last_cr.is_some_and(|c| c + 1 == pos);
            if !completes_crlf {
                lines.add(offset - line_start);
            }
            line_start = offset + 1;
            last_cr = is_cr.then_some(pos);
        }
        cont_before += u64::from(m.cont.count_ones());
    }
    let chars = bytes.len() as u64 - cont_before;
    if line_start < chars {
        lines.add(chars - line_start);
    }
    Scan { lines, chars }
}

enum Class {
    Letter,
    Number,
    Other,
}

fn general_class(c: char) -> Class {
    use GeneralCategory as Gc;
    match get_general_category(c) {
        Gc::UppercaseLetter
        | Gc::LowercaseLetter
        | Gc::TitlecaseLetter
        | Gc::ModifierLetter
        | Gc::OtherLetter => Class::Letter,
        Gc::DecimalNumber | Gc::LetterNumber | Gc::OtherNumber => Class::Number,
        _ => Class::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_text_has_no_lines() {
        let s = text_stats("");
        assert_eq!((s.n_lines, s.n_chars, s.max_line_len), (0, 0, 0));
        assert_eq!(s.avg_line_len, 0.0);
    }

    #[test]
    fn terminators_mixed() {
        // "ab" / "" / "cde" / "f": CRLF counts once, a final newline adds no line.
        let s = text_stats("ab\r\n\rcde\nf\n");
        assert_eq!(s.n_lines, 4);
        assert_eq!(s.max_line_len, 3);
        assert_eq!(s.avg_line_len, 6.0 / 4.0);
        assert_eq!(s.n_chars, 11);
    }

    #[test]
    fn characters_not_bytes() {
        // 'é' is 2 bytes, '𝔘' 4 bytes, the combining accent is its own character.
        let s = text_stats("é𝔘e\u{301}");
        assert_eq!(s.n_chars, 4);
        assert_eq!(s.max_line_len, 4);
        assert_eq!(s.n_bytes, 2 + 4 + 1 + 2);
        // é, 𝔘 and e are letters; U+0301 is a mark (Mn), neither alphabetic nor numeric.
        assert_eq!(s.alpha_frac, 3.0 / 4.0);
    }

    #[test]
    fn digits_count_as_alphanumeric_only() {
        let s = text_stats("a1 ٣");
        assert_eq!(s.alpha_frac, 1.0 / 4.0);
        assert_eq!(s.alnum_frac, 3.0 / 4.0);
    }

    #[test]
    fn lone_carriage_return_at_end() {
        let s = text_stats("x\r");
        assert_eq!((s.n_lines, s.max_line_len, s.n_chars), (1, 1, 2));
    }
}
