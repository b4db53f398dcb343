//! C#: `using A.B;` names a namespace, resolved to every file that declares it; `using static
//! A.B.C;` and `using X = A.B.C;` name a type, resolved to the file named after it.

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::{paths, Import, RepoIndex, Scope};

static USING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?m)^[ \t]*(?:global[ \t]+)?using[ \t]+(static[ \t]+|\w+[ \t]*=[ \t]*)?([\w.]+)[ \t]*;",
    )
    .expect("valid regex")
});
static NAMESPACE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^[ \t]*namespace[ \t]+([\w.]+)").expect("valid regex"));

/// Namespaces a file declares (block-scoped or file-scoped).
pub(super) fn namespaces(code: &[u8]) -> Vec<String> {
    NAMESPACE
        .captures_iter(code)
        .map(|caps| String::from_utf8_lossy(&caps[1]).into_owned())
        .collect()
}

pub(super) fn imports(code: &[u8], index: &RepoIndex<'_>) -> Vec<Import> {
    USING
        .captures_iter(code)
        .map(|caps| {
            let spec = String::from_utf8_lossy(&caps[2]).into_owned();
            let names_type = caps.get(1).is_some();
            let targets = if names_type {
                resolve_type(&spec, index)
            } else {
                Vec::new()
            };
            let targets = if targets.is_empty() {
                index.declared(Scope::CsNamespace, &spec).to_vec()
            } else {
                targets
            };
            Import { spec, targets }
        })
        .collect()
}

fn resolve_type(spec: &str, index: &RepoIndex<'_>) -> Vec<u32> {
    let Some((namespace, name)) = spec.rsplit_once('.') else {
        return Vec::new();
    };
    let declared = index.declared(Scope::CsNamespace, namespace);
    declared
        .iter()
        .copied()
        .filter(|&id| paths::stem(index.path(id)) == name)
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::imports::testing::{edges, expect};
    use crate::imports::Lang;

    #[test]
    fn namespaces_static_types_and_aliases() {
        let repo = [
            ("App/Program.cs", "using System;\nusing App.Models;\nusing static App.Util.Maths;\nusing M = App.Models.User;\nnamespace App { }\n"),
            ("App/Models/User.cs", "namespace App.Models;\n// using App.Util;\nusing (var f = Open()) { }\n"),
            ("App/Models/Group.cs", "namespace App.Models\n{\n    var s = \"using App.Util;\";\n}\n"),
            ("App/Util/Maths.cs", "namespace App.Util {\n  using App;\n}\n"),
            ("App/Util/Strings.cs", "namespace App.Util { }\n"),
        ];
        let want = expect(&[
            ("App/Program.cs", "System", &[]),
            (
                "App/Program.cs",
                "App.Models",
                &["App/Models/User.cs", "App/Models/Group.cs"],
            ),
            ("App/Program.cs", "App.Util.Maths", &["App/Util/Maths.cs"]),
            ("App/Program.cs", "App.Models.User", &["App/Models/User.cs"]),
            ("App/Util/Maths.cs", "App", &["App/Program.cs"]),
        ]);
        assert_eq!(edges(Lang::CSharp, &repo), want);
    }
}
