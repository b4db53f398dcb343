//! Java and Kotlin: `import a.b.C;`, `import static a.b.C.m;`, `import a.b.*`, resolved
//! through the `package` each file declares (so any source root works), then by path.

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::{paths, Import, RepoIndex, Scope};

static JAVA_IMPORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^[ \t]*import[ \t]+(?:static[ \t]+)?(\w+(?:\.\w+)*(?:\.\*)?)[ \t]*;")
        .expect("valid regex")
});
static KOTLIN_IMPORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^[ \t]*import[ \t]+(\w+(?:\.\w+)*(?:\.\*)?)").expect("valid regex")
});
static PACKAGE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^[ \t]*package[ \t]+([\w.]+)").expect("valid regex"));

/// The package a file declares.
pub(super) fn package(code: &[u8]) -> Option<String> {
    let caps = PACKAGE.captures(code)?;
    Some(String::from_utf8_lossy(&caps[1]).into_owned())
}

pub(super) fn imports(
    code: &[u8],
    kotlin: bool,
    importer: &str,
    index: &RepoIndex<'_>,
) -> Vec<Import> {
    let pattern = if kotlin { &KOTLIN_IMPORT } else { &JAVA_IMPORT };
    pattern
        .captures_iter(code)
        .map(|caps| {
            let spec = String::from_utf8_lossy(&caps[1]).into_owned();
            let targets = resolve(&spec, importer, index);
            Import { spec, targets }
        })
        .collect()
}

fn resolve(spec: &str, importer: &str, index: &RepoIndex<'_>) -> Vec<u32> {
    match spec.strip_suffix(".*") {
        Some(package) => {
            let members = index.declared(Scope::JvmPackage, package);
            if members.is_empty() {
                resolve_class(package, importer, index) // `import static a.b.C.*`
            } else {
                members.to_vec()
            }
        }
        None => resolve_class(spec, importer, index),
    }
}

/// `a.b.C`, `a.b.C.Inner` or `a.b.C.member`: the longest `package.Class` split that names a
/// file (file name = class name, as Java requires of public classes).
fn resolve_class(spec: &str, importer: &str, index: &RepoIndex<'_>) -> Vec<u32> {
    let parts: Vec<&str> = spec.split('.').collect();
    for k in (1..parts.len()).rev() {
        let (package, class) = (parts[..k].join("."), parts[k]);
        let declared: Vec<u32> = index
            .declared(Scope::JvmPackage, &package)
            .iter()
            .copied()
            .filter(|&id| paths::stem(index.path(id)) == class)
            .collect();
        if !declared.is_empty() {
            return declared;
        }
        let path = format!("{}/{class}", package.replace('.', "/"));
        for ext in [".java", ".kt"] {
            if let Some(id) = index.nearest_with_suffix(importer, &format!("{path}{ext}")) {
                return vec![id];
            }
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use crate::imports::testing::{edges, expect};
    use crate::imports::Lang;

    #[test]
    fn java_classes_static_and_wildcard_imports() {
        let repo = [
            ("src/main/java/com/x/App.java", "package com.x;\nimport com.x.util.Strings;\nimport static com.x.util.Maths.max;\nimport com.x.model.*;\nimport java.util.List;\n// import com.x.Gone;\n"),
            ("src/main/java/com/x/util/Strings.java", "package com.x.util;\nimport com.x.App; /* cycle */\n"),
            ("src/main/java/com/x/util/Maths.java", "package com.x.util;\nString s = \"import com.x.App;\";\n"),
            ("src/main/java/com/x/model/User.java", "package com.x.model;\n"),
            ("src/main/java/com/x/model/Group.java", "package com.x.model;\nimport com.x.model.User.Role;\n"),
            ("src/main/java/com/y/util/Strings.java", "package com.y.util;\n"),
        ];
        let want = expect(&[
            (
                "src/main/java/com/x/App.java",
                "com.x.util.Strings",
                &["src/main/java/com/x/util/Strings.java"],
            ),
            (
                "src/main/java/com/x/App.java",
                "com.x.util.Maths.max",
                &["src/main/java/com/x/util/Maths.java"],
            ),
            (
                "src/main/java/com/x/App.java",
                "com.x.model.*",
                &[
                    "src/main/java/com/x/model/User.java",
                    "src/main/java/com/x/model/Group.java",
                ],
            ),
            ("src/main/java/com/x/App.java", "java.util.List", &[]),
            (
                "src/main/java/com/x/util/Strings.java",
                "com.x.App",
                &["src/main/java/com/x/App.java"],
            ),
            (
                "src/main/java/com/x/model/Group.java",
                "com.x.model.User.Role",
                &["src/main/java/com/x/model/User.java"],
            ),
        ]);
        assert_eq!(edges(Lang::Java, &repo), want);
    }

    #[test]
    fn kotlin_imports_without_semicolons_and_aliases() {
        let repo = [
            (
                "app/Main.kt",
                "package app\n\nimport app.data.Repo as R\nimport kotlinx.coroutines.*\n",
            ),
            (
                "app/data/Repo.kt",
                "package app.data\n/* /* nested */ import app.Main */\n",
            ),
        ];
        let want = expect(&[
            ("app/Main.kt", "app.data.Repo", &["app/data/Repo.kt"]),
            ("app/Main.kt", "kotlinx.coroutines.*", &[]),
        ]);
        assert_eq!(edges(Lang::Kotlin, &repo), want);
    }
}
