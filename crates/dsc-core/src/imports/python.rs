//! Python: `import a.b, c`, `from .x import (y, z)`, relative levels, packages, `src/` layouts.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::bytes::Regex;

use super::{paths, Import, Lang, RepoIndex, SourceFile};

static IMPORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^[ \t]*import[ \t]+((?:[^\\\n]|\\\r?\n)+)").expect("valid regex")
});
static FROM_IMPORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?m)^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import\b[ \t]*(\([^)]*\)|(?:[^\\\n]|\\\r?\n)*)",
    )
    .expect("valid regex")
});

/// Maps every dotted suffix of every module (`pkg.sub.mod`, `sub.mod`, `mod`) to its files,
/// so that `src/` layouts and nested source roots resolve without configuration.
pub(super) fn module_index(files: &[SourceFile<'_>]) -> HashMap<String, Vec<u32>> {
    let mut index: HashMap<String, Vec<u32>> = HashMap::new();
    for (id, file) in (0u32..).zip(files) {
        let Some(module) = file
            .path
            .strip_suffix(".py")
            .or_else(|| file.path.strip_suffix(".pyi"))
        else {
            continue;
        };
        let mut parts: Vec<&str> = module.split('/').collect();
        if parts.last() == Some(&"__init__") {
            parts.pop();
        }
        for k in 0..parts.len() {
            index.entry(parts[k..].join(".")).or_default().push(id);
        }
    }
    index
}

pub(super) fn imports(code: &[u8], importer: &str, index: &RepoIndex<'_>) -> Vec<Import> {
    let mut found: Vec<(usize, Import)> = Vec::new();
    for caps in IMPORT.captures_iter(code) {
        let start = caps.get(0).map_or(0, |m| m.start());
        for module in names(&caps[1]) {
            let targets = resolve_import(&module, importer, index)
                .into_iter()
                .collect();
            found.push((
                start,
                Import {
                    spec: module,
                    targets,
                },
            ));
        }
    }
    for caps in FROM_IMPORT.captures_iter(code) {
        let start = caps.get(0).map_or(0, |m| m.start());
        let module = String::from_utf8_lossy(&caps[1]).into_owned();
        let targets = resolve_from(&module, &names(&caps[2]), importer, index);
        found.push((
            start,
            Import {
                spec: module,
                targets,
            },
        ));
    }
    found.sort_by_key(|(start, _)| *start);
    found.into_iter().map(|(_, import)| import).collect()
}

/// `a.b as c, (d, e)` -> `[a.b, d, e]`; `*` names nothing to resolve.
fn names(list: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(list)
        .split(',')
        .filter_map(|item| {
            let item =
                item.trim_matches(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '\\'));
            let name = item.split_whitespace().next()?;
            (name != "*").then(|| name.to_owned())
        })
        .collect()
}

/// `import a.b.c` binds `a` but loads `a`, `a.b` and `a.b.c`: the deepest local one counts.
fn resolve_import(module: &str, importer: &str, index: &RepoIndex<'_>) -> Option<u32> {
    let parts: Vec<&str> = module.split('.').collect();
    (1..=parts.len())
        .rev()
        .find_map(|k| resolve_absolute(&parts[..k].join("."), importer, index))
}

/// An absolute module name, from any source root; inside a repository that is itself a
/// package, also under the package's own name (see [`root_package`]).
fn resolve_absolute(module: &str, importer: &str, index: &RepoIndex<'_>) -> Option<u32> {
    let nearest = |name: &str| {
        let candidates = index.python_modules.get(name)?;
        let best = paths::nearest(importer, candidates.iter().map(|&id| index.path(id)))?;
        index.id(best)
    };
    nearest(module).or_else(|| {
        let root = index.python_root.as_deref()?;
        if module == root {
            return index.id("__init__.py");
        }
        nearest(module.strip_prefix(root)?.strip_prefix('.')?)
    })
}

/// The import name of a repository whose root is a package (`__init__.py` at the root, as a
/// stdlib or site-packages directory read as a repository): the directory name is not in the
/// paths, so it is inferred as the first component that most often prefixes otherwise
/// unresolvable imports whose remainder is a module of the repository.
pub(super) fn root_package(
    files: &[SourceFile<'_>],
    blanked: &[Option<Vec<u8>>],
    modules: &HashMap<String, Vec<u32>>,
) -> Option<String> {
    if !files.iter().any(|f| f.path == "__init__.py") {
        return None;
    }
    let mut votes: HashMap<String, usize> = HashMap::new();
    let mut vote = |dotted: &str| {
        if let Some((first, rest)) = dotted.split_once('.') {
            if !modules.contains_key(dotted) && modules.contains_key(rest) {
                *votes.entry(first.to_owned()).or_default() += 1;
            }
        }
    };
    for (file, code) in files.iter().zip(blanked) {
        let (Some(Lang::Python), Some(code)) = (file.lang, code) else {
            continue;
        };
        for caps in IMPORT.captures_iter(code) {
            names(&caps[1]).iter().for_each(|m| vote(m));
        }
        for caps in FROM_IMPORT.captures_iter(code) {
            let module = String::from_utf8_lossy(&caps[1]);
            if !module.starts_with('.') {
                vote(&module);
                names(&caps[2])
                    .iter()
                    .for_each(|n| vote(&format!("{module}.{n}")));
            }
        }
    }
    let best = votes
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))?;
    Some(best.0)
}

/// `from M import a, b`: a name that is a submodule (`M.a`) is a dependency of its own;
/// otherwise the name comes from `M` itself.
fn resolve_from(module: &str, names: &[String], importer: &str, index: &RepoIndex<'_>) -> Vec<u32> {
    let level = module.bytes().take_while(|&b| b == b'.').count();
    let name = &module[level..];
    let package = match level {
        0 => None,
        _ => match relative_package(level, importer) {
            Some(dir) => Some(dir),
            None => return Vec::new(), // climbs above the repository
        },
    };
    let find = |dotted: &str| match package {
        Some(dir) => find_relative(dir, dotted, index),
        None => resolve_absolute(dotted, importer, index),
    };
    let mut targets: Vec<u32> = Vec::new();
    let mut needs_module = names.is_empty();
    for n in names {
        let dotted = if name.is_empty() {
            n.clone()
        } else {
            format!("{name}.{n}")
        };
        match find(&dotted) {
            Some(t) => targets.push(t),
            None => needs_module = true,
        }
    }
    if needs_module {
        targets.extend(find(name));
    }
    targets
}

/// The package directory a relative import of `level` dots points at (one dot: the
/// importer's own directory); `None` if it climbs above the repository root.
fn relative_package(level: usize, importer: &str) -> Option<&str> {
    let mut dir = paths::parent(importer);
    for _ in 1..level {
        if dir.is_empty() {
            return None;
        }
        dir = paths::parent(dir);
    }
    Some(dir)
}

/// `dotted` below `dir`, as a module file or a package's `__init__`; empty `dotted` is the
/// package `dir` itself.
fn find_relative(dir: &str, dotted: &str, index: &RepoIndex<'_>) -> Option<u32> {
    let base = paths::join(dir, &dotted.replace('.', "/"))?;
    let prefix = if base.is_empty() {
        String::new()
    } else {
        format!("{base}/")
    };
    let candidates = [
        format!("{base}.py"),
        format!("{prefix}__init__.py"),
        format!("{base}.pyi"),
        format!("{prefix}__init__.pyi"),
    ];
    index.first_existing(candidates.into_iter().filter(|c| !c.starts_with('.')))
}

#[cfg(test)]
mod tests {
    use crate::imports::testing::{edges, expect};
    use crate::imports::Lang;

    #[test]
    fn relative_levels_packages_and_same_named_modules() {
        let repo = [
            ("pkg/__init__.py", "from .core import run\n"),
            (
                "pkg/core.py",
                "from . import util\nfrom ..other import x\nimport os\n",
            ),
            ("pkg/util.py", "from pkg.sub import helpers, missing_name\n"),
            ("pkg/sub/__init__.py", ""),
            (
                "pkg/sub/helpers.py",
                "from ....pkg import core  # climbs out: unresolved\n",
            ),
            ("pkg/sub/util.py", "from .. import util\n"),
            (
                "main.py",
                "import pkg.sub.helpers as h, json\nfrom pkg import (\n    core,\n    util,\n)\n",
            ),
        ];
        let got = edges(Lang::Python, &repo);
        let want = expect(&[
            ("pkg/__init__.py", ".core", &["pkg/core.py"]),
            ("pkg/core.py", ".", &["pkg/util.py"]),
            ("pkg/core.py", "..other", &[]),
            ("pkg/core.py", "os", &[]),
            (
                "pkg/util.py",
                "pkg.sub",
                &["pkg/sub/__init__.py", "pkg/sub/helpers.py"],
            ),
            ("pkg/sub/helpers.py", "....pkg", &[]),
            ("pkg/sub/util.py", "..", &["pkg/util.py"]),
            ("main.py", "pkg.sub.helpers", &["pkg/sub/helpers.py"]),
            ("main.py", "json", &[]),
            ("main.py", "pkg", &["pkg/core.py", "pkg/util.py"]),
        ]);
        assert_eq!(got, want);
    }

    #[test]
    fn imports_in_comments_and_strings_do_not_count() {
        let repo = [
            (
                "a.py",
                "# import b\n'''\nimport b\n'''\ns = \"from b import x\"\nimport c\n",
            ),
            ("b.py", ""),
            ("c.py", ""),
        ];
        assert_eq!(
            edges(Lang::Python, &repo),
            expect(&[("a.py", "c", &["c.py"])])
        );
    }

    #[test]
    fn src_layouts_cycles_and_sibling_scripts() {
        let repo = [
            ("src/app/a.py", "from app.b import f\n"),
            ("src/app/b.py", "from app import a\n"),
            ("tools/run.py", "import helper\n"),
            ("tools/helper.py", ""),
            ("other/helper.py", ""),
        ];
        let want = expect(&[
            ("src/app/a.py", "app.b", &["src/app/b.py"]),
            ("src/app/b.py", "app", &["src/app/a.py"]),
            ("tools/run.py", "helper", &["tools/helper.py"]),
        ]);
        assert_eq!(edges(Lang::Python, &repo), want);
    }

    #[test]
    fn a_repository_that_is_a_package_answers_to_its_own_name() {
        let repo = [
            ("__init__.py", ""),
            ("mime/__init__.py", ""),
            (
                "mime/text.py",
                "from email.mime.base import MIMEBase\nimport email, os\n",
            ),
            ("mime/base.py", ""),
        ];
        let want = expect(&[
            ("mime/text.py", "email.mime.base", &["mime/base.py"]),
            ("mime/text.py", "email", &["__init__.py"]),
            ("mime/text.py", "os", &[]),
        ]);
        assert_eq!(edges(Lang::Python, &repo), want);
    }
}
