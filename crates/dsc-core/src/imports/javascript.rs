//! JavaScript and TypeScript: `import ... from "x"`, `export ... from "x"`, `import "x"`,
//! `require("x")` and `import("x")`; relative specifiers resolved with the extension and
//! `index` lookups of Node and TypeScript. A bare specifier names a package: one declared by a
//! `package.json` of the repository (a package's tests import it by name) resolves to its entry
//! (`exports["."]`, `module`, `main`) or, when that is a build output missing from the
//! repository, to `source/index`, `src/index` or `index`; `name/sub` to `sub` in the package.
//! Other packages have no target. `tsconfig.json` path aliases are not read.

use std::sync::LazyLock;

use regex::bytes::Regex;

use serde_json::Value;

use super::{paths, quoted_imports, Import, RepoIndex, SourceFile};

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

/// A package of the repository: its name, its `package.json` and its declared entry file.
#[derive(Debug)]
pub(super) struct Package {
    name: String,
    manifest: String,
    entry: Option<String>,
}

/// The packages declared by the `package.json` files among `files` (those that parse).
pub(super) fn packages(files: &[SourceFile<'_>]) -> Vec<Package> {
    files
        .iter()
        .filter(|f| f.path == "package.json" || f.path.ends_with("/package.json"))
        .filter_map(|f| {
            let json: Value = serde_json::from_str(f.content).ok()?;
            let name = json.get("name")?.as_str()?.to_owned();
            let exports = json.get("exports").map(|e| e.get(".").unwrap_or(e));
            let entry = [exports, exports.and_then(|e| e.get("import"))]
                .into_iter()
                .chain([exports.and_then(|e| e.get("default"))])
                .chain([json.get("module"), json.get("main")])
                .find_map(|v| v?.as_str().map(str::to_owned));
            let manifest = f.path.to_owned();
            Some(Package {
                name,
                manifest,
                entry,
            })
        })
        .collect()
}

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
    if relative {
        resolve_path(&paths::join(paths::parent(importer), spec)?, index)
    } else {
        resolve_package(spec, importer, index)
    }
}

/// `name` or `name/sub` (`@scope/name/sub`) in the repository's package nearest the importer.
fn resolve_package(spec: &str, importer: &str, index: &RepoIndex<'_>) -> Option<u32> {
    let named = |p: &&Package| {
        spec.strip_prefix(p.name.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    let manifests = index
        .js_packages
        .iter()
        .filter(named)
        .map(|p| p.manifest.as_str());
    let nearest = paths::nearest(importer, manifests)?;
    let package = index.js_packages.iter().find(|p| p.manifest == nearest)?;
    let sub = spec[package.name.len()..].trim_start_matches('/');
    let declared = package.entry.as_deref().filter(|_| sub.is_empty());
    let target = if sub.is_empty() { "index" } else { sub };
    let conventional = ["source/", "src/", ""].map(|root| format!("{root}{target}"));
    let dir = paths::parent(&package.manifest);
    declared
        .into_iter()
        .map(str::to_owned)
        .chain(conventional)
        .filter_map(|rel| paths::join(dir, &rel))
        .find_map(|base| resolve_path(&base, index))
}

/// The file a path without extension or with a compiled one names (`x` -> `x.ts`,
/// `x/index.js`, `x.js` -> `x.ts`).
fn resolve_path(base: &str, index: &RepoIndex<'_>) -> Option<u32> {
    let mut candidates = vec![base.to_owned()];
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

    #[test]
    fn packages_of_the_repository_resolve_by_name() {
        let repo = [
            ("package.json", "{\"name\": \"ky\", \"author\": {\"name\": \"x\"}, \"exports\": {\".\": {\"default\": \"./distribution/index.js\"}}}"),
            ("source/index.ts", ""),
            ("source/core/constants.ts", ""),
            ("test/a.ts", "import ky from 'ky';\nimport {x} from 'ky/core/constants';\nimport 'kyx';\n"),
            ("web/package.json", "{\"name\": \"@acme/web\", \"main\": \"lib/main.js\"}"),
            ("web/lib/main.js", "import ky from 'ky';\n"),
            ("web/app.js", "require('@acme/web');\nrequire('@acme/web/lib/main.js');\n"),
            ("broken/package.json", "{\"name\": "),
        ];
        let want = expect(&[
            ("test/a.ts", "ky", &["source/index.ts"]),
            (
                "test/a.ts",
                "ky/core/constants",
                &["source/core/constants.ts"],
            ),
            ("test/a.ts", "kyx", &[]),
            ("web/lib/main.js", "ky", &["source/index.ts"]),
            ("web/app.js", "@acme/web", &["web/lib/main.js"]),
            ("web/app.js", "@acme/web/lib/main.js", &["web/lib/main.js"]),
        ]);
        assert_eq!(edges(Lang::TypeScript, &repo), want);
    }
}
