"""The one implementation of each transfer primitive between the DAM and Box (no Prefect here).

``stream_dam_to_box`` pipes the DAM download into the Box upload chunk by chunk: at most a
few MiB are in memory whatever the asset size, and the SHA-1 of the bytes that passed is
checked against what Box stored.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

from clients.box import BoxFile, BoxStore

CHUNK_SIZE = 1024 * 1024


class DamContentSource(Protocol):
    """The part of the DAM client the transfer needs (lets benchmarks swap the DAM side)."""

    def open_content(self, asset_id: str): ...  # noqa: ANN201 - context manager of a content stream


def stream_dam_to_box(dam: DamContentSource, box: BoxStore, asset_id: str, folder_id: str, name: str,
                      *, replace_file_id: str | None = None) -> BoxFile:
    """Copy one DAM asset's master file into Box folder ``folder_id`` as ``name``.

    With ``replace_file_id`` the bytes become a new version of that Box file instead.
    """
    with dam.open_content(asset_id) as content:
        if replace_file_id:
            return box.upload_new_version(replace_file_id, name, content.iter_bytes(CHUNK_SIZE), content.size)
        return box.upload_stream(folder_id, name, content.iter_bytes(CHUNK_SIZE), content.size)


def dam_sha1(dam: DamContentSource, asset_id: str) -> tuple[str, int]:
    """SHA-1 and size of a DAM asset, streamed (used to recognise a copy already in Box)."""
    digest = hashlib.sha1()
    size = 0
    with dam.open_content(asset_id) as content:
        for chunk in content.iter_bytes(CHUNK_SIZE):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
