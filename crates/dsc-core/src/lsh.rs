//! Locality-sensitive hashing over MinHash signatures: band hashes, candidate pairs, and the
//! connected components (clusters) of the verified pairs.
//!
//! A signature is cut into `bands` bands of `rows` values; two documents become candidates when
//! any band hashes equal. The probability of that is `1 - (1 - s^rows)^bands` for Jaccard `s`,
//! an S-curve whose step sits near the threshold when bands and rows are chosen well.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// The band layout of a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct LshParams {
    pub bands: usize,
    pub rows: usize,
}

/// A band layout that does not fit the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LshError {
    pub bands: usize,
    pub rows: usize,
    pub num_perm: usize,
}

impl fmt::Display for LshError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bands ({}) x rows ({}) must be at least 1 and at most num_perm ({})",
            self.bands, self.rows, self.num_perm
        )
    }
}

impl std::error::Error for LshError {}

impl LshParams {
    /// Checks that the layout fits a signature of `num_perm` values.
    pub fn validate(self, num_perm: usize) -> Result<Self, LshError> {
        if self.bands == 0 || self.rows == 0 || self.bands * self.rows > num_perm {
            return Err(LshError {
                bands: self.bands,
                rows: self.rows,
                num_perm,
            });
        }
        Ok(self)
    }

    /// The probability that two documents of Jaccard similarity `s` share a band.
    pub fn collision_probability(self, s: f64) -> f64 {
        1.0 - (1.0 - s.powi(self.rows as i32)).powi(self.bands as i32)
    }

    /// The layout minimising `fp_weight * FP + fn_weight * FN`, where FP is the area under the
    /// collision curve below `threshold` and FN the area above it left uncollided (the rule of
    /// text-dedup and datasketch).
    pub fn optimal(threshold: f64, num_perm: usize, fp_weight: f64, fn_weight: f64) -> Self {
        let mut best = (f64::INFINITY, Self { bands: 1, rows: 1 });
        for bands in 1..=num_perm {
            for rows in 1..=num_perm / bands {
                let params = Self { bands, rows };
                let fp = integrate(|s| params.collision_probability(s), 0.0, threshold);
                let fn_ = integrate(|s| 1.0 - params.collision_probability(s), threshold, 1.0);
                let error = fp_weight * fp + fn_weight * fn_;
                if error < best.0 {
                    best = (error, params);
                }
            }
        }
        best.1
    }
}

/// Simpson's rule on 128 intervals: the curves are smooth and the search only compares areas.
fn integrate(f: impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    const N: usize = 128;
    let h = (b - a) / N as f64;
    let inner: f64 = (1..N)
        .map(|i| {
            let weight = if i % 2 == 1 { 4.0 } else { 2.0 };
            weight * f(a + i as f64 * h)
        })
        .sum();
    (f(a) + inner + f(b)) * h / 3.0
}

/// One hash per band. The band index seeds the hash, so equal values in different bands do
/// not collide and one flat column of hashes serves all bands.
pub fn band_hashes(signature: &[u64], params: LshParams) -> Vec<u64> {
    let mut bytes = Vec::with_capacity(params.rows * 8);
    signature
        .chunks_exact(params.rows)
        .take(params.bands)
        .enumerate()
        .map(|(band, values)| {
            bytes.clear();
            values
                .iter()
                .for_each(|v| bytes.extend_from_slice(&v.to_le_bytes()));
            xxh3_64_with_seed(&bytes, band as u64)
        })
        .collect()
}

/// Sorted, distinct candidate pairs `(a, b)`, `a < b`, of nodes that share a band hash.
///
/// `hashes[i]` is a band hash of node `nodes[i]`. A bucket of at most `max_all_pairs` nodes
/// yields all its pairs; a larger one (typically many copies of one file) yields only the pairs
/// of its smallest node, which keeps the work linear and still connects the bucket.
pub fn candidate_pairs(hashes: &[u64], nodes: &[u32], max_all_pairs: usize) -> Vec<(u32, u32)> {
    let mut records: Vec<(u64, u32)> = hashes.iter().copied().zip(nodes.iter().copied()).collect();
    records.sort_unstable();
    records.dedup();
    let mut pairs = Vec::new();
    for bucket in records.chunk_by(|x, y| x.0 == y.0) {
        if bucket.len() <= max_all_pairs {
            for (i, &(_, a)) in bucket.iter().enumerate() {
                pairs.extend(bucket[i + 1..].iter().map(|&(_, b)| (a, b)));
            }
        } else {
            let first = bucket[0].1;
            pairs.extend(bucket[1..].iter().map(|&(_, b)| (first, b)));
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

/// The connected components of pairs over nodes `0..n`, fed a batch of pairs at a time, so the
/// pairs never need to be in memory together. Each root is the smallest node of its
/// component, so ordering nodes by preference makes the root the one to keep.
#[derive(Debug, Clone)]
pub struct UnionFind {
    parent: Vec<u32>,
}

impl UnionFind {
    pub fn new(n: usize) -> Self {
        Self {
            parent: (0..n as u32).collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.parent.len()
    }

    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }

    /// Joins the components of each pair; every node must be below [`Self::len`].
    pub fn union_pairs(&mut self, pairs: &[(u32, u32)]) {
        for &(a, b) in pairs {
            let (ra, rb) = (self.find(a), self.find(b));
            // Linking the larger root under the smaller keeps every root its component's minimum.
            let (low, high) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[high as usize] = low;
        }
    }

    /// Each node's root.
    pub fn roots(&mut self) -> Vec<u32> {
        (0..self.parent.len() as u32)
            .map(|x| self.find(x))
            .collect()
    }

    /// The root of `x`, halving the path on the way.
    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grandparent = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grandparent;
            x = grandparent;
        }
        x
    }
}

/// How the duplicates are spread over clusters (components of two or more nodes).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClusterStats {
    /// Components with at least two nodes.
    pub clusters: usize,
    /// Nodes in those components.
    pub clustered_nodes: usize,
    /// Nodes removed: all but one per cluster.
    pub removed: usize,
    /// Size of the largest cluster (0 when there is none): a giant cluster is the sign of
    /// chained false positives.
    pub largest: usize,
    /// Number of clusters by size class: key `k` counts sizes in `(k/2, k]`, k a power of two.
    pub size_histogram: BTreeMap<usize, usize>,
}

impl ClusterStats {
    /// Statistics of the components given by `roots` (as from [`UnionFind::roots`]).
    pub fn from_roots(roots: &[u32]) -> Self {
        let mut sizes: BTreeMap<u32, usize> = BTreeMap::new();
        for &root in roots {
            *sizes.entry(root).or_default() += 1;
        }
        let mut stats = Self::default();
        for size in sizes.into_values().filter(|&s| s >= 2) {
            stats.clusters += 1;
            stats.clustered_nodes += size;
            stats.removed += size - 1;
            stats.largest = stats.largest.max(size);
            *stats
                .size_histogram
                .entry(size.next_power_of_two())
                .or_default() += 1;
        }
        stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn optimal_layout_for_the_defaults() {
        // Equal weights give text-dedup's layout; weighting misses up moves the step left.
        let balanced = LshParams::optimal(0.85, 256, 0.5, 0.5);
        assert_eq!(
            balanced,
            LshParams {
                bands: 13,
                rows: 19
            }
        );
        let recall_first = LshParams::optimal(0.85, 256, 0.1, 0.9);
        assert!(recall_first.validate(256).is_ok());
        assert!(
            recall_first.collision_probability(0.7) < 0.2,
            "{recall_first:?}"
        );
        assert!(
            recall_first.collision_probability(0.9) > 0.95,
            "{recall_first:?}"
        );
    }

    #[test]
    fn layout_must_fit_the_signature() {
        let too_big = LshParams { bands: 9, rows: 30 };
        assert!(too_big.validate(256).is_err());
        assert!(LshParams { bands: 0, rows: 1 }.validate(256).is_err());
        assert!(LshParams { bands: 8, rows: 32 }.validate(256).is_ok());
    }

    #[test]
    fn band_hashes_differ_per_band_for_equal_values() {
        let params = LshParams { bands: 2, rows: 2 };
        let hashes = band_hashes(&[7, 7, 7, 7, 9], params);
        assert_eq!(hashes.len(), 2);
        assert_ne!(hashes[0], hashes[1]);
        assert_eq!(band_hashes(&[7, 7, 7, 7, 1], params), hashes);
    }

    #[test]
    fn large_buckets_pair_with_their_first_node_only() {
        let hashes = [5, 5, 5, 5, 9, 9];
        let nodes = [3, 1, 2, 4, 7, 8];
        assert_eq!(
            candidate_pairs(&hashes, &nodes, 3),
            vec![(1, 2), (1, 3), (1, 4), (7, 8)]
        );
        assert_eq!(candidate_pairs(&hashes, &nodes, 4).len(), 7);
    }

    #[test]
    fn stats_count_clusters_and_their_sizes() {
        let mut components = UnionFind::new(7);
        components.union_pairs(&[(4, 1), (1, 6), (2, 3)]);
        let roots = components.roots();
        assert_eq!(roots, vec![0, 1, 2, 2, 1, 5, 1]);
        let stats = ClusterStats::from_roots(&roots);
        assert_eq!(stats.clusters, 2);
        assert_eq!(stats.clustered_nodes, 5);
        assert_eq!(stats.removed, 3);
        assert_eq!(stats.largest, 3);
        assert_eq!(stats.size_histogram, BTreeMap::from([(2, 1), (4, 1)]));
    }

    /// The slow obvious reference: repeatedly merge label sets until nothing changes.
    fn components_by_relabelling(n: usize, pairs: &[(u32, u32)]) -> Vec<u32> {
        let mut label: Vec<u32> = (0..n as u32).collect();
        loop {
            let mut changed = false;
            for &(a, b) in pairs {
                let low = label[a as usize].min(label[b as usize]);
                for x in [a, b] {
                    if label[x as usize] != low {
                        label[x as usize] = low;
                        changed = true;
                    }
                }
            }
            if !changed {
                return label;
            }
        }
    }

    proptest! {
        #[test]
        fn union_find_in_batches_matches_relabelling(
            n in 1usize..40,
            raw in proptest::collection::vec((0u32..40, 0u32..40), 0..60),
            split in 0usize..60,
        ) {
            let pairs: Vec<(u32, u32)> = raw.into_iter()
                .map(|(a, b)| (a % n as u32, b % n as u32)).collect();
            let (first, second) = pairs.split_at(split.min(pairs.len()));
            let mut components = UnionFind::new(n);
            components.union_pairs(first);
            components.union_pairs(second);
            prop_assert_eq!(components.roots(), components_by_relabelling(n, &pairs));
        }

        #[test]
        fn pairs_do_not_depend_on_record_order(
            mut records in proptest::collection::vec((0u64..5, 0u32..20), 0..50)
        ) {
            let split = |r: &[(u64, u32)]| -> (Vec<u64>, Vec<u32>) { r.iter().copied().unzip() };
            let (h1, n1) = split(&records);
            records.reverse();
            let (h2, n2) = split(&records);
            prop_assert_eq!(candidate_pairs(&h1, &n1, 4), candidate_pairs(&h2, &n2, 4));
        }
    }
}
