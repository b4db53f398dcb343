//! Import extraction and resolution inside one repository (stage 2 of the paper).
//!
//! Each file is first blanked ([`lexer`]) so that comments and strings cannot look like
//! imports; per-language regexes then find the import statements, and each statement is
//! resolved against the repository's own files. Statements that name nothing in the
//! repository (the standard library, third-party packages) are kept with no target.

mod c_family;
mod csharp;
mod go;
mod javascript;
mod jvm;
pub(crate) mod lexer;
mod paths;
mod php;
mod python;
mod ruby;
mod rust;
mod types;

use std::collections::HashMap;

use regex::bytes::{Captures, Regex};

use lexer::{syntaxes, Syntax};
use types::TypeIndex;

/// Files that are no source code of a supported language but that the resolvers read, by file
/// name: they must reach the ordering even when the corpus drops them (`go.mod` gives the
/// module path that Go imports start with, `Cargo.toml` and `package.json` the names of Rust
/// crates and JavaScript packages).
pub const MANIFEST_NAMES: [&str; 3] = ["go.mod", "Cargo.toml", "package.json"];

/// Languages whose imports dsc understands, named as in GitHub Linguist (the `lang` column).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    Python,
    Java,
    Kotlin,
    C,
    Cpp,
    CSharp,
    JavaScript,
    TypeScript,
    Go,
    Rust,
    Php,
    Ruby,
}

impl Lang {
    pub const ALL: [Lang; 12] = [
        Lang::Python,
        Lang::Java,
        Lang::Kotlin,
        Lang::C,
        Lang::Cpp,
        Lang::CSharp,
        Lang::JavaScript,
        Lang::TypeScript,
        Lang::Go,
        Lang::Rust,
        Lang::Php,
        Lang::Ruby,
    ];

    /// The Linguist display name.
    pub fn name(self) -> &'static str {
        match self {
            Lang::Python => "Python",
            Lang::Java => "Java",
            Lang::Kotlin => "Kotlin",
            Lang::C => "C",
            Lang::Cpp => "C++",
            Lang::CSharp => "C#",
            Lang::JavaScript => "JavaScript",
            Lang::TypeScript => "TypeScript",
            Lang::Go => "Go",
            Lang::Rust => "Rust",
            Lang::Php => "PHP",
            Lang::Ruby => "Ruby",
        }
    }

    /// Parses a Linguist name; `TSX` is TypeScript with JSX, `Cuda` is C++ as far as
    /// `#include` goes.
    pub fn from_name(name: &str) -> Option<Lang> {
        match name {
            "TSX" => Some(Lang::TypeScript),
            "Cuda" => Some(Lang::Cpp),
            _ => Lang::ALL.into_iter().find(|l| l.name() == name),
        }
    }

    pub(crate) fn syntax(self) -> &'static Syntax {
        match self {
            Lang::Python => &syntaxes::PYTHON,
            Lang::Rust | Lang::Kotlin => &syntaxes::NESTED_C_LIKE,
            Lang::Java | Lang::C | Lang::Cpp | Lang::CSharp | Lang::Go => &syntaxes::C_LIKE,
            Lang::JavaScript | Lang::TypeScript => &syntaxes::JAVASCRIPT,
            Lang::Php => &syntaxes::PHP,
            Lang::Ruby => &syntaxes::RUBY,
        }
    }
}

/// One file of a repository as the ordering sees it.
#[derive(Clone, Copy, Debug)]
pub struct SourceFile<'a> {
    /// Repository-relative, `/`-separated.
    pub path: &'a str,
    pub lang: Option<Lang>,
    pub content: &'a str,
}

/// One import statement (or one module of `import a, b`) and the files it resolved to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Import {
    /// The imported name as written (`..pkg.mod`, `./util`, `crate::a::{b, c}`).
    pub spec: String,
    /// Indices into the repository's file list; empty if it names nothing in the repository.
    pub targets: Vec<u32>,
}

/// Kinds of names that files declare and other files import by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Scope {
    /// Java and Kotlin `package`.
    JvmPackage,
    /// C# `namespace` (of types only: `using` is resolved type by type).
    CsNamespace,
    /// PHP `namespace`.
    PhpNamespace,
    /// A Go package, named by its directory.
    GoPackage,
}

/// What resolution needs to know about a repository's files.
#[derive(Debug)]
pub(crate) struct RepoIndex<'a> {
    files: &'a [SourceFile<'a>],
    by_path: HashMap<&'a str, u32>,
    by_file_name: HashMap<&'a str, Vec<u32>>,
    by_dir: HashMap<&'a str, Vec<u32>>,
    declared: HashMap<(Scope, String), Vec<u32>>,
    types: TypeIndex,
    python_modules: HashMap<String, Vec<u32>>,
    python_root: Option<String>,
    /// `(module path, directory of its go.mod)`.
    go_modules: Vec<(String, &'a str)>,
    rust_crates: Vec<rust::Crate>,
    js_packages: Vec<javascript::Package>,
}

impl<'a> RepoIndex<'a> {
    fn new(files: &'a [SourceFile<'a>], blanked: &[Option<Vec<u8>>]) -> Self {
        let python_modules = python::module_index(files);
        let python_root = python::root_package(files, blanked, &python_modules);
        let mut index = RepoIndex {
            files,
            by_path: HashMap::with_capacity(files.len()),
            by_file_name: HashMap::new(),
            by_dir: HashMap::new(),
            declared: HashMap::new(),
            types: TypeIndex::default(),
            python_modules,
            python_root,
            go_modules: go::modules(files),
            rust_crates: rust::crates(files),
            js_packages: javascript::packages(files),
        };
        for (id, (file, code)) in (0u32..).zip(files.iter().zip(blanked)) {
            index.by_path.insert(file.path, id);
            let name = file.path.rsplit('/').next().unwrap_or(file.path);
            index.by_file_name.entry(name).or_default().push(id);
            index
                .by_dir
                .entry(paths::parent(file.path))
                .or_default()
                .push(id);
            if let (Some(lang), Some(code)) = (file.lang, code) {
                for (scope, name) in declarations(lang, code) {
                    index.declared.entry((scope, name)).or_default().push(id);
                }
                for (scope, namespace, name) in type_declarations(lang, file.path, code) {
                    index.types.add(scope, namespace, name, id);
                }
            }
        }
        index
    }

    pub(crate) fn path(&self, id: u32) -> &'a str {
        self.files[id as usize].path
    }

    pub(crate) fn id(&self, path: &str) -> Option<u32> {
        self.by_path.get(path).copied()
    }

    /// The first of `candidates` that is a file of the repository.
    pub(crate) fn first_existing(
        &self,
        candidates: impl IntoIterator<Item = String>,
    ) -> Option<u32> {
        candidates.into_iter().find_map(|p| self.id(&p))
    }

    /// Files directly inside `dir`.
    pub(crate) fn in_dir(&self, dir: &str) -> &[u32] {
        self.by_dir.get(dir).map_or(&[], Vec::as_slice)
    }

    /// Files whose path is `rel` or ends with `/rel`.
    pub(crate) fn with_suffix<'s>(&'s self, rel: &'s str) -> impl Iterator<Item = u32> + 's {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        let ids = self.by_file_name.get(name).map_or(&[][..], Vec::as_slice);
        ids.iter().copied().filter(move |&id| {
            let path = self.path(id);
            path == rel || (path.ends_with(rel) && path[..path.len() - rel.len()].ends_with('/'))
        })
    }

    /// The file nearest to `importer` among those whose path ends with `rel`.
    pub(crate) fn nearest_with_suffix(&self, importer: &str, rel: &str) -> Option<u32> {
        let best = paths::nearest(importer, self.with_suffix(rel).map(|id| self.path(id)))?;
        self.id(best)
    }

    fn declared(&self, scope: Scope, name: &str) -> &[u32] {
        self.declared
            .get(&(scope, name.to_owned()))
            .map_or(&[], Vec::as_slice)
    }
}

fn declarations(lang: Lang, code: &[u8]) -> Vec<(Scope, String)> {
    match lang {
        Lang::Java | Lang::Kotlin => jvm::package(code)
            .map(|p| (Scope::JvmPackage, p))
            .into_iter()
            .collect(),
        Lang::Php => php::namespace(code)
            .map(|n| (Scope::PhpNamespace, n))
            .into_iter()
            .collect(),
        _ => Vec::new(),
    }
}

/// `(scope, namespace, name)` of the types (Go: top-level names) a file declares, for
/// [`types`].
fn type_declarations(lang: Lang, path: &str, code: &[u8]) -> Vec<(Scope, String, String)> {
    let (scope, types) = match lang {
        Lang::Java => (Scope::JvmPackage, jvm::types(code, false)),
        Lang::Kotlin => (Scope::JvmPackage, jvm::types(code, true)),
        Lang::CSharp => (Scope::CsNamespace, csharp::types(code)),
        Lang::Go => (Scope::GoPackage, go::declarations(path, code)),
        _ => return Vec::new(),
    };
    types
        .into_iter()
        .map(|(namespace, name)| (scope, namespace, name))
        .collect()
}

/// The text between the quote at `open` and its closing quote (`>` for `<`), read from the
/// original source: in the blanked code the contents are spaces, but the quotes remain.
pub(crate) fn quoted<'s>(code: &[u8], src: &'s str, open: usize) -> Option<&'s str> {
    let close_quote = match code.get(open)? {
        b'<' => b'>',
        q => *q,
    };
    let len = code[open + 1..]
        .iter()
        .position(|&b| b == close_quote || b == b'\n')?;
    (code[open + 1 + len] == close_quote).then(|| src.get(open + 1..open + 1 + len))?
}

/// Imports written as a quoted path: for each match of `regex`, the quoted text whose opening
/// quote starts capture group `quote` is the spec, and `resolve(spec, captures)` finds its file.
pub(crate) fn quoted_imports(
    code: &[u8],
    src: &str,
    regex: &Regex,
    quote: usize,
    resolve: impl Fn(&str, &Captures<'_>) -> Option<u32>,
) -> Vec<Import> {
    regex
        .captures_iter(code)
        .filter_map(|caps| {
            let spec = quoted(code, src, caps.get(quote)?.start())?;
            let targets = resolve(spec, &caps).into_iter().collect();
            Some(Import {
                spec: spec.to_owned(),
                targets,
            })
        })
        .collect()
}

/// Imports of every file of one repository, in the order of `files`.
///
/// Targets never include the importing file itself, and are sorted and unique.
pub fn analyze_repository(files: &[SourceFile<'_>]) -> Vec<Vec<Import>> {
    let blanked: Vec<Option<Vec<u8>>> = files
        .iter()
        .map(|f| f.lang.map(|lang| lexer::blank(f.content, lang.syntax())))
        .collect();
    let index = RepoIndex::new(files, &blanked);
    (0u32..)
        .zip(files.iter().zip(&blanked))
        .map(|(id, (file, code))| match (file.lang, code) {
            (Some(lang), Some(code)) => file_imports(lang, id, code, file, &index),
            _ => Vec::new(),
        })
        .collect()
}

fn file_imports(
    lang: Lang,
    id: u32,
    code: &[u8],
    file: &SourceFile<'_>,
    index: &RepoIndex<'_>,
) -> Vec<Import> {
    let (src, importer) = (file.content, file.path);
    let mut imports = match lang {
        Lang::Python => python::imports(code, importer, index),
        Lang::Java => jvm::imports(code, false, importer, index),
        Lang::Kotlin => jvm::imports(code, true, importer, index),
        Lang::C | Lang::Cpp => c_family::imports(code, src, importer, index),
        Lang::CSharp => csharp::imports(code, importer, index),
        Lang::JavaScript | Lang::TypeScript => javascript::imports(code, src, importer, index),
        Lang::Go => go::imports(code, src, importer, index),
        Lang::Rust => rust::imports(code, importer, index),
        Lang::Php => php::imports(code, src, importer, index),
        Lang::Ruby => ruby::imports(code, src, importer, index),
    };
    for import in &mut imports {
        import.targets.retain(|&t| t != id);
        import.targets.sort_unstable();
        import.targets.dedup();
    }
    imports
}

#[cfg(test)]
pub(crate) mod testing {
    //! Fixture repositories for the per-language tests: exact edges by path.
    use super::*;

    /// `(importer, spec, targets)` for every import of the repository.
    pub(crate) fn edges(lang: Lang, files: &[(&str, &str)]) -> Vec<(String, String, Vec<String>)> {
        let files: Vec<SourceFile<'_>> = files
            .iter()
            .map(|&(path, content)| SourceFile {
                path,
                lang: Some(lang),
                content,
            })
            .collect();
        let imports = analyze_repository(&files);
        files
            .iter()
            .zip(imports)
            .flat_map(|(file, imports)| {
                imports.into_iter().map(|i| {
                    let targets = i.targets.iter().map(|&t| files[t as usize].path.to_owned());
                    (file.path.to_owned(), i.spec, targets.collect())
                })
            })
            .collect()
    }

    /// Shorthand for an expected edge list.
    pub(crate) fn expect(rows: &[(&str, &str, &[&str])]) -> Vec<(String, String, Vec<String>)> {
        rows.iter()
            .map(|(from, spec, to)| {
                let to = to.iter().map(|t| (*t).to_owned()).collect();
                ((*from).to_owned(), (*spec).to_owned(), to)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_round_trips_its_name() {
        for lang in Lang::ALL {
            assert_eq!(Lang::from_name(lang.name()), Some(lang));
        }
        assert_eq!(Lang::from_name("TSX"), Some(Lang::TypeScript));
        assert_eq!(Lang::from_name("Markdown"), None);
    }

    #[test]
    fn quoted_reads_the_original_between_quotes() {
        let src = "#include <a/b.h> \"x.h\"";
        let code = lexer::blank(src, &syntaxes::C_LIKE);
        assert_eq!(quoted(&code, src, 9), Some("a/b.h"));
        assert_eq!(quoted(&code, src, 17), Some("x.h"));
    }

    #[test]
    fn files_without_a_supported_language_have_no_imports() {
        let files = [SourceFile {
            path: "README",
            lang: None,
            content: "import os",
        }];
        assert_eq!(analyze_repository(&files), vec![Vec::new()]);
    }
}
