//! Java and Kotlin: `import a.b.C;` and `import static a.b.C.m;` resolved through the
//! `package` each file declares (so any source root works), then by path. A wildcard
//! `import a.b.*` and the file's own package (visible without any import) link the file to the
//! files of that package that declare a type name it uses (see [`super::types`]); the types
//! found in the own package are reported as one more import, `package <name>`, present only
//! when it resolves.

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::types::{files_in, Identifiers};
use super::{Import, RepoIndex, Scope};

static JAVA_IMPORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^[ \t]*import[ \t]+(?:static[ \t]+)?(\w+(?:\.\w+)*(?:\.\*)?)[ \t]*;")
        .expect("valid regex")
});
static KOTLIN_IMPORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^[ \t]*import[ \t]+(\w+(?:\.\w+)*(?:\.\*)?)").expect("valid regex")
});
static PACKAGE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^[ \t]*package[ \t]+([\w.]+)").expect("valid regex"));
static JAVA_TYPE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:class|interface|enum|record)[ \t\n]+(\w+)").expect("valid regex")
});
/// Kotlin types, and top-level functions (unindented), which other files call unqualified.
static KOTLIN_TYPE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"\b(?:class|interface|object|typealias)[ \t\n]+(\w+)",
        r"|(?m)^(?:\w+[ \t]+)*fun[ \t]+(?:<[^>\n]*>[ \t]*)?(?:[\w.<>?, ]+\.)?(\w+)[ \t]*\(",
    ))
    .expect("valid regex")
});

/// The package a file declares.
pub(super) fn package(code: &[u8]) -> Option<String> {
    let caps = PACKAGE.captures(code)?;
    Some(String::from_utf8_lossy(&caps[1]).into_owned())
}

/// `(package, type name)` of every type a file declares (`""`: the default package).
pub(super) fn types(code: &[u8], kotlin: bool) -> Vec<(String, String)> {
    let package = package(code).unwrap_or_default();
    let pattern = if kotlin { &KOTLIN_TYPE } else { &JAVA_TYPE };
    pattern
        .captures_iter(code)
        .filter_map(|caps| {
            let name = caps.get(1).or_else(|| caps.get(2))?;
            Some((
                package.clone(),
                String::from_utf8_lossy(name.as_bytes()).into_owned(),
            ))
        })
        .collect()
}

pub(super) fn imports(
    code: &[u8],
    kotlin: bool,
    importer: &str,
    index: &RepoIndex<'_>,
) -> Vec<Import> {
    let pattern = if kotlin { &KOTLIN_IMPORT } else { &JAVA_IMPORT };
    let own_types = types(code, kotlin);
    let identifiers = Identifiers::of(code).without(own_types.iter().map(|(_, t)| t.as_str()));
    let mut used = index.types.declarations_of(Scope::JvmPackage, &identifiers);
    used.retain(|&(_, file)| Some(file) != index.id(importer));
    let mut imports: Vec<Import> = pattern
        .captures_iter(code)
        .map(|caps| {
            let spec = String::from_utf8_lossy(&caps[1]).into_owned();
            let targets = resolve(&spec, importer, &used, index);
            Import { spec, targets }
        })
        .collect();
    let own = package(code).unwrap_or_default();
    let targets = files_in(&used, |p| p == own);
    if !targets.is_empty() {
        let spec = format!("package {own}").trim_end().to_owned();
        imports.push(Import { spec, targets });
    }
    imports
}

fn resolve(spec: &str, importer: &str, used: &[(&str, u32)], index: &RepoIndex<'_>) -> Vec<u32> {
    match spec.strip_suffix(".*") {
        Some(package) if !index.declared(Scope::JvmPackage, package).is_empty() => {
            files_in(used, |p| p == package)
        }
        Some(class) => resolve_class(class, importer, index), // `import static a.b.C.*`
        None => resolve_class(spec, importer, index),
    }
}

/// `a.b.C`, `a.b.C.Inner` or `a.b.C.member`: the longest `package.Class` split that names a
/// file (file name = class name, as Java requires of public classes).
fn resolve_class(spec: &str, importer: &str, index: &RepoIndex<'_>) -> Vec<u32> {
    let parts: Vec<&str> = spec.split('.').collect();
    for k in (1..parts.len()).rev() {
        let (package, class) = (parts[..k].join("."), parts[k]);
        let declared = index
            .types
            .files_declaring(Scope::JvmPackage, &package, class);
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
            ("src/main/java/com/x/App.java", "package com.x;\nimport com.x.util.Strings;\nimport static com.x.util.Maths.max;\nimport com.x.model.*;\nimport java.util.List;\n// import com.x.Gone;\nclass App { User u; Group g; }\n"),
            ("src/main/java/com/x/util/Strings.java", "package com.x.util;\nimport com.x.App; /* cycle */\n"),
            ("src/main/java/com/x/util/Maths.java", "package com.x.util;\nString s = \"import com.x.App;\";\n"),
            ("src/main/java/com/x/model/User.java", "package com.x.model;\npublic class User { }\n"),
            ("src/main/java/com/x/model/Group.java", "package com.x.model;\nimport com.x.model.User.Role;\npublic class Group { }\n"),
            ("src/main/java/com/x/model/Admin.java", "package com.x.model;\n/** Not a Group. */\nclass Admin extends User { }\n"),
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
            (
                "src/main/java/com/x/model/Group.java",
                "package com.x.model",
                &["src/main/java/com/x/model/User.java"],
            ),
            (
                "src/main/java/com/x/model/Admin.java",
                "package com.x.model",
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
