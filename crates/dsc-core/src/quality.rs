//! Heuristic quality signals of a source file and the rules that turn them into a drop reason
//! (DeepSeek-Coder §2.4, "heuristic rules for style").
//!
//! Every signal is computed from lines and indentation, without a parser, so it works for any
//! language and any byte content:
//! - `comment_ratio`: detached comment lines over non-blank lines (line comments and C-style
//!   blocks for the languages whose comment syntax is known, 0 for the others). A comment run
//!   directly followed by code (no blank line between) documents that code, as Javadoc,
//!   rustdoc and Go doc comments do, and does not count: a file fails the rule when it is
//!   licence text or commented-out code, not when it is a well-documented interface;
//! - `data_line_share`: non-blank lines that look like data: a row of four or more numeric
//!   literals (`0x1f, 12, -3.5, ...`) or a run of 64+ base64/hex characters;
//! - `longest_function`: lines of the longest function, from a header line (per-language
//!   pattern such as `def`, `fn`, `func`, or a C-style `name(...) {`) over the lines indented
//!   deeper than it, plus a closing `}`/`end` at its own indentation;
//! - `mean_identifier_len`: mean length in bytes of identifier-like tokens;
//! - `max_nesting_depth`: the deepest indentation level, counted as Python's tokenizer counts
//!   INDENT tokens (a stack of indentation widths), so alignment columns add one level, not many.

use std::sync::LazyLock;

use regex::bytes::Regex;
use serde::{Deserialize, Serialize};

/// The signals of one file.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct QualitySignals {
    pub comment_ratio: f64,
    pub data_line_share: f64,
    pub longest_function: u64,
    pub mean_identifier_len: f64,
    pub max_nesting_depth: u64,
}

/// Thresholds of the rules. The defaults only catch outliers of real code (see the docs of
/// `dsc.screen` for the drop rates they give on the machine's own sources).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct QualityRules {
    pub max_comment_ratio: f64,
    pub max_data_line_share: f64,
    pub max_function_lines: u64,
    pub min_mean_identifier_len: f64,
    pub max_mean_identifier_len: f64,
    pub max_nesting_depth: u64,
}

impl Default for QualityRules {
    fn default() -> Self {
        Self {
            max_comment_ratio: 0.9,
            max_data_line_share: 0.5,
            max_function_lines: 1000,
            min_mean_identifier_len: 2.0,
            max_mean_identifier_len: 30.0,
            max_nesting_depth: 20,
        }
    }
}

/// The first rule a file fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QualityReason {
    DataLines,
    CommentRatio,
    ShortIdentifiers,
    LongIdentifiers,
    NestingDepth,
    LongFunction,
}

impl QualityReason {
    pub const ALL: [QualityReason; 6] = [
        QualityReason::DataLines,
        QualityReason::CommentRatio,
        QualityReason::ShortIdentifiers,
        QualityReason::LongIdentifiers,
        QualityReason::NestingDepth,
        QualityReason::LongFunction,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            QualityReason::DataLines => "data_lines",
            QualityReason::CommentRatio => "comment_ratio",
            QualityReason::ShortIdentifiers => "short_identifiers",
            QualityReason::LongIdentifiers => "long_identifiers",
            QualityReason::NestingDepth => "nesting_depth",
            QualityReason::LongFunction => "long_function",
        }
    }
}

impl QualityRules {
    /// `None` keeps the file; rules are checked in the order of [`QualityReason::ALL`].
    pub fn check(&self, s: &QualitySignals) -> Option<QualityReason> {
        let failed = [
            s.data_line_share > self.max_data_line_share,
            s.comment_ratio > self.max_comment_ratio,
            s.mean_identifier_len > 0.0 && s.mean_identifier_len < self.min_mean_identifier_len,
            s.mean_identifier_len > self.max_mean_identifier_len,
            s.max_nesting_depth > self.max_nesting_depth,
            s.longest_function > self.max_function_lines,
        ];
        QualityReason::ALL
            .into_iter()
            .zip(failed)
            .find_map(|(reason, fail)| fail.then_some(reason))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CommentSyntax {
    hash: bool,
    slashes: bool,
    dashes: bool,
}

/// Comment syntax by language (Linguist names); `None` when not known.
fn comment_syntax(lang: &str) -> Option<CommentSyntax> {
    let (hash, slashes, dashes) = match lang {
        "Python" | "Shell" | "Ruby" | "Perl" | "R" | "Julia" | "Elixir" | "Nim" | "PowerShell"
        | "Makefile" | "CMake" | "Dockerfile" | "YAML" | "TOML" | "Tcl" | "Awk" => {
            (true, false, false)
        }
        "C" | "C++" | "C#" | "Java" | "JavaScript" | "TypeScript" | "TSX" | "Go" | "Rust"
        | "Kotlin" | "Swift" | "Scala" | "Dart" | "Objective-C" | "Objective-C++" | "CUDA"
        | "Groovy" | "Zig" | "Protocol Buffer" | "Solidity" | "Verilog" | "GLSL" => {
            (false, true, false)
        }
        "PHP" => (true, true, false),
        "SQL" | "Lua" | "Haskell" | "Ada" | "Elm" => (false, false, true),
        _ => return None,
    };
    Some(CommentSyntax {
        hash,
        slashes,
        dashes,
    })
}

/// Function header patterns by language; the C-style pattern is the fallback. A parameter
/// list never holds a string literal, so a call taking a callback (mocha's
/// `describe('x', function () {`) is not a header.
static PYTHON_DEF: LazyLock<Regex> = LazyLock::new(|| re(r"^(async\s+)?def\s+\w"));
static RUBY_DEF: LazyLock<Regex> = LazyLock::new(|| re(r"^def\s+\S"));
static RUST_FN: LazyLock<Regex> = LazyLock::new(|| {
    re(r#"^(pub(\([^)]*\))?\s+)?((const|async|unsafe|default|extern(\s+"[^"]*")?)\s+)*fn\s+\w"#)
});
static GO_FUNC: LazyLock<Regex> = LazyLock::new(|| re(r"^func\s"));
static JS_FUNCTION: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^((export|default|async)\s+)*function\b|^(export\s+)?(const|let|var)\s+\w+\s*=\s*(async\s+)?(\([^)]*\)|\w+)\s*=>",
    )
});
static PHP_FUNCTION: LazyLock<Regex> =
    LazyLock::new(|| re(r"^((public|private|protected|static|abstract|final)\s+)*function\b"));
static SHELL_FUNCTION: LazyLock<Regex> =
    LazyLock::new(|| re(r"^(function\s+[\w.:-]+|[\w.:-]+\s*\(\s*\))"));
static C_STYLE_FUNCTION: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"^(?:[\w:<>,*&~\[\]]+\s+)*[*&]*~?(\w+)\s*\([^;{}"'`]*\)\s*(const\s*|noexcept\s*|override\s*|throws\s+[\w\s,.]+)*\{?\s*$"#,
    )
});
const CONTROL_WORDS: [&str; 11] = [
    "if", "for", "while", "switch", "catch", "else", "return", "do", "sizeof", "new", "case",
];

fn re(pattern: &str) -> Regex {
    // The patterns are literals of this file, checked by the tests.
    Regex::new(pattern).unwrap_or_else(|e| panic!("invalid built-in pattern {pattern}: {e}"))
}

fn is_function_header(lang: &str, trimmed: &[u8]) -> bool {
    match lang {
        "Python" => PYTHON_DEF.is_match(trimmed),
        "Ruby" => RUBY_DEF.is_match(trimmed),
        "Rust" => RUST_FN.is_match(trimmed),
        "Go" => GO_FUNC.is_match(trimmed),
        "JavaScript" | "TypeScript" | "TSX" => {
            JS_FUNCTION.is_match(trimmed) || c_style_header(trimmed)
        }
        "PHP" => PHP_FUNCTION.is_match(trimmed),
        "Shell" => SHELL_FUNCTION.is_match(trimmed),
        _ => c_style_header(trimmed),
    }
}

fn c_style_header(trimmed: &[u8]) -> bool {
    C_STYLE_FUNCTION.captures(trimmed).is_some_and(|c| {
        let name = c.get(1).map_or(&b""[..], |m| m.as_bytes());
        let first_word = trimmed
            .split(|b| !b.is_ascii_alphanumeric() && *b != b'_')
            .next();
        !CONTROL_WORDS
            .iter()
            .any(|w| name == w.as_bytes() || first_word == Some(w.as_bytes()))
    })
}

/// One line: its indentation width (tabs to the next multiple of 4) and its text after it.
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    indent: usize,
    text: &'a [u8],
}

fn split_lines(text: &[u8]) -> Vec<Line<'_>> {
    text.split(|&b| b == b'\n')
        .map(|line| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let mut indent = 0;
            let mut start = 0;
            for &b in line {
                match b {
                    b' ' => indent += 1,
                    b'\t' => indent = (indent / 4 + 1) * 4,
                    _ => break,
                }
                start += 1;
            }
            Line {
                indent,
                text: line[start..].trim_ascii_end(),
            }
        })
        .collect()
}

/// Compute every signal of `text` in language `lang` (a Linguist name, or `None`).
pub fn quality_signals(text: &[u8], lang: Option<&str>) -> QualitySignals {
    let lines = split_lines(text);
    let non_blank = lines.iter().filter(|l| !l.text.is_empty()).count();
    let share = |n: usize| {
        if non_blank == 0 {
            0.0
        } else {
            n as f64 / non_blank as f64
        }
    };
    let comments = lang
        .and_then(comment_syntax)
        .map_or(0, |c| comment_lines(&lines, c));
    let data = lines.iter().filter(|l| is_data_line(l.text)).count();
    QualitySignals {
        comment_ratio: share(comments),
        data_line_share: share(data),
        longest_function: lang.map_or(0, |l| longest_function(&lines, l)),
        mean_identifier_len: mean_identifier_len(text),
        max_nesting_depth: max_nesting_depth(&lines),
    }
}

/// Comment lines in runs that end at a blank line or at the end of the file.
fn comment_lines(lines: &[Line<'_>], syntax: CommentSyntax) -> usize {
    let mut in_block = false;
    let mut run = 0;
    let mut count = 0;
    for line in lines {
        let t = line.text;
        if t.is_empty() && !in_block {
            count += run;
            run = 0;
            continue;
        }
        let starts_block = syntax.slashes && t.starts_with(b"/*");
        let is_comment = in_block
            || starts_block
            || (syntax.slashes && t.starts_with(b"//"))
            || (syntax.hash && t.starts_with(b"#") && !t.starts_with(b"#!"))
            || (syntax.dashes && t.starts_with(b"--"));
        if is_comment {
            run += usize::from(!t.is_empty());
        } else {
            // Code right below the run: the run is its documentation.
            run = 0;
        }
        if in_block || starts_block {
            // The block goes on unless this line closes it (after its own opening `/*`).
            let after_open = if starts_block { &t[2..] } else { t };
            in_block = !after_open.windows(2).any(|w| w == b"*/");
        }
    }
    count + run
}

/// A numeric literal such as `12`, `-3.5e2`, `0x1F`, `7UL`, `1_000`.
fn is_number(field: &[u8]) -> bool {
    let f = field
        .strip_prefix(b"-")
        .or_else(|| field.strip_prefix(b"+"))
        .unwrap_or(field);
    if let Some(hex) = f.strip_prefix(b"0x").or_else(|| f.strip_prefix(b"0X")) {
        return !hex.is_empty() && hex.iter().all(|b| b.is_ascii_hexdigit() || *b == b'_');
    }
    let body = f.trim_ascii_end();
    let body = body
        .iter()
        .rposition(|b| !matches!(b, b'u' | b'U' | b'l' | b'L' | b'f' | b'F'))
        .map_or(&b""[..], |end| &body[..=end]);
    body.first().is_some_and(u8::is_ascii_digit)
        && body
            .iter()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'e' | b'E' | b'-' | b'+'))
}

fn is_data_line(t: &[u8]) -> bool {
    is_numeric_row(t) || has_blob(t)
}

/// Four or more comma-separated fields, at least 80 % of them numeric literals.
fn is_numeric_row(t: &[u8]) -> bool {
    let strip = |f: &[u8]| -> usize {
        let f = f.trim_ascii();
        let f = f.trim_ascii_start_matches(b"[{(");
        let f = f.trim_ascii_end_matches(b"]}),;");
        usize::from(is_number(f.trim_ascii()))
    };
    let fields: Vec<&[u8]> = t
        .split(|&b| b == b',')
        .filter(|f| !f.trim_ascii().is_empty())
        .collect();
    fields.len() >= 4 && fields.iter().map(|f| strip(f)).sum::<usize>() * 5 >= fields.len() * 4
}

/// A run of 64 or more base64/hex characters holding both letters and digits.
fn has_blob(t: &[u8]) -> bool {
    t.split(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')))
        .any(|run| {
            run.len() >= 64
                && run.iter().any(u8::is_ascii_digit)
                && run.iter().any(u8::is_ascii_alphabetic)
        })
}

/// Trimming helpers on byte slices for a set of bracket bytes.
trait TrimMatches {
    fn trim_ascii_start_matches(&self, set: &[u8]) -> &[u8];
    fn trim_ascii_end_matches(&self, set: &[u8]) -> &[u8];
}

impl TrimMatches for [u8] {
    fn trim_ascii_start_matches(&self, set: &[u8]) -> &[u8] {
        let start = self
            .iter()
            .position(|b| !set.contains(b) && !b.is_ascii_whitespace());
        start.map_or(&self[self.len()..], |s| &self[s..])
    }
    fn trim_ascii_end_matches(&self, set: &[u8]) -> &[u8] {
        let end = self
            .iter()
            .rposition(|b| !set.contains(b) && !b.is_ascii_whitespace());
        end.map_or(&self[..0], |e| &self[..=e])
    }
}

/// The longest function in lines; a function ends at the first line indented no deeper than
/// its header (a `{` opening line and a closing `}`/`end` line at that indent belong to it).
/// Functions nested in a longer one are skipped, so the scan is linear.
fn longest_function(lines: &[Line<'_>], lang: &str) -> u64 {
    let mut longest = 0;
    let mut i = 0;
    while i < lines.len() {
        let header = lines[i];
        if header.text.is_empty() || !is_function_header(lang, header.text) {
            i += 1;
            continue;
        }
        let mut last = i;
        let mut j = i + 1;
        while j < lines.len() {
            let line = lines[j];
            if line.text.is_empty() || line.indent > header.indent {
                last = if line.text.is_empty() { last } else { j };
            } else if line.indent == header.indent && line.text.starts_with(b"{") && last == i {
                last = j;
            } else {
                if line.indent == header.indent
                    && (line.text.starts_with(b"}") || line.text == b"end")
                {
                    last = j;
                }
                break;
            }
            j += 1;
        }
        longest = longest.max(last - i + 1);
        i = last + 1;
    }
    longest as u64
}

fn mean_identifier_len(text: &[u8]) -> f64 {
    let is_word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    let (count, total) = text
        .split(|b| !is_word(b))
        .filter(|w| {
            w.first()
                .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
        })
        .fold((0usize, 0usize), |(n, sum), w| (n + 1, sum + w.len()));
    if count == 0 {
        0.0
    } else {
        total as f64 / count as f64
    }
}

fn max_nesting_depth(lines: &[Line<'_>]) -> u64 {
    let mut stack: Vec<usize> = vec![0];
    let mut deepest = 0;
    for line in lines.iter().filter(|l| !l.text.is_empty()) {
        while stack.last().is_some_and(|&top| top > line.indent) {
            stack.pop();
        }
        if stack.last().is_none_or(|&top| top < line.indent) {
            stack.push(line.indent);
        }
        deepest = deepest.max(stack.len() - 1);
    }
    deepest as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signals(text: &str, lang: &str) -> QualitySignals {
        quality_signals(text.as_bytes(), Some(lang))
    }

    #[test]
    fn comment_ratio_counts_line_and_block_comments() {
        let c = "// a\n/* b\n\n c\n*/\n\nint x;\n\nint y; // trailing\n";
        assert!((signals(c, "C").comment_ratio - 4.0 / 6.0).abs() < 1e-12);
        let py = "#!/usr/bin/env python\n# comment\n\nx = 1\n";
        assert!((signals(py, "Python").comment_ratio - 1.0 / 3.0).abs() < 1e-12);
        // Documentation directly above code is not counted; a trailing run is.
        let java = "/**\n * Options.\n */\npackage a;\n// old();\n";
        assert!((signals(java, "Java").comment_ratio - 1.0 / 5.0).abs() < 1e-12);
        assert_eq!(signals("# title\ntext\n", "Markdown").comment_ratio, 0.0);
    }

    #[test]
    fn data_lines_are_numeric_rows_and_blobs() {
        assert!(is_data_line(b"0x1F, 0x2a, 0xFF, 0x00, 0x10,"));
        assert!(is_data_line(b"[1, 2.5, -3, 4e2, 7UL],"));
        assert!(!is_data_line(b"foo(a, b, c, d)"));
        assert!(!is_data_line(b"x = [1, 2]"));
        let blob =
            "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODk=";
        assert!(is_data_line(format!("data = \"{blob}\"").as_bytes()));
        assert!(!is_data_line(
            b"this_is_a_long_identifier_but_only_letters_and_underscores_more_more"
        ));
        let text = "table = [\n  1, 2, 3, 4,\n  5, 6, 7, 8,\n]\n";
        assert!((signals(text, "Python").data_line_share - 0.5).abs() < 1e-12);
    }

    #[test]
    fn longest_function_follows_indentation() {
        let py =
            "import os\n\ndef f(x):\n    y = x\n\n    return y\n\ndef g():\n    pass\nprint(1)\n";
        assert_eq!(signals(py, "Python").longest_function, 4);
        let c = "static int\nadd(int a, int b)\n{\n    int c = a + b;\n    return c;\n}\nint z;\n";
        assert_eq!(signals(c, "C").longest_function, 5);
        let rust = "pub fn f() {\n    if x {\n        y();\n    }\n}\n";
        assert_eq!(signals(rust, "Rust").longest_function, 5);
        assert!(!c_style_header(b"if (x) {"));
        assert!(!c_style_header(b"foo(a, b);"));
        assert!(!c_style_header(b"describe('parser', function () {"));
        let mocha = format!(
            "describe('x', function () {{\n{}}});\n",
            "  it();\n".repeat(20)
        );
        assert_eq!(signals(&mocha, "JavaScript").longest_function, 0);
        let ruby = "def f\n  1\nend\n";
        assert_eq!(signals(ruby, "Ruby").longest_function, 3);
    }

    #[test]
    fn identifiers_and_nesting() {
        let s = signals("ab = cd + 1\n", "Python");
        assert!((s.mean_identifier_len - 2.0).abs() < 1e-12);
        let nested = "a\n  b\n      c\n        d\n  e\n          f\n";
        assert_eq!(signals(nested, "Python").max_nesting_depth, 3);
        assert_eq!(signals("", "Python"), QualitySignals::default());
    }

    #[test]
    fn rules_give_the_first_failed_reason() {
        let rules = QualityRules::default();
        let ok = QualitySignals {
            mean_identifier_len: 6.0,
            ..QualitySignals::default()
        };
        assert_eq!(rules.check(&ok), None);
        let data = QualitySignals {
            data_line_share: 0.9,
            max_nesting_depth: 50,
            ..ok
        };
        assert_eq!(rules.check(&data), Some(QualityReason::DataLines));
        let deep = QualitySignals {
            max_nesting_depth: 50,
            ..ok
        };
        assert_eq!(rules.check(&deep), Some(QualityReason::NestingDepth));
        let short = QualitySignals {
            mean_identifier_len: 1.2,
            ..ok
        };
        assert_eq!(rules.check(&short), Some(QualityReason::ShortIdentifiers));
    }

    #[test]
    fn pathological_input_is_handled() {
        let deep: String = (0..5000)
            .map(|i| format!("{}def f{i}():\n", " ".repeat(i)))
            .collect();
        let s = signals(&deep, "Python");
        assert_eq!(s.max_nesting_depth, 4999);
        assert_eq!(s.longest_function, 5000);
        let binary = [0u8, 159, 146, 150, 255, b'\n', b'\t', b'/', b'/'];
        let s = quality_signals(&binary, Some("C"));
        assert_eq!((s.comment_ratio, s.max_nesting_depth), (0.5, 1));
    }
}
