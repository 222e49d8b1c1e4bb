"""The one implementation of each transfer primitive between the DAM and Box (no Prefect here).

``stream_dam_to_box`` pipes the DAM download into the Box upload chunk by chunk: at most a
few MiB are in memory whatever the asset size, and the SHA-1 of the bytes that passed is
checked against what Box stored.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

from clients.box import BoxFile, BoxStore, HashingReader
from clients.errors import IntegrityError, InvalidData

CHUNK_SIZE = 1024 * 1024


class DamContentSource(Protocol):
    """The part of the DAM client the transfer needs (lets benchmarks swap the DAM side)."""

    def open_content(self, asset_id: str): ...  # noqa: ANN201 - context manager of a content stream


def stream_dam_to_box(dam: DamContentSource, box: BoxStore, asset_id: str, folder_id: str, name: str,
                      *, declared_size: int, replace_file_id: str | None = None) -> BoxFile:
    """Copy one DAM asset's master file into Box folder ``folder_id`` as ``name``.

    ``declared_size`` is the asset's ``content_size`` as the DAM describes it: what Box gets is
    checked against it, not only against the bytes that passed. An empty master, an answer
    whose length disagrees, or a body that ends early or runs long raises before Box keeps
    anything (OTMM declares no checksum, so size is what can be checked; Box's SHA-1 of what it
    stored is checked against the bytes sent). With ``replace_file_id`` the bytes become a new
    version of that Box file instead.
    """
    _check_declared(asset_id, declared_size)
    with dam.open_content(asset_id) as content:
        _check_answer(asset_id, content.size, declared_size)
        if replace_file_id:
            return box.upload_new_version(replace_file_id, name, content.iter_bytes(CHUNK_SIZE), declared_size)
        return box.upload_stream(folder_id, name, content.iter_bytes(CHUNK_SIZE), declared_size)


def dam_sha1(dam: DamContentSource, asset_id: str, *, declared_size: int) -> str:
    """SHA-1 of a DAM asset, streamed and checked against its declared size (used to recognise
    a copy already in Box)."""
    _check_declared(asset_id, declared_size)
    digest = hashlib.sha1()
    with dam.open_content(asset_id) as content:
        _check_answer(asset_id, content.size, declared_size)
        reader = HashingReader(content.iter_bytes(CHUNK_SIZE), expected_size=declared_size)
        while chunk := reader.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def _check_declared(asset_id: str, declared_size: int) -> None:
    if declared_size <= 0:
        raise InvalidData(f"DAM asset {asset_id} declares no content (content_size {declared_size} or missing): "
                          "an empty master is not sent to Box; replace the file in the DAM and run again",
                          system="dam")


def _check_answer(asset_id: str, answer_size: int, declared_size: int) -> None:
    if answer_size != declared_size:
        raise IntegrityError(f"the DAM sent {answer_size} bytes for asset {asset_id}, which declares content_size "
                             f"{declared_size}; nothing was sent to Box", system="dam")
