//! MinHash signatures of word n-gram shingles.
//!
//! A text is normalised (lower-cased, whitespace collapsed; both configurable), cut into word
//! n-grams, each n-gram hashed with xxh3, and the set of hashes summarised by `num_perm`
//! minima of the permutations `h -> (a * h + b) mod (2^61 - 1)`. Two signatures agree at a
//! position with probability equal to the Jaccard similarity of the two shingle sets.
//!
//! `b` is drawn from the whole field and `a` from `[1, 2^29)`. A narrow `a` makes `a * h`
//! two 29 x 32-bit products instead of four, which makes signatures 1.5x faster with no loss
//! of accuracy measured: the inputs are xxh3 hashes, uniform over the field, so every non-zero
//! `a` maps them to uniform values. On 21k pairs of real code and edited copies, the squared
//! error of the estimate divided by its binomial variance averaged 1.008, against 1.005 with
//! `a` drawn from the whole field.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;
use xxhash_rust::xxh3::xxh3_64;

use crate::words::{collapse_whitespace, word_spans};

/// The Mersenne prime 2^61 - 1: the modulus of the permutations (reduction needs no division).
pub const MERSENNE_61: u64 = (1 << 61) - 1;

/// Every multiplier `a` is below 2^29, so `a` times a 32-bit half of a hash fits 61 bits.
const MULTIPLIER_LIMIT: u64 = 1 << 29;

/// How signatures are computed; the same parameters give the same signature on every machine.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
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
    blocks: Vec<PermutationBlock>,
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
            a.push(1 + splitmix64(&mut state) % (MULTIPLIER_LIMIT - 1));
            b.push(splitmix64(&mut state) % MERSENNE_61);
        }
        let blocks = PermutationBlock::split(&a, &b);
        Ok(Self { params, blocks })
    }

    pub fn params(&self) -> &MinHashParams {
        &self.params
    }

    /// The text as shingled: lower-cased and whitespace-collapsed as configured.
    pub fn normalize(&self, text: &str) -> String {
        // The normalised bytes are valid UTF-8 by construction: the conversion is lossless.
        String::from_utf8_lossy(&self.normalized_words(text).0).into_owned()
    }

    /// The normalised text (UTF-8 bytes) and the byte spans of its words in it.
    fn normalized_words<'t>(&self, text: &'t str) -> (Cow<'t, [u8]>, Vec<(usize, usize)>) {
        let lowered = self.lowered(text);
        if self.params.collapse_whitespace {
            let (collapsed, words) = collapse_whitespace(lowered.as_bytes());
            return (Cow::Owned(collapsed), words);
        }
        let words = word_spans(lowered.as_bytes());
        let normalized = match lowered {
            Cow::Borrowed(text) => Cow::Borrowed(text.as_bytes()),
            Cow::Owned(text) => Cow::Owned(text.into_bytes()),
        };
        (normalized, words)
    }

    fn lowered<'t>(&self, text: &'t str) -> Cow<'t, str> {
        match (self.params.lowercase, text.is_ascii()) {
            (false, _) => Cow::Borrowed(text),
            // The same result as `to_lowercase` on ASCII, without the Unicode tables.
            (true, true) => Cow::Owned(text.to_ascii_lowercase()),
            (true, false) => Cow::Owned(text.to_lowercase()),
        }
    }

    /// The sorted, distinct xxh3 hashes of the word n-grams of `text`.
    ///
    /// An n-gram is the slice of the normalised text from its first word to its last, so with
    /// collapsed whitespace it is the words joined by single spaces. A text with fewer than
    /// `ngram` words is one shingle; a text without words has none.
    pub fn shingles(&self, text: &str) -> Vec<u64> {
        let mut hashes = self.shingle_hashes(text);
        hashes.sort_unstable();
        hashes.dedup();
        hashes
    }

    /// The xxh3 hash of each word n-gram of `text`, in text order, repeats included.
    fn shingle_hashes(&self, text: &str) -> Vec<u64> {
        let (normalized, words) = self.normalized_words(text);
        if words.is_empty() {
            return Vec::new();
        }
        let n = self.params.ngram.min(words.len());
        words
            .windows(n)
            .map(|w| xxh3_64(&normalized[w[0].0..w[n - 1].1]))
            .collect()
    }

    /// The MinHash signature of a set of shingle hashes (repeats change nothing). An empty set
    /// gives all `u64::MAX`, a value no permutation produces, so empty texts agree only with
    /// each other.
    pub fn signature_of_shingles(&self, shingles: &[u64]) -> Vec<u64> {
        let mut signature = vec![u64::MAX; self.params.num_perm];
        let reduced: Vec<u64> = shingles.iter().map(|&h| reduce_u64(h)).collect();
        min_permutations(&self.blocks, &reduced, &mut signature);
        signature
    }

    /// The MinHash signature of `text`.
    pub fn signature(&self, text: &str) -> Vec<u64> {
        // A minimum ignores repeats: hashing them again is cheaper than sorting them out.
        self.signature_of_shingles(&self.shingle_hashes(text))
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

/// Permutations computed together for every shingle, their minima kept in registers.
const LANES: usize = 32;

/// The parameters of `LANES` permutations. `a` is stored as u32 so the compiler knows each
/// product is 32 x 32 bits.
#[derive(Debug, Clone)]
struct PermutationBlock {
    a: [u32; LANES],
    b: [u64; LANES],
}

impl PermutationBlock {
    /// The blocks of `(a, b)`; the last is padded with the identity, whose minima are dropped.
    fn split(a: &[u64], b: &[u64]) -> Vec<Self> {
        a.chunks(LANES)
            .zip(b.chunks(LANES))
            .map(|(a, b)| {
                let mut block = Self {
                    a: [1; LANES],
                    b: [0; LANES],
                };
                for (j, (&a, &b)) in a.iter().zip(b).enumerate() {
                    block.a[j] = a as u32; // a < MULTIPLIER_LIMIT
                    block.b[j] = b;
                }
                block
            })
            .collect()
    }
}

/// `(a * h + b) mod (2^61 - 1)` for `a < 2^29` and `b, h < 2^61 - 1`, exactly, with the hash
/// split into 32-bit halves `h = h_hi * 2^32 + h_lo`: each product fits a u64, so the loop over
/// permutations vectorises. Modulo `p = 2^61 - 1`, `2^61 = 1`, so a term `t * 2^32` folds into
/// `(t mod 2^29) * 2^32 + (t >> 29)`.
#[inline(always)]
fn permute(a: u64, b: u64, h_lo: u64, h_hi: u64) -> u64 {
    let low = a * h_lo; // < 2^61
    let high = a * h_hi; // < 2^58, weighted 2^32
    let high_folded = ((high & ((1 << 29) - 1)) << 32) + (high >> 29);
    // Three terms below 2^61 and a small one: the sum stays below 2^63.
    let sum = low + high_folded + b;
    reduce_once((sum & MERSENNE_61) + (sum >> 61))
}

/// `signature[j] = min(signature[j], min over h of permute_j(h))`. One block of permutations
/// at a time runs over all shingles, so its parameters and minima stay in registers.
#[inline(always)]
fn min_permutations_body(blocks: &[PermutationBlock], shingles: &[u64], signature: &mut [u64]) {
    for (block, out) in blocks.iter().zip(signature.chunks_mut(LANES)) {
        let mut minima = [u64::MAX; LANES];
        minima[..out.len()].copy_from_slice(out);
        for &h in shingles {
            let (h_lo, h_hi) = (h & LOW_32, h >> 32);
            for (j, min) in minima.iter_mut().enumerate() {
                *min = (*min).min(permute(u64::from(block.a[j]), block.b[j], h_lo, h_hi));
            }
        }
        out.copy_from_slice(&minima[..out.len()]);
    }
}

/// The same loop compiled for AVX-512: eight 64-bit lanes and an unsigned 64-bit minimum.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl")]
fn min_permutations_avx512(blocks: &[PermutationBlock], shingles: &[u64], signature: &mut [u64]) {
    min_permutations_body(blocks, shingles, signature);
}

/// The same loop compiled for AVX2: four 64-bit lanes (x86-64's baseline SSE2 has two).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn min_permutations_avx2(blocks: &[PermutationBlock], shingles: &[u64], signature: &mut [u64]) {
    min_permutations_body(blocks, shingles, signature);
}

#[cfg(target_arch = "x86_64")]
fn has_avx512() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512dq")
        && std::arch::is_x86_feature_detected!("avx512vl")
}

#[cfg(target_arch = "x86_64")]
fn has_avx2() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
}

/// Runs the fastest build of the loop this CPU supports; every build gives the same result.
#[allow(unsafe_code)]
fn min_permutations(blocks: &[PermutationBlock], shingles: &[u64], signature: &mut [u64]) {
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx512() {
            // SAFETY: the CPU has every feature `min_permutations_avx512` is compiled for.
            unsafe { min_permutations_avx512(blocks, shingles, signature) };
            return;
        }
        if has_avx2() {
            // SAFETY: the CPU has AVX2, the feature `min_permutations_avx2` is compiled for.
            unsafe { min_permutations_avx2(blocks, shingles, signature) };
            return;
        }
    }
    min_permutations_body(blocks, shingles, signature);
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
    fn permute_is_exact_at_the_extremes() {
        let (a_max, p) = (MULTIPLIER_LIMIT - 1, MERSENNE_61);
        for (a, b, x) in [
            (a_max, p - 1, p - 1),
            (1, 0, 0),
            (a_max, 0, LOW_32),
            (1, p - 1, 1),
        ] {
            let slow = (u128::from(a) * u128::from(x) + u128::from(b)) % u128::from(p);
            assert_eq!(u128::from(permute(a, b, x & LOW_32, x >> 32)), slow);
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
            text in "[ a-zA-Z0-9_\t\n\x0b\x0c\r(){}.éΣσİ\u{85}\u{a0}\u{1680}\u{2000}\u{2028}\u{3000}]{0,60}"
        ) {
            let h = hasher(8);
            let slow = text.to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ");
            prop_assert_eq!(h.normalize(&text), slow);
        }

        #[test]
        fn permute_matches_u128_modulo(
            a in 1..MULTIPLIER_LIMIT, b in 0..MERSENNE_61, x in 0..MERSENNE_61
        ) {
            let slow = (u128::from(a) * u128::from(x) + u128::from(b)) % u128::from(MERSENNE_61);
            prop_assert_eq!(u128::from(permute(a, b, x & LOW_32, x >> 32)), slow);
        }

        #[test]
        fn signature_of_a_text_is_that_of_its_shingle_set(text in "(ab|cd|Ef|\\s|é){0,80}") {
            let h = hasher(32);
            prop_assert_eq!(h.signature(&text), h.signature_of_shingles(&h.shingles(&text)));
        }

        #[test]
        fn every_build_of_the_loop_agrees(
            shingles in proptest::collection::vec(0..MERSENNE_61, 0..100)
        ) {
            let h = hasher(40); // not a multiple of LANES: the padded block runs too
            let mut portable = vec![u64::MAX; 40];
            min_permutations_body(&h.blocks, &shingles, &mut portable);
            let mut dispatched = vec![u64::MAX; 40];
            min_permutations(&h.blocks, &shingles, &mut dispatched);
            prop_assert_eq!(&dispatched, &portable);
            #[cfg(target_arch = "x86_64")]
            #[allow(unsafe_code)]
            {
                if has_avx2() {
                    let mut avx2 = vec![u64::MAX; 40];
                    // SAFETY: the CPU has AVX2.
                    unsafe { min_permutations_avx2(&h.blocks, &shingles, &mut avx2) };
                    prop_assert_eq!(&avx2, &portable);
                }
                if has_avx512() {
                    let mut avx512 = vec![u64::MAX; 40];
                    // SAFETY: the CPU has AVX-512 F, DQ and VL.
                    unsafe { min_permutations_avx512(&h.blocks, &shingles, &mut avx512) };
                    prop_assert_eq!(&avx512, &portable);
                }
            }
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
                        let block = &h.blocks[j / LANES];
                        let (a, b) = (block.a[j % LANES], block.b[j % LANES]);
                        (u128::from(a) * x + u128::from(b)) % u128::from(MERSENNE_61)
                    })
                    .min();
                prop_assert_eq!(Some(u128::from(value)), slow);
            }
        }
    }

    proptest! {
        // A statistical bound: a fixed seed keeps the run reproducible, as hypothesis'
        // `derandomize` does for the Python twin of this test.
        #![proptest_config(ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0),
            ..ProptestConfig::default()
        })]

        #[test]
        fn estimate_is_close_to_exact_jaccard(
            common in 0usize..300, only_left in 0usize..300, only_right in 0usize..300
        ) {
            prop_assume!(common + only_left + only_right > 0);
            let h = hasher(256);
            // Shingles are xxh3 hashes, not small consecutive integers.
            let hashed = |ids: Vec<u64>| {
                let mut hashes: Vec<u64> = ids.iter().map(|i| xxh3_64(&i.to_le_bytes())).collect();
                hashes.sort_unstable();
                hashes
            };
            let left = hashed((0..common + only_left).map(|i| i as u64).collect());
            let right = hashed((0..common).chain(1_000_000..1_000_000 + only_right)
                .map(|i| i as u64).collect());
            let exact = exact_jaccard(&left, &right);
            let estimate = estimated_jaccard(
                &h.signature_of_shingles(&left), &h.signature_of_shingles(&right));
            let std_err = (exact * (1.0 - exact) / 256.0).sqrt();
            prop_assert!((estimate - exact).abs() <= 4.0 * std_err + 1e-9,
                "estimate {estimate} exact {exact}");
        }
    }
}
