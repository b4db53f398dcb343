//! Syntax screening with tree-sitter (DeepSeek-Coder §2.4, "a compiler / parser check").
//!
//! Each file is parsed with the tree-sitter grammar of its language and scored by the share of
//! its bytes that the parser could not place: the bytes under `ERROR` nodes, plus one byte for
//! each `MISSING` node (a token the parser had to invent, which covers no byte of the file but
//! is still an error). A tree without either is clean.
//!
//! Parsing has a budget of work, not of time, so that the same file gets the same status on
//! any machine and under any load: a file larger than `max_bytes` is not parsed, and a parse
//! that takes more than `max_steps` steps is cancelled from tree-sitter's progress callback
//! (status `too_complex`). tree-sitter calls it once every 100 parser operations, counted
//! from zero at the start of each parse, so the count depends only on the grammar and the
//! bytes. `guard_millis` is a last resort against a machine that is far slower than the step
//! budget assumes: a parse that runs longer fails the whole call with [`CheckError::Guard`]
//! instead of silently giving another status than a faster machine would.

use std::fmt;
use std::time::{Duration, Instant};

use std::borrow::Cow;

use dsc_core::preprocessor::{one_configuration, Dialect};
use dsc_core::variance::without_variance;
use rayon::prelude::*;
use tree_sitter::{Language, ParseOptions, ParseState, Parser, Tree};

/// The grammars we ship, one per language we check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Grammar {
    Bash,
    C,
    CSharp,
    Cpp,
    Go,
    Java,
    JavaScript,
    Php,
    Python,
    Ruby,
    Rust,
    Tsx,
    TypeScript,
}

impl Grammar {
    pub const ALL: [Grammar; 13] = [
        Grammar::Bash,
        Grammar::C,
        Grammar::CSharp,
        Grammar::Cpp,
        Grammar::Go,
        Grammar::Java,
        Grammar::JavaScript,
        Grammar::Php,
        Grammar::Python,
        Grammar::Ruby,
        Grammar::Rust,
        Grammar::Tsx,
        Grammar::TypeScript,
    ];

    /// The grammar for a language named as Linguist names it (the `lang` column).
    pub fn for_language(lang: &str) -> Option<Grammar> {
        Some(match lang {
            "Shell" | "Bash" => Grammar::Bash,
            "C" => Grammar::C,
            "C#" => Grammar::CSharp,
            "C++" => Grammar::Cpp,
            "Go" => Grammar::Go,
            "Java" => Grammar::Java,
            "JavaScript" => Grammar::JavaScript,
            "PHP" => Grammar::Php,
            "Python" => Grammar::Python,
            "Ruby" => Grammar::Ruby,
            "Rust" => Grammar::Rust,
            "TSX" => Grammar::Tsx,
            "TypeScript" => Grammar::TypeScript,
            _ => return None,
        })
    }

    fn index(self) -> usize {
        self as usize
    }

    /// What the grammar is given, every byte offset kept: for the C family one configuration
    /// of the preprocessor (`dsc_core::preprocessor`), for TypeScript the type parameters
    /// without variance modifiers (`dsc_core::variance`), which these grammars predate.
    fn source(self, text: &[u8]) -> Cow<'_, [u8]> {
        match self {
            Grammar::C => one_configuration(text, Dialect::C),
            Grammar::Cpp => one_configuration(text, Dialect::Cpp),
            Grammar::CSharp => one_configuration(text, Dialect::CSharp),
            Grammar::TypeScript | Grammar::Tsx => without_variance(text),
            _ => Cow::Borrowed(text),
        }
    }

    fn language(self) -> Language {
        match self {
            Grammar::Bash => tree_sitter_bash::LANGUAGE.into(),
            Grammar::C => tree_sitter_c::LANGUAGE.into(),
            Grammar::CSharp => tree_sitter_c_sharp::LANGUAGE.into(),
            Grammar::Cpp => tree_sitter_cpp::LANGUAGE.into(),
            Grammar::Go => tree_sitter_go::LANGUAGE.into(),
            Grammar::Java => tree_sitter_java::LANGUAGE.into(),
            Grammar::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
            // PHP files interleave HTML and `<?php ... ?>`; this grammar parses both.
            Grammar::Php => tree_sitter_php::LANGUAGE_PHP.into(),
            Grammar::Python => tree_sitter_python::LANGUAGE.into(),
            Grammar::Ruby => tree_sitter_ruby::LANGUAGE.into(),
            Grammar::Rust => tree_sitter_rust::LANGUAGE.into(),
            Grammar::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
            Grammar::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
        }
    }
}

/// Per-file limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Files larger than this are not parsed.
    pub max_bytes: usize,
    /// Parses taking more progress steps (of 100 parser operations each) are cancelled.
    pub max_steps: u64,
    /// A parse running longer than this is an error, not a status (see the module docs).
    pub guard_millis: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            max_bytes: 1 << 20,
            max_steps: 200_000,
            guard_millis: 600_000,
        }
    }
}

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SyntaxCheck {
    /// No grammar for the file's language (or no language): nothing was checked.
    Unsupported,
    TooLarge,
    /// The parse needed more than the budget's steps.
    TooComplex,
    Parsed {
        /// Share of the file's bytes under ERROR nodes, MISSING nodes counting one byte each.
        error_share: f64,
        clean: bool,
    },
}

impl SyntaxCheck {
    pub fn status(&self) -> &'static str {
        match self {
            SyntaxCheck::Unsupported => "unsupported",
            SyntaxCheck::TooLarge => "too_large",
            SyntaxCheck::TooComplex => "too_complex",
            SyntaxCheck::Parsed { .. } => "parsed",
        }
    }
}

/// Why a check could not give a status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckError {
    /// A grammar that the linked tree-sitter core refuses (an ABI mismatch): a build problem,
    /// reported instead of silently passing every file.
    Grammar(String),
    /// A parse ran past `guard_millis` before its step budget was spent: the machine is too
    /// slow (or too loaded) for the budget, and any status would depend on it.
    Guard {
        grammar: Grammar,
        /// The file's length.
        bytes: usize,
        millis: u64,
        steps: u64,
    },
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckError::Grammar(message) => f.write_str(message),
            CheckError::Guard {
                grammar,
                bytes,
                millis,
                steps,
            } => write!(
                f,
                "parsing a {bytes}-byte file as {grammar:?} ran past the wall-clock guard of \
                 {millis} ms after {steps} steps; lower max_steps or raise guard_millis (the \
                 output would otherwise depend on this machine's speed)"
            ),
        }
    }
}

impl std::error::Error for CheckError {}

/// How one parse ended.
enum Parse {
    Done(Tree),
    OverSteps,
    OverGuard(u64),
}

/// One parser per grammar, created on first use; a parser is reused across files.
#[derive(Default)]
pub struct Checker {
    parsers: [Option<Parser>; Grammar::ALL.len()],
}

impl fmt::Debug for Checker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let loaded = self.parsers.iter().filter(|p| p.is_some()).count();
        f.debug_struct("Checker").field("loaded", &loaded).finish()
    }
}

impl Checker {
    fn parser(&mut self, grammar: Grammar) -> Result<&mut Parser, CheckError> {
        let slot = &mut self.parsers[grammar.index()];
        if slot.is_none() {
            let mut parser = Parser::new();
            parser.set_language(&grammar.language()).map_err(|e| {
                CheckError::Grammar(format!("grammar {grammar:?} does not load: {e}"))
            })?;
            *slot = Some(parser);
        }
        slot.as_mut()
            .ok_or_else(|| CheckError::Grammar(format!("grammar {grammar:?} has no parser")))
    }

    /// Check one file of language `lang` (Linguist name).
    pub fn check(
        &mut self,
        text: &[u8],
        lang: Option<&str>,
        budget: Budget,
    ) -> Result<SyntaxCheck, CheckError> {
        let Some(grammar) = lang.and_then(Grammar::for_language) else {
            return Ok(SyntaxCheck::Unsupported);
        };
        if text.len() > budget.max_bytes {
            return Ok(SyntaxCheck::TooLarge);
        }
        let first = self.parse(grammar, text, budget)?;
        // Language detection calls every `.h` file C, but many are C++ headers; the C++
        // grammar also parses most C, so a C file with errors gets a second reading with it
        // and keeps the better one (each reading has its own step budget).
        if let (
            Grammar::C,
            SyntaxCheck::Parsed {
                clean: false,
                error_share,
            },
        ) = (grammar, first)
        {
            let second = self.parse(Grammar::Cpp, text, budget)?;
            if matches!(second, SyntaxCheck::Parsed { error_share: s, .. } if s < error_share) {
                return Ok(second);
            }
        }
        Ok(first)
    }

    fn parse(
        &mut self,
        grammar: Grammar,
        text: &[u8],
        budget: Budget,
    ) -> Result<SyntaxCheck, CheckError> {
        let parser = self.parser(grammar)?;
        let source = grammar.source(text);
        let outcome = parse_within(parser, &source, budget);
        if !matches!(outcome, Parse::Done(_)) {
            // A cancelled parse would resume on the next call: start fresh instead.
            parser.reset();
        }
        match outcome {
            Parse::Done(tree) => Ok(score(&tree, text.len())),
            Parse::OverSteps => Ok(SyntaxCheck::TooComplex),
            Parse::OverGuard(steps) => Err(CheckError::Guard {
                grammar,
                bytes: text.len(),
                millis: budget.guard_millis,
                steps,
            }),
        }
    }
}

fn parse_within(parser: &mut Parser, text: &[u8], budget: Budget) -> Parse {
    let started = Instant::now();
    let guard = Duration::from_millis(budget.guard_millis);
    let mut steps = 0u64;
    let mut over_guard = false;
    // Returning true from the progress callback cancels the parse.
    let mut cancel = |_: &ParseState| {
        steps += 1;
        over_guard = started.elapsed() > guard;
        steps > budget.max_steps || over_guard
    };
    let options = ParseOptions::new().progress_callback(&mut cancel);
    let mut read = |offset: usize, _| text.get(offset..).unwrap_or_default();
    let tree = parser.parse_with_options(&mut read, None, Some(options));
    match tree {
        Some(tree) => Parse::Done(tree),
        None if over_guard => Parse::OverGuard(steps),
        None => Parse::OverSteps,
    }
}

/// Sum the bytes under ERROR nodes (not descending into them) and count MISSING nodes,
/// visiting only subtrees that contain an error.
fn score(tree: &Tree, len: usize) -> SyntaxCheck {
    let root = tree.root_node();
    if !root.has_error() {
        return SyntaxCheck::Parsed {
            error_share: 0.0,
            clean: true,
        };
    }
    let mut error_bytes = 0usize;
    let mut cursor = root.walk();
    'walk: loop {
        let node = cursor.node();
        let descend = if node.is_error() {
            error_bytes += node.end_byte() - node.start_byte();
            false
        } else if node.is_missing() {
            error_bytes += 1;
            false
        } else {
            node.has_error()
        };
        if descend && cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    SyntaxCheck::Parsed {
        error_share: (error_bytes as f64 / len.max(1) as f64).min(1.0),
        clean: false,
    }
}

/// A file to check: its content and its language, either possibly missing (null rows).
pub type FileRef<'a> = (Option<&'a [u8]>, Option<&'a str>);

/// Check many files in parallel on the rayon pool, one [`Checker`] per worker task.
/// The result is in input order and does not depend on the number of threads.
pub fn check_all(files: &[FileRef<'_>], budget: Budget) -> Result<Vec<SyntaxCheck>, CheckError> {
    files
        .par_iter()
        .map_init(Checker::default, |checker, (text, lang)| match text {
            Some(text) => checker.check(text, *lang, budget),
            None => Ok(SyntaxCheck::Unsupported),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, lang: &str) -> SyntaxCheck {
        Checker::default()
            .check(text.as_bytes(), Some(lang), Budget::default())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// A valid snippet per language and a broken variant of it.
    const SAMPLES: [(&str, &str, &str); 13] = [
        (
            "Shell",
            "f() { echo \"$1\"; }\nf hi\n",
            "f() { echo \"$1\"; \nif then fi fi\n",
        ),
        (
            "C",
            "int add(int a, int b) { return a + b; }\n",
            "int add(int a, int b) { return a + ; }\n",
        ),
        (
            "C#",
            "class A { int F() { return 1; } }\n",
            "class A { int F() { return 1 } \n",
        ),
        (
            "C++",
            "template <class T> T id(T x) { return x; }\n",
            "template <class T> T id(T x) { return x }\n",
        ),
        (
            "Go",
            "package main\nfunc main() { x := 1; _ = x }\n",
            "package main\nfunc main() { x := ; }\n",
        ),
        (
            "Java",
            "class A { void f() { int x = 1; } }\n",
            "class A { void f() { int x = ; } }\n",
        ),
        (
            "JavaScript",
            "function f(a) { return a * 2; }\n",
            "function f(a) { return a * ; }\n",
        ),
        (
            "PHP",
            "<?php\nfunction f($a) { return $a; }\n",
            "<?php\nfunction f($a) { return $a }}\n",
        ),
        (
            "Python",
            "def f(x):\n    return x + 1\n",
            "def f(x):\n    return x +\n",
        ),
        ("Ruby", "def f(x)\n  x + 1\nend\n", "def f(x)\n  x + \n"),
        (
            "Rust",
            "fn f(x: u8) -> u8 { x + 1 }\n",
            "fn f(x: u8) -> u8 { x + }\n",
        ),
        (
            "TSX",
            "const a = <div>{x}</div>;\n",
            "const a = <div>{x</div>;\n",
        ),
        (
            "TypeScript",
            "function f(a: number): number { return a; }\n",
            "function f(a: number): number { return a: ; }\n",
        ),
    ];

    #[test]
    fn every_grammar_loads_and_separates_valid_from_broken() {
        for (lang, valid, broken) in SAMPLES {
            assert_eq!(
                check(valid, lang),
                SyntaxCheck::Parsed {
                    error_share: 0.0,
                    clean: true
                },
                "{lang} valid"
            );
            match check(broken, lang) {
                SyntaxCheck::Parsed { error_share, clean } => {
                    assert!(!clean && error_share > 0.0, "{lang} broken not caught")
                }
                other => panic!("{lang}: {other:?}"),
            }
        }
        assert_eq!(SAMPLES.len(), Grammar::ALL.len());
    }

    #[test]
    fn c_headers_written_in_cpp_get_the_cpp_grammar() {
        let header =
            "#pragma once\nnamespace at {\nclass Tensor { public: int dim() const; };\n}\n";
        let as_c = Checker::default()
            .parse(Grammar::C, header.as_bytes(), Budget::default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(as_c, SyntaxCheck::Parsed { clean: false, .. }));
        let expected = SyntaxCheck::Parsed {
            error_share: 0.0,
            clean: true,
        };
        assert_eq!(check(header, "C"), expected);
    }

    #[test]
    fn error_share_measures_the_broken_part() {
        let valid = "def f(x):\n    return x\n".repeat(50);
        let SyntaxCheck::Parsed { error_share, .. } = check(&format!("{valid})))(((\n"), "Python")
        else {
            panic!("not parsed")
        };
        assert!(error_share > 0.0 && error_share < 0.1, "{error_share}");
    }

    /// The smallest step budget under which `text` parses, found by bisection.
    fn steps_needed(text: &[u8]) -> u64 {
        let mut checker = Checker::default();
        let parses = |checker: &mut Checker, max_steps| {
            let budget = Budget {
                max_steps,
                ..Budget::default()
            };
            checker.check(text, Some("Python"), budget) != Ok(SyntaxCheck::TooComplex)
        };
        let (mut low, mut high) = (0u64, 1u64);
        while !parses(&mut checker, high) {
            (low, high) = (high, high * 2);
        }
        while high - low > 1 {
            let mid = low + (high - low) / 2;
            if parses(&mut checker, mid) {
                high = mid;
            } else {
                low = mid;
            }
        }
        high
    }

    #[test]
    fn budgets_are_work_not_time() {
        let mut checker = Checker::default();
        let big = "x = 1\n".repeat(1000);
        let small = Budget {
            max_bytes: 100,
            ..Budget::default()
        };
        assert_eq!(
            checker.check(big.as_bytes(), Some("Python"), small),
            Ok(SyntaxCheck::TooLarge)
        );
        // Deeply nested brackets make the parser work hard: the steps they need are the same
        // on every run, and one step less cancels the parse.
        let nested = format!("x = {}{}\n", "[".repeat(20_000), "]".repeat(20_000));
        let needed = steps_needed(nested.as_bytes());
        assert!(needed > 10, "{needed}");
        assert_eq!(steps_needed(nested.as_bytes()), needed);
        let short = Budget {
            max_steps: needed - 1,
            ..Budget::default()
        };
        let cancelled = checker.check(nested.as_bytes(), Some("Python"), short);
        assert_eq!(cancelled, Ok(SyntaxCheck::TooComplex));
        // The parser is usable again after a cancelled parse.
        assert_eq!(
            checker.check(b"y = 2\n", Some("Python"), Budget::default()),
            Ok(SyntaxCheck::Parsed {
                error_share: 0.0,
                clean: true
            })
        );
    }

    #[test]
    fn a_parse_past_the_guard_is_an_error_naming_the_file() {
        let nested = format!("x = {}{}\n", "[".repeat(20_000), "]".repeat(20_000));
        let files: Vec<FileRef<'_>> = vec![
            (Some(b"y = 2\n".as_slice()), Some("Python")),
            (Some(nested.as_bytes()), Some("Python")),
        ];
        let no_time = Budget {
            guard_millis: 0,
            ..Budget::default()
        };
        let result = check_all(&files, no_time);
        assert!(
            matches!(result, Err(CheckError::Guard { bytes, grammar: Grammar::Python, .. })
                if bytes == nested.len()),
            "{result:?}"
        );
    }

    #[test]
    fn unknown_languages_are_unsupported_and_parallel_matches_serial() {
        assert_eq!(check("anything", "Markdown"), SyntaxCheck::Unsupported);
        let files: Vec<FileRef<'_>> = SAMPLES
            .iter()
            .flat_map(|(lang, valid, broken)| {
                [
                    (Some(valid.as_bytes()), Some(*lang)),
                    (Some(broken.as_bytes()), Some(*lang)),
                ]
            })
            .chain([(None, Some("Python")), (Some(&b"x"[..]), None)])
            .collect();
        let parallel = check_all(&files, Budget::default()).unwrap_or_else(|e| panic!("{e}"));
        let mut checker = Checker::default();
        for ((text, lang), got) in files.iter().zip(&parallel) {
            let expected = match text {
                Some(t) => checker.check(t, *lang, Budget::default()),
                None => Ok(SyntaxCheck::Unsupported),
            };
            assert_eq!(Ok(*got), expected);
        }
    }

    /// Code that compiles in its project but that the grammars cannot place as written.
    const GRAMMAR_GAPS: [(&str, &str); 7] = [
        (
            "C#",
            "class A {\n  int[] x = new[] {\n#if NET6_0\n    1,\n#else\n    2,\n#endif\n  };\n\
             void F<T\n#if NET8_0\n    , U\n#endif\n  >() {\n    switch (1) {\n#if DEBUG\n      \
             case 1: break;\n#endif\n    }\n  }\n}\n",
        ),
        ("TypeScript", "interface Box<out T> { get(): T }\ntype F<in out T> = (x: T) => T;\n"),
        ("TSX", "interface Sink<in T> { put(x: T): void }\nconst a = <div />;\n"),
        (
            "C",
            "#if defined(__has_include) && __has_include(<threads.h>)\n#include <threads.h>\n#endif\n\
             #define KIND(x) _Generic((x), int: 1, \\\n  default: 0)\n#ifdef WIDE\nlong f(long a)\n\
             #else\nint f(int a)\n#endif\n{\n  return a;\n}\n",
        ),
        (
            "C++",
            "class W : public QObject {\n  Q_OBJECT\npublic slots:\n  void f();\nsignals:\n  void g();\n};\n",
        ),
        (
            "C++",
            "namespace CLI {\nclass F {\n  public:\n    CLI11_NODISCARD std::string get() const { return s_; }\n\
             \n    std::string s_;\n};\n}\n",
        ),
        (
            "C++",
            "_CCCL_BEGIN_NAMESPACE_CUDA\n_CCCL_TEMPLATE(class T)\n_CCCL_API constexpr bool f(T x) { return x; }\n\
             _CCCL_END_NAMESPACE_CUDA\n",
        ),
    ];

    #[test]
    fn code_the_grammars_lag_behind_is_clean_and_still_checked() {
        for (lang, text) in GRAMMAR_GAPS {
            let clean = SyntaxCheck::Parsed {
                error_share: 0.0,
                clean: true,
            };
            assert_eq!(check(text, lang), clean, "{lang}: {text}");
            let cut = &text[..text.len() * 2 / 3];
            let broken = format!("{cut}\n)]}}{{[( = ;\n");
            assert!(
                matches!(
                    check(&broken, lang),
                    SyntaxCheck::Parsed { clean: false, .. }
                ),
                "{lang}: {broken}"
            );
        }
    }
}
