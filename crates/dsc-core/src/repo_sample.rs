//! Repository-level samples: files ordered by their imports (Algorithm 1) and concatenated,
//! each preceded by a comment carrying its path.
//!
//! Files of the repository-level languages form the import graph; every other file becomes a
//! sample of its own, still with its path comment. Each sample keeps the byte offsets of its
//! files so that later stages (FIM, document masking) know the file boundaries.

use std::fmt;

pub use crate::imports::MANIFEST_NAMES;
use crate::imports::{analyze_repository, Import, Lang, SourceFile};
use crate::toposort::order_subgraphs;

/// How the ordered files of a repository are cut into samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SampleMode {
    /// One sample per weakly connected subgraph of the import graph (the paper's).
    Subgraph,
    /// One sample holding all subgraphs, in the order of their first path.
    Repository,
}

#[derive(Clone, Debug)]
pub struct SampleConfig {
    pub mode: SampleMode,
    /// Languages whose files are ordered and concatenated; the paper's are the default.
    pub repo_level: Vec<Lang>,
}

impl Default for SampleConfig {
    fn default() -> Self {
        SampleConfig {
            mode: SampleMode::Subgraph,
            repo_level: vec![Lang::Python, Lang::Java, Lang::CSharp, Lang::C, Lang::Cpp],
        }
    }
}

/// One file as the ordering receives it.
#[derive(Clone, Copy, Debug)]
pub struct RepoFile<'a> {
    pub path: &'a str,
    /// The Linguist name from the language detector, if any.
    pub lang: Option<&'a str>,
    pub content: &'a str,
}

impl<'a> RepoFile<'a> {
    /// The file as import analysis sees it (languages without import support have none).
    pub fn source(&self) -> SourceFile<'a> {
        SourceFile {
            path: self.path,
            lang: self.lang.and_then(Lang::from_name),
            content: self.content,
        }
    }
}

/// A concatenation of files. `files[i]` (an index into the input) spans
/// `text[offsets[i]..offsets[i + 1]]`, path comment included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    pub text: String,
    pub files: Vec<u32>,
    pub offsets: Vec<u64>,
}

/// A repository's samples and every file's imports (targets index the input).
#[derive(Clone, Debug)]
pub struct RepoOrdering {
    pub samples: Vec<Sample>,
    pub imports: Vec<Vec<Import>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderError {
    /// Two rows of one repository share a path: the import graph would be ambiguous.
    DuplicatePath(String),
}

impl fmt::Display for OrderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OrderError::DuplicatePath(path) => {
                write!(f, "duplicate path {path:?} in one repository")
            }
        }
    }
}

impl std::error::Error for OrderError {}

/// Orders one repository's files and cuts them into samples.
///
/// `manifests` are files the resolvers read (`go.mod`, see [`MANIFEST_NAMES`]) that are not
/// part of the corpus: they take part in resolution only, never in a sample; one whose path
/// is also among `files` is that file. Files are sorted by path first, so the result does not
/// depend on the input row order.
pub fn order_repository(
    files: &[RepoFile<'_>],
    manifests: &[RepoFile<'_>],
    cfg: &SampleConfig,
) -> Result<RepoOrdering, OrderError> {
    let analysis = Analysis::new(files, manifests)?;
    let units = ordered_units(&analysis.sorted, &analysis.imports, cfg);
    let samples = units
        .iter()
        .map(|unit| concatenate(unit, files, &analysis.by_path))
        .collect();
    Ok(RepoOrdering {
        samples,
        imports: analysis.into_input_order(),
    })
}

/// Every file's imports (targets index `files`), as [`order_repository`] resolves them.
pub fn repository_imports(
    files: &[RepoFile<'_>],
    manifests: &[RepoFile<'_>],
) -> Result<Vec<Vec<Import>>, OrderError> {
    Ok(Analysis::new(files, manifests)?.into_input_order())
}

/// A repository's files in path order, then its manifests, and the imports of the files.
struct Analysis<'a> {
    /// `by_path[k]`: the input index of the `k`-th file by path.
    by_path: Vec<u32>,
    /// The files by path: import targets index this list.
    sorted: Vec<SourceFile<'a>>,
    imports: Vec<Vec<Import>>,
}

impl<'a> Analysis<'a> {
    fn new(files: &[RepoFile<'a>], manifests: &[RepoFile<'a>]) -> Result<Self, OrderError> {
        let by_path = sorted_by_path(files)?;
        let mut sorted: Vec<SourceFile<'a>> = by_path
            .iter()
            .map(|&i| files[i as usize].source())
            .collect();
        let known = |path: &str| {
            by_path
                .binary_search_by(|&i| files[i as usize].path.cmp(path))
                .is_ok()
        };
        let extra: Vec<RepoFile<'a>> = manifests
            .iter()
            .filter(|m| !known(m.path))
            .copied()
            .collect();
        let extra_by_path = sorted_by_path(&extra)?;
        sorted.extend(extra_by_path.iter().map(|&i| SourceFile {
            lang: None, // read by the resolvers by name, never analysed as code
            ..extra[i as usize].source()
        }));
        let mut imports = analyze_repository(&sorted);
        imports.truncate(files.len());
        let num_files = files.len() as u32;
        for import in imports.iter_mut().flatten() {
            import.targets.retain(|&t| t < num_files); // a manifest is no file of the corpus
        }
        sorted.truncate(files.len());
        Ok(Analysis {
            by_path,
            sorted,
            imports,
        })
    }

    /// The imports by input file, targets as input indices.
    fn into_input_order(self) -> Vec<Vec<Import>> {
        let mut by_input: Vec<Vec<Import>> = vec![Vec::new(); self.by_path.len()];
        for (&input, mut file_imports) in self.by_path.iter().zip(self.imports) {
            for import in &mut file_imports {
                import.targets = import
                    .targets
                    .iter()
                    .map(|&t| self.by_path[t as usize])
                    .collect();
                import.targets.sort_unstable();
            }
            by_input[input as usize] = file_imports;
        }
        by_input
    }
}

/// Input indices in path order; two files with one path are an error.
fn sorted_by_path(files: &[RepoFile<'_>]) -> Result<Vec<u32>, OrderError> {
    let mut by_path: Vec<u32> = (0..files.len() as u32).collect();
    by_path.sort_unstable_by_key(|&i| files[i as usize].path);
    match by_path
        .windows(2)
        .find(|w| files[w[0] as usize].path == files[w[1] as usize].path)
    {
        Some(pair) => Err(OrderError::DuplicatePath(
            files[pair[0] as usize].path.to_owned(),
        )),
        None => Ok(by_path),
    }
}

/// Groups of sorted-file indices, one per sample, in sample order.
fn ordered_units(
    sorted: &[SourceFile<'_>],
    imports: &[Vec<Import>],
    cfg: &SampleConfig,
) -> Vec<Vec<u32>> {
    let in_graph = |f: &SourceFile<'_>| f.lang.is_some_and(|l| cfg.repo_level.contains(&l));
    let nodes: Vec<u32> = (0u32..)
        .zip(sorted)
        .filter(|(_, f)| in_graph(f))
        .map(|(i, _)| i)
        .collect();
    // Node ids follow path order, so Algorithm 1's ties go to the smaller path.
    let mut node_of = vec![u32::MAX; sorted.len()];
    for (node, &file) in (0u32..).zip(&nodes) {
        node_of[file as usize] = node;
    }
    let mut edges: Vec<(u32, u32)> = Vec::new();
    for &file in &nodes {
        let dependent = node_of[file as usize];
        for &target in imports[file as usize].iter().flat_map(|i| &i.targets) {
            let dependency = node_of[target as usize];
            if dependency != u32::MAX {
                edges.push((dependency, dependent));
            }
        }
    }
    let subgraphs = order_subgraphs(nodes.len(), &edges);
    let mut graph_units: Vec<Vec<u32>> = subgraphs
        .into_iter()
        .map(|sub| sub.into_iter().map(|n| nodes[n as usize]).collect())
        .collect();
    if cfg.mode == SampleMode::Repository && !graph_units.is_empty() {
        graph_units = vec![graph_units.concat()];
    }
    let singles = (0u32..)
        .zip(sorted)
        .filter(|(_, f)| !in_graph(f))
        .map(|(i, _)| vec![i]);
    let mut units: Vec<Vec<u32>> = graph_units.into_iter().chain(singles).collect();
    units.sort_by_key(|unit| unit.iter().min().copied());
    units
}

fn concatenate(unit: &[u32], files: &[RepoFile<'_>], by_path: &[u32]) -> Sample {
    let mut text = String::new();
    let mut offsets = vec![0u64];
    let mut inputs = Vec::with_capacity(unit.len());
    for &sorted_index in unit {
        let input = by_path[sorted_index as usize];
        let file = &files[input as usize];
        if let Some(header) = path_comment(file.lang, file.path) {
            text.push_str(&header);
            text.push('\n');
        }
        text.push_str(file.content);
        if !file.content.is_empty() && !file.content.ends_with('\n') {
            text.push('\n');
        }
        offsets.push(text.len() as u64);
        inputs.push(input);
    }
    Sample {
        text,
        files: inputs,
        offsets,
    }
}

/// `# path` or `// path` (or the language's own comment form) for the sample header; `None`
/// for a language that has no comments (JSON, notebooks) and for an unknown language, whose
/// file a guessed comment could break: such a file starts its segment with no header, and the
/// sample's offsets still mark where it begins.
pub fn path_comment(lang: Option<&str>, path: &str) -> Option<String> {
    let (open, close) = match lang? {
        "JSON" | "Jupyter Notebook" => return None,
        "C" | "C++" | "C#" | "Java" | "Kotlin" | "Scala" | "Go" | "Rust" | "JavaScript"
        | "TypeScript" | "TSX" | "PHP" | "Swift" | "Dart" | "Objective-C" | "Objective-C++"
        | "Groovy" | "Cuda" | "Zig" | "Solidity" | "Verilog" | "SystemVerilog"
        | "Protocol Buffer" | "F#" | "Pascal" | "GLSL" | "HLSL" | "V" | "Vue" | "JSON5"
        | "ANTLR" | "Alloy" | "Bluespec" | "Stan" | "Stata" | "Thrift" | "Jenkinsfile" => {
            ("// ", "")
        }
        "SQL" | "Haskell" | "Lua" | "Ada" | "Elm" | "PLpgSQL" | "PLSQL" | "VHDL" | "Agda"
        | "Idris" | "Lean" | "AppleScript" => ("-- ", ""),
        "HTML"
        | "XML"
        | "Markdown"
        | "Svelte"
        | "XSLT"
        | "RMarkdown"
        | "Literate Haskell"
        | "Literate Agda"
        | "Literate CoffeeScript" => ("<!-- ", " -->"),
        "Java Server Pages" => ("<%-- ", " --%>"),
        "TeX" | "MATLAB" | "Erlang" | "Prolog" | "PostScript" => ("% ", ""),
        "Common Lisp" | "Clojure" | "Scheme" | "Emacs Lisp" | "Racket" | "Assembly" => ("; ", ""),
        "OCaml" | "Standard ML" | "Mathematica" | "Isabelle" | "Augeas" => ("(* ", " *)"),
        "Fortran" | "Fortran Free Form" => ("! ", ""),
        "Visual Basic .NET" | "Visual Basic" | "VBA" => ("' ", ""),
        "Batchfile" => (":: ", ""),
        "Smalltalk" => ("\"", "\""),
        "CSS" | "Yacc" | "SAS" => ("/* ", " */"),
        // Python, Ruby, shells, Perl, R, YAML, TOML, Makefile, CMake, Julia, Elixir, ...
        _ => ("# ", ""),
    };
    Some(format!("{open}{path}{close}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file<'a>(path: &'a str, lang: &'a str, content: &'a str) -> RepoFile<'a> {
        RepoFile {
            path,
            lang: Some(lang),
            content,
        }
    }

    fn repo() -> Vec<RepoFile<'static>> {
        vec![
            file("main.py", "Python", "from util import f\nprint(f())"),
            file("util.py", "Python", "def f():\n    return 1\n"),
            file("README.md", "Markdown", "# Demo\n"),
            file("tool.py", "Python", "import sys\n"),
            file("web/app.js", "JavaScript", "import './lib.js';\n"),
            file("web/lib.js", "JavaScript", ""),
        ]
    }

    fn paths(sample: &Sample, files: &[RepoFile<'_>]) -> Vec<String> {
        sample
            .files
            .iter()
            .map(|&i| files[i as usize].path.to_owned())
            .collect()
    }

    #[test]
    fn subgraph_mode_makes_one_sample_per_subgraph_and_per_other_file() {
        let files = repo();
        let out =
            order_repository(&files, &[], &SampleConfig::default()).expect("no duplicate paths");
        let got: Vec<Vec<String>> = out.samples.iter().map(|s| paths(s, &files)).collect();
        let want = [
            vec!["README.md"],
            vec!["util.py", "main.py"],
            vec!["tool.py"],
            vec!["web/app.js"],
            vec!["web/lib.js"],
        ];
        assert_eq!(got, want);
        assert_eq!(
            out.samples[1].text,
            "# util.py\ndef f():\n    return 1\n# main.py\nfrom util import f\nprint(f())\n"
        );
        assert_eq!(out.samples[1].offsets, vec![0, 32, 72]);
        assert_eq!(out.samples[0].text, "<!-- README.md -->\n# Demo\n");
        assert_eq!(out.imports[0][0].targets, vec![1]);
        assert_eq!(out.imports[4][0].targets, vec![5]);
    }

    #[test]
    fn repository_mode_joins_the_subgraphs_and_config_adds_languages() {
        let files = repo();
        let cfg = SampleConfig {
            mode: SampleMode::Repository,
            repo_level: vec![Lang::Python, Lang::JavaScript],
        };
        let out = order_repository(&files, &[], &cfg).expect("no duplicate paths");
        let got: Vec<Vec<String>> = out.samples.iter().map(|s| paths(s, &files)).collect();
        let want = [
            vec!["README.md"],
            vec!["util.py", "main.py", "tool.py", "web/lib.js", "web/app.js"],
        ];
        assert_eq!(got, want);
        let sample = &out.samples[1];
        for (k, &i) in sample.files.iter().enumerate() {
            let segment = &sample.text[sample.offsets[k] as usize..sample.offsets[k + 1] as usize];
            assert!(segment.contains(files[i as usize].content));
            let header = path_comment(files[i as usize].lang, files[i as usize].path);
            assert!(segment.starts_with(&header.expect("every file here has a comment form")));
        }
    }

    #[test]
    fn input_row_order_does_not_matter() {
        let files = repo();
        let mut reversed = files.clone();
        reversed.reverse();
        let a = order_repository(&files, &[], &SampleConfig::default()).expect("valid");
        let b = order_repository(&reversed, &[], &SampleConfig::default()).expect("valid");
        let texts = |o: &RepoOrdering| o.samples.iter().map(|s| s.text.clone()).collect::<Vec<_>>();
        assert_eq!(texts(&a), texts(&b));
    }

    #[test]
    fn duplicate_paths_are_an_error_naming_the_path() {
        let files = [file("a.py", "Python", ""), file("a.py", "Python", "x")];
        let err = order_repository(&files, &[], &SampleConfig::default()).expect_err("duplicate");
        assert_eq!(err, OrderError::DuplicatePath("a.py".into()));
    }

    #[test]
    fn json_and_unknown_languages_get_no_path_comment() {
        assert_eq!(path_comment(Some("JSON"), "a.json"), None);
        assert_eq!(path_comment(None, "LICENSE"), None);
        assert_eq!(
            path_comment(Some("YAML"), "ci.yml").as_deref(),
            Some("# ci.yml")
        );
        let files = [file("package.json", "JSON", "{}\n")];
        let out = order_repository(&files, &[], &SampleConfig::default()).expect("valid");
        assert_eq!(out.samples[0].text, "{}\n");
    }

    #[test]
    fn manifests_resolve_imports_without_becoming_samples() {
        let go = |path, content| file(path, "Go", content);
        let files = [
            go("main.go", "package main\nimport \"example.com/app/util\"\n"),
            go("util/a.go", "package util\n"),
        ];
        let cfg = SampleConfig {
            mode: SampleMode::Subgraph,
            repo_level: vec![Lang::Go],
        };
        let manifests = [
            RepoFile {
                path: "go.mod",
                lang: None,
                content: "module example.com/app\n",
            },
            file("util/a.go", "Go", "package ignored_as_the_file_is_here\n"),
        ];
        let out = order_repository(&files, &manifests, &cfg).expect("valid");
        let got: Vec<Vec<String>> = out.samples.iter().map(|s| paths(s, &files)).collect();
        assert_eq!(got, [vec!["util/a.go", "main.go"]]);
        assert_eq!(out.imports[0][0].targets, vec![1]);
        let unresolved = order_repository(&files, &[], &cfg).expect("valid");
        assert!(unresolved.imports[0][0].targets.is_empty());
        assert_eq!(
            repository_imports(&files, &manifests).expect("valid"),
            out.imports
        );
    }
}
