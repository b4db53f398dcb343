//! Rust: `mod m;` declarations and `use` paths that start at `crate::`, `self::`, `super::`
//! or name a child module; brace groups (`use crate::{a::X, b::{c, d}}`) are expanded.
//! A path that starts with the name of a crate of the repository (its `Cargo.toml`: tests,
//! examples and sibling crates of a workspace name it so) resolves inside that crate; other
//! crates' paths have no target.

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::{paths, Import, RepoIndex, SourceFile};

/// Optional attributes and visibility before the item, as in `#[cfg(test)] pub(crate) mod x;`.
const ITEM_PREFIX: &str = r"(?m)^[ \t]*(?:#\[[^\]\n]*\][ \t]*)*(?:pub(?:\([^)]*\))?[ \t]+)?";

static MOD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"{ITEM_PREFIX}mod[ \t]+(\w+)[ \t]*;")).expect("valid regex")
});
static USE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r"{ITEM_PREFIX}use[ \t]+([^;]+);")).expect("valid regex"));
/// A `Cargo.toml` section header, and a `key = "value"` line.
static SECTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^[ \t]*\[([\w.-]+)\][ \t]*$").expect("valid regex"));
static KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)^[ \t]*(name|path)[ \t]*=[ \t]*"([^"\n]*)""#).expect("valid regex")
});

/// A library crate of the repository: the name `use` paths start with, and its root file.
#[derive(Debug)]
pub(super) struct Crate {
    name: String,
    root: String,
}

/// The library crates declared by the `Cargo.toml` files among `files`.
pub(super) fn crates(files: &[SourceFile<'_>]) -> Vec<Crate> {
    files
        .iter()
        .filter(|f| f.path == "Cargo.toml" || f.path.ends_with("/Cargo.toml"))
        .filter_map(|f| library(f.path, f.content))
        .collect()
}

/// `[lib] name` or else `[package] name` (dashes become underscores, as in `use`), and
/// `[lib] path` or else `src/lib.rs`.
fn library(manifest: &str, content: &str) -> Option<Crate> {
    let (mut package_name, mut lib_name, mut lib_path) = (None, None, None);
    let text = content.as_bytes();
    let sections: Vec<(usize, &[u8])> = SECTION
        .captures_iter(text)
        .filter_map(|c| Some((c.get(0)?.end(), c.get(1)?.as_bytes())))
        .collect();
    for caps in KEY.captures_iter(text) {
        let (Some(key), Some(value)) = (caps.get(1), caps.get(2)) else {
            continue;
        };
        let section = sections
            .iter()
            .take_while(|(end, _)| *end <= key.start())
            .last()
            .map(|(_, name)| *name);
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match (section, key.as_bytes()) {
            (Some(b"package"), b"name") => package_name = package_name.or(Some(value)),
            (Some(b"lib"), b"name") => lib_name = lib_name.or(Some(value)),
            (Some(b"lib"), b"path") => lib_path = lib_path.or(Some(value)),
            _ => {}
        }
    }
    let name = lib_name.or(package_name)?.replace('-', "_");
    let root = paths::join(
        paths::parent(manifest),
        lib_path.as_deref().unwrap_or("src/lib.rs"),
    )?;
    Some(Crate { name, root })
}

pub(super) fn imports(code: &[u8], importer: &str, index: &RepoIndex<'_>) -> Vec<Import> {
    let here = module_dir(importer);
    let mut found: Vec<(usize, Import)> = Vec::new();
    for caps in MOD.captures_iter(code) {
        let name = String::from_utf8_lossy(&caps[1]);
        let candidates = [format!("{here}/{name}.rs"), format!("{here}/{name}/mod.rs")];
        let targets =
            index.first_existing(candidates.map(|c| c.trim_start_matches('/').to_owned()));
        let import = Import {
            spec: format!("mod {name}"),
            targets: targets.into_iter().collect(),
        };
        found.push((caps.get(0).map_or(0, |m| m.start()), import));
    }
    for caps in USE.captures_iter(code) {
        let tree = String::from_utf8_lossy(&caps[1]);
        let targets = expand(&tree)
            .iter()
            .filter_map(|path| resolve(path, importer, &here, index))
            .collect();
        let spec = tree.split_whitespace().collect::<Vec<_>>().join(" ");
        found.push((
            caps.get(0).map_or(0, |m| m.start()),
            Import { spec, targets },
        ));
    }
    found.sort_by_key(|(start, _)| *start);
    found.into_iter().map(|(_, import)| import).collect()
}

/// `a::{b, c::{d, e as f}, self}` -> `[a::b, a::c::d, a::c::e, a]`, as segment lists.
fn expand(tree: &str) -> Vec<Vec<String>> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let leaf = tree.split_whitespace().next().unwrap_or("");
        let segments: Vec<String> = leaf
            .split("::")
            .filter(|s| !s.is_empty() && *s != "*")
            .map(str::to_owned)
            .collect();
        return vec![segments];
    };
    let prefix: Vec<String> = tree[..open]
        .split("::")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let inner = tree[open + 1..].trim_end();
    let inner = inner.strip_suffix('}').unwrap_or(inner);
    split_top_level(inner)
        .into_iter()
        .flat_map(expand)
        .map(|rest| {
            let rest = rest.into_iter().filter(|s| s != "self");
            prefix.iter().cloned().chain(rest).collect()
        })
        .collect()
}

/// Splits on the commas that are not inside nested braces.
fn split_top_level(s: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0usize, 0);
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

fn resolve(path: &[String], importer: &str, here: &str, index: &RepoIndex<'_>) -> Option<u32> {
    let first = path.first()?.as_str();
    let supers = path.iter().take_while(|s| *s == "super").count();
    let (base, rest, min_depth) = match first {
        "crate" => (crate_root(importer, index), &path[1..], 0),
        "self" => (here.to_owned(), &path[1..], 0),
        "super" => {
            let mut dir = here;
            for _ in 0..supers {
                dir = paths::parent(dir);
            }
            (dir.to_owned(), &path[supers..], 0)
        }
        // A child module of the current one, else a crate of the repository or elsewhere.
        _ => {
            let child = (1..=path.len())
                .rev()
                .find_map(|k| module_file(here, &path[..k], index));
            return child.or_else(|| in_crate(path, importer, index));
        }
    };
    (min_depth..=rest.len())
        .rev()
        .find_map(|k| module_file(&base, &rest[..k], index))
}

/// `name::a::b` inside the repository's crate `name` nearest to the importer.
fn in_crate(path: &[String], importer: &str, index: &RepoIndex<'_>) -> Option<u32> {
    let (name, rest) = path.split_first()?;
    let roots = index.rust_crates.iter().filter(|c| &c.name == name);
    let root = paths::nearest(importer, roots.map(|c| c.root.as_str()))?;
    let base = paths::parent(root);
    (1..=rest.len())
        .rev()
        .find_map(|k| module_file(base, &rest[..k], index))
        .or_else(|| index.id(root))
}

/// The file of the module at `base/segments` (`x.rs`, `x/mod.rs`, or a crate root).
fn module_file(base: &str, segments: &[String], index: &RepoIndex<'_>) -> Option<u32> {
    let dir = paths::join(base, &segments.join("/"))?;
    let inside = |name: &str| {
        if dir.is_empty() {
            name.to_owned()
        } else {
            format!("{dir}/{name}")
        }
    };
    let own = (!dir.is_empty()).then(|| format!("{dir}.rs"));
    let candidates = own
        .into_iter()
        .chain(["mod.rs", "lib.rs", "main.rs"].map(inside));
    index.first_existing(candidates)
}

/// The directory that holds the importer's child modules: `src/a/b.rs` -> `src/a/b`, while
/// `mod.rs`, `lib.rs` and `main.rs` own their directory.
fn module_dir(importer: &str) -> String {
    let dir = paths::parent(importer);
    match paths::stem(importer) {
        "mod" | "lib" | "main" => dir.to_owned(),
        stem if dir.is_empty() => stem.to_owned(),
        stem => format!("{dir}/{stem}"),
    }
}

/// The nearest enclosing directory with a `lib.rs` or `main.rs`.
fn crate_root(importer: &str, index: &RepoIndex<'_>) -> String {
    let mut dir = paths::parent(importer);
    loop {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        if index
            .first_existing([format!("{prefix}lib.rs"), format!("{prefix}main.rs")])
            .is_some()
            || dir.is_empty()
        {
            return dir.to_owned();
        }
        dir = paths::parent(dir);
    }
}

#[cfg(test)]
mod tests {
    use super::expand;
    use crate::imports::testing::{edges, expect};
    use crate::imports::Lang;

    #[test]
    fn use_trees_expand_into_paths() {
        let got = expand("crate::{a::X, b::{c, d as e}, self}");
        let nested = expand("a::{b::{c}}");
        assert_eq!(nested, vec![vec!["a", "b", "c"]]);
        let want: Vec<Vec<&str>> = vec![
            vec!["crate", "a", "X"],
            vec!["crate", "b", "c"],
            vec!["crate", "b", "d"],
            vec!["crate"],
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn mods_crate_super_and_child_paths() {
        let repo = [
            ("src/lib.rs", "pub mod net;\nmod util;\n#[cfg(test)] mod tests;\nuse std::io;\nuse net::Client;\n// mod gone;\n"),
            ("src/net/mod.rs", "mod tcp;\nuse crate::util::{self, helper};\nuse super::util::helper as h;\n"),
            ("src/net/tcp.rs", "use super::super::util;\nuse super::Client;\nfn f<'a>(x: &'a str) -> &'a str { x }\nuse crate::{\n    net::tcp,\n};\n"),
            ("src/util.rs", "const S: &str = \"use crate::net;\";\n"),
            ("Cargo.toml", "[package]\nname = \"my-lib\"\n\n[dependencies]\nserde = { version = \"1\" }\n"),
            ("tests/api.rs", "use my_lib::net::Client;\nuse my_lib::Thing;\nuse serde::Serialize;\n"),
            ("helper/Cargo.toml", "[package]\nname = \"helper-crate\"\n[lib]\nname = \"helper\"\npath = \"helper.rs\"\n"),
            ("helper/helper.rs", "use my_lib::util;\n"),
            ("helper/user.rs", "use helper::X;\n"),
        ];
        let want = expect(&[
            ("src/lib.rs", "mod net", &["src/net/mod.rs"]),
            ("src/lib.rs", "mod util", &["src/util.rs"]),
            ("src/lib.rs", "mod tests", &[]),
            ("src/lib.rs", "std::io", &[]),
            ("src/lib.rs", "net::Client", &["src/net/mod.rs"]),
            ("src/net/mod.rs", "mod tcp", &["src/net/tcp.rs"]),
            (
                "src/net/mod.rs",
                "crate::util::{self, helper}",
                &["src/util.rs"],
            ),
            (
                "src/net/mod.rs",
                "super::util::helper as h",
                &["src/util.rs"],
            ),
            ("src/net/tcp.rs", "super::super::util", &["src/util.rs"]),
            ("src/net/tcp.rs", "super::Client", &["src/net/mod.rs"]),
            ("src/net/tcp.rs", "crate::{ net::tcp, }", &[]),
            ("tests/api.rs", "my_lib::net::Client", &["src/net/mod.rs"]),
            ("tests/api.rs", "my_lib::Thing", &["src/lib.rs"]),
            ("tests/api.rs", "serde::Serialize", &[]),
            ("helper/helper.rs", "my_lib::util", &["src/util.rs"]),
            ("helper/user.rs", "helper::X", &["helper/helper.rs"]),
        ]);
        assert_eq!(edges(Lang::Rust, &repo), want);
    }
}
