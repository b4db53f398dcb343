//! MinHash signatures of word n-gram shingles.
//!
//! A text is normalised (lower-cased, whitespace collapsed; both configurable), cut into word
//! n-grams, each n-gram hashed with xxh3, and the set of hashes summarised by `num_perm`
//! minima of the universal hash family `(a * h + b) mod (2^61 - 1)`. Two signatures agree at a
//! position with probability equal to the Jaccard similarity of the two shingle sets.

use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;
use xxhash_rust::xxh3::xxh3_64;

/// The Mersenne prime 2^61 - 1: the modulus of the permutations (reduction needs no division).
pub const MERSENNE_61: u64 = (1 << 61) - 1;

/// How signatures are computed; the same parameters give the same signature on every machine.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MinHashParams {
    /// Number of permutations, i.e. the signature length.
    pub num_perm: usize,
    /// Words per shingle.
    pub ngram: usize,
    /// Seed of the permutation parameters `a`, `b`.
    pub seed: u64,
    /// Lower-case the text before shingling.
    pub lowercase: bool,
    /// Collapse every run of whitespace into one space before shingling.
    pub collapse_whitespace: bool,
}

impl Default for MinHashParams {
    fn default() -> Self {
        Self {
            num_perm: 256,
            ngram: 5,
            seed: 42,
            lowercase: true,
            collapse_whitespace: true,
        }
    }
}

/// A parameter that cannot produce a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MinHashError {
    ZeroPermutations,
    ZeroNgram,
}

impl fmt::Display for MinHashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ZeroPermutations => write!(f, "num_perm must be at least 1"),
            Self::ZeroNgram => write!(f, "ngram must be at least 1"),
        }
    }
}

impl std::error::Error for MinHashError {}

/// Computes signatures; holds the permutation parameters derived from the seed.
#[derive(Debug, Clone)]
pub struct MinHasher {
    params: MinHashParams,
    a: Vec<u64>,
    b: Vec<u64>,
}

impl MinHasher {
    pub fn new(params: MinHashParams) -> Result<Self, MinHashError> {
        if params.num_perm == 0 {
            return Err(MinHashError::ZeroPermutations);
        }
        if params.ngram == 0 {
            return Err(MinHashError::ZeroNgram);
        }
        let mut state = params.seed;
        let mut a = Vec::with_capacity(params.num_perm);
        let mut b = Vec::with_capacity(params.num_perm);
        for _ in 0..params.num_perm {
            // `a` must be non-zero for the map h -> a*h + b to be a permutation of the field.
            a.push(1 + splitmix64(&mut state) % (MERSENNE_61 - 1));
            b.push(splitmix64(&mut state) % MERSENNE_61);
        }
        Ok(Self { params, a, b })
    }

    pub fn params(&self) -> &MinHashParams {
        &self.params
    }

    /// The text as shingled: lower-cased and whitespace-collapsed as configured.
    pub fn normalize(&self, text: &str) -> String {
        let lowered: Cow<'_, str> = match (self.params.lowercase, text.is_ascii()) {
            (false, _) => Cow::Borrowed(text),
            // The same result as `to_lowercase` on ASCII, without the Unicode tables.
            (true, true) => Cow::Owned(text.to_ascii_lowercase()),
            (true, false) => Cow::Owned(text.to_lowercase()),
        };
        if !self.params.collapse_whitespace {
            return lowered.into_owned();
        }
        let mut collapsed = String::with_capacity(lowered.len());
        for word in lowered.split_whitespace() {
            if !collapsed.is_empty() {
                collapsed.push(' ');
            }
            collapsed.push_str(word);
        }
        collapsed
    }

    /// The sorted, distinct xxh3 hashes of the word n-grams of `text`.
    ///
    /// An n-gram is the slice of the normalised text from its first word to its last, so with
    /// collapsed whitespace it is the words joined by single spaces. A text with fewer than
    /// `ngram` words is one shingle; a text without words has none.
    pub fn shingles(&self, text: &str) -> Vec<u64> {
        let normalized = self.normalize(text);
        let words = word_spans(&normalized);
        if words.is_empty() {
            return Vec::new();
        }
        let n = self.params.ngram.min(words.len());
        let mut hashes: Vec<u64> = words
            .windows(n)
            .map(|w| xxh3_64(&normalized.as_bytes()[w[0].0..w[n - 1].1]))
            .collect();
        hashes.sort_unstable();
        hashes.dedup();
        hashes
    }

    /// The MinHash signature of a set of shingle hashes. An empty set gives all `u64::MAX`,
    /// a value no permutation produces, so empty texts agree only with each other.
    pub fn signature_of_shingles(&self, shingles: &[u64]) -> Vec<u64> {
        let mut signature = vec![u64::MAX; self.params.num_perm];
        let reduced: Vec<u64> = shingles.iter().map(|&h| reduce_u64(h)).collect();
        let a_lo: Vec<u64> = self.a.iter().map(|&a| a & LOW_32).collect();
        let a_hi: Vec<u64> = self.a.iter().map(|&a| a >> 32).collect();
        min_permutations(
            &Permutations {
                a_lo: &a_lo,
                a_hi: &a_hi,
                b: &self.b,
            },
            &reduced,
            &mut signature,
        );
        signature
    }

    /// The MinHash signature of `text`.
    pub fn signature(&self, text: &str) -> Vec<u64> {
        self.signature_of_shingles(&self.shingles(text))
    }
}

/// The fraction of positions where two signatures agree: an unbiased estimate of the Jaccard
/// similarity of the shingle sets. Signatures of different lengths share nothing.
pub fn estimated_jaccard(left: &[u64], right: &[u64]) -> f64 {
    if left.len() != right.len() || left.is_empty() {
        return 0.0;
    }
    let equal = left.iter().zip(right).filter(|(l, r)| l == r).count();
    equal as f64 / left.len() as f64
}

/// Exact Jaccard similarity of two sorted, distinct hash sets (the reference for tests and
/// quality measurements). Two empty sets are identical.
pub fn exact_jaccard(left: &[u64], right: &[u64]) -> f64 {
    if left.is_empty() && right.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < left.len() && j < right.len() {
        match left[i].cmp(&right[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    common as f64 / (left.len() + right.len() - common) as f64
}

/// Byte ranges `(start, end)` of the whitespace-separated words of `text`.
fn word_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, text.len()));
    }
    spans
}

/// `x mod (2^61 - 1)` for any u64, by folding the bits above 61 onto the low ones.
#[inline(always)]
fn reduce_u64(x: u64) -> u64 {
    let folded = (x & MERSENNE_61) + (x >> 61);
    if folded >= MERSENNE_61 {
        folded - MERSENNE_61
    } else {
        folded
    }
}

const LOW_32: u64 = (1 << 32) - 1;

/// The permutation parameters with `a` split into 32-bit limbs (`a = a_hi * 2^32 + a_lo`).
struct Permutations<'a> {
    a_lo: &'a [u64],
    a_hi: &'a [u64],
    b: &'a [u64],
}

/// `(a * h + b) mod (2^61 - 1)` for `a, b, h < 2^61 - 1`, exactly, from 32-bit limbs: every
/// product fits a u64, so the loop over permutations vectorises (no 128-bit multiply).
/// `a*h = hh*2^64 + mid*2^32 + ll`, and modulo `p = 2^61 - 1`: `2^64 = 8`, `2^61 = 1`.
#[inline(always)]
fn permute(a_lo: u64, a_hi: u64, b: u64, h_lo: u64, h_hi: u64) -> u64 {
    let ll = a_lo * h_lo; // < 2^64
    let mid = a_lo * h_hi + a_hi * h_lo; // < 2^62
    let hh = a_hi * h_hi; // < 2^58
                          // mid * 2^32 = (mid >> 29) * 2^61 + (mid mod 2^29) * 2^32 = (mid >> 29) + (mid mod 2^29) << 32
    let mid_folded = ((mid & ((1 << 29) - 1)) << 32) + (mid >> 29);
    // Each term is below 2^61 (or tiny): the sum stays below 2^64.
    let sum = (ll & MERSENNE_61) + (ll >> 61) + mid_folded + (hh << 3) + b;
    reduce_once((sum & MERSENNE_61) + (sum >> 61))
}

/// `signature[j] = min(signature[j], min over h of permute_j(h))`, permutations innermost.
#[inline(always)]
fn min_permutations_body(perms: &Permutations<'_>, shingles: &[u64], signature: &mut [u64]) {
    for &h in shingles {
        let (h_lo, h_hi) = (h & LOW_32, h >> 32);
        let lanes = signature
            .iter_mut()
            .zip(perms.a_lo)
            .zip(perms.a_hi)
            .zip(perms.b);
        for (((min, &a_lo), &a_hi), &b) in lanes {
            *min = (*min).min(permute(a_lo, a_hi, b, h_lo, h_hi));
        }
    }
}

/// The same loop compiled for AVX-512, whose 64-bit multiplies and unsigned minimum make it
/// about 3x faster than the portable build.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl")]
fn min_permutations_avx512(perms: &Permutations<'_>, shingles: &[u64], signature: &mut [u64]) {
    min_permutations_body(perms, shingles, signature);
}

/// Runs the fastest build of the loop this CPU supports; every build gives the same result.
fn min_permutations(perms: &Permutations<'_>, shingles: &[u64], signature: &mut [u64]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512dq")
        && std::arch::is_x86_feature_detected!("avx512vl")
    {
        // SAFETY: the CPU has every feature `min_permutations_avx512` is compiled for.
        #[allow(unsafe_code)]
        unsafe {
            min_permutations_avx512(perms, shingles, signature);
        }
        return;
    }
    min_permutations_body(perms, shingles, signature);
}

/// One conditional subtraction: enough for any value below `2 * (2^61 - 1)`.
#[inline(always)]
fn reduce_once(x: u64) -> u64 {
    if x >= MERSENNE_61 {
        x - MERSENNE_61
    } else {
        x
    }
}

/// SplitMix64: a tiny, well-mixed generator for the permutation parameters.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hasher(num_perm: usize) -> MinHasher {
        let params = MinHashParams {
            num_perm,
            ..MinHashParams::default()
        };
        MinHasher::new(params).expect("valid params")
    }

    #[test]
    fn rejects_zero_parameters() {
        let zero_perm = MinHashParams {
            num_perm: 0,
            ..MinHashParams::default()
        };
        assert_eq!(
            MinHasher::new(zero_perm).err(),
            Some(MinHashError::ZeroPermutations)
        );
        let zero_ngram = MinHashParams {
            ngram: 0,
            ..MinHashParams::default()
        };
        assert_eq!(
            MinHasher::new(zero_ngram).err(),
            Some(MinHashError::ZeroNgram)
        );
    }

    #[test]
    fn normalisation_ignores_case_and_spacing() {
        let h = hasher(64);
        assert_eq!(
            h.normalize("  Def  F(x):\n\treturn X "),
            "def f(x): return x"
        );
        assert_eq!(
            h.signature("def f(x):\n    return x + 1 # one"),
            h.signature("DEF f(x): return   x + 1 # ONE")
        );
    }

    #[test]
    fn normalisation_can_be_turned_off() {
        let params = MinHashParams {
            lowercase: false,
            collapse_whitespace: false,
            ..MinHashParams::default()
        };
        let h = MinHasher::new(params).expect("valid params");
        assert_ne!(h.shingles("a b c d e"), h.shingles("A b c d e"));
        assert_ne!(h.shingles("a b c d e"), h.shingles("a  b c d e"));
    }

    #[test]
    fn shingles_are_joined_word_ngrams() {
        let h = hasher(8);
        let mut expected: Vec<u64> = ["a b c d e", "b c d e f"]
            .iter()
            .map(|s| xxh3_64(s.as_bytes()))
            .collect();
        expected.sort_unstable();
        assert_eq!(h.shingles("a b\nc d e   f"), expected);
        assert_eq!(h.shingles("a b"), vec![xxh3_64(b"a b")]);
        assert!(h.shingles(" \n ").is_empty());
    }

    #[test]
    fn empty_text_has_a_signature_no_text_shares() {
        let h = hasher(16);
        assert_eq!(h.signature(""), vec![u64::MAX; 16]);
        assert_eq!(estimated_jaccard(&h.signature(""), &h.signature("x")), 0.0);
    }

    #[test]
    fn permute_matches_u128_modulo() {
        let h = hasher(32);
        for (i, x) in [0u64, 1, 2, MERSENNE_61 - 1, 12345678901234567]
            .into_iter()
            .enumerate()
        {
            let (a, b) = (h.a[i], h.b[i]);
            let slow = (u128::from(a) * u128::from(x) + u128::from(b)) % u128::from(MERSENNE_61);
            let fast = permute(a & LOW_32, a >> 32, b, x & LOW_32, x >> 32);
            assert_eq!(u128::from(fast), slow);
        }
        assert_eq!(reduce_u64(u64::MAX), u64::MAX % MERSENNE_61);
    }

    #[test]
    fn exact_jaccard_of_small_sets() {
        assert_eq!(exact_jaccard(&[1, 2, 3], &[2, 3, 4]), 0.5);
        assert_eq!(exact_jaccard(&[], &[]), 1.0);
        assert_eq!(exact_jaccard(&[1], &[]), 0.0);
    }

    proptest! {
        #[test]
        fn normalize_matches_the_unicode_definition(
            text in "[ a-zA-Z0-9_\t\n\x0b\x0c\r(){}.é\u{a0}\u{2028}]{0,60}"
        ) {
            let h = hasher(8);
            let slow = text.to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ");
            prop_assert_eq!(h.normalize(&text), slow);
        }

        #[test]
        fn every_build_of_the_loop_agrees(
            shingles in proptest::collection::vec(0..MERSENNE_61, 0..100)
        ) {
            let h = hasher(64);
            let a_lo: Vec<u64> = h.a.iter().map(|&a| a & LOW_32).collect();
            let a_hi: Vec<u64> = h.a.iter().map(|&a| a >> 32).collect();
            let perms = Permutations { a_lo: &a_lo, a_hi: &a_hi, b: &h.b };
            let (mut dispatched, mut portable) = (vec![u64::MAX; 64], vec![u64::MAX; 64]);
            min_permutations(&perms, &shingles, &mut dispatched);
            min_permutations_body(&perms, &shingles, &mut portable);
            prop_assert_eq!(dispatched, portable);
        }

        #[test]
        fn signature_is_the_minimum_of_each_permutation(
            shingles in proptest::collection::btree_set(any::<u64>(), 1..200)
        ) {
            let h = hasher(32);
            let shingles: Vec<u64> = shingles.into_iter().collect();
            let fast = h.signature_of_shingles(&shingles);
            for (j, &value) in fast.iter().enumerate() {
                let slow = shingles
                    .iter()
                    .map(|&x| {
                        let x = u128::from(x) % u128::from(MERSENNE_61);
                        (u128::from(h.a[j]) * x + u128::from(h.b[j])) % u128::from(MERSENNE_61)
                    })
                    .min();
                prop_assert_eq!(Some(u128::from(value)), slow);
            }
        }

        #[test]
        fn estimate_is_close_to_exact_jaccard(
            common in 0usize..300, only_left in 0usize..300, only_right in 0usize..300
        ) {
            prop_assume!(common + only_left + only_right > 0);
            let h = hasher(256);
            let left: Vec<u64> = (0..common + only_left).map(|i| i as u64).collect();
            let right: Vec<u64> = (0..common).chain(1_000_000..1_000_000 + only_right)
                .map(|i| i as u64).collect();
            let exact = exact_jaccard(&left, &right);
            let estimate = estimated_jaccard(
                &h.signature_of_shingles(&left), &h.signature_of_shingles(&right));
            let std_err = (exact * (1.0 - exact) / 256.0).sqrt();
            prop_assert!((estimate - exact).abs() <= 4.0 * std_err + 1e-9,
                "estimate {estimate} exact {exact}");
        }
    }
}
