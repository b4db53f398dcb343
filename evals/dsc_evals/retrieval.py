"""BM25 retrieval of code chunks, as CrossCodeEval built its ``rg1_bm25`` context (the harness's
``prompt_builder/augment_with_cfc.py``): each file's non-blank lines cut into chunks of 10, the
query is the last 10 non-blank lines before the completion point, words are ``\\w+`` runs, and each
hit contributes the chunk that follows it in its file (the code after the match is what the model
lacks), or the hit itself when it is its file's last. Scoring is the ``bm25s`` library's (Lucene's
BM25, k1 = 1.5, b = 0.75) where the harness used ``rank_bm25``'s Okapi variant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import bm25s
import numpy as np

CHUNK_LINES = 10
QUERY_LINES = 10


@dataclass(frozen=True)
class Chunk:
    path: str
    index: int  # its position in its file
    text: str


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


def file_chunks(path: str, content: str) -> list[Chunk]:
    lines = [line for line in content.split("\n") if line.strip()]
    texts = ["\n".join(lines[i : i + CHUNK_LINES]) for i in range(0, len(lines), CHUNK_LINES)]
    return [Chunk(path, i, text) for i, text in enumerate(t for t in texts if words(t))]


def query_of(prompt: str) -> list[str]:
    """The words of the last ``QUERY_LINES`` non-blank lines of ``prompt``."""
    lines = [line for line in prompt.split("\n") if line.strip()]
    return words("\n".join(lines[-QUERY_LINES:]))


class ChunkIndex:
    """The chunks of a set of files (one repository's files of one language), searchable."""

    def __init__(self, files: dict[str, str]) -> None:
        self.chunks = [chunk for path in sorted(files) for chunk in file_chunks(path, files[path])]
        self._position = {(c.path, c.index): i for i, c in enumerate(self.chunks)}
        self._bm25 = bm25s.BM25()
        if self.chunks:
            self._bm25.index([words(c.text) for c in self.chunks], show_progress=False)

    def search(self, query: list[str], exclude_path: str, top_k: int) -> list[Hit]:
        """Up to ``top_k`` distinct chunks for the hits of ``query`` (score > 0) outside
        ``exclude_path``, best first; ties go to the earlier chunk (by path, then position)."""
        if not self.chunks or not query:
            return []
        scores = np.asarray(self._bm25.get_scores(query), dtype=np.float64)
        order = sorted(range(len(self.chunks)), key=lambda i: (-scores[i], i))
        hits: list[Hit] = []
        seen: set[int] = set()
        for i in order:
            if len(hits) == top_k or scores[i] <= 0:
                break
            if self.chunks[i].path == exclude_path:
                continue
            chosen = self._position.get((self.chunks[i].path, self.chunks[i].index + 1), i)
            if chosen not in seen:
                seen.add(chosen)
                hits.append(Hit(self.chunks[chosen], round(float(scores[i]), 6)))
        return hits
