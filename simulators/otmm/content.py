"""Asset bytes without storing them: deterministic generated content, or a file on disk.

Generated content is a sequence of 64 KiB blocks. Block ``i`` of asset ``a`` is
``sha256(f"{a}:{i}")`` (32 bytes) followed by the tail of a per-asset 64 KiB base block
(``shake_256(a)``), so every block differs, the same asset always yields the same bytes, and
a multi-GB asset costs one cached 64 KiB block of memory. Streaming from any offset is
possible (``start``), which is what HTTP ``Range`` answers need.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

CHUNK = 64 * 1024
_STAMP = 32  # sha256 digest size


@lru_cache(maxsize=128)
def _base_block(asset_id: str) -> bytes:
    return hashlib.shake_256(f"otmm-sim:{asset_id}".encode()).digest(CHUNK)


def _block(asset_id: str, index: int) -> bytes:
    stamp = hashlib.sha256(f"{asset_id}:{index}".encode()).digest()
    return stamp + _base_block(asset_id)[_STAMP:]


def generated_chunks(asset_id: str, size: int, start: int = 0, end: int | None = None) -> Iterator[bytes]:
    """Bytes ``start``..``end`` (exclusive; default ``size``) of the generated content, ≤ 64 KiB each."""
    stop = size if end is None else min(end, size)
    position = max(0, start)
    while position < stop:
        index, offset = divmod(position, CHUNK)
        piece = _block(asset_id, index)[offset:offset + (stop - position)]
        yield piece
        position += len(piece)


def file_chunks(path: Path, start: int = 0, end: int | None = None) -> Iterator[bytes]:
    """Bytes ``start``..``end`` (exclusive; default: to the end) of a file, 64 KiB at a time."""
    with open(path, "rb") as fh:
        fh.seek(max(0, start))
        remaining = None if end is None else max(0, end - max(0, start))
        while remaining is None or remaining > 0:
            piece = fh.read(CHUNK if remaining is None else min(CHUNK, remaining))
            if not piece:
                return
            if remaining is not None:
                remaining -= len(piece)
            yield piece


def sha1_of(chunks: Iterator[bytes]) -> str:
    """Hex SHA-1 of a chunk stream (never joins the chunks)."""
    digest = hashlib.sha1()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()
