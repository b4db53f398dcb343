//! Repository-relative paths: `/`-separated, no leading `./`, as in the `path` column.

/// The directory of `path` (`""` at the repository root).
pub(crate) fn parent(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// The file name of `path` without its last extension.
pub(crate) fn stem(path: &str) -> &str {
    let name = path.rfind('/').map_or(path, |i| &path[i + 1..]);
    name.rfind('.').map_or(name, |i| &name[..i])
}

/// Joins `dir` and a relative `rel`, resolving `.` and `..`; `None` if it climbs above the
/// repository root. A `rel` starting with `/` is taken relative to `dir` as well, which is
/// what PHP's `__DIR__ . '/x.php'` means.
pub(crate) fn join(dir: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in rel.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            _ => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// How many leading directory components two paths share.
fn shared_dirs(a: &str, b: &str) -> usize {
    parent(a)
        .split('/')
        .zip(parent(b).split('/'))
        .take_while(|(x, y)| x == y && !x.is_empty())
        .count()
}

/// Of several files that match one import, the one closest to the importer: most shared
/// directories, then the shallowest, then the first by path. One deterministic edge beats
/// a guess that links every same-named file.
pub(crate) fn nearest<'a>(
    importer: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates.min_by_key(|c| {
        (
            usize::MAX - shared_dirs(importer, c),
            c.matches('/').count(),
            *c,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_resolves_dots_and_refuses_to_leave_the_repository() {
        assert_eq!(join("a/b", "../c/./d.h").as_deref(), Some("a/c/d.h"));
        assert_eq!(join("", "x.py").as_deref(), Some("x.py"));
        assert_eq!(join("a", "/x.php").as_deref(), Some("a/x.php"));
        assert_eq!(join("a", "../../x"), None);
    }

    #[test]
    fn parent_and_stem() {
        assert_eq!(parent("a/b/c.py"), "a/b");
        assert_eq!(parent("c.py"), "");
        assert_eq!(stem("a/b/Foo.java"), "Foo");
        assert_eq!(stem("a/Makefile"), "Makefile");
    }

    #[test]
    fn nearest_prefers_shared_directories_then_depth_then_path() {
        let files = ["x/util.py", "a/b/util.py", "a/util.py"];
        assert_eq!(
            nearest("a/b/main.py", files.into_iter()),
            Some("a/b/util.py")
        );
        assert_eq!(nearest("a/main.py", files.into_iter()), Some("a/util.py"));
        assert_eq!(nearest("main.py", files.into_iter()), Some("a/util.py"));
    }
}
