//! One configuration of a C, C++ or C# file as its compiler would see it, for the syntax
//! screen: preprocessor directives and the branches of `#if` groups not taken are blanked.
//!
//! A tree-sitter grammar parses a file as written, directives and all. Real code puts `#if`
//! inside statements, initializers, parameter lists and function headers (two headers for one
//! body), and writes conditions such as `__has_include(<x.h>)` or macros such as `_Generic`
//! that the grammars do not cover, so parse errors there say nothing about the code. The
//! compiler never sees both branches of a group either: it sees one configuration. We keep the
//! first branch whose condition is not a literal false (`0`, C#'s `false`) and blank every
//! directive line (with its `\` continuation lines) and every line of the other branches.
//!
//! Blanking replaces bytes with spaces and keeps every newline, so byte offsets and line
//! numbers of the result are those of the input and an error found in it points at the file.
//! Code in a branch not taken is not checked: a file broken only there passes.
//!
//! Macros defined in other files are not expanded either, so two shapes of macro use that no
//! grammar can place are blanked too in C and C++: a line that is only an upper-case macro
//! call (`_CCCL_BEGIN_NAMESPACE_CUDA`, `Q_OBJECT`, `_CCCL_TEMPLATE(class T)`), and upper-case
//! attribute macros in front of a declaration keyword or type (`CLI11_NODISCARD std::string
//! f();`, `JSON_EXPORT int g(void);`). Qt's `slots`, `Q_SLOTS`, `signals` and `Q_SIGNALS`
//! are macros that moc's headers define as nothing or `public`; a C++ file's `public slots:`
//! lines read accordingly.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::bytes::Regex;

/// The preprocessor rules of a language family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// C and C++: a directive goes on over lines that end with `\`.
    C,
    /// C++ with Qt's moc macros.
    Cpp,
    /// C#: a directive is one line, and `false` is a literal condition.
    CSharp,
}

/// The directives that open, continue and close a conditional group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conditional {
    If { literal_false: bool },
    Elif { literal_false: bool },
    Else,
    EndIf,
}

/// One open `#if` group: whether the branch at hand is kept, and whether one already was.
#[derive(Debug, Clone, Copy)]
struct Group {
    kept: bool,
    chosen: bool,
}

/// `text` with directives and the branches not taken blanked; borrowed when nothing changes.
pub fn one_configuration(text: &[u8], dialect: Dialect) -> Cow<'_, [u8]> {
    let mut out: Option<Vec<u8>> = None;
    let mut groups: Vec<Group> = Vec::new();
    let mut continued = false;
    let mut start = 0;
    while start < text.len() {
        let end = text[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(text.len(), |i| start + i);
        let line = &text[start..end];
        let directive = continued || line.trim_ascii_start().starts_with(b"#");
        if directive && !continued {
            update_groups(&mut groups, conditional(line, dialect));
        }
        if directive || groups.iter().any(|g| !g.kept) {
            blank(out.get_or_insert_with(|| text.to_vec()), start, end);
        } else if dialect != Dialect::CSharp {
            if let Some((from, to)) = macro_span(line) {
                blank(
                    out.get_or_insert_with(|| text.to_vec()),
                    start + from,
                    start + to,
                );
            } else if dialect == Dialect::Cpp && MOC_ACCESS.is_match(line) {
                rewrite_moc_macro(out.get_or_insert_with(|| text.to_vec()), start, end);
            }
        }
        continued =
            directive && dialect != Dialect::CSharp && line.trim_ascii_end().ends_with(b"\\");
        start = end + 1;
    }
    out.map_or(Cow::Borrowed(text), Cow::Owned)
}

fn update_groups(groups: &mut Vec<Group>, directive: Option<Conditional>) {
    match directive {
        Some(Conditional::If { literal_false }) => groups.push(Group {
            kept: !literal_false,
            chosen: !literal_false,
        }),
        Some(Conditional::Elif { literal_false }) => {
            if let Some(g) = groups.last_mut() {
                g.kept = !g.chosen && !literal_false;
                g.chosen |= g.kept;
            }
        }
        Some(Conditional::Else) => {
            if let Some(g) = groups.last_mut() {
                g.kept = !g.chosen;
                g.chosen = true;
            }
        }
        // An `#endif` without its `#if` (a file cut from a larger one) closes nothing.
        Some(Conditional::EndIf) => {
            groups.pop();
        }
        None => {}
    }
}

/// The conditional directive on a line that starts with `#`, if it is one.
fn conditional(line: &[u8], dialect: Dialect) -> Option<Conditional> {
    let rest = line.trim_ascii_start().get(1..)?.trim_ascii_start();
    let name_len = rest
        .iter()
        .position(|b| !b.is_ascii_alphabetic())
        .unwrap_or(rest.len());
    let (name, condition) = rest.split_at(name_len);
    let literal_false = is_literal_false(condition, dialect);
    Some(match name {
        b"if" => Conditional::If { literal_false },
        b"ifdef" | b"ifndef" => Conditional::If {
            literal_false: false,
        },
        b"elif" => Conditional::Elif { literal_false },
        b"elifdef" | b"elifndef" => Conditional::Elif {
            literal_false: false,
        },
        b"else" => Conditional::Else,
        b"endif" => Conditional::EndIf,
        _ => return None,
    })
}

/// `0` or (C#) `false`, in parentheses or not, with a trailing comment or not.
fn is_literal_false(condition: &[u8], dialect: Dialect) -> bool {
    let code = [&b"//"[..], b"/*"]
        .iter()
        .filter_map(|c| condition.windows(2).position(|w| w == *c))
        .min()
        .map_or(condition, |i| &condition[..i]);
    let value = code
        .trim_ascii()
        .trim_ascii_start_matches(b'(')
        .trim_ascii_end_matches(b')');
    value == b"0" || (dialect == Dialect::CSharp && value == b"false")
}

trait TrimParens {
    fn trim_ascii_start_matches(&self, byte: u8) -> &[u8];
    fn trim_ascii_end_matches(&self, byte: u8) -> &[u8];
}

impl TrimParens for [u8] {
    fn trim_ascii_start_matches(&self, byte: u8) -> &[u8] {
        let start = self
            .iter()
            .position(|b| *b != byte && !b.is_ascii_whitespace());
        start.map_or(&self[self.len()..], |s| &self[s..])
    }
    fn trim_ascii_end_matches(&self, byte: u8) -> &[u8] {
        let end = self
            .iter()
            .rposition(|b| *b != byte && !b.is_ascii_whitespace());
        end.map_or(&self[..0], |e| &self[..=e])
    }
}

fn pattern(source: &str) -> Regex {
    // The patterns are literals of this file, checked by the tests.
    Regex::new(source).unwrap_or_else(|e| panic!("invalid built-in pattern {source}: {e}"))
}

/// A line that is only an upper-case macro call (at least two characters, one a letter).
static MACRO_LINE: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"^\s*[A-Z_][A-Z0-9_]*[A-Z][A-Z0-9_]*\s*(\(.*\))?\s*$"));
/// Upper-case attribute macros (among specifiers) before a declaration keyword or type.
static ATTRIBUTE_MACROS: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"^\s*((?:(?:[A-Z_][A-Z0-9_]*[A-Z][A-Z0-9_]*|inline|static|constexpr|extern|virtual|explicit)\s+)*[A-Z_][A-Z0-9_]*[A-Z][A-Z0-9_]*\s+)(?:(?:inline|constexpr|static|extern|void|bool|char|short|int|long|float|double|signed|unsigned|auto|explicit|virtual|friend|template|typename|struct|class|enum|union)\b|std::)",
    )
});

/// The span of `line` to blank for a macro use, if it has one (offsets in the line).
fn macro_span(line: &[u8]) -> Option<(usize, usize)> {
    if MACRO_LINE.is_match(line) {
        return Some((0, line.len()));
    }
    let words = ATTRIBUTE_MACROS.captures(line)?.get(1)?;
    Some((words.start(), words.end()))
}

/// `public slots:`, `Q_SIGNALS:`: a moc macro word, and whether an access word precedes it.
static MOC_ACCESS: LazyLock<Regex> = LazyLock::new(|| {
    pattern(r"^\s*((?:public|protected|private)\s+)?(slots|Q_SLOTS|signals|Q_SIGNALS)\s*:")
});

/// Rewrites a moc macro at the start of `out[from..to]`: after an access word it is empty,
/// alone it means `public` (`signals:`).
fn rewrite_moc_macro(out: &mut [u8], from: usize, to: usize) {
    let Some(caps) = MOC_ACCESS.captures(&out[from..to]) else {
        return;
    };
    let Some(word) = caps.get(2) else {
        return;
    };
    let (start, end) = (from + word.start(), from + word.end());
    let alone = caps.get(1).is_none();
    blank(out, start, end);
    if alone {
        out[start..start + 6].copy_from_slice(b"public");
    }
}

/// Spaces over `out[from..to]`, newlines kept.
fn blank(out: &mut [u8], from: usize, to: usize) {
    for b in &mut out[from..to] {
        if *b != b'\n' {
            *b = b' ';
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn seen(text: &str, dialect: Dialect) -> String {
        String::from_utf8_lossy(&one_configuration(text.as_bytes(), dialect)).into_owned()
    }

    /// The kept lines of `seen`, trimmed, blank ones left out.
    fn kept_lines(text: &str, dialect: Dialect) -> Vec<String> {
        seen(text, dialect)
            .lines()
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
            .collect()
    }

    #[test]
    fn the_first_branch_is_kept_and_directives_are_blanked() {
        let c = "#include <a.h>\n#if defined(X) && __has_include(<b.h>)\nint f(int a)\n#elif Y\n\
                 int f(long a)\n#else\nint f(void)\n#endif\n{ return 0; }\n";
        assert_eq!(kept_lines(c, Dialect::C), ["int f(int a)", "{ return 0; }"]);
        let cs = "var x = new[] {\n#if NET6_0\n  1,\n#else\n  2,\n#endif\n};\n#region R\n";
        assert_eq!(
            kept_lines(cs, Dialect::CSharp),
            ["var x = new[] {", "1,", "};"]
        );
    }

    #[test]
    fn literal_false_branches_give_way_to_the_next() {
        let c = "#if 0 /* off */\nbroken(\n#elif (0)\nalso(\n#else\nint a;\n#endif\n";
        assert_eq!(kept_lines(c, Dialect::C), ["int a;"]);
        let cs = "#if false\nbroken(\n#endif\nint b;\n";
        assert_eq!(kept_lines(cs, Dialect::CSharp), ["int b;"]);
        // In C, `false` is a macro name like any other.
        assert_eq!(
            kept_lines("#if false\nint c;\n#endif\n", Dialect::C),
            ["int c;"]
        );
    }

    #[test]
    fn nested_groups_and_continuations() {
        let c = "#if A\n#if 0\nx(\n#else\nint a;\n#endif\n#else\ny(\n#endif\n\
                 #define M(x) \\\n  _Generic((x), int: 1, \\\n  default: 0)\nint b;\n";
        assert_eq!(kept_lines(c, Dialect::C), ["int a;", "int b;"]);
        // C# has no continuation lines.
        assert_eq!(
            kept_lines("#define A \\\nint c;\n", Dialect::CSharp),
            ["int c;"]
        );
        assert_eq!(
            kept_lines("#endif\nint d;\n#else\n", Dialect::C),
            ["int d;"]
        );
    }

    #[test]
    fn qt_access_macros_read_as_access_specifiers() {
        let cpp = "class W {\npublic slots:\n  void f();\nsignals:\n  void g();\n};\n";
        let out = seen(cpp, Dialect::Cpp);
        assert!(
            out.contains("public      :\n") && out.contains("public :\n"),
            "{out}"
        );
        assert_eq!(seen(cpp, Dialect::C), cpp);
    }

    #[test]
    fn macro_lines_and_attribute_macros_are_blanked() {
        let cpp = "THRUST_NAMESPACE_BEGIN\n_CCCL_TEMPLATE(class T)\n_CCCL_API inline \
                   CLI11_NODISCARD std::string f();\nFILE *g;\nDWORD count;\nX = 1;\n";
        assert_eq!(
            kept_lines(cpp, Dialect::Cpp),
            ["std::string f();", "FILE *g;", "DWORD count;", "X = 1;"]
        );
        // C# has attributes of its own and no such macros.
        assert_eq!(kept_lines("FOO\n", Dialect::CSharp), ["FOO"]);
    }

    #[test]
    fn text_without_directives_is_borrowed() {
        let text = b"int main(void) { return 0; }\n";
        assert!(matches!(
            one_configuration(text, Dialect::C),
            Cow::Borrowed(_)
        ));
    }

    proptest! {
        /// Offsets are kept: same length, newlines where they were, other bytes kept or spaces.
        #[test]
        fn offsets_and_newlines_are_kept(
            lines in prop::collection::vec(
                prop::sample::select(vec![
                    "#if A", "#if 0", "#elif B", "#else", "#endif", "#ifdef C", "#define D \\",
                    "int x;", "}", "  # pragma once", "public slots:", "", "é;\r", "API_X int f();",
                    "BEGIN_NS",
                ]),
                0..40,
            ),
            dialect in prop::sample::select(vec![Dialect::C, Dialect::Cpp, Dialect::CSharp]),
        ) {
            let text = lines.join("\n");
            let out = one_configuration(text.as_bytes(), dialect);
            prop_assert_eq!(out.len(), text.len());
            for (a, b) in text.bytes().zip(out.iter()) {
                prop_assert!(a == *b || *b == b' ' || b"public".contains(b));
                prop_assert_eq!(a == b'\n', *b == b'\n');
            }
            // No directive survives.
            let kept = String::from_utf8_lossy(&out).into_owned();
            prop_assert!(kept.lines().all(|l| !l.trim_start().starts_with('#')));
        }
    }
}
