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

/// Compute [`TextStats`] of `text`: one pass for lines, one for character classes.
pub fn text_stats(text: &str) -> TextStats {
    let bytes = text.as_bytes();
    let lines = scan_lines(bytes);
    let (chars, alpha, alnum) = if text.is_ascii() {
        ascii_classes(bytes)
    } else {
        unicode_classes(text)
    };
    let ratio = |num: u64, den: u64| {
        if den == 0 {
            0.0
        } else {
            num as f64 / den as f64
        }
    };
    TextStats {
        n_bytes: bytes.len() as u64,
        n_chars: chars,
        n_lines: lines.count,
        max_line_len: lines.longest,
        avg_line_len: ratio(lines.total, lines.count),
        alpha_frac: ratio(alpha, chars),
        alnum_frac: ratio(alnum, chars),
    }
}

/// Line count, longest line and total characters of all lines (terminators excluded).
struct Lines {
    count: u64,
    longest: u64,
    total: u64,
}

/// One branch-free pass over UTF-8 bytes. Every `\r` and `\n` ends the current line; the
/// empty "line" between the two bytes of a `\r\n` is not counted (`crlf` is subtracted).
fn scan_lines(bytes: &[u8]) -> Lines {
    let (mut current, mut longest, mut chars) = (0u64, 0u64, 0u64);
    let (mut lf, mut cr, mut crlf, mut prev_cr) = (0u64, 0u64, 0u64, false);
    for &b in bytes {
        let (is_lf, is_cr) = (b == b'\n', b == b'\r');
        // A UTF-8 continuation byte (0b10xx_xxxx) does not start a character.
        let starts_char = u64::from((b as i8) >= -0x40);
        crlf += u64::from(prev_cr & is_lf);
        prev_cr = is_cr;
        lf += u64::from(is_lf);
        cr += u64::from(is_cr);
        chars += starts_char;
        current = if is_lf | is_cr {
            0
        } else {
            current + starts_char
        };
        longest = longest.max(current);
    }
    let trailing = u64::from(current > 0); // text not ending with a terminator
    Lines {
        count: lf + cr - crlf + trailing,
        longest,
        total: chars - lf - cr,
    }
}

/// (characters, letters, letters or digits) of ASCII text, branch-free so it vectorises.
fn ascii_classes(bytes: &[u8]) -> (u64, u64, u64) {
    let (mut alpha, mut digit) = (0u64, 0u64);
    for &b in bytes {
        alpha += u64::from((b | 0x20).wrapping_sub(b'a') < 26);
        digit += u64::from(b.wrapping_sub(b'0') < 10);
    }
    (bytes.len() as u64, alpha, alpha + digit)
}

/// (characters, letters, letters or numbers) by Unicode general category. ASCII runs, the
/// bulk of real code even in files with some non-ASCII text, take the vectorised path.
fn unicode_classes(text: &str) -> (u64, u64, u64) {
    let bytes = text.as_bytes();
    let (mut chars, mut alpha, mut alnum) = (0u64, 0u64, 0u64);
    let mut i = 0;
    while i < bytes.len() {
        let run = bytes[i..]
            .iter()
            .position(|&b| b >= 0x80)
            .unwrap_or(bytes.len() - i);
        let (c, a, n) = ascii_classes(&bytes[i..i + run]);
        (chars, alpha, alnum) = (chars + c, alpha + a, alnum + n);
        i += run;
        // `i` is at a char boundary: the run ended at the lead byte of a non-ASCII char.
        if let Some(ch) = text.get(i..).and_then(|rest| rest.chars().next()) {
            chars += 1;
            match general_class(ch) {
                Class::Letter => (alpha, alnum) = (alpha + 1, alnum + 1),
                Class::Number => alnum += 1,
                Class::Other => {}
            }
            i += ch.len_utf8();
        }
    }
    (chars, alpha, alnum)
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
