//! JavaScript and TypeScript: `import ... from "x"`, `export ... from "x"`, `import "x"`,
//! `require("x")` and `import("x")`; relative specifiers resolved with the extension and
//! `index` lookups of Node and TypeScript. Bare specifiers name packages, not files.

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::{paths, quoted_imports, Import, RepoIndex};

static IMPORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"\b(?:(?:import|export)\s+(?:type\s+)?[\w*{}\s,$]*?\bfrom|import|require\s*\(|import\s*\()\s*(["'`])"#,
    )
    .expect("valid regex")
});

const EXTENSIONS: [&str; 10] = [
    ".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts", ".json",
];
/// TypeScript sources are imported by the name of their compiled output (`./x.js` -> `x.ts`).
const COMPILED: [(&str, &[&str]); 4] = [
    (".js", &[".ts", ".tsx"]),
    (".jsx", &[".tsx"]),
    (".mjs", &[".mts"]),
    (".cjs", &[".cts"]),
];

pub(super) fn imports(
    code: &[u8],
    src: &str,
    importer: &str,
    index: &RepoIndex<'_>,
) -> Vec<Import> {
    quoted_imports(code, src, &IMPORT, 1, |spec, _| {
        resolve(spec, importer, index)
    })
}

fn resolve(spec: &str, importer: &str, index: &RepoIndex<'_>) -> Option<u32> {
    let relative = spec == "." || spec == ".." || spec.starts_with("./") || spec.starts_with("../");
    if !relative {
        return None;
    }
    let base = paths::join(paths::parent(importer), spec)?;
    let mut candidates = vec![base.clone()];
    candidates.extend(EXTENSIONS.iter().map(|ext| format!("{base}{ext}")));
    for (compiled, sources) in COMPILED {
        if let Some(stem) = base.strip_suffix(compiled) {
            candidates.extend(sources.iter().map(|ext| format!("{stem}{ext}")));
        }
    }
    let dir = if base.is_empty() {
        String::new()
    } else {
        format!("{base}/")
    };
    candidates.extend(EXTENSIONS.iter().map(|ext| format!("{dir}index{ext}")));
    index.first_existing(candidates)
}

#[cfg(test)]
mod tests {
    use crate::imports::testing::{edges, expect};
    use crate::imports::Lang;

    #[test]
    fn static_dynamic_require_and_index_resolution() {
        let repo = [
            ("src/app.js", "import React from 'react';\nimport {\n  a,\n  b,\n} from \"./lib\";\nconst u = require('../util.js');\nconst m = await import(`./lazy`);\n// import x from './gone';\nconst s = \"require('./gone')\";\nexport * from './lib/extra';\n"),
            ("src/lib/index.js", "import './side-effect.css';\nimport '../app';\n"),
            ("src/lib/extra.jsx", ""),
            ("src/lib/side-effect.css", ""),
            ("src/lazy.mjs", ""),
            ("util.js", "/* import a from './src/app' */"),
        ];
        let want = expect(&[
            ("src/app.js", "react", &[]),
            ("src/app.js", "./lib", &["src/lib/index.js"]),
            ("src/app.js", "../util.js", &["util.js"]),
            ("src/app.js", "./lazy", &["src/lazy.mjs"]),
            ("src/app.js", "./lib/extra", &["src/lib/extra.jsx"]),
            (
                "src/lib/index.js",
                "./side-effect.css",
                &["src/lib/side-effect.css"],
            ),
            ("src/lib/index.js", "../app", &["src/app.js"]),
        ]);
        assert_eq!(edges(Lang::JavaScript, &repo), want);
    }

    #[test]
    fn typescript_imports_compiled_names_and_types() {
        let repo = [
            (
                "a.ts",
                "import type { B } from './b.js';\nexport { c } from './c';\n",
            ),
            ("b.ts", "import { A } from './a';\n"),
            ("c.d.ts", ""),
        ];
        let want = expect(&[
            ("a.ts", "./b.js", &["b.ts"]),
            ("a.ts", "./c", &["c.d.ts"]),
            ("b.ts", "./a", &["a.ts"]),
        ]);
        assert_eq!(edges(Lang::TypeScript, &repo), want);
    }
}
