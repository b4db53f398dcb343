//! PHP: `require`/`include` (and `_once`) of a path, and `use` of namespaced classes, resolved
//! through the `namespace` each file declares, then PSR-4 style by path.

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::{paths, quoted, Import, RepoIndex, Scope};

static REQUIRE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\b(?:require|include)(?:_once)?\b[^;'"]*?(["'])"#).expect("valid regex")
});
static USE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^[ \t]*use[ \t]+([^;]+);").expect("valid regex"));
static NAMESPACE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^[ \t]*namespace[ \t]+([\w\\]+)[ \t]*[;{]").expect("valid regex")
});

/// The namespace a file declares.
pub(super) fn namespace(code: &[u8]) -> Option<String> {
    let caps = NAMESPACE.captures(code)?;
    Some(String::from_utf8_lossy(&caps[1]).into_owned())
}

pub(super) fn imports(
    code: &[u8],
    src: &str,
    importer: &str,
    index: &RepoIndex<'_>,
) -> Vec<Import> {
    let mut found: Vec<(usize, Import)> = Vec::new();
    for caps in REQUIRE.captures_iter(code) {
        let Some(open) = caps.get(1).map(|m| m.start()) else {
            continue;
        };
        let Some(spec) = quoted(code, src, open) else {
            continue;
        };
        let targets = resolve_path(spec, importer, index).into_iter().collect();
        found.push((
            open,
            Import {
                spec: spec.to_owned(),
                targets,
            },
        ));
    }
    let own_namespace = namespace(code);
    for caps in USE.captures_iter(code) {
        let statement = String::from_utf8_lossy(&caps[1]);
        let targets = used_names(&statement)
            .iter()
            .filter_map(|name| resolve_class(name, own_namespace.as_deref(), importer, index))
            .collect();
        let spec = statement.split_whitespace().collect::<Vec<_>>().join(" ");
        found.push((
            caps.get(0).map_or(0, |m| m.start()),
            Import { spec, targets },
        ));
    }
    found.sort_by_key(|(start, _)| *start);
    found.into_iter().map(|(_, import)| import).collect()
}

/// `__DIR__ . '/x.php'` and `'x.php'` are both relative to the including file; the latter
/// falls back to the repository root (PHP's include path).
fn resolve_path(spec: &str, importer: &str, index: &RepoIndex<'_>) -> Option<u32> {
    let near = paths::join(paths::parent(importer), spec);
    let root = (!spec.starts_with('/'))
        .then(|| paths::join("", spec))
        .flatten();
    index.first_existing(near.into_iter().chain(root))
}

/// `function A\f`, `A\B, C as D`, `A\{B, C\D}` -> `[A\f]`, `[A\B, C]`, `[A\B, A\C\D]`.
fn used_names(statement: &str) -> Vec<String> {
    let statement = statement.trim();
    let statement = ["function ", "const "]
        .iter()
        .find_map(|kw| statement.strip_prefix(kw))
        .unwrap_or(statement);
    let (prefix, items) = match statement.split_once('{') {
        Some((prefix, items)) => (
            prefix.trim().trim_end_matches('\\'),
            items.trim_end_matches('}'),
        ),
        None => ("", statement),
    };
    items
        .split(',')
        .filter_map(|item| item.split_whitespace().next())
        .map(|item| {
            if prefix.is_empty() {
                item.to_owned()
            } else {
                format!("{prefix}\\{item}")
            }
        })
        .collect()
}

/// A class by its declared namespace and file name, then by the trailing components of its
/// name as a path (PSR-4 maps a namespace prefix to any directory); an unqualified name (a
/// trait `use` inside a class) is also looked up in the file's own namespace.
fn resolve_class(
    name: &str,
    own: Option<&str>,
    importer: &str,
    index: &RepoIndex<'_>,
) -> Option<u32> {
    let name = name.trim_start_matches('\\');
    let (namespace, class) = name.rsplit_once('\\').unwrap_or(("", name));
    let declared = |ns: &str| {
        let files = index.declared(Scope::PhpNamespace, ns).iter().copied();
        files
            .into_iter()
            .find(|&id| paths::stem(index.path(id)) == class)
    };
    if let Some(id) = declared(namespace) {
        return Some(id);
    }
    let parts: Vec<&str> = name.split('\\').collect();
    let by_path = (0..parts.len().saturating_sub(1)).find_map(|k| {
        index.nearest_with_suffix(importer, &format!("{}.php", parts[k..].join("/")))
    });
    by_path.or_else(|| own.filter(|_| namespace.is_empty()).and_then(declared))
}

#[cfg(test)]
mod tests {
    use crate::imports::testing::{edges, expect};
    use crate::imports::Lang;

    #[test]
    fn requires_namespaced_uses_groups_and_traits() {
        let repo = [
            ("index.php", "<?php\nrequire_once __DIR__ . '/src/bootstrap.php';\ninclude 'lib/helpers.php';\n# require 'gone.php';\nuse App\\Models\\{User, Post as P};\nuse Symfony\\Component\\Yaml;\n"),
            ("src/bootstrap.php", "<?php\nrequire('../lib/helpers.php');\n$s = \"require 'index.php';\";\n"),
            ("lib/helpers.php", ""),
            ("app/Models/User.php", "<?php\nnamespace App\\Models;\nclass User {\n    use HasName;\n}\n"),
            ("app/Models/HasName.php", "<?php\nnamespace App\\Models;\n"),
            ("app/Models/Post.php", "<?php\nnamespace App\\Models;\nuse function App\\Support\\format;\n"),
        ];
        let want = expect(&[
            ("index.php", "/src/bootstrap.php", &["src/bootstrap.php"]),
            ("index.php", "lib/helpers.php", &["lib/helpers.php"]),
            (
                "index.php",
                "App\\Models\\{User, Post as P}",
                &["app/Models/User.php", "app/Models/Post.php"],
            ),
            ("index.php", "Symfony\\Component\\Yaml", &[]),
            (
                "src/bootstrap.php",
                "../lib/helpers.php",
                &["lib/helpers.php"],
            ),
            (
                "app/Models/User.php",
                "HasName",
                &["app/Models/HasName.php"],
            ),
            ("app/Models/Post.php", "function App\\Support\\format", &[]),
        ]);
        assert_eq!(edges(Lang::Php, &repo), want);
    }
}
