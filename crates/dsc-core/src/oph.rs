//! One-permutation hashing with optimal densification: a MinHash signature of `k` values from
//! one hash per shingle instead of `k`.
//!
//! - One permutation hashing (Li, Owen, Zhang, "One Permutation Hashing", NeurIPS 2012): each
//!   shingle is hashed once; the hash picks one of `k` bins and orders the shingles within it.
//!   A bin keeps its smallest hash. Two sets' bins agree with probability equal to the Jaccard
//!   similarity of the sets, but a bin can be empty when a set has few shingles.
//! - Optimal densification (Shrivastava, "Optimal Densification for Fast and Accurate Minwise
//!   Hashing", ICML 2017): an empty bin `i` copies the value of the first non-empty bin in a
//!   random probe sequence of its own, `j_1(i), j_2(i), ...`, the same for every set. Every
//!   position then agrees with probability equal to the Jaccard similarity, and the variance of
//!   the estimate is close to that of `k` independent permutations.
//!
//! The bin minima of a union of sets are the element-wise minima of the sets' bin minima, so
//! sketches merge before densification (`dsc.dedup` does so for groups), never after.

use crate::minhash::splitmix64;

/// The mark of an empty bin: no shingle's value is `u64::MAX` (values are halved hashes).
pub const EMPTY: u64 = u64::MAX;

/// Bins and the seeded hash that places shingles in them.
#[derive(Debug, Clone)]
pub struct OnePermutation {
    bins: usize,
    /// Mixed into every shingle hash, so that seeds give independent signatures.
    key: u64,
    /// Seeds the probe sequences of empty bins.
    probe_key: u64,
}

impl OnePermutation {
    /// `bins` must be at least 1 (the caller checks).
    pub fn new(bins: usize, seed: u64) -> Self {
        let mut state = seed;
        let key = splitmix64(&mut state);
        let probe_key = splitmix64(&mut state);
        Self {
            bins,
            key,
            probe_key,
        }
    }

    /// The minimum per bin of the shingles' values; [`EMPTY`] where no shingle fell.
    pub fn bin_minima(&self, shingles: &[u64]) -> Vec<u64> {
        let mut minima = vec![EMPTY; self.bins];
        for &shingle in shingles {
            let hash = mix(shingle ^ self.key);
            let bin = fast_range(hash, self.bins);
            // The bin comes from the whole hash (its high bits mostly), the order within a bin
            // from all of it too; dropping the lowest bit keeps `EMPTY` unreachable.
            minima[bin] = minima[bin].min(hash >> 1);
        }
        minima
    }

    /// The signature: every empty bin takes the value of the first non-empty bin of its probe
    /// sequence. All bins empty (no shingles) stay empty.
    pub fn densify(&self, minima: &[u64]) -> Vec<u64> {
        if minima.iter().all(|&m| m == EMPTY) {
            return minima.to_vec();
        }
        minima
            .iter()
            .enumerate()
            .map(|(bin, &value)| {
                if value != EMPTY {
                    return value;
                }
                // SplitMix64 visits every 64-bit value once per period, so the sequence
                // reaches every bin: the loop ends, after `bins / non-empty bins` probes on
                // average.
                let mut state = mix(self.probe_key ^ bin as u64);
                loop {
                    let source = minima[fast_range(splitmix64(&mut state), self.bins)];
                    if source != EMPTY {
                        return source;
                    }
                }
            })
            .collect()
    }
}

/// A bijection of u64 with full avalanche (MurmurHash3's finaliser): shingle hashes xor a key
/// become independent uniform hashes per seed.
#[inline(always)]
fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    x ^= x >> 33;
    x = x.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    x ^ (x >> 33)
}

/// `hash` scaled into `[0, n)` by its high bits (Lemire's multiply-shift, no division).
#[inline(always)]
fn fast_range(hash: u64, n: usize) -> usize {
    ((u128::from(hash) * n as u128) >> 64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn one_shingle_fills_every_bin_with_its_value() {
        let oph = OnePermutation::new(64, 7);
        let minima = oph.bin_minima(&[12345]);
        assert_eq!(minima.iter().filter(|&&m| m != EMPTY).count(), 1);
        let value = minima.iter().copied().min();
        assert_eq!(oph.densify(&minima), vec![value.unwrap_or(EMPTY); 64]);
    }

    #[test]
    fn no_shingles_stay_empty() {
        let oph = OnePermutation::new(16, 7);
        assert_eq!(oph.densify(&oph.bin_minima(&[])), vec![EMPTY; 16]);
    }

    #[test]
    fn fast_range_covers_the_range_in_order() {
        assert_eq!(fast_range(0, 10), 0);
        assert_eq!(fast_range(u64::MAX, 10), 9);
        assert_eq!(fast_range(u64::MAX / 2, 10), 4);
    }

    proptest! {
        #[test]
        fn minima_of_a_union_are_the_minima_of_its_parts(
            left in proptest::collection::vec(any::<u64>(), 0..50),
            right in proptest::collection::vec(any::<u64>(), 0..50),
        ) {
            let oph = OnePermutation::new(32, 1);
            let union: Vec<u64> = left.iter().chain(&right).copied().collect();
            let merged: Vec<u64> = oph.bin_minima(&left).iter()
                .zip(oph.bin_minima(&right))
                .map(|(&l, r)| l.min(r))
                .collect();
            prop_assert_eq!(oph.bin_minima(&union), merged);
        }

        #[test]
        fn densified_values_are_values_of_the_set(
            shingles in proptest::collection::vec(any::<u64>(), 1..20),
        ) {
            let oph = OnePermutation::new(64, 3);
            let minima = oph.bin_minima(&shingles);
            for value in oph.densify(&minima) {
                prop_assert!(minima.contains(&value));
            }
        }
    }
}
