//! Decontamination: find files that share a word n-gram with a benchmark item.
//!
//! The rule is the paper's (DeepSeek-Coder §1, stage 5): a file is contaminated when it
//! contains any `ngram`-gram (10 by default) of a benchmark item; an item shorter than
//! `ngram` tokens but at least `min_exact_tokens` (3) long is matched as its whole token
//! sequence instead.
//!
//! One refinement, on by default (`skip_numeric_windows`): a window made only of numbers
//! (`0 1 2 3 4 5 6 7 8 9`, `0 0 0 ...`) is not indexed. Test lists of the benchmarks hold
//! such runs, and so do tables and ranges in unrelated code; they carry no evidence of a
//! leak, and on the standard library they were a large share of the false positives.
//!
//! # Tokens
//! A token is a maximal run of word bytes: ASCII letters, digits, `_`, and every byte of a
//! non-ASCII character (so Unicode identifiers and prose stay whole, and invalid UTF-8 needs
//! no decoding). Everything else — whitespace, punctuation, operators — only separates tokens.
//! Matching is case-sensitive, as code is.
//!
//! Why words and not characters or punctuation tokens: a leak copied into a training file is
//! usually reformatted (reindented, tabs for spaces, CRLF, blank lines, a formatter moving
//! brackets and quotes); identifiers, keywords, literals and prose words survive all of that,
//! while whitespace and punctuation are exactly what changes. Ignoring them makes the match
//! whitespace-insensitive, and ten words of code or prose in a row are specific enough that
//! unrelated files rarely share them (the tests measure the rate on the standard library).
//!
//! # Cost
//! Building hashes every window of every item into one table. Scanning a file hashes each
//! token once and folds the last `ngram` token hashes backwards, probing the table once per
//! token (plus once per distinct short-item length): one pass over the bytes whose cost does
//! not depend on how many items the index holds. Windows are identified by a 64-bit hash,
//! so two different windows collide with probability about 2^-64 per probe.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use xxhash_rust::xxh3::xxh3_64;

/// The gram and exact-match lengths of the paper.
pub const DEFAULT_NGRAM: usize = 10;
pub const DEFAULT_MIN_EXACT_TOKENS: usize = 3;
/// Window lengths are tracked in a 64-bit mask.
const MAX_NGRAM: usize = 63;

/// How items are turned into grams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct DecontConfig {
    /// Length of the shared window that marks a file as contaminated.
    pub ngram: usize,
    /// Items with fewer tokens than this are too generic to match and are skipped.
    pub min_exact_tokens: usize,
    /// Do not index windows (or short items) made only of number tokens.
    pub skip_numeric_windows: bool,
}

impl Default for DecontConfig {
    fn default() -> Self {
        Self {
            ngram: DEFAULT_NGRAM,
            min_exact_tokens: DEFAULT_MIN_EXACT_TOKENS,
            skip_numeric_windows: true,
        }
    }
}

impl DecontConfig {
    pub fn validate(&self) -> Result<(), DecontError> {
        if self.ngram == 0 || self.ngram > MAX_NGRAM {
            return Err(DecontError(format!(
                "ngram must be in 1..={MAX_NGRAM}, got {}",
                self.ngram
            )));
        }
        if self.min_exact_tokens == 0 || self.min_exact_tokens > self.ngram {
            return Err(DecontError(format!(
                "min_exact_tokens must be in 1..=ngram ({}), got {}",
                self.ngram, self.min_exact_tokens
            )));
        }
        Ok(())
    }
}

/// An invalid configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecontError(pub String);

impl fmt::Display for DecontError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecontError {}

/// One benchmark text: a prompt, a solution, a test, a question...
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchmarkItem {
    /// The benchmark's name, e.g. `humaneval`.
    pub benchmark: String,
    /// The item's id inside the benchmark, e.g. `HumanEval/0:canonical_solution`.
    pub item_id: String,
    pub text: String,
}

/// What the index holds, for the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IndexStats {
    pub items: usize,
    /// Items indexed by their n-grams.
    pub gram_items: usize,
    /// Items shorter than `ngram`, indexed as one exact token sequence.
    pub exact_items: usize,
    /// Items shorter than `min_exact_tokens` or made only of numbers, not indexed.
    pub skipped_items: usize,
    /// Windows made only of numbers, not indexed.
    pub numeric_windows: usize,
    /// Distinct windows in the table.
    pub windows: usize,
}

/// A match: the item that shares text with the file and the file's byte span
/// `[start, end)` that covers the run of matching windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contamination {
    /// Index into [`DecontIndex::items`].
    pub item: usize,
    pub start: usize,
    pub end: usize,
}

/// The window hashes are already uniformly mixed, so the table uses them as they are.
#[derive(Debug, Default, Clone, Copy)]
struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type WindowTable = HashMap<u64, u32, BuildHasherDefault<IdentityHasher>>;

/// The hashed window index over a set of benchmark items.
#[derive(Debug, Clone)]
pub struct DecontIndex {
    config: DecontConfig,
    items: Vec<BenchmarkItem>,
    /// Window hash of every `ngram`-window and every whole short item -> first item holding it.
    windows: WindowTable,
    /// Bit `k` is set when some short item has exactly `k` tokens.
    exact_lengths: u64,
    stats: IndexStats,
}

/// A token: its byte span and the hash of its bytes.
#[derive(Debug, Clone, Copy, Default)]
struct Token {
    start: usize,
    end: usize,
    hash: u64,
    /// The token starts with a digit: a number such as `42`, `0x1f` or the `5` of `1.5`.
    numeric: bool,
}

const fn word_bytes() -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
        b += 1;
    }
    table
}

static WORD_BYTE: [bool; 256] = word_bytes();

/// The tokens of `text`, in order.
fn tokens(text: &[u8]) -> impl Iterator<Item = Token> + '_ {
    let mut pos = 0;
    std::iter::from_fn(move || {
        while pos < text.len() && !WORD_BYTE[usize::from(text[pos])] {
            pos += 1;
        }
        if pos >= text.len() {
            return None;
        }
        let start = pos;
        while pos < text.len() && WORD_BYTE[usize::from(text[pos])] {
            pos += 1;
        }
        Some(Token {
            start,
            end: pos,
            hash: xxh3_64(&text[start..pos]),
            numeric: text[start].is_ascii_digit(),
        })
    })
}

/// The token strings of `text`, for tests and for reports that show what was matched.
pub fn token_strings(text: &[u8]) -> Vec<&[u8]> {
    tokens(text).map(|t| &text[t.start..t.end]).collect()
}

/// Extends a window hash by one more token on the left. Folding from the right lets the
/// scanner get the hashes of every window length ending at a token in one backward walk.
#[inline]
fn fold(window: u64, token: u64) -> u64 {
    let h = (window ^ token).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    h ^ (h >> 29)
}

/// The hash of a whole token sequence, folded right to left as the scanner does.
fn window_hash(tokens: &[Token]) -> u64 {
    tokens.iter().rev().fold(0, |h, t| fold(h, t.hash))
}

/// A content key of an index: equal configs and items (in order) give equal keys, so an
/// index built once per process can be found again by its key.
pub fn fingerprint(items: &[BenchmarkItem], config: DecontConfig) -> u64 {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    hasher.update(&(config.ngram as u64).to_le_bytes());
    hasher.update(&(config.min_exact_tokens as u64).to_le_bytes());
    hasher.update(&[u8::from(config.skip_numeric_windows)]);
    for item in items {
        for part in [&item.benchmark, &item.item_id, &item.text] {
            // Length prefixes keep ("ab", "c") apart from ("a", "bc").
            hasher.update(&(part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
    }
    hasher.digest()
}

impl DecontIndex {
    /// Index `items` in order; where two items share a window the first one is reported.
    pub fn build(
        items: impl IntoIterator<Item = BenchmarkItem>,
        config: DecontConfig,
    ) -> Result<Self, DecontError> {
        config.validate()?;
        let mut index = Self {
            config,
            items: Vec::new(),
            windows: WindowTable::default(),
            exact_lengths: 0,
            stats: IndexStats::default(),
        };
        for item in items {
            index.insert(item)?;
        }
        index.stats.windows = index.windows.len();
        Ok(index)
    }

    fn insert(&mut self, item: BenchmarkItem) -> Result<(), DecontError> {
        let id = u32::try_from(self.items.len())
            .map_err(|_| DecontError("more than 2^32 benchmark items".to_owned()))?;
        let toks: Vec<Token> = tokens(item.text.as_bytes()).collect();
        let n = self.config.ngram;
        let skip = |w: &[Token]| self.config.skip_numeric_windows && w.iter().all(|t| t.numeric);
        self.stats.items += 1;
        if toks.len() >= n {
            for window in toks.windows(n) {
                if skip(window) {
                    self.stats.numeric_windows += 1;
                } else {
                    self.windows.entry(window_hash(window)).or_insert(id);
                }
            }
            self.stats.gram_items += 1;
        } else if toks.len() >= self.config.min_exact_tokens && !skip(&toks) {
            self.windows.entry(window_hash(&toks)).or_insert(id);
            self.exact_lengths |= 1 << toks.len();
            self.stats.exact_items += 1;
        } else {
            self.stats.skipped_items += 1;
        }
        self.items.push(item);
        Ok(())
    }

    pub fn config(&self) -> DecontConfig {
        self.config
    }

    pub fn items(&self) -> &[BenchmarkItem] {
        &self.items
    }

    pub fn stats(&self) -> IndexStats {
        self.stats
    }

    /// The first window of `text` found in the index, widened over the run of matching
    /// windows that follows it, or `None` for a clean file.
    pub fn scan(&self, text: &[u8]) -> Option<Contamination> {
        let n = self.config.ngram;
        // The last `n` tokens, the newest at `(seen - 1) % n`.
        let mut recent = vec![Token::default(); n];
        let mut seen = 0usize;
        let mut found: Option<Contamination> = None;
        for token in tokens(text) {
            recent[seen % n] = token;
            seen += 1;
            match (self.match_ending_here(&recent, seen), found.as_mut()) {
                (Some((item, start)), None) => {
                    found = Some(Contamination {
                        item,
                        start,
                        end: token.end,
                    })
                }
                (Some((_, start)), Some(run)) if start <= run.end => run.end = token.end,
                (_, Some(_)) => break,
                (None, None) => {}
            }
        }
        found
    }

    /// The longest indexed window ending at the newest token: `(item, start byte)`.
    fn match_ending_here(&self, recent: &[Token], seen: usize) -> Option<(usize, usize)> {
        let n = recent.len();
        let mut hash = 0u64;
        let mut longest = None;
        for k in 1..=n.min(seen) {
            let token = recent[(seen - k) % n];
            hash = fold(hash, token.hash);
            if k == n || self.exact_lengths & (1 << k) != 0 {
                if let Some(&item) = self.windows.get(&hash) {
                    longest = Some((item as usize, token.start));
                }
            }
        }
        longest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn item(id: &str, text: &str) -> BenchmarkItem {
        BenchmarkItem {
            benchmark: "bench".to_owned(),
            item_id: id.to_owned(),
            text: text.to_owned(),
        }
    }

    fn index(items: &[(&str, &str)]) -> DecontIndex {
        let items = items.iter().map(|(id, text)| item(id, text));
        DecontIndex::build(items, DecontConfig::default()).unwrap_or_else(|e| panic!("{e}"))
    }

    const SOLUTION: &str = "def add_all(numbers):\n    total = 0\n    for value in numbers:\n        total += value\n    return total\n";

    #[test]
    fn tokens_are_words_digits_and_non_ascii_runs() {
        let toks = token_strings("x=foo_bar(1.5)+ héllo\t\r\nλ".as_bytes());
        let expected: Vec<&[u8]> = vec![
            b"x",
            b"foo_bar",
            b"1",
            b"5",
            "héllo".as_bytes(),
            "λ".as_bytes(),
        ];
        assert_eq!(toks, expected);
    }

    #[test]
    fn reformatted_leak_is_found_with_its_span() {
        let idx = index(&[("add", SOLUTION)]);
        let reformatted = "def add_all( numbers ) :\r\n\ttotal=0\r\n\n\tfor value in numbers :\r\n\t\ttotal+=value\r\n\treturn total";
        let file = format!("import os\n\n{reformatted}\n\nprint(1)\n");
        let hit = idx
            .scan(file.as_bytes())
            .unwrap_or_else(|| panic!("leak not found"));
        assert_eq!(idx.items()[hit.item].item_id, "add");
        assert_eq!(&file[hit.start..hit.end], reformatted);
    }

    #[test]
    fn clean_file_and_partial_overlap_are_not_flagged() {
        let idx = index(&[("add", SOLUTION)]);
        assert_eq!(idx.scan(b"import os\nprint(os.getcwd())\n"), None);
        // Nine tokens of the item in a row are not enough.
        assert_eq!(
            idx.scan(b"def add_all numbers total 0 for value in numbers"),
            None
        );
        assert!(idx
            .scan(b"def add_all numbers total 0 for value in numbers total")
            .is_some());
    }

    #[test]
    fn short_items_match_exactly_and_tiny_items_are_skipped() {
        let idx = index(&[("short", "return a * h / 2.0"), ("tiny", "pass x")]);
        assert_eq!(idx.stats().exact_items, 1);
        assert_eq!(idx.stats().skipped_items, 1);
        let hit = idx
            .scan(b"y = 1\nreturn a*h/2.0\n")
            .unwrap_or_else(|| panic!("no hit"));
        assert_eq!(idx.items()[hit.item].item_id, "short");
        // A prefix of a short item is not the item.
        assert_eq!(idx.scan(b"return a * h / 3"), None);
        assert_eq!(idx.scan(b"pass x"), None);
    }

    #[test]
    fn windows_of_numbers_only_are_not_indexed() {
        let item_text = "assert f(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11) == 66";
        let idx = index(&[("nums", item_text), ("short", "1, 2, 3")]);
        assert_eq!(idx.stats().numeric_windows, 4);
        assert_eq!(idx.stats().skipped_items, 1);
        assert_eq!(
            idx.scan(b"range = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]"),
            None
        );
        assert!(idx.scan(b"assert f(0, 1, 2, 3, 4, 5, 6, 7, 8)").is_some());
        let keep_all = DecontConfig {
            skip_numeric_windows: false,
            ..DecontConfig::default()
        };
        let all = DecontIndex::build([item("nums", item_text)], keep_all)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(all
            .scan(b"[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]")
            .is_some());
    }

    #[test]
    fn first_item_wins_a_shared_window() {
        let idx = index(&[("first", SOLUTION), ("second", SOLUTION)]);
        let hit = idx
            .scan(SOLUTION.as_bytes())
            .unwrap_or_else(|| panic!("no hit"));
        assert_eq!(idx.items()[hit.item].item_id, "first");
        assert_eq!(idx.stats().gram_items, 2);
    }

    #[test]
    fn fingerprint_depends_on_content_and_order() {
        let a = vec![item("a", "x y z"), item("b", "u v w")];
        let b = vec![item("b", "u v w"), item("a", "x y z")];
        let config = DecontConfig::default();
        assert_eq!(fingerprint(&a, config), fingerprint(&a.clone(), config));
        assert_ne!(fingerprint(&a, config), fingerprint(&b, config));
        let joined = vec![item("a", "x y zu v w")];
        assert_ne!(fingerprint(&a[..1], config), fingerprint(&joined, config));
    }

    #[test]
    fn invalid_config_is_an_error() {
        let bad = DecontConfig {
            ngram: 5,
            min_exact_tokens: 6,
            skip_numeric_windows: true,
        };
        assert!(DecontIndex::build([], bad).is_err());
        let zero = DecontConfig {
            ngram: 0,
            min_exact_tokens: 1,
            skip_numeric_windows: true,
        };
        assert!(DecontIndex::build([], zero).is_err());
    }

    /// The obvious definition: compare token strings window by window.
    fn reference(file: &str, items: &[String], config: DecontConfig) -> bool {
        let file_toks = token_strings(file.as_bytes());
        let contains = |needle: &[&[u8]]| file_toks.windows(needle.len()).any(|w| w == needle);
        let informative =
            |w: &[&[u8]]| !config.skip_numeric_windows || w.iter().any(|t| !t[0].is_ascii_digit());
        items.iter().any(|text| {
            let toks = token_strings(text.as_bytes());
            if toks.len() >= config.ngram {
                toks.windows(config.ngram)
                    .any(|w| informative(w) && contains(w))
            } else {
                toks.len() >= config.min_exact_tokens && informative(&toks) && contains(&toks)
            }
        })
    }

    fn text_strategy(max_tokens: usize) -> impl Strategy<Value = String> {
        // A tiny vocabulary and separators make shared windows frequent.
        let token = prop_oneof![
            Just("a"),
            Just("b"),
            Just("c1"),
            Just("_d"),
            Just("é"),
            Just("7")
        ];
        let sep = prop_oneof![Just(" "), Just("\n\t"), Just("("), Just(", "), Just("")];
        prop::collection::vec((token, sep), 0..max_tokens).prop_map(|parts| {
            parts
                .into_iter()
                .map(|(t, s)| {
                    if s.is_empty() {
                        format!("{t} ")
                    } else {
                        format!("{t}{s}")
                    }
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn scan_agrees_with_reference(
            items in prop::collection::vec(text_strategy(8), 0..5),
            file in text_strategy(40),
            skip_numeric_windows in any::<bool>(),
        ) {
            let config = DecontConfig { ngram: 4, min_exact_tokens: 2, skip_numeric_windows };
            let built = items.iter().enumerate().map(|(i, t)| item(&i.to_string(), t));
            let idx = DecontIndex::build(built, config).unwrap_or_else(|e| panic!("{e}"));
            let hit = idx.scan(file.as_bytes());
            prop_assert_eq!(hit.is_some(), reference(&file, &items, config));
            if let Some(hit) = hit {
                // The span starts and ends on token boundaries inside the file.
                let span = &file.as_bytes()[hit.start..hit.end];
                prop_assert!(!span.is_empty());
                prop_assert!(WORD_BYTE[usize::from(span[0])]);
                prop_assert!(WORD_BYTE[usize::from(span[span.len() - 1])]);
            }
        }

        #[test]
        fn an_item_always_contaminates_a_file_equal_to_it(text in text_strategy(30)) {
            let idx = DecontIndex::build([item("x", &text)], DecontConfig::default())
                .unwrap_or_else(|e| panic!("{e}"));
            let toks = token_strings(text.as_bytes());
            let has_word = toks.iter().any(|t| !t[0].is_ascii_digit());
            prop_assert_eq!(idx.scan(text.as_bytes()).is_some(), toks.len() >= 3 && has_word);
        }
    }
}
