//! Go: `import "m/p"`, `import alias "m/p"` and `import ( ... )` blocks; an import path under
//! a module path declared by a `go.mod` of the repository names a package directory, and links
//! the importer to the non-test `.go` files of it that declare a top-level name the importer
//! uses (all of them when it uses none by name: `import _ "m/p"` runs every file's `init`).

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::types::{files_in, Identifiers};
use super::{paths, quoted, Import, RepoIndex, Scope, SourceFile};

static SINGLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)^[ \t]*import[ \t]+(?:[\w.]+[ \t]+)?(["`])"#).expect("valid regex")
});
static BLOCK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^[ \t]*import[ \t]*\(").expect("valid regex"));
/// Top-level `func` (methods too), `type`, `var` and `const` names, and `( ... )` groups.
static DECLARATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?m)^func[ \t]+(?:\([^)\n]*\)[ \t]*)?(\w+)",
        r"|(?m)^(?:type|var|const)[ \t]+(\w+)",
        r"|(?ms)^(?:type|var|const)[ \t]*\((.*?)^\)",
    ))
    .expect("valid regex")
});
static GROUP_MEMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^[ \t]+(\w+)").expect("valid regex"));
static MODULE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?m)^[ \t]*module[ \t]+"?([^\s"]+)"#).expect("valid regex"));

/// `(module path, directory)` of every `go.mod`, longest module path first so that nested
/// modules win over the ones that contain them.
pub(super) fn modules<'a>(files: &[SourceFile<'a>]) -> Vec<(String, &'a str)> {
    let mut modules: Vec<(String, &'a str)> = files
        .iter()
        .filter(|f| f.path == "go.mod" || f.path.ends_with("/go.mod"))
        .filter_map(|f| {
            let caps = MODULE.captures(f.content.as_bytes())?;
            Some((
                String::from_utf8_lossy(&caps[1]).into_owned(),
                paths::parent(f.path),
            ))
        })
        .collect();
    modules.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.cmp(b)));
    modules
}

/// `(package directory, name)` of the top-level names a file declares.
pub(super) fn declarations(path: &str, code: &[u8]) -> Vec<(String, String)> {
    let dir = paths::parent(path);
    let text = |m: regex::bytes::Match<'_>| String::from_utf8_lossy(m.as_bytes()).into_owned();
    let mut names = Vec::new();
    for caps in DECLARATION.captures_iter(code) {
        if let Some(name) = caps.get(1).or_else(|| caps.get(2)) {
            names.push(text(name));
        } else if let Some(group) = caps.get(3) {
            let members = GROUP_MEMBER.captures_iter(group.as_bytes());
            names.extend(members.filter_map(|m| m.get(1)).map(text));
        }
    }
    names.into_iter().map(|n| (dir.to_owned(), n)).collect()
}

pub(super) fn imports(
    code: &[u8],
    src: &str,
    importer: &str,
    index: &RepoIndex<'_>,
) -> Vec<Import> {
    let own = declarations(importer, code);
    let identifiers = Identifiers::of(code).without(own.iter().map(|(_, n)| n.as_str()));
    let used = index.types.declarations_of(Scope::GoPackage, &identifiers);
    let mut quotes: Vec<usize> = SINGLE
        .captures_iter(code)
        .filter_map(|caps| Some(caps.get(1)?.start()))
        .collect();
    for block in BLOCK.find_iter(code) {
        let end = code[block.end()..]
            .iter()
            .position(|&b| b == b')')
            .map_or(code.len(), |p| block.end() + p);
        quotes.extend(string_starts(code, block.end(), end));
    }
    quotes.sort_unstable();
    quotes
        .into_iter()
        .filter_map(|open| {
            let spec = quoted(code, src, open)?;
            Some(Import {
                spec: spec.to_owned(),
                targets: resolve(spec, &used, index),
            })
        })
        .collect()
}

/// Opening quotes of the string literals in `code[from..to]`.
fn string_starts(code: &[u8], from: usize, to: usize) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut open: Option<u8> = None;
    for (i, &b) in code.iter().enumerate().take(to).skip(from) {
        match open {
            Some(q) if b == q => open = None,
            None if b == b'"' || b == b'`' => {
                starts.push(i);
                open = Some(b);
            }
            _ => {}
        }
    }
    starts
}

fn resolve(spec: &str, used: &[(&str, u32)], index: &RepoIndex<'_>) -> Vec<u32> {
    let package_dir = index.go_modules.iter().find_map(|(module, dir)| {
        let rest = spec.strip_prefix(module.as_str())?;
        if !rest.is_empty() && !rest.starts_with('/') {
            return None;
        }
        paths::join(dir, rest)
    });
    let Some(package_dir) = package_dir else {
        return Vec::new();
    };
    let is_source = |id: u32| {
        let path = index.path(id);
        path.ends_with(".go") && !path.ends_with("_test.go")
    };
    let named: Vec<u32> = files_in(used, |dir| dir == package_dir)
        .into_iter()
        .filter(|&id| is_source(id))
        .collect();
    if !named.is_empty() {
        return named;
    }
    let files = index.in_dir(&package_dir).iter().copied();
    files.filter(|&id| is_source(id)).collect()
}

#[cfg(test)]
mod tests {
    use crate::imports::testing::{edges, expect};
    use crate::imports::Lang;

    #[test]
    fn blocks_aliases_and_module_paths() {
        let repo = [
            ("go.mod", "module example.com/app\n\ngo 1.22\n"),
            ("main.go", "package main\n\nimport (\n\t\"fmt\"\n\tu \"example.com/app/internal/util\"\n\t// \"example.com/app/gone\"\n)\n\nvar s = \"import \\\"example.com/app\\\"\"\n\nfunc main() { u.Join(u.Sep) }\n"),
            ("internal/util/a.go", "package util\nimport \"example.com/app/internal/util/sub\"\nfunc Join(s string) string { return s }\n"),
            ("internal/util/b.go", "package util\nconst (\n\tSep = \"/\"\n\tDot = \".\"\n)\n"),
            ("internal/util/c.go", "package util\ntype Unused struct{}\nfunc (Unused) Other() {}\n"),
            ("internal/util/b_test.go", "package util\nimport _ \"example.com/app\"\n"),
            ("internal/util/sub/c.go", "package sub\nimport . `example.com/app/internal/util`\n"),
        ];
        let want = expect(&[
            ("main.go", "fmt", &[]),
            (
                "main.go",
                "example.com/app/internal/util",
                &["internal/util/a.go", "internal/util/b.go"],
            ),
            (
                "internal/util/a.go",
                "example.com/app/internal/util/sub",
                &["internal/util/sub/c.go"],
            ),
            ("internal/util/b_test.go", "example.com/app", &["main.go"]),
            (
                "internal/util/sub/c.go",
                "example.com/app/internal/util",
                &[
                    "internal/util/a.go",
                    "internal/util/b.go",
                    "internal/util/c.go",
                ],
            ),
        ]);
        assert_eq!(edges(Lang::Go, &repo), want);
    }
}
