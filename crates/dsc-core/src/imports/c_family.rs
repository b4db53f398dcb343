//! C and C++: `#include "x.h"` relative to the including file, then, like `<x.h>`, against the
//! repository's include directories.
//!
//! Include directories are not known without the build files, so any directory is one: the
//! file whose path ends with the included path and lies nearest to the includer wins. That
//! covers `include/`, `src/` and the repository root alike.

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::{paths, quoted_imports, Import, RepoIndex};

static INCLUDE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)^[ \t]*#[ \t]*(?:include|import|include_next)[ \t]*(["<])"#)
        .expect("valid regex")
});

pub(super) fn imports(
    code: &[u8],
    src: &str,
    importer: &str,
    index: &RepoIndex<'_>,
) -> Vec<Import> {
    // `#include "x.h"` is looked up next to the includer first; `<x.h>` only by suffix.
    quoted_imports(code, src, &INCLUDE, 1, |spec, caps| {
        resolve(spec, &caps[1] == b"\"", importer, index)
    })
}

fn resolve(spec: &str, local: bool, importer: &str, index: &RepoIndex<'_>) -> Option<u32> {
    let relative = || index.id(&paths::join(paths::parent(importer), spec)?);
    let relative = if local { relative() } else { None };
    relative.or_else(|| index.nearest_with_suffix(importer, spec))
}

#[cfg(test)]
mod tests {
    use crate::imports::testing::{edges, expect};
    use crate::imports::Lang;

    #[test]
    fn relative_include_dirs_and_same_named_headers() {
        let repo = [
            ("src/main.c", "#include \"util.h\"\n#include <lib/api.h>\n#include <stdio.h>\n# include \"../include/lib/api.h\"\n"),
            ("src/util.h", "#include \"config.h\"\n/* #include \"main.c\" */\n"),
            ("src/util.c", "#include \"util.h\"\nconst char *s = \"#include <lib/api.h>\";\n"),
            ("include/lib/api.h", "#include \"util.h\"  // include/lib/util.h\n"),
            ("include/lib/util.h", ""),
            ("config.h", "#include \"src/util.h\"\n"),
        ];
        let want = expect(&[
            ("src/main.c", "util.h", &["src/util.h"]),
            ("src/main.c", "lib/api.h", &["include/lib/api.h"]),
            ("src/main.c", "stdio.h", &[]),
            ("src/main.c", "../include/lib/api.h", &["include/lib/api.h"]),
            ("src/util.h", "config.h", &["config.h"]),
            ("src/util.c", "util.h", &["src/util.h"]),
            ("include/lib/api.h", "util.h", &["include/lib/util.h"]),
            ("config.h", "src/util.h", &["src/util.h"]),
        ]);
        assert_eq!(edges(Lang::C, &repo), want);
    }

    #[test]
    fn cpp_includes_with_a_cycle() {
        let repo = [
            ("a.hpp", "#include \"b.hpp\"\n"),
            ("b.hpp", "#pragma once\n#include \"a.hpp\"\n"),
        ];
        let want = expect(&[
            ("a.hpp", "b.hpp", &["b.hpp"]),
            ("b.hpp", "a.hpp", &["a.hpp"]),
        ]);
        assert_eq!(edges(Lang::Cpp, &repo), want);
    }
}
