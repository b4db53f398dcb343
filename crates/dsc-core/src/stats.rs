//! Per-file text statistics, computed in one pass over the bytes.
//!
//! Lengths are in characters (Unicode scalar values, as Python's `len(str)`), not bytes.
//! Lines are split on `\n`, `\r\n` and `\r`; a final line terminator does not start a new
//! line, so `"a\nb\n"` has two lines, like `str.splitlines()` for those terminators.
//! "Alphabetic" is a Unicode letter (general category L*, Python's `str.isalpha`);
//! "alphanumeric" is a letter or a number (category L* or N*).

use unicode_general_category::{get_general_category, GeneralCategory as Gc};

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

#[derive(Clone, Copy)]
enum Class {
    Other,
    Alpha,
    Digit,
    LineFeed,
    CarriageReturn,
}

const fn ascii_classes() -> [Class; 128] {
    let mut table = [Class::Other; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = if c.is_ascii_alphabetic() {
            Class::Alpha
        } else if c.is_ascii_digit() {
            Class::Digit
        } else if c == b'\n' {
            Class::LineFeed
        } else if c == b'\r' {
            Class::CarriageReturn
        } else {
            Class::Other
        };
        b += 1;
    }
    table
}

static ASCII: [Class; 128] = ascii_classes();

fn classify_char(c: char) -> Class {
    use Gc::*;
    match get_general_category(c) {
        UppercaseLetter | LowercaseLetter | TitlecaseLetter | ModifierLetter | OtherLetter => {
            Class::Alpha
        }
        DecimalNumber | LetterNumber | OtherNumber => Class::Digit,
        _ => Class::Other,
    }
}

/// Running line bookkeeping: characters of the current line, the longest line, line count.
#[derive(Default)]
struct Lines {
    current: u64,
    longest: u64,
    count: u64,
    terminator_chars: u64,
}

impl Lines {
    fn end_line(&mut self, terminator_chars: u64) {
        self.longest = self.longest.max(self.current);
        self.count += 1;
        self.current = 0;
        self.terminator_chars += terminator_chars;
    }
}

/// Compute [`TextStats`] of `text` in a single pass.
pub fn text_stats(text: &str) -> TextStats {
    let bytes = text.as_bytes();
    let (mut chars, mut alpha, mut digit) = (0u64, 0u64, 0u64);
    let mut lines = Lines::default();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let (class, width) = if b < 0x80 {
            (ASCII[b as usize], 1)
        } else {
            // Non-ASCII is rare in code: decode just this character.
            match text[i..].chars().next() {
                Some(c) => (classify_char(c), c.len_utf8()),
                None => break,
            }
        };
        chars += 1;
        match class {
            Class::Alpha => alpha += 1,
            Class::Digit => digit += 1,
            Class::LineFeed => {
                lines.end_line(1);
                i += 1;
                continue;
            }
            Class::CarriageReturn => {
                let crlf = bytes.get(i + 1) == Some(&b'\n');
                if crlf {
                    chars += 1;
                }
                lines.end_line(if crlf { 2 } else { 1 });
                i += if crlf { 2 } else { 1 };
                continue;
            }
            Class::Other => {}
        }
        lines.current += 1;
        i += width;
    }
    if lines.current > 0 {
        lines.end_line(0);
    }
    finish(bytes.len() as u64, chars, alpha, digit, &lines)
}

fn finish(n_bytes: u64, chars: u64, alpha: u64, digit: u64, lines: &Lines) -> TextStats {
    let ratio = |num: u64, den: u64| if den == 0 { 0.0 } else { num as f64 / den as f64 };
    TextStats {
        n_bytes,
        n_chars: chars,
        n_lines: lines.count,
        max_line_len: lines.longest,
        avg_line_len: ratio(chars - lines.terminator_chars, lines.count),
        alpha_frac: ratio(alpha, chars),
        alnum_frac: ratio(alpha + digit, chars),
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
