//! C#: a file depends on the files that declare the type names it uses, looked up in the
//! namespaces it imports (`using A.B;`) and in the namespaces it is declared in and their
//! parents (which C# puts in scope without a `using`). `using static A.B.C;` and
//! `using X = A.B.C;` name one type, resolved to the files that declare it.
//!
//! The types found through the file's own namespaces are reported as one more import whose
//! spec is `namespace <name>`, present only when it resolves (it is not a statement of the
//! file, so it never counts as unresolved).

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::types::{files_in, Identifiers};
use super::{Import, RepoIndex, Scope};

static USING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?m)^[ \t]*(?:global[ \t]+)?using[ \t]+(static[ \t]+|\w+[ \t]*=[ \t]*)?([\w.]+)[ \t]*;",
    )
    .expect("valid regex")
});
static NAMESPACE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^[ \t]*namespace[ \t]+([\w.]+)").expect("valid regex"));
static TYPE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"\b(?:class|struct|interface|enum|record)\s+(?:(?:class|struct)\s+)?@?(\w+)",
        r"|\bdelegate\s+[\w.<>\[\],?\s]+?\b(\w+)\s*(?:<[^>;]*>\s*)?\(",
    ))
    .expect("valid regex")
});

/// Namespaces a file declares (block-scoped or file-scoped).
fn namespaces(code: &[u8]) -> Vec<(usize, String)> {
    NAMESPACE
        .captures_iter(code)
        .filter_map(|caps| {
            let m = caps.get(1)?;
            Some((
                m.start(),
                String::from_utf8_lossy(m.as_bytes()).into_owned(),
            ))
        })
        .collect()
}

/// `(namespace, type name)` of every type a file declares: a type belongs to the last
/// namespace declared before it (the global namespace `""` before any).
pub(super) fn types(code: &[u8]) -> Vec<(String, String)> {
    let namespaces = namespaces(code);
    TYPE.captures_iter(code)
        .filter_map(|caps| {
            let name = caps.get(1).or_else(|| caps.get(2))?;
            let namespace = namespaces
                .iter()
                .take_while(|(at, _)| *at < name.start())
                .last()
                .map_or("", |(_, ns)| ns.as_str());
            let name = String::from_utf8_lossy(name.as_bytes()).into_owned();
            Some((namespace.to_owned(), name))
        })
        .collect()
}

pub(super) fn imports(code: &[u8], importer: &str, index: &RepoIndex<'_>) -> Vec<Import> {
    let own_types = types(code);
    let identifiers = Identifiers::of(code).without(own_types.iter().map(|(_, t)| t.as_str()));
    let mut used = index
        .types
        .declarations_of(Scope::CsNamespace, &identifiers);
    used.retain(|&(_, file)| Some(file) != index.id(importer));
    let mut imports: Vec<Import> = USING
        .captures_iter(code)
        .map(|caps| {
            let spec = String::from_utf8_lossy(&caps[2]).into_owned();
            let targets = match caps.get(1) {
                Some(_) => resolve_type(&spec, index),
                None => files_in(&used, |ns| ns == spec),
            };
            Import { spec, targets }
        })
        .collect();
    for (_, own) in namespaces(code) {
        let targets = files_in(&used, |ns| ns.is_empty() || encloses(ns, &own));
        if !targets.is_empty() {
            let spec = format!("namespace {own}");
            imports.push(Import { spec, targets });
        }
    }
    imports
}

/// `outer` is `inner` or one of its parents (`A` and `A.B` enclose `A.B`, `A.Bc` does not).
fn encloses(outer: &str, inner: &str) -> bool {
    inner
        .strip_prefix(outer)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// `A.B.C`: the files that declare type `C` in namespace `A.B`.
fn resolve_type(spec: &str, index: &RepoIndex<'_>) -> Vec<u32> {
    let Some((namespace, name)) = spec.rsplit_once('.') else {
        return Vec::new();
    };
    index
        .types
        .files_declaring(Scope::CsNamespace, namespace, name)
}

#[cfg(test)]
mod tests {
    use crate::imports::testing::{edges, expect};
    use crate::imports::Lang;

    #[test]
    fn usings_link_the_files_of_the_types_used_and_own_namespaces_are_in_scope() {
        let repo = [
            ("App/Program.cs", "using System;\nusing App.Models;\nusing static App.Util.Maths;\nusing M = App.Models.User;\nnamespace App { class Program { User u; } }\n"),
            ("App/Models/User.cs", "namespace App.Models;\n// using App.Util;\nusing (var f = Open()) { }\npublic record User(Group G);\n"),
            ("App/Models/Group.cs", "namespace App.Models\n{\n    var s = \"using App.Util; Maths\";\n    public partial class Group { }\n}\n"),
            ("App/Models/Group.More.cs", "namespace App.Models { partial class Group { } }\n"),
            ("App/Util/Maths.cs", "namespace App.Util {\n  using App;\n  static class Maths { Format<int> f; Program p; }\n}\n"),
            ("App/Util/Strings.cs", "namespace App.Util { public delegate string Format<T>(T x); }\n"),
        ];
        let want = expect(&[
            ("App/Program.cs", "System", &[]),
            ("App/Program.cs", "App.Models", &["App/Models/User.cs"]),
            ("App/Program.cs", "App.Util.Maths", &["App/Util/Maths.cs"]),
            ("App/Program.cs", "App.Models.User", &["App/Models/User.cs"]),
            (
                "App/Models/User.cs",
                "namespace App.Models",
                &["App/Models/Group.cs", "App/Models/Group.More.cs"],
            ),
            ("App/Util/Maths.cs", "App", &["App/Program.cs"]),
            (
                "App/Util/Maths.cs",
                "namespace App.Util",
                &["App/Program.cs", "App/Util/Strings.cs"],
            ),
        ]);
        assert_eq!(edges(Lang::CSharp, &repo), want);
    }
}
