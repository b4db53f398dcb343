//! Decontamination: find files that share an n-gram with a benchmark record.
//!
//! # The rule, and how it refines the paper's
//! The paper (DeepSeek-Coder §1, stage 5) removes a file that contains any 10-gram of a test
//! item, and a file that contains a whole item of 3 to 9 grams. On real code that rule drops
//! ordinary files: HumanEval/53's solution `return x + y` matched every `return x, y`, a
//! `\n` in a Java string read as the word `n`, and a comment word added to a leak broke all
//! its grams. Here a match must be evidence of a leak:
//!
//! 1. **Punctuation and operators count.** A gram is `ngram` consecutive words *and the
//!    punctuation between them* (whitespace ignored): `return x + y` and `return x, y` share
//!    their words, not their gram. Every match is still a match of the paper's rule (the same
//!    words in a row). Quotes `'` and `"` are one symbol, as formatters swap them.
//! 2. **Comments are not text.** Comments are blanked with the import lexer
//!    ([`crate::imports::lexer`]) on both sides, in the benchmark's language and in the
//!    file's: a comment can neither hide a leak (a word added as a trailing comment) nor make
//!    one. String contents stay (a docstring is half of a HumanEval prompt), but an escape
//!    (`\` and the byte after it: `\n`, `\t`, `\"`) is punctuation, not a word.
//! 3. **A gram must identify its record.** A word is *generic* in a benchmark when more than
//!    `generic_share` of the benchmark's records contain it (and at least two do: `for`,
//!    `range`, `i`, `0`, `the`, the harness every test shares). A gram is indexed only when it
//!    holds `min_distinct_words` distinct non-generic words, one of which can name something
//!    (two bytes or more, not a number): `for i in range(n): for j in range(n):`, runs of
//!    numbers in test lists and `'a', 'b', 'c'` identify nothing and are not indexed.
//! 4. **Short items are matched in their context, never alone.** A record's fields (prompt,
//!    solution, tests...) are indexed as one text, in order, so grams span field boundaries:
//!    a solution too short to hold an identifying gram (`return x + y`) is found together with
//!    its prompt or tests, never on its own. The paper's exact match of 3-9 gram items is gone.
//!
//! A record with no identifying gram cannot be matched at all; the index lists them
//! ([`DecontIndex::unmatchable`]) so that a report can name them.
//!
//! # Tokens
//! Words are maximal runs of word bytes: ASCII letters, digits, `_`, and every byte of a
//! non-ASCII character (Unicode identifiers and prose stay whole; invalid UTF-8 needs no
//! decoding). Between two words, the separator is every other non-whitespace byte, in order.
//! Matching is case-sensitive, as code is.
//!
//! # Cost
//! Building tokenizes every record twice (word frequencies, then grams) and hashes each gram
//! into one table. Scanning a file blanks its comments, hashes each word and separator once,
//! and folds the last `ngram` words into one probe per word: one pass whose cost does not
//! depend on how many records the index holds. Grams are identified by a 64-bit hash, so two
//! different grams collide with probability about 2^-64 per probe.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use xxhash_rust::xxh3::xxh3_64;

use crate::imports::lexer::{blank_comments, syntaxes, Syntax};
use crate::imports::Lang;

/// The gram length of the paper, in words.
pub const DEFAULT_NGRAM: usize = 10;
/// Distinct non-generic words an indexed gram must hold.
pub const DEFAULT_MIN_DISTINCT_WORDS: usize = 1;
/// A word in more than this share of a benchmark's records is generic in it.
pub const DEFAULT_GENERIC_SHARE: f64 = 0.05;
const MAX_NGRAM: usize = 64;

/// How records are turned into grams.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct DecontConfig {
    /// Words in a gram.
    pub ngram: usize,
    /// A gram is indexed only when it holds this many distinct non-generic words.
    pub min_distinct_words: usize,
    /// A word is generic in a benchmark when more than this share of its records hold it.
    pub generic_share: f64,
}

impl Default for DecontConfig {
    fn default() -> Self {
        Self {
            ngram: DEFAULT_NGRAM,
            min_distinct_words: DEFAULT_MIN_DISTINCT_WORDS,
            generic_share: DEFAULT_GENERIC_SHARE,
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
        if self.min_distinct_words > self.ngram {
            return Err(DecontError(format!(
                "min_distinct_words must be in 0..=ngram ({}), got {}",
                self.ngram, self.min_distinct_words
            )));
        }
        if !(self.generic_share > 0.0 && self.generic_share <= 1.0) {
            return Err(DecontError(format!(
                "generic_share must be in (0, 1], got {}",
                self.generic_share
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

/// One text of a record: a prompt, a solution, tests, a question...
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchmarkField {
    /// The field's name, e.g. `canonical_solution`.
    pub name: String,
    /// Its language (a Linguist name such as `Python`) for comments, or None for prose.
    pub lang: Option<String>,
    pub text: String,
}

/// One benchmark task: its fields, indexed as one text in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchmarkRecord {
    /// The benchmark's name, e.g. `humaneval`; word frequencies are counted per benchmark.
    pub benchmark: String,
    /// The record's id inside the benchmark, e.g. `HumanEval/0`.
    pub id: String,
    pub fields: Vec<BenchmarkField>,
}

/// What the index holds, for the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IndexStats {
    pub records: usize,
    pub fields: usize,
    /// Distinct grams in the table.
    pub windows: usize,
    /// Grams left out as generic (too few distinct non-generic words).
    pub generic_windows: usize,
    /// Records with no identifying gram: too short or too generic to be matched.
    pub unmatchable_records: usize,
}

/// A match: the record and field where the first shared gram starts, and the file's byte
/// span `[start, end)` covering the run of shared grams from there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contamination {
    /// Index into [`DecontIndex::records`].
    pub record: usize,
    /// Index into that record's fields.
    pub field: usize,
    pub start: usize,
    pub end: usize,
}

/// The gram hashes are already uniformly mixed, so the table uses them as they are.
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

/// Where a gram was first seen.
#[derive(Debug, Clone, Copy)]
struct FieldRef {
    record: u32,
    field: u32,
}

type WindowTable = HashMap<u64, FieldRef, BuildHasherDefault<IdentityHasher>>;

/// A word: its byte span, the hash of its bytes and of the separator before it.
#[derive(Debug, Clone, Copy)]
struct Word {
    start: usize,
    end: usize,
    hash: u64,
    sep: u64,
    /// Two bytes or more and not a number: a word that can name something (`x`, `7` cannot).
    nameable: bool,
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

/// The symbol a separator byte stands for: both quote characters are one.
fn separator_byte(b: u8) -> u8 {
    if b == b'\'' {
        b'"'
    } else {
        b
    }
}

/// The words of `text` in order, each with the separator (punctuation, escapes) before it.
fn words(text: &[u8]) -> impl Iterator<Item = Word> + '_ {
    let mut pos = 0;
    let mut sep = Vec::new();
    std::iter::from_fn(move || {
        sep.clear();
        while pos < text.len() && !WORD_BYTE[usize::from(text[pos])] {
            let b = text[pos];
            pos += 1;
            if b.is_ascii_whitespace() {
                continue;
            }
            sep.push(separator_byte(b));
            // An escape takes the byte after the backslash with it: `\n` is not the word `n`.
            if b == b'\\' && pos < text.len() && !text[pos].is_ascii_whitespace() {
                sep.push(separator_byte(text[pos]));
                pos += 1;
            }
        }
        if pos >= text.len() {
            return None;
        }
        let start = pos;
        while pos < text.len() && WORD_BYTE[usize::from(text[pos])] {
            pos += 1;
        }
        Some(Word {
            start,
            end: pos,
            hash: xxh3_64(&text[start..pos]),
            sep: xxh3_64(&sep),
            nameable: pos - start >= 2 && !text[start].is_ascii_digit(),
        })
    })
}

/// The comment syntax of a language (Linguist name): those of the import lexer, and Shell.
fn comment_syntax(lang: &str) -> Option<&'static Syntax> {
    match lang {
        "Shell" => Some(&syntaxes::SHELL),
        _ => Lang::from_name(lang).map(Lang::syntax),
    }
}

/// `text` with its comments blanked (same length and offsets) when its language has them.
fn code_text<'a>(text: &'a [u8], lang: Option<&str>) -> Cow<'a, [u8]> {
    match lang.and_then(comment_syntax) {
        Some(syntax) => Cow::Owned(blank_comments(text, syntax)),
        None => Cow::Borrowed(text),
    }
}

/// Extends a gram hash by one more hash on the left.
#[inline]
fn fold(window: u64, token: u64) -> u64 {
    let h = (window ^ token).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    h ^ (h >> 29)
}

/// The hash of a gram: its words and the separators between them (not the one before the
/// first word), folded right to left.
fn window_hash(window: &[Word]) -> u64 {
    let mut hash = 0;
    for (i, word) in window.iter().enumerate().rev() {
        if let Some(next) = window.get(i + 1) {
            hash = fold(hash, next.sep);
        }
        hash = fold(hash, word.hash);
    }
    hash
}

/// A content key of an index: equal configs and records (in order) give equal keys, so an
/// index built once per process can be found again by its key.
pub fn fingerprint(records: &[BenchmarkRecord], config: DecontConfig) -> u64 {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    hasher.update(&(config.ngram as u64).to_le_bytes());
    hasher.update(&(config.min_distinct_words as u64).to_le_bytes());
    hasher.update(&config.generic_share.to_bits().to_le_bytes());
    let mut part = |bytes: &[u8]| {
        // Length prefixes keep ("ab", "c") apart from ("a", "bc").
        hasher.update(&(bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    for record in records {
        part(record.benchmark.as_bytes());
        part(record.id.as_bytes());
        part(&(record.fields.len() as u64).to_le_bytes());
        for field in &record.fields {
            part(field.name.as_bytes());
            // None and Some("") differ: a one-byte tag before the name.
            part(&[u8::from(field.lang.is_some())]);
            part(field.lang.as_deref().unwrap_or_default().as_bytes());
            part(field.text.as_bytes());
        }
    }
    hasher.digest()
}

/// A record as one text: each field with its comments blanked, joined by newlines, and the
/// byte offset where each field starts.
fn record_text(record: &BenchmarkRecord) -> (Vec<u8>, Vec<usize>) {
    let mut text = Vec::new();
    let mut starts = Vec::with_capacity(record.fields.len());
    for field in &record.fields {
        starts.push(text.len());
        text.extend_from_slice(&code_text(field.text.as_bytes(), field.lang.as_deref()));
        text.push(b'\n');
    }
    (text, starts)
}

/// How many of a benchmark's records hold each word.
#[derive(Debug, Default)]
struct WordCounts {
    records: usize,
    holding: HashMap<u64, usize>,
}

impl WordCounts {
    fn generic(&self, word: u64, share: f64) -> bool {
        let holding = self.holding.get(&word).copied().unwrap_or(0);
        is_generic(holding, self.records, share)
    }
}

fn word_counts(records: &[BenchmarkRecord]) -> HashMap<&str, WordCounts> {
    let mut counts: HashMap<&str, WordCounts> = HashMap::new();
    for record in records {
        let (text, _) = record_text(record);
        let distinct: HashSet<u64> = words(&text).map(|w| w.hash).collect();
        let entry = counts.entry(record.benchmark.as_str()).or_default();
        entry.records += 1;
        for word in distinct {
            *entry.holding.entry(word).or_default() += 1;
        }
    }
    counts
}

/// The hashed gram index over a set of benchmark records.
#[derive(Debug, Clone)]
pub struct DecontIndex {
    config: DecontConfig,
    records: Vec<BenchmarkRecord>,
    /// Hash of every identifying gram -> the first record (and field) holding it.
    windows: WindowTable,
    /// Records with no identifying gram, in order.
    unmatchable: Vec<usize>,
    stats: IndexStats,
}

impl DecontIndex {
    /// Index `records` in order; where two records share a gram the first one is reported.
    pub fn build(records: Vec<BenchmarkRecord>, config: DecontConfig) -> Result<Self, DecontError> {
        config.validate()?;
        if u32::try_from(records.len()).is_err() {
            return Err(DecontError("more than 2^32 benchmark records".to_owned()));
        }
        let counts = word_counts(&records);
        let mut windows = WindowTable::default();
        let mut unmatchable = Vec::new();
        let mut stats = IndexStats {
            records: records.len(),
            fields: records.iter().map(|r| r.fields.len()).sum(),
            ..IndexStats::default()
        };
        for (id, record) in records.iter().enumerate() {
            let generic = |word: u64| {
                counts
                    .get(record.benchmark.as_str())
                    .is_some_and(|c| c.generic(word, config.generic_share))
            };
            let (text, starts) = record_text(record);
            let toks: Vec<Word> = words(&text).collect();
            let mut identifying = 0usize;
            for window in toks.windows(config.ngram) {
                if distinct_specific_words(window, generic) < config.min_distinct_words {
                    stats.generic_windows += 1;
                    continue;
                }
                identifying += 1;
                // The field where the gram starts; `starts[0]` is 0, so one always matches.
                let field = starts.partition_point(|&s| s <= window[0].start) - 1;
                windows.entry(window_hash(window)).or_insert(FieldRef {
                    record: id as u32,
                    field: field as u32,
                });
            }
            if identifying == 0 {
                unmatchable.push(id);
            }
        }
        stats.windows = windows.len();
        stats.unmatchable_records = unmatchable.len();
        Ok(Self {
            config,
            records,
            windows,
            unmatchable,
            stats,
        })
    }

    pub fn config(&self) -> DecontConfig {
        self.config
    }

    pub fn records(&self) -> &[BenchmarkRecord] {
        &self.records
    }

    /// Records no file can match (indices into [`Self::records`]), in order.
    pub fn unmatchable(&self) -> &[usize] {
        &self.unmatchable
    }

    pub fn stats(&self) -> IndexStats {
        self.stats
    }

    /// The first gram of `text` (in language `lang`, None for prose or unknown) found in the
    /// index, widened over the run of matching grams that follows it, or None for a clean file.
    pub fn scan(&self, text: &[u8], lang: Option<&str>) -> Option<Contamination> {
        let code = code_text(text, lang);
        let n = self.config.ngram;
        let mut recent: VecDeque<Word> = VecDeque::with_capacity(n);
        let mut found: Option<Contamination> = None;
        for word in words(&code) {
            if recent.len() == n {
                recent.pop_front();
            }
            recent.push_back(word);
            if recent.len() < n {
                continue;
            }
            let window = recent.make_contiguous();
            let start = window[0].start;
            match (self.windows.get(&window_hash(window)), found.as_mut()) {
                (Some(at), None) => {
                    found = Some(Contamination {
                        record: at.record as usize,
                        field: at.field as usize,
                        start,
                        end: word.end,
                    })
                }
                (Some(_), Some(run)) if start <= run.end => run.end = word.end,
                (_, Some(_)) => break,
                (None, None) => {}
            }
        }
        found
    }
}

/// A word held by `holding` of a benchmark's `records` is generic when more than `share` of
/// them hold it; a word of one record only is never generic (a user's benchmark may have few).
fn is_generic(holding: usize, records: usize, share: f64) -> bool {
    holding >= 2 && holding as f64 > share * records as f64
}

/// How many distinct words of `window` are not generic, or 0 when none of them can name
/// something: a run of numbers or of single letters identifies no record.
fn distinct_specific_words(window: &[Word], generic: impl Fn(u64) -> bool) -> usize {
    let specific: Vec<&Word> = window.iter().filter(|w| !generic(w.hash)).collect();
    if !specific.iter().any(|w| w.nameable) {
        return 0;
    }
    let mut hashes: Vec<u64> = specific.iter().map(|w| w.hash).collect();
    hashes.sort_unstable();
    hashes.dedup();
    hashes.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A config where no word is generic and one distinct word makes a gram identifying:
    /// the plain gram rule, for tests of tokens and matching.
    const PLAIN: DecontConfig = DecontConfig {
        ngram: 10,
        min_distinct_words: 1,
        generic_share: 1.0,
    };

    fn record(id: &str, fields: &[(&str, Option<&str>, &str)]) -> BenchmarkRecord {
        BenchmarkRecord {
            benchmark: "bench".to_owned(),
            id: id.to_owned(),
            fields: fields
                .iter()
                .map(|(name, lang, text)| BenchmarkField {
                    name: (*name).to_owned(),
                    lang: lang.map(str::to_owned),
                    text: (*text).to_owned(),
                })
                .collect(),
        }
    }

    fn solution(id: &str, text: &str) -> BenchmarkRecord {
        record(id, &[("solution", Some("Python"), text)])
    }

    fn index(records: Vec<BenchmarkRecord>, config: DecontConfig) -> DecontIndex {
        DecontIndex::build(records, config).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The obvious tokenizer: (separator, word) pairs as strings.
    fn reference_words(text: &[u8]) -> Vec<(Vec<u8>, &[u8])> {
        let mut out = Vec::new();
        let mut sep = Vec::new();
        let mut i = 0;
        while i < text.len() {
            let b = text[i];
            if WORD_BYTE[usize::from(b)] {
                let start = i;
                while i < text.len() && WORD_BYTE[usize::from(text[i])] {
                    i += 1;
                }
                out.push((std::mem::take(&mut sep), &text[start..i]));
                continue;
            }
            if b == b'\\' && text.get(i + 1).is_some_and(|c| !c.is_ascii_whitespace()) {
                sep.extend([b'\\', separator_byte(text[i + 1])]);
                i += 2;
                continue;
            }
            if !b.is_ascii_whitespace() {
                sep.push(separator_byte(b));
            }
            i += 1;
        }
        out
    }

    const SOLUTION: &str = "def add_all(numbers):\n    total = 0\n    for value in numbers:\n        total += value\n    return total\n";

    #[test]
    fn words_carry_the_punctuation_before_them_and_escapes_are_not_words() {
        let text = br#"x=foo_bar(1.5)+ "a\nb" 'c'"#;
        let got: Vec<(String, String)> = reference_words(text)
            .into_iter()
            .map(|(s, w)| {
                (
                    String::from_utf8_lossy(&s).into(),
                    String::from_utf8_lossy(w).into(),
                )
            })
            .collect();
        let pairs = [
            ("", "x"),
            ("=", "foo_bar"),
            ("(", "1"),
            (".", "5"),
            (")+\"", "a"),
            ("\\n", "b"),
            ("\"\"", "c"),
        ];
        let expected: Vec<(String, String)> = pairs
            .iter()
            .map(|(s, w)| ((*s).to_owned(), (*w).to_owned()))
            .collect();
        assert_eq!(got, expected);
        let fast: Vec<(u64, u64)> = words(text).map(|w| (w.sep, w.hash)).collect();
        let slow: Vec<(u64, u64)> = reference_words(text)
            .iter()
            .map(|(s, w)| (xxh3_64(s), xxh3_64(w)))
            .collect();
        assert_eq!(fast, slow);
    }

    #[test]
    fn reformatted_leak_with_comments_is_found_with_its_span() {
        let idx = index(vec![solution("add", SOLUTION)], PLAIN);
        let leak = "def add_all( numbers ) :  # sum them\r\n\ttotal=0\r\n\n\t# loop\n\tfor value in numbers :\r\n\t\ttotal+=value\r\n\treturn total";
        let file = format!("import os\n\n{leak}\n\nprint(1)\n");
        let hit = idx
            .scan(file.as_bytes(), Some("Python"))
            .unwrap_or_else(|| panic!("leak not found"));
        assert_eq!(idx.records()[hit.record].id, "add");
        assert_eq!(&file[hit.start..hit.end], leak);
        // Read as prose, the comment words would break every gram of the leak.
        assert_eq!(idx.scan(file.as_bytes(), None), None);
    }

    #[test]
    fn punctuation_tells_grams_with_the_same_words_apart() {
        let idx = index(vec![solution("add", SOLUTION)], PLAIN);
        let same_words = "def add_all(numbers): total = 0; for (value in numbers) { total -= value } return total";
        assert_eq!(idx.scan(same_words.as_bytes(), Some("Python")), None);
    }

    #[test]
    fn a_comment_cannot_make_a_leak() {
        let idx = index(vec![solution("add", SOLUTION)], PLAIN);
        let commented = format!("x = 1\n{}", SOLUTION.replace('\n', "\n# "));
        let commented = format!("# {commented}");
        assert_eq!(idx.scan(commented.as_bytes(), Some("Python")), None);
        assert!(idx.scan(SOLUTION.as_bytes(), Some("Python")).is_some());
    }

    #[test]
    fn escapes_in_strings_are_not_words() {
        let idx = index(
            vec![record("r", &[("text", None, "print n a b c d e f g h")])],
            PLAIN,
        );
        assert_eq!(
            idx.scan(br#"print("\n a b c d e f g h")"#, Some("Java")),
            None
        );
        assert!(idx.scan(b"print n a b c d e f g h", Some("Java")).is_some());
    }

    #[test]
    fn generic_grams_are_not_indexed() {
        // `for i in range(n)` is in every record: generic; only `foo`, `bar`, `baz` identify.
        let loops = "for i in range(n):\n    for j in range(n):\n        pass\n";
        let records = vec![
            solution("0", &format!("{loops}foo = bar + baz\n")),
            solution("1", &format!("{loops}qux = 1\n")),
            solution("2", loops),
        ];
        let config = DecontConfig {
            ngram: 10,
            min_distinct_words: 3,
            generic_share: 0.5,
        };
        let idx = index(records, config);
        assert_eq!(idx.scan(loops.as_bytes(), Some("Python")), None);
        let hit = idx.scan(
            format!("{loops}foo = bar + baz\n").as_bytes(),
            Some("Python"),
        );
        assert_eq!(hit.map(|h| h.record), Some(0));
        // Record 1 has one identifying word, record 2 none: neither can be matched.
        assert_eq!(idx.unmatchable(), &[1, 2]);
        assert_eq!(idx.stats().unmatchable_records, 2);
    }

    #[test]
    fn short_fields_are_matched_only_with_their_context() {
        let prompt = "def add(x: int, y: int):\n    \"\"\"Add two numbers x and y\"\"\"\n";
        let records = vec![record(
            "HumanEval/53",
            &[
                ("prompt", Some("Python"), prompt),
                ("canonical_solution", Some("Python"), "    return x + y\n"),
            ],
        )];
        let idx = index(records, PLAIN);
        assert_eq!(
            idx.scan(b"def f(x, y):\n    return x + y\n", Some("Python")),
            None
        );
        let whole = format!("{prompt}    return x + y\n");
        let hit = idx
            .scan(whole.as_bytes(), Some("Python"))
            .unwrap_or_else(|| panic!("no hit"));
        assert_eq!(&whole[hit.start..hit.end], whole.trim_end());
        assert_eq!(hit.field, 0);
    }

    #[test]
    fn grams_span_fields_and_are_reported_where_they_start() {
        let a = "one two three four five six seven";
        let b = "eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen";
        let idx = index(vec![record("r", &[("a", None, a), ("b", None, b)])], PLAIN);
        let across = idx.scan(b"two three four five six seven eight nine ten eleven", None);
        assert_eq!(across.map(|h| h.field), Some(0));
        assert_eq!(idx.scan(b.as_bytes(), None).map(|h| h.field), Some(1));
    }

    #[test]
    fn first_record_wins_a_shared_gram() {
        let idx = index(
            vec![solution("first", SOLUTION), solution("second", SOLUTION)],
            PLAIN,
        );
        let hit = idx
            .scan(SOLUTION.as_bytes(), Some("Python"))
            .unwrap_or_else(|| panic!("no hit"));
        assert_eq!(idx.records()[hit.record].id, "first");
    }

    #[test]
    fn fingerprint_depends_on_content_order_and_languages() {
        let a = vec![solution("a", "x y z"), solution("b", "u v w")];
        let b = vec![solution("b", "u v w"), solution("a", "x y z")];
        let config = DecontConfig::default();
        assert_eq!(fingerprint(&a, config), fingerprint(&a.clone(), config));
        assert_ne!(fingerprint(&a, config), fingerprint(&b, config));
        let prose = vec![
            record("a", &[("solution", None, "x y z")]),
            solution("b", "u v w"),
        ];
        assert_ne!(fingerprint(&a, config), fingerprint(&prose, config));
        assert_ne!(fingerprint(&a, config), fingerprint(&a, PLAIN));
    }

    #[test]
    fn invalid_config_is_an_error() {
        let bad = |ngram, min_distinct_words, generic_share| {
            DecontIndex::build(
                vec![],
                DecontConfig {
                    ngram,
                    min_distinct_words,
                    generic_share,
                },
            )
            .is_err()
        };
        assert!(bad(5, 6, 0.5));
        assert!(bad(0, 0, 0.5));
        assert!(bad(65, 3, 0.5));
        assert!(bad(10, 3, 0.0));
        assert!(bad(10, 3, f64::NAN));
        assert!(!bad(10, 3, 1.0));
    }

    /// The rule spelled out: compare (separator, word) strings gram by gram, with word
    /// frequencies counted the slow way.
    fn reference(file: &str, texts: &[String], config: DecontConfig) -> bool {
        let file_words = reference_words(file.as_bytes());
        let gram = |w: &[(Vec<u8>, &[u8])]| -> Vec<Vec<u8>> {
            w.iter()
                .enumerate()
                .flat_map(|(i, (sep, word))| {
                    let sep = if i == 0 { Vec::new() } else { sep.clone() };
                    [sep, word.to_vec()]
                })
                .collect()
        };
        let file_grams: HashSet<Vec<Vec<u8>>> =
            file_words.windows(config.ngram).map(gram).collect();
        let record_words: Vec<Vec<(Vec<u8>, &[u8])>> = texts
            .iter()
            .map(|t| reference_words(t.as_bytes()))
            .collect();
        let holding = |word: &[u8]| {
            record_words
                .iter()
                .filter(|ws| ws.iter().any(|(_, w)| *w == word))
                .count()
        };
        let generic = |word: &[u8]| {
            let n = holding(word);
            n >= 2 && n as f64 > config.generic_share * texts.len() as f64
        };
        record_words.iter().any(|ws| {
            ws.windows(config.ngram).any(|w| {
                let specific: HashSet<&[u8]> = w
                    .iter()
                    .map(|(_, word)| *word)
                    .filter(|x| !generic(x))
                    .collect();
                specific.len() >= config.min_distinct_words && file_grams.contains(&gram(w))
            })
        })
    }

    fn text_strategy(max_tokens: usize) -> impl Strategy<Value = String> {
        // A tiny vocabulary and separators make shared grams frequent.
        let token = prop_oneof![
            Just("a"),
            Just("b"),
            Just("c1"),
            Just("_d"),
            Just("é"),
            Just("7")
        ];
        let sep = prop_oneof![
            Just(" "),
            Just("\n\t"),
            Just("("),
            Just(", "),
            Just("'"),
            Just("\""),
            Just("\\n"),
            Just("+")
        ];
        prop::collection::vec((token, sep), 0..max_tokens)
            .prop_map(|parts| parts.into_iter().map(|(t, s)| format!("{t}{s}")).collect())
    }

    proptest! {
        #[test]
        fn scan_agrees_with_reference(
            texts in prop::collection::vec(text_strategy(8), 1..5),
            file in text_strategy(40),
            min_distinct_words in 0usize..3,
            generic_share in prop_oneof![Just(0.3), Just(0.6), Just(1.0)],
        ) {
            let config = DecontConfig { ngram: 4, min_distinct_words, generic_share };
            let records = texts
                .iter()
                .enumerate()
                .map(|(i, t)| record(&i.to_string(), &[("text", None, t)]))
                .collect();
            let idx = index(records, config);
            let hit = idx.scan(file.as_bytes(), None);
            // Records are joined with a newline after each field: whitespace, no effect.
            prop_assert_eq!(hit.is_some(), reference(&file, &texts, config));
            if let Some(hit) = hit {
                // The span starts and ends on word boundaries inside the file.
                let span = &file.as_bytes()[hit.start..hit.end];
                prop_assert!(!span.is_empty());
                prop_assert!(WORD_BYTE[usize::from(span[0])]);
                prop_assert!(WORD_BYTE[usize::from(span[span.len() - 1])]);
            }
        }

        #[test]
        fn comments_and_whitespace_never_change_the_verdict(
            text in text_strategy(30),
            comment in "[a-z ]{0,12}",
        ) {
            // Quotes would put the comment inside a string, where it is text.
            let text = text.replace(['\'', '"'], " ");
            let idx = index(vec![solution("x", &text)], PLAIN);
            let plain = idx.scan(text.as_bytes(), Some("Python")).is_some();
            let commented: String = text
                .split('\n')
                .map(|line| format!("{line}  # {comment}"))
                .collect::<Vec<_>>()
                .join("\r\n\n");
            prop_assert_eq!(idx.scan(commented.as_bytes(), Some("Python")).is_some(), plain);
        }
    }
}
