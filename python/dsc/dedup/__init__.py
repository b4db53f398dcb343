"""Near-deduplication with MinHash LSH (DeepSeek-Coder §2.3), on one machine or a Ray cluster.

For repository-level dedup, each row is one concatenated repository, so a duplicate
repository is dropped whole; for file-level dedup each row is a file. See :func:`dedup_frame`
and :func:`dedup_shards`; the stages themselves are in :mod:`dsc.dedup.stages`.

Measured on a 2-core AVX-512 machine:

- Quality (``tests/test_dedup_quality.py``: 80 repositories of real code with vendored
  copies and edited packages): every pair with exact Jaccard >= 0.90 clustered (54/54);
  35 of 36 removals have exact Jaccard >= 0.85.
- Signatures (``benchmarks/bench_dedup.py``, one core, 210 MB of real code): 180 to
  200 MB/s, 57x to 61x datasketch's ``update_batch`` and 18x to 22x a numpy implementation
  like datatrove's. The AVX2 build is about half that speed and the portable one a seventh.
- All four stages on 2 cores: 1 GB in 10.5 s and 2 GB in 25 s, with peak RSS 461 and 527 MB
  (shards of 64 MB, one band partition per 128 MB).
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
