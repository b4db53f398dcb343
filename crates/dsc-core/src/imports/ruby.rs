//! Ruby: `require_relative "x"` from the requiring file's directory, and `require "x"` when the
//! repository's own `lib/` (or root) holds `x.rb`.

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::{paths, quoted_imports, Import, RepoIndex};

static REQUIRE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)^[ \t]*(require_relative|require)[ \t]*\(?[ \t]*(["'])"#)
        .expect("valid regex")
});

pub(super) fn imports(
    code: &[u8],
    src: &str,
    importer: &str,
    index: &RepoIndex<'_>,
) -> Vec<Import> {
    quoted_imports(code, src, &REQUIRE, 2, |spec, caps| {
        resolve(spec, &caps[1] == b"require_relative", importer, index)
    })
}

fn resolve(spec: &str, relative: bool, importer: &str, index: &RepoIndex<'_>) -> Option<u32> {
    let file = if spec.ends_with(".rb") {
        spec.to_owned()
    } else {
        format!("{spec}.rb")
    };
    let dirs: &[&str] = if relative {
        &[paths::parent(importer)]
    } else {
        &["lib", ""]
    };
    index.first_existing(dirs.iter().filter_map(|dir| paths::join(dir, &file)))
}

#[cfg(test)]
mod tests {
    use crate::imports::testing::{edges, expect};
    use crate::imports::Lang;

    #[test]
    fn require_relative_and_library_requires() {
        let repo = [
            ("lib/gem.rb", "require 'json'\nrequire \"gem/version\"\nrequire_relative 'gem/cli'\n# require_relative 'gone'\n"),
            ("lib/gem/version.rb", "VERSION = 'require_relative \"../gem\"'\n"),
            ("lib/gem/cli.rb", "require_relative('../gem')\n=begin\nrequire_relative 'version'\n=end\n"),
        ];
        let want = expect(&[
            ("lib/gem.rb", "json", &[]),
            ("lib/gem.rb", "gem/version", &["lib/gem/version.rb"]),
            ("lib/gem.rb", "gem/cli", &["lib/gem/cli.rb"]),
            ("lib/gem/cli.rb", "../gem", &["lib/gem.rb"]),
        ]);
        assert_eq!(edges(Lang::Ruby, &repo), want);
    }
}
