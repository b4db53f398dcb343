"""Near-deduplication with MinHash LSH (PAPER.md §1 stage 3), on one machine or a Ray cluster.

For repository-level dedup, each row is one concatenated repository, so a duplicate
repository is dropped whole; for file-level dedup each row is a file. See :func:`dedup_frame`
and :func:`dedup_shards`; the stages themselves are in :mod:`dsc.dedup.stages`.
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
