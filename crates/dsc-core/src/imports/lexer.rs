//! Blanks comments and the contents of string literals, keeping every byte offset.
//!
//! Import regexes run on the blanked text, so `# import os` or `"import x"` never count, while
//! the quotes of a string survive: an import's target string (`from "./x"`, `#include "a.h"`)
//! is found in the blanked text and read back from the original at the same offsets.
//! Newlines are kept everywhere, so line-anchored patterns still see the same lines.

/// The lexical rules of one language family that matter for finding imports.
#[derive(Debug)]
pub(crate) struct Syntax {
    pub line_comments: &'static [&'static str],
    /// Opening and closing delimiters of block comments.
    pub block_comment: Option<(&'static str, &'static str)>,
    /// Rust and Kotlin block comments nest.
    pub nested_blocks: bool,
    /// Quote characters that open a string literal.
    pub quotes: &'static [u8],
    /// `'x'` is a character literal, and a lone `'` (a Rust lifetime) is code.
    pub char_literals: bool,
    /// `"""` / `'''` open strings that span lines.
    pub triple_quotes: bool,
    /// A byte that makes the following string verbatim: no escapes (C#'s `@"C:\"`).
    pub verbatim_prefix: Option<u8>,
}

/// Returns `src` with comments and string contents replaced by spaces (newlines kept).
pub(crate) fn blank(src: &str, syntax: &Syntax) -> Vec<u8> {
    blank_bytes(src.as_bytes(), syntax, true)
}

/// Returns `src` with only its comments replaced by spaces (newlines kept): strings are still
/// lexed, so a `#` or `//` inside one starts no comment, but their contents stay. Any bytes,
/// not only UTF-8: decontamination scans files as they are.
pub(crate) fn blank_comments(src: &[u8], syntax: &Syntax) -> Vec<u8> {
    blank_bytes(src, syntax, false)
}

fn blank_bytes(bytes: &[u8], syntax: &Syntax, blank_literals: bool) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        let (end, literal) = if syntax
            .line_comments
            .iter()
            .any(|c| rest.starts_with(c.as_bytes()))
        {
            (blank_line_comment(bytes, &mut out, i), false)
        } else if let Some((open, close)) = block_opening(syntax, rest) {
            let end = blank_block_comment(bytes, &mut out, i, open, close, syntax.nested_blocks);
            (end, false)
        } else if syntax.quotes.contains(&bytes[i]) {
            (blank_string(bytes, &mut out, i, syntax), true)
        } else if syntax.char_literals && bytes[i] == b'\'' {
            (blank_char_literal(bytes, &mut out, i), true)
        } else {
            (i + 1, false)
        };
        if literal && !blank_literals {
            out[i..end].copy_from_slice(&bytes[i..end]);
        }
        i = end;
    }
    out
}

fn block_opening(syntax: &Syntax, rest: &[u8]) -> Option<(&'static str, &'static str)> {
    syntax
        .block_comment
        .filter(|(open, _)| rest.starts_with(open.as_bytes()))
}

/// Blanks `out[from..to]`, keeping newlines; returns `to`.
fn fill(out: &mut [u8], from: usize, to: usize) -> usize {
    for b in &mut out[from..to] {
        if *b != b'\n' {
            *b = b' ';
        }
    }
    to
}

fn blank_line_comment(bytes: &[u8], out: &mut [u8], start: usize) -> usize {
    let end = find_byte(bytes, start, b'\n').unwrap_or(bytes.len());
    fill(out, start, end)
}

fn blank_block_comment(
    bytes: &[u8],
    out: &mut [u8],
    start: usize,
    open: &str,
    close: &str,
    nested: bool,
) -> usize {
    let (open, close) = (open.as_bytes(), close.as_bytes());
    let mut depth = 1;
    let mut i = start + open.len();
    while i < bytes.len() && depth > 0 {
        if bytes[i..].starts_with(close) {
            depth -= 1;
            i += close.len();
        } else if nested && bytes[i..].starts_with(open) {
            depth += 1;
            i += open.len();
        } else {
            i += 1;
        }
    }
    fill(out, start, i.min(bytes.len()))
}

/// Blanks a string's contents, keeping its quotes. Single-quoted strings stop at a newline
/// (an unterminated literal must not swallow the rest of the file); triple-quoted and
/// backtick strings span lines.
fn blank_string(bytes: &[u8], out: &mut [u8], start: usize, syntax: &Syntax) -> usize {
    let quote = bytes[start];
    let triple = syntax.triple_quotes && bytes[start..].starts_with(&[quote; 3]);
    let delimiter: &[u8] = if triple {
        &bytes[start..start + 3]
    } else {
        &bytes[start..=start]
    };
    let verbatim = start > 0 && syntax.verbatim_prefix == Some(bytes[start - 1]);
    let multiline = triple || quote == b'`';
    let mut i = start + delimiter.len();
    while i < bytes.len() {
        if bytes[i] == b'\\' && !verbatim {
            i += 2;
        } else if bytes[i..].starts_with(delimiter) {
            fill(out, start + delimiter.len(), i);
            return i + delimiter.len();
        } else if bytes[i] == b'\n' && !multiline {
            return fill(out, start + 1, i);
        } else {
            i += 1;
        }
    }
    fill(out, start + delimiter.len(), bytes.len())
}

/// `'a'`, `'\n'`, `'\u{1F600}'` or a multi-byte `'é'` are literals; anything else (`'a` as a
/// Rust lifetime or label) is left as code.
fn blank_char_literal(bytes: &[u8], out: &mut [u8], start: usize) -> usize {
    let body = start + 1;
    let close = if bytes.get(body) == Some(&b'\\') {
        (body + 2..bytes.len().min(body + 12)).find(|&j| bytes[j] == b'\'')
    } else {
        let width = bytes.get(body).map_or(1, |&b| utf8_width(b));
        (bytes.get(body + width) == Some(&b'\'')).then_some(body + width)
    };
    match close {
        Some(end) if !bytes[body..end].contains(&b'\n') => {
            fill(out, body, end);
            end + 1
        }
        _ => start + 1,
    }
}

fn utf8_width(first: u8) -> usize {
    match first {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    }
}

fn find_byte(bytes: &[u8], from: usize, needle: u8) -> Option<usize> {
    bytes[from..]
        .iter()
        .position(|&b| b == needle)
        .map(|p| from + p)
}

/// Language families by their lexical rules.
pub(crate) mod syntaxes {
    use super::Syntax;

    pub(crate) const PYTHON: Syntax = Syntax {
        line_comments: &["#"],
        block_comment: None,
        nested_blocks: false,
        quotes: b"\"'",
        char_literals: false,
        triple_quotes: true,
        verbatim_prefix: None,
    };
    /// C, C++, Java, C#, Kotlin, Go, Rust: `//`, `/* */`, `"..."` and `'c'` literals.
    pub(crate) const C_LIKE: Syntax = Syntax {
        line_comments: &["//"],
        block_comment: Some(("/*", "*/")),
        nested_blocks: false,
        quotes: b"\"`",
        char_literals: true,
        triple_quotes: true,
        verbatim_prefix: Some(b'@'),
    };
    pub(crate) const NESTED_C_LIKE: Syntax = Syntax {
        nested_blocks: true,
        verbatim_prefix: None,
        ..C_LIKE
    };
    pub(crate) const JAVASCRIPT: Syntax = Syntax {
        line_comments: &["//"],
        block_comment: Some(("/*", "*/")),
        nested_blocks: false,
        quotes: b"\"'`",
        char_literals: false,
        triple_quotes: false,
        verbatim_prefix: None,
    };
    pub(crate) const PHP: Syntax = Syntax {
        line_comments: &["//", "#"],
        ..JAVASCRIPT
    };
    /// POSIX shells: `#` comments (decontamination of MultiPL-E's Bash translations).
    pub(crate) const SHELL: Syntax = Syntax {
        line_comments: &["#"],
        block_comment: None,
        nested_blocks: false,
        quotes: b"\"'",
        char_literals: false,
        triple_quotes: false,
        verbatim_prefix: None,
    };
    /// Ruby's `=begin`/`=end` blocks must start a line: the newline is part of the delimiter.
    pub(crate) const RUBY: Syntax = Syntax {
        line_comments: &["#"],
        block_comment: Some(("\n=begin", "\n=end")),
        nested_blocks: false,
        quotes: b"\"'",
        char_literals: false,
        triple_quotes: false,
        verbatim_prefix: None,
    };
}

#[cfg(test)]
mod tests {
    use super::syntaxes::*;
    use super::*;

    fn blanked(src: &str, syntax: &Syntax) -> String {
        String::from_utf8_lossy(&blank(src, syntax)).into_owned()
    }

    #[test]
    fn python_comments_and_strings_are_blanked_with_offsets_kept() {
        let src = "import a  # import b\nx = 'import c'\n\"\"\"\nimport d\n\"\"\"\n";
        let out = blanked(src, &PYTHON);
        assert_eq!(out.len(), src.len());
        assert_eq!(
            out,
            "import a            \nx = '        '\n\"\"\"\n        \n\"\"\"\n"
        );
    }

    #[test]
    fn escaped_quotes_do_not_end_a_string() {
        assert_eq!(blanked(r#"s = "a\"b" + c"#, &PYTHON), r#"s = "    " + c"#);
    }

    #[test]
    fn c_block_comments_span_lines_and_char_literals_are_blanked() {
        let src = "/* #include \"x.h\"\n */ char c = '\"'; #include \"y.h\"";
        let out = blanked(src, &C_LIKE);
        assert_eq!(out, "                 \n    char c = ' '; #include \"   \"");
    }

    #[test]
    fn rust_lifetimes_are_code_and_block_comments_nest() {
        let src = "fn f<'a>(x: &'a str) {} /* a /* b */ use c; */ use d;";
        let out = blanked(src, &NESTED_C_LIKE);
        assert_eq!(out, "fn f<'a>(x: &'a str) {}                        use d;");
    }

    #[test]
    fn csharp_verbatim_strings_have_no_escapes() {
        assert_eq!(
            blanked(r#"var p = @"C:\"; using X;"#, &C_LIKE),
            r#"var p = @"   "; using X;"#
        );
    }

    #[test]
    fn unterminated_strings_stop_at_the_line_end() {
        assert_eq!(
            blanked("x = \"abc\nimport y", &PYTHON),
            "x = \"   \nimport y"
        );
    }

    #[test]
    fn ruby_block_comments_start_a_line() {
        let src = "a\n=begin\nrequire_relative 'x'\n=end\nrequire_relative 'y'";
        let out = blanked(src, &RUBY);
        assert_eq!(
            out,
            "a\n      \n                    \n    \nrequire_relative ' '"
        );
    }

    #[test]
    fn blank_comments_keeps_strings_and_their_comment_markers() {
        let src = b"x = '# not a comment'  # a comment\ny = \"//\" // gone";
        let out = blank_comments(src, &PYTHON);
        let kept = format!(
            "x = '# not a comment'{}\ny = \"//\" // gone",
            " ".repeat(13)
        );
        assert_eq!(out, kept.as_bytes());
        let out = blank_comments(&src[..], &C_LIKE);
        assert_eq!(
            out,
            b"x = '# not a comment'  # a comment\ny = \"//\"        "
        );
    }

    #[test]
    fn multibyte_text_in_comments_stays_valid_utf8() {
        let out = blank("// héllo\nx", &C_LIKE);
        assert!(String::from_utf8(out).is_ok());
    }
}
