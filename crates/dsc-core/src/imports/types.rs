//! Type-level dependencies, for languages whose imports name a namespace or a package (C#,
//! Java, Kotlin) and whose files see the types of their own namespace without any import.
//!
//! Linking an importer to every file of a namespace it imports makes edges no reader would
//! draw (a namespace of 500 files, of which the importer uses two types). Instead a file
//! depends on the files that declare a type name it uses, among the namespaces in its scope.

use std::collections::{HashMap, HashSet};

use super::Scope;

/// Where each type name is declared, per kind of namespace (a C# type is no Java type):
/// `(namespace or package, file)` pairs.
#[derive(Debug, Default)]
pub(crate) struct TypeIndex {
    by_name: HashMap<Scope, HashMap<String, Vec<(String, u32)>>>,
}

impl TypeIndex {
    pub(crate) fn add(&mut self, scope: Scope, namespace: String, name: String, file: u32) {
        let names = self.by_name.entry(scope).or_default();
        names.entry(name).or_default().push((namespace, file));
    }

    /// Every declaration of a name in `used`: `(namespace, file)`, by file then namespace.
    pub(crate) fn declarations_of<'s>(
        &'s self,
        scope: Scope,
        used: &Identifiers<'_>,
    ) -> Vec<(&'s str, u32)> {
        let Some(names) = self.by_name.get(&scope) else {
            return Vec::new();
        };
        let mut found: Vec<(&str, u32)> = used
            .names
            .iter()
            .filter_map(|name| names.get(*name))
            .flatten()
            .map(|(namespace, file)| (namespace.as_str(), *file))
            .collect();
        found.sort_unstable_by_key(|&(namespace, file)| (file, namespace));
        found.dedup();
        found
    }

    /// The files that declare type `name` in `namespace`, sorted and unique.
    pub(crate) fn files_declaring(&self, scope: Scope, namespace: &str, name: &str) -> Vec<u32> {
        let declarations = self.by_name.get(&scope).and_then(|names| names.get(name));
        let mut files: Vec<u32> = declarations
            .into_iter()
            .flatten()
            .filter(|(ns, _)| ns == namespace)
            .map(|&(_, file)| file)
            .collect();
        files.sort_unstable();
        files.dedup();
        files
    }
}

/// The identifiers of a blanked file (comments and strings are spaces, so only code counts).
#[derive(Debug)]
pub(crate) struct Identifiers<'c> {
    names: HashSet<&'c str>,
}

impl<'c> Identifiers<'c> {
    pub(crate) fn of(code: &'c [u8]) -> Self {
        let is_start = |b: u8| b.is_ascii_alphabetic() || b == b'_';
        let mut names = HashSet::new();
        let mut i = 0;
        while i < code.len() {
            if !is_start(code[i]) || (i > 0 && code[i - 1].is_ascii_digit()) {
                i += 1;
                continue;
            }
            let len = code[i..]
                .iter()
                .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
                .unwrap_or(code.len() - i);
            // ASCII by construction, so never lossy.
            if let Ok(name) = std::str::from_utf8(&code[i..i + len]) {
                names.insert(name);
            }
            i += len;
        }
        Identifiers { names }
    }

    /// Drops `declared`: a file that uses a type it declares itself (its own class, its part
    /// of a partial class) does not depend on another file for it.
    pub(crate) fn without<'n>(mut self, declared: impl IntoIterator<Item = &'n str>) -> Self {
        for name in declared {
            self.names.remove(name);
        }
        self
    }
}

/// Files among `declarations` whose namespace satisfies `in_scope`, sorted and unique.
pub(crate) fn files_in(declarations: &[(&str, u32)], in_scope: impl Fn(&str) -> bool) -> Vec<u32> {
    let mut files: Vec<u32> = declarations
        .iter()
        .filter(|(namespace, _)| in_scope(namespace))
        .map(|&(_, file)| file)
        .collect();
    files.dedup(); // `declarations` is sorted by file
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_skip_digits_and_punctuation() {
        let ids = Identifiers::of(b"List<Foo> x1 = new _Bar(2e5, 0x1F);");
        let mut names: Vec<&str> = ids.names.into_iter().collect();
        names.sort_unstable();
        assert_eq!(names, ["Foo", "List", "_Bar", "new", "x1"]);
    }

    #[test]
    fn declarations_are_found_by_used_name_and_filtered_by_namespace() {
        let mut index = TypeIndex::default();
        let cs = Scope::CsNamespace;
        index.add(cs, "App.Models".into(), "User".into(), 3);
        index.add(cs, "App.Other".into(), "User".into(), 1);
        index.add(cs, "App.Models".into(), "Group".into(), 2);
        index.add(Scope::JvmPackage, "app".into(), "User".into(), 4);
        let code = b"var u = new User();";
        let found = index.declarations_of(cs, &Identifiers::of(code));
        assert_eq!(found, [("App.Other", 1), ("App.Models", 3)]);
        assert_eq!(files_in(&found, |ns| ns == "App.Models"), [3]);
        assert_eq!(index.files_declaring(cs, "App.Models", "User"), [3]);
    }
}
