//! Language identification from file name, extension and shebang (Linguist-style).
//!
//! Covers the languages DeepSeek-Coder trained on (the paper's Table 1 and the released
//! list). Names are Linguist's display names. Lookup order: exact file name, then extension
//! (case-insensitive), then the `#!` interpreter. Extensions shared by several languages go
//! to the one of the set that uses them most: `.h` is C, `.m` is MATLAB (Objective-C is not
//! in the set), `.pl` is Perl (Prolog uses `.pro`/`.prolog`), `.v` is Verilog, `.cl` is
//! Common Lisp, `.fs` is F#.

use std::collections::HashMap;
use std::sync::OnceLock;

/// One language: its name, extensions (lower-case, without dot), exact file names, and
/// interpreter names that may follow `#!`.
#[derive(Debug)]
pub struct Language {
    pub name: &'static str,
    pub extensions: &'static [&'static str],
    pub filenames: &'static [&'static str],
    pub interpreters: &'static [&'static str],
}

const fn lang(
    name: &'static str,
    extensions: &'static [&'static str],
    filenames: &'static [&'static str],
    interpreters: &'static [&'static str],
) -> Language {
    Language {
        name,
        extensions,
        filenames,
        interpreters,
    }
}

/// The table of languages; tested for coverage and for unambiguous keys.
pub static LANGUAGES: &[Language] = &[
    lang("Ada", &["adb", "ads", "ada"], &[], &[]),
    lang("Agda", &["agda"], &[], &[]),
    lang("Alloy", &["als"], &[], &[]),
    lang("ANTLR", &["g4", "g"], &[], &[]),
    lang("AppleScript", &["applescript"], &[], &["osascript"]),
    lang("Assembly", &["asm", "s", "nasm"], &[], &[]),
    lang("Augeas", &["aug"], &[], &[]),
    lang("Awk", &["awk"], &[], &["awk", "gawk", "mawk", "nawk"]),
    lang("Batchfile", &["bat", "cmd"], &[], &[]),
    lang("Bluespec", &["bsv"], &[], &[]),
    lang("C", &["c", "h"], &[], &[]),
    lang("C#", &["cs", "csx"], &[], &[]),
    lang(
        "Clojure",
        &["clj", "cljs", "cljc", "edn"],
        &[],
        &["clojure"],
    ),
    lang("CMake", &["cmake"], &["CMakeLists.txt"], &[]),
    lang("CoffeeScript", &["coffee"], &["Cakefile"], &["coffee"]),
    lang(
        "Common Lisp",
        &["lisp", "lsp", "cl", "asd"],
        &[],
        &["sbcl", "clisp"],
    ),
    lang(
        "C++",
        &[
            "cpp", "cc", "cxx", "c++", "hpp", "hh", "hxx", "h++", "ipp", "tpp", "inl",
        ],
        &[],
        &[],
    ),
    lang("CSS", &["css"], &[], &[]),
    lang("Cuda", &["cu", "cuh"], &[], &[]),
    lang("Dart", &["dart"], &[], &["dart"]),
    lang(
        "Dockerfile",
        &["dockerfile"],
        &["Dockerfile", "Containerfile"],
        &[],
    ),
    lang("Elixir", &["ex", "exs"], &[], &["elixir"]),
    lang("Elm", &["elm"], &[], &[]),
    lang("Emacs Lisp", &["el"], &[".emacs"], &["emacs"]),
    lang("Erlang", &["erl", "hrl"], &["rebar.config"], &["escript"]),
    lang("F#", &["fs", "fsi", "fsx"], &[], &[]),
    lang(
        "Fortran",
        &["f", "for", "f77", "f90", "f95", "f03", "f08"],
        &[],
        &[],
    ),
    lang(
        "GLSL",
        &["glsl", "vert", "frag", "geom", "tesc", "tese"],
        &[],
        &[],
    ),
    lang("Go", &["go"], &[], &[]),
    lang(
        "Groovy",
        &["groovy", "gradle", "gvy"],
        &["Jenkinsfile"],
        &["groovy"],
    ),
    lang(
        "Haskell",
        &["hs", "hs-boot"],
        &[],
        &["runhaskell", "runghc"],
    ),
    lang("HTML", &["html", "htm", "xhtml"], &[], &[]),
    lang("Idris", &["idr"], &[], &[]),
    lang("Isabelle", &["thy"], &[], &[]),
    lang("Java", &["java"], &[], &[]),
    lang("Java Server Pages", &["jsp", "jspf"], &[], &[]),
    lang(
        "JavaScript",
        &["js", "mjs", "cjs", "jsx"],
        &[],
        &["node", "nodejs"],
    ),
    lang(
        "JSON",
        &["json", "geojson", "jsonld"],
        &[".babelrc", ".eslintrc"],
        &[],
    ),
    lang("Julia", &["jl"], &[], &["julia"]),
    lang("Jupyter Notebook", &["ipynb"], &[], &[]),
    lang("Kotlin", &["kt", "kts"], &[], &[]),
    lang("Lean", &["lean"], &[], &[]),
    lang("Literate Agda", &["lagda"], &[], &[]),
    lang("Literate CoffeeScript", &["litcoffee"], &[], &[]),
    lang("Literate Haskell", &["lhs"], &[], &[]),
    lang("Lua", &["lua"], &[], &["lua", "luajit"]),
    lang(
        "Makefile",
        &["mk", "mak", "make"],
        &["Makefile", "makefile", "GNUmakefile"],
        &["make"],
    ),
    lang("Maple", &["mpl", "maple"], &[], &[]),
    lang("Markdown", &["md", "markdown", "mdown", "mkd"], &[], &[]),
    lang(
        "Mathematica",
        &["nb", "wl", "wls", "mt"],
        &[],
        &["wolframscript"],
    ),
    lang("MATLAB", &["m"], &[], &[]),
    lang("OCaml", &["ml", "mli", "mll", "mly"], &[], &["ocaml"]),
    lang("Pascal", &["pas", "pp", "dpr", "lpr"], &[], &[]),
    lang("Perl", &["pl", "pm", "t", "pod"], &[], &["perl"]),
    lang(
        "PHP",
        &["php", "phtml", "php3", "php4", "php5", "phps"],
        &[],
        &["php"],
    ),
    lang(
        "PowerShell",
        &["ps1", "psm1", "psd1"],
        &[],
        &["pwsh", "powershell"],
    ),
    lang("Prolog", &["pro", "prolog"], &[], &["swipl"]),
    lang("Protocol Buffer", &["proto"], &[], &[]),
    lang(
        "Python",
        &["py", "pyi", "pyw"],
        &["SConstruct", "SConscript"],
        &["python"],
    ),
    lang("R", &["r", "rd"], &[], &["rscript"]),
    lang("Racket", &["rkt", "rktl"], &[], &["racket"]),
    lang("reStructuredText", &["rst", "rest"], &[], &[]),
    lang("RMarkdown", &["rmd"], &[], &[]),
    lang(
        "Ruby",
        &["rb", "rake", "gemspec"],
        &["Rakefile", "Gemfile"],
        &["ruby"],
    ),
    lang("Rust", &["rs"], &[], &[]),
    lang("SAS", &["sas"], &[], &[]),
    lang("Scala", &["scala", "sc"], &[], &["scala"]),
    lang("Scheme", &["scm", "ss", "sld"], &[], &["guile", "chicken"]),
    lang(
        "Shell",
        &["sh", "bash", "zsh", "ksh"],
        &[".bashrc", ".profile"],
        &["sh", "bash", "zsh", "ksh", "dash"],
    ),
    lang("Smalltalk", &["st"], &[], &[]),
    lang("Solidity", &["sol"], &[], &[]),
    lang("SPARQL", &["sparql", "rq"], &[], &[]),
    lang("SQL", &["sql"], &[], &[]),
    lang("Stan", &["stan"], &[], &[]),
    lang("Standard ML", &["sml", "sig"], &[], &[]),
    lang("Stata", &["do", "ado"], &[], &[]),
    lang("SystemVerilog", &["sv", "svh"], &[], &[]),
    lang("Tcl", &["tcl", "tk"], &[], &["tclsh", "wish"]),
    lang("Tcsh", &["tcsh", "csh"], &[], &["tcsh", "csh"]),
    lang("TeX", &["tex", "sty", "cls", "ltx", "dtx"], &[], &[]),
    lang("Thrift", &["thrift"], &[], &[]),
    lang(
        "TypeScript",
        &["ts", "tsx", "mts", "cts"],
        &[],
        &["deno", "ts-node"],
    ),
    lang("Verilog", &["v", "vh"], &[], &[]),
    lang("VHDL", &["vhd", "vhdl"], &[], &[]),
    lang("Visual Basic", &["vb", "bas", "vbs"], &[], &[]),
    lang("XSLT", &["xsl", "xslt"], &[], &[]),
    lang("Yacc", &["y", "yy"], &[], &[]),
    lang("YAML", &["yml", "yaml"], &[".clang-format"], &[]),
    lang("Zig", &["zig"], &[], &[]),
];

struct Index {
    by_filename: HashMap<&'static str, &'static str>,
    by_extension: HashMap<&'static str, &'static str>,
    by_interpreter: HashMap<&'static str, &'static str>,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut idx = Index {
            by_filename: HashMap::new(),
            by_extension: HashMap::new(),
            by_interpreter: HashMap::new(),
        };
        for l in LANGUAGES {
            idx.by_filename
                .extend(l.filenames.iter().map(|f| (*f, l.name)));
            idx.by_extension
                .extend(l.extensions.iter().map(|e| (*e, l.name)));
            idx.by_interpreter
                .extend(l.interpreters.iter().map(|i| (*i, l.name)));
        }
        idx
    })
}

/// The language of a file from its path and the start of its content, if it is one of ours.
pub fn detect_language(path: &str, head: &[u8]) -> Option<&'static str> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let idx = index();
    if let Some(lang) = idx.by_filename.get(name) {
        return Some(lang);
    }
    if let Some((stem, ext)) = name.rsplit_once('.') {
        if !stem.is_empty() {
            if let Some(lang) = idx.by_extension.get(ext.to_ascii_lowercase().as_str()) {
                return Some(lang);
            }
        }
    }
    shebang_interpreter(head).and_then(|i| idx.by_interpreter.get(i.as_str()).copied())
}

/// The interpreter named by a `#!` line, without path or version: `#!/usr/bin/env python3.11`
/// gives `python`.
pub fn shebang_interpreter(head: &[u8]) -> Option<String> {
    let rest = head.strip_prefix(b"#!")?;
    let line_end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
    let line = std::str::from_utf8(&rest[..line_end]).ok()?;
    let mut words = line.split_whitespace();
    let mut program = words.next()?.rsplit('/').next()?;
    if program == "env" {
        // `env -S python3 -u`: the first word that is not an option.
        program = words.find(|w| !w.starts_with('-'))?;
    }
    let base = program.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    Some(base.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_released_language_list_is_covered() {
        // The language list published with DeepSeek-Coder (89 names including Markdown and
        // reStructuredText); every one must have a table entry.
        assert_eq!(LANGUAGES.len(), 89);
        let names: HashSet<_> = LANGUAGES.iter().map(|l| l.name).collect();
        assert_eq!(names.len(), LANGUAGES.len(), "duplicate language names");
    }

    #[test]
    fn keys_are_unambiguous_and_lowercase() {
        let mut seen = HashSet::new();
        for l in LANGUAGES {
            for e in l.extensions {
                assert_eq!(*e, e.to_ascii_lowercase(), "{e}");
                assert!(seen.insert(*e), "extension .{e} is listed twice");
            }
        }
    }

    #[test]
    fn detection_order() {
        assert_eq!(detect_language("src/a/b.py", b""), Some("Python"));
        assert_eq!(detect_language("Lib/X.PY", b""), Some("Python"));
        assert_eq!(detect_language("x/CMakeLists.txt", b""), Some("CMake"));
        assert_eq!(detect_language("Makefile", b""), Some("Makefile"));
        assert_eq!(
            detect_language("bin/tool", b"#!/usr/bin/env python3.11\n"),
            Some("Python")
        );
        assert_eq!(
            detect_language("bin/run", b"#!/bin/bash -e\n"),
            Some("Shell")
        );
        assert_eq!(
            detect_language("bin/s", b"#!/usr/bin/env -S node --x\n"),
            Some("JavaScript")
        );
        assert_eq!(detect_language("notes.txt", b"hello"), None);
        assert_eq!(detect_language(".py", b""), None);
        assert_eq!(detect_language("a.h", b""), Some("C"));
    }
}
