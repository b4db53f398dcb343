"""Token shards in Megatron's indexed-dataset layout (``PREFIX.bin`` + ``PREFIX.idx``).

The layout is Megatron-LM's ``MMapIndexedDataset`` (also read by GPT-NeoX and megatron-core's
``IndexedDataset``), so a user can train on our shards with those trainers too:

* ``.bin``: every document's tokens back to back, little-endian ``uint16`` when the vocabulary
  fits (ids < 65536), else ``int32``;
* ``.idx``: the magic ``MMIDIDX\\x00\\x00``, version ``1`` (u64), the dtype code (u8), the number
  of sequences and of document-index entries (u64 each), then ``int32`` sequence lengths,
  ``int64`` byte offsets of each sequence in ``.bin``, and ``int64`` document indices
  (``0, 1, ..., n``: every document is one sequence).

The reader memory-maps both files, so a shard is never read whole into memory.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from dsc.atomic import write_with

MAGIC = b"MMIDIDX\x00\x00"
VERSION = 1
# Megatron's DType codes.
DTYPE_CODES: dict[type[np.integer], int] = {np.uint16: 8, np.int32: 4}
_CODE_DTYPES = {code: dtype for dtype, code in DTYPE_CODES.items()}
_HEADER = struct.Struct("<9sQBQQ")


def token_dtype(vocab_size: int) -> type[np.integer]:
    """``uint16`` when every id fits in it, else ``int32`` (Megatron's rule)."""
    return np.uint16 if vocab_size <= 1 << 16 else np.int32


def write_indexed_dataset(
    prefix: Path, documents: Sequence[npt.NDArray[np.integer]], dtype: type[np.integer]
) -> None:
    """Write ``documents`` (token arrays) as ``prefix.bin`` + ``prefix.idx``, each atomically.

    The index is written last, so a reader that finds an ``.idx`` finds its whole ``.bin``.
    """
    lengths = np.array([len(d) for d in documents], dtype=np.int32)
    itemsize = np.dtype(dtype).itemsize
    pointers = np.zeros(len(documents), dtype=np.int64)
    np.cumsum(lengths[:-1].astype(np.int64) * itemsize, out=pointers[1:])

    def write_bin(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            for doc in documents:
                fh.write(np.asarray(doc).astype(dtype, casting="unsafe").tobytes())

    def write_idx(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            n = len(documents)
            fh.write(_HEADER.pack(MAGIC, VERSION, DTYPE_CODES[dtype], n, n + 1))
            fh.write(lengths.tobytes())
            fh.write(pointers.tobytes())
            fh.write(np.arange(n + 1, dtype=np.int64).tobytes())

    write_with(write_bin, prefix.with_suffix(".bin"))
    write_with(write_idx, prefix.with_suffix(".idx"))


class IndexedDataset:
    """Read-only, memory-mapped view of one ``prefix.bin``/``prefix.idx`` pair.

    ``dataset[i]`` is document ``i``'s tokens (a view into the map, no copy);
    ``dataset.read(i, start, stop)`` reads a slice of it.
    """

    def __init__(self, prefix: Path) -> None:
        idx_path, bin_path = prefix.with_suffix(".idx"), prefix.with_suffix(".bin")
        index = np.memmap(idx_path, dtype=np.uint8, mode="r")
        if index.size < _HEADER.size:
            raise ValueError(f"{idx_path}: too short for an indexed-dataset header")
        magic, version, code, n, n_doc_index = _HEADER.unpack(index[: _HEADER.size].tobytes())
        if magic != MAGIC or version != VERSION:
            raise ValueError(f"{idx_path}: not a Megatron indexed-dataset index (v{VERSION})")
        if code not in _CODE_DTYPES:
            raise ValueError(f"{idx_path}: unsupported token dtype code {code}")
        self.dtype = np.dtype(_CODE_DTYPES[code])
        offset = _HEADER.size
        self.lengths = np.frombuffer(index, dtype=np.int32, count=n, offset=offset)
        offset += 4 * n
        self.pointers = np.frombuffer(index, dtype=np.int64, count=n, offset=offset)
        offset += 8 * n
        self.document_indices = np.frombuffer(index, np.int64, count=n_doc_index, offset=offset)
        expected = int(self.lengths.astype(np.int64).sum()) * self.dtype.itemsize
        size = bin_path.stat().st_size
        if size != expected:
            raise ValueError(f"{bin_path}: {size} bytes, but its index describes {expected}")
        self._tokens = (
            np.memmap(bin_path, dtype=self.dtype, mode="r") if size else np.zeros(0, self.dtype)
        )
        self._starts = self.pointers // self.dtype.itemsize

    def __len__(self) -> int:
        return len(self.lengths)

    def __getitem__(self, i: int) -> npt.NDArray[np.integer]:
        return self.read(i, 0, int(self.lengths[i]))

    def read(self, i: int, start: int, stop: int) -> npt.NDArray[np.integer]:
        """Tokens ``start:stop`` of document ``i`` (clipped to the document, like a slice)."""
        base, length = int(self._starts[i]), int(self.lengths[i])
        return self._tokens[base + min(start, length) : base + min(stop, length)]
