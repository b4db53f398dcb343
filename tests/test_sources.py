"""Reading repositories: in batches, a repository reads as it does whole."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from dsc.sources import Repository, read_in_batches, read_repositories_and_skips


def _size(batch: pl.DataFrame) -> int:
    return int(batch["raw"].bin.size().sum() or 0)


@given(
    sizes=st.lists(st.integers(0, 300), max_size=12),
    batch_bytes=st.integers(1, 700),
    max_file_bytes=st.integers(0, 300),
)
def test_batches_are_the_whole_read_cut_in_the_longest_runs_within_the_batch_size(
    sizes: list[int], batch_bytes: int, max_file_bytes: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for i, size in enumerate(sizes):
            (root / f"f{i:02d}.py").write_bytes(bytes([65 + i]) * size)
        repo = Repository("r", root)
        batches = list(
            read_in_batches(repo, batch_bytes=batch_bytes, max_file_bytes=max_file_bytes)
        )
        files, skipped = read_repositories_and_skips([repo], max_file_bytes=max_file_bytes)
    assert pl.concat([b for b, _ in batches]).equals(files)
    assert pl.concat([s for _, s in batches]).equals(skipped)
    assert skipped["reason"].to_list() == ["too_large"] * sum(s > max_file_bytes for s in sizes)
    # One batch at least (it reports the files not read), and no empty batch after it.
    assert batches and all(b.height for b, _ in batches[1:])
    assert all(b.height == 1 or _size(b) <= batch_bytes for b, _ in batches)
    for (batch, _), (following, _) in itertools.pairwise(batches):
        assert _size(batch) + _size(following.head(1)) > batch_bytes  # it could take no more
