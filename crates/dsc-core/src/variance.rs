//! TypeScript 4.7's variance annotations (`interface Box<out T>`, `type F<in T> = ...`,
//! `class C<in out T>`) read by a grammar that predates them: tree-sitter-typescript 0.23.2,
//! the newest on crates.io, parses each as an error. The `in`/`out` modifiers of the type
//! parameters of interface, class and type declarations are blanked before parsing; every byte
//! offset is kept, and a type parameter list is checked as the grammar knows it.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::bytes::Regex;

fn pattern(source: &str) -> Regex {
    // The patterns are literals of this file, checked by the tests.
    Regex::new(source).unwrap_or_else(|e| panic!("invalid built-in pattern {source}: {e}"))
}

/// The type parameter list of a declaration (up to its first `>`: defaults may nest).
static DECLARED_PARAMS: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"\b(?:interface|class|type)\s+[A-Za-z_$][\w$]*\s*<[^>]*>"));
/// The modifiers of one type parameter, followed by the first byte of its name.
static MODIFIERS: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"[<,]\s*((?:in|out)[ \t]+(?:out[ \t]+)?)[A-Za-z_$]"));

/// `text` with the variance modifiers blanked; borrowed when it has none.
pub fn without_variance(text: &[u8]) -> Cow<'_, [u8]> {
    let mut out: Option<Vec<u8>> = None;
    for list in DECLARED_PARAMS.find_iter(text) {
        for caps in MODIFIERS.captures_iter(list.as_bytes()) {
            if let Some(words) = caps.get(1) {
                let span = list.start() + words.start()..list.start() + words.end();
                out.get_or_insert_with(|| text.to_vec())[span].fill(b' ');
            }
        }
    }
    out.map_or(Cow::Borrowed(text), Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn seen(text: &str) -> String {
        String::from_utf8_lossy(&without_variance(text.as_bytes())).into_owned()
    }

    #[test]
    fn modifiers_of_declared_type_parameters_are_blanked() {
        assert_eq!(seen("interface Box<out T> {}"), "interface Box<    T> {}");
        assert_eq!(
            seen("class C<in out T, U = X<in>> {}"),
            "class C<       T, U = X<in>> {}"
        );
        assert_eq!(
            seen("type F<in T> = (x: T) => void;"),
            "type F<   T> = (x: T) => void;"
        );
        // Expressions and other generics are left alone.
        let other = "for (const k in o) {} const m = new Map<out, in>();";
        assert!(matches!(
            without_variance(other.as_bytes()),
            Cow::Borrowed(_)
        ));
    }

    proptest! {
        #[test]
        fn only_modifier_bytes_change(text in "(interface I<|in |out |T|, |> |x|\n){0,30}") {
            let out = without_variance(text.as_bytes());
            prop_assert_eq!(out.len(), text.len());
            for (a, b) in text.bytes().zip(out.iter()) {
                prop_assert!(a == *b || (*b == b' ' && b"inout ".contains(&a)));
            }
        }
    }
}
