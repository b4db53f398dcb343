//! Go: `import "m/p"`, `import alias "m/p"` and `import ( ... )` blocks; an import path under
//! a module path declared by a `go.mod` of the repository names every non-test `.go` file of
//! that package's directory.

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::{paths, quoted, Import, RepoIndex, SourceFile};

static SINGLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)^[ \t]*import[ \t]+(?:[\w.]+[ \t]+)?(["`])"#).expect("valid regex")
});
static BLOCK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^[ \t]*import[ \t]*\(").expect("valid regex"));
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

pub(super) fn imports(code: &[u8], src: &str, index: &RepoIndex<'_>) -> Vec<Import> {
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
                targets: resolve(spec, index),
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

fn resolve(spec: &str, index: &RepoIndex<'_>) -> Vec<u32> {
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
    index
        .in_dir(&package_dir)
        .iter()
        .copied()
        .filter(|&id| {
            let path = index.path(id);
            path.ends_with(".go") && !path.ends_with("_test.go")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::imports::testing::{edges, expect};
    use crate::imports::Lang;

    #[test]
    fn blocks_aliases_and_module_paths() {
        let repo = [
            ("go.mod", "module example.com/app\n\ngo 1.22\n"),
            ("main.go", "package main\n\nimport (\n\t\"fmt\"\n\tu \"example.com/app/internal/util\"\n\t// \"example.com/app/gone\"\n)\n\nvar s = \"import \\\"example.com/app\\\"\"\n"),
            ("internal/util/a.go", "package util\nimport \"example.com/app/internal/util/sub\"\n"),
            ("internal/util/b.go", "package util\n"),
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
                &["internal/util/a.go", "internal/util/b.go"],
            ),
        ]);
        assert_eq!(edges(Lang::Go, &repo), want);
    }
}
