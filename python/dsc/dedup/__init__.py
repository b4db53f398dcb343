"""Near-deduplication with MinHash LSH (DeepSeek-Coder §2.3), on one machine or a Ray cluster.

For repository-level dedup, each row is one concatenated repository, so a duplicate
repository is dropped whole; for file-level dedup each row is a file. See :func:`dedup_frame`
and :func:`dedup_shards`; the stages themselves are in :mod:`dsc.dedup.stages`.

Signatures are one permutation hashing with optimal densification by default
(``DedupConfig.scheme = "oph"``: one hash per shingle; Li, Owen, Zhang, "One Permutation
Hashing", NeurIPS 2012; Shrivastava, "Optimal Densification for Fast and Accurate Minwise
Hashing", ICML 2017), or ``"classic"``: 256 permutations per shingle, the signatures of dsc
before ``oph``. Measured on a 2-core Intel Xeon with AVX-512, shared with another job (load
about 3), so the speeds are low bounds:

- Quality (``tests/test_dedup_quality.py``), the same for both schemes: 80 repositories of
  real code with vendored copies and edited packages, every pair with exact Jaccard >= 0.90
  clustered (48/48) and 33 of 34 removals >= 0.85; the files of httpx and commons-cli beside
  their versions 40 commits older, 221/221 same-path pairs >= 0.90 clustered, 230 (oph) and
  233 (classic) of 237 removals >= 0.85 (4 to 7 over seeds in either scheme, all within 0.01
  of the threshold). On their 64 edited pairs x 16 seeds the squared error over the binomial
  variance ``J (1 - J) / 256`` is 0.89 for oph and 0.98 for classic.
- Signatures (``RAYON_NUM_THREADS=1 POLARS_MAX_THREADS=1 python benchmarks/bench_dedup.py
  --mode throughput --repeat 5``: one core, 210 MB of real code, anchors on every 25th file,
  all best of 5): oph 257 MB/s; classic 75 (AVX-512), 41 (AVX2, ``DSC_SIMD=avx2``), 13
  (portable). Against datasketch 2's ``MinHash.bulk`` (permutations shared): oph 69x its
  ``legacy`` scheme (the classic map) and 28x its fastest (``affine32``); classic AVX2 11x and
  4.4x. Against a numpy signature like datatrove's: oph 60x, classic AVX2 9.5x. (Before, the
  benchmark built a new ``MinHash`` per text and reported classic AVX-512 at 40x to 61x it and
  18x to 26x numpy.) The oph kernel is scalar; half its time is lower-casing and whitespace
  collapsing. Densifying costs about ``256^2 / shingles`` probes for a text with far fewer
  shingles than 256: a one-shingle text takes 128 us (classic 2.3 us), a 20-shingle one 8.4 us
  (classic 4.8 us).
- All four stages on 2 cores (``python benchmarks/bench_dedup.py --no-throughput --corpus-mb
  1024 [--scheme classic]``): 1 GB in 27 s with oph (signatures 12 s, filter 10 s) against
  31 s with classic (signatures 18 s), peak RSS 450 MB (shards of 64 MB, 8 band partitions).
"""

from dsc.dedup.api import DedupResult, dedup_frame, dedup_shards
from dsc.dedup.config import DedupConfig
from dsc.dedup.expressions import band_hashes, minhash_signature, minhash_similarity
from dsc.dedup.stages import DedupInputError

__all__ = [
    "DedupConfig",
    "DedupInputError",
    "DedupResult",
    "band_hashes",
    "dedup_frame",
    "dedup_shards",
    "minhash_signature",
    "minhash_similarity",
]
