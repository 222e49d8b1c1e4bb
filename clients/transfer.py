"""The one copy per direction between the DAM and Box (no Prefect here).

- :func:`copy_dam_asset_to_box`: A1→A2, A5→A6 and B1→B2 — one DAM asset into its campaign's
  Box folder, idempotent (one Box file per asset whatever the DAM does between runs);
- :func:`import_box_file_to_dam`: A2→A3 — one agency file into the campaign's Final Assets.

Both take clients (or anything with the same methods: the Protocols below), decide with the
pure functions of ``domain/`` and stream: ``stream_dam_to_box`` pipes the DAM download into the
Box upload chunk by chunk, so at most a few MiB are in memory whatever the asset size, and
every byte count and checksum is checked against what the source declares.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
from typing import Any, Protocol

from clients.box import BoxFile, BoxStore, HashingReader
from clients.errors import AlreadyExists, IntegrityError, InvalidData, NotFound
from domain.box_names import box_safe_name, tracked_file_name
from domain.fields import DamFields
from domain.file_names import ReturnedFileName
from domain.localised_files import AgencyFile
from domain.tracking_records import BoxUpload
from domain.transfers import (
    AssetJob,
    AssetOutcome,
    AssetResult,
    CopyAction,
    copy_action,
    master_asset_record,
    upload_event,
)

CHUNK_SIZE = 1024 * 1024
log = logging.getLogger(__name__)


class DamContentSource(Protocol):
    """The part of the DAM client the transfer needs (lets benchmarks swap the DAM side)."""

    def open_content(self, asset_id: str): ...  # noqa: ANN201 - context manager of a content stream


class UploadLedger(Protocol):
    """The part of the tracking database the DAM→Box copy needs."""

    def existing_tracking_id(self, dam_asset_id: str, master_tracking_id: str | None = None) -> str | None: ...
    def box_upload(self, workflow: str, dam_asset_id: str) -> BoxUpload | None: ...
    def register_for_upload(self, record: Any, workflow: str) -> tuple[str, BoxUpload | None]: ...
    def record_box_upload(self, upload: BoxUpload, *, campaign_number: str, flow_run_id: str | None,
                          event: str = ..., details: dict[str, str] | None = None) -> None: ...


def copy_dam_asset_to_box(dam: DamContentSource, store: BoxStore, ledger: UploadLedger, job: AssetJob,
                          fields: DamFields, flow_run_id: str | None = None) -> AssetResult:
    """Give the asset its tracking ID and stream it from the DAM into the campaign's Box folder.

    Safe to repeat: the file recorded for the asset is found by id (moved and renamed in Box
    when the asset moved or was renamed in the DAM), an identical copy left by a run that
    stopped before recording it is recognised by SHA-1, and a changed master becomes a new
    version of the same file (:func:`domain.transfers.copy_action` decides).
    """
    asset, workflow = job.asset, job.workflow
    tracking_id, previous = _tracking_id(ledger, job, fields)
    folder_id = store.ensure_folder_path(job.box_folder_id, asset.sub_path)
    name = tracked_file_name(tracking_id, asset.name)
    existing = _recorded_file(store, previous, folder_id, name) if previous is not None else None
    action, outcome, replaced = copy_action(previous, existing, asset.size), AssetOutcome.ALREADY_IN_BOX, False
    stored = existing
    if action == CopyAction.UPLOAD:
        try:
            stored, outcome = stream_dam_to_box(dam, store, asset.asset_id, folder_id, name,
                                                declared_size=asset.size), AssetOutcome.UPLOADED
        except AlreadyExists as exc:  # a copy left by a run that stopped before recording it
            stored, action = store.get_file(exc.existing_id), CopyAction.COMPARE
    if action == CopyAction.COMPARE and not _same_content(dam, asset.asset_id, asset.size, stored):
        stored = stream_dam_to_box(dam, store, asset.asset_id, folder_id, name, declared_size=asset.size,
                                   replace_file_id=stored.id)
        outcome, replaced = AssetOutcome.UPLOADED, True
    moved = previous is not None and (previous.box_folder_id, previous.box_file_name) != (folder_id, name)
    event = upload_event(outcome, replaced, previous, stored.id, moved)
    if event is not None:
        ledger.record_box_upload(
            BoxUpload(workflow=workflow.name, tracking_id=tracking_id, dam_asset_id=asset.asset_id,
                      box_folder_id=folder_id, box_file_id=stored.id, box_file_name=name, sha1=stored.sha1,
                      size=stored.size),
            campaign_number=job.campaign.number, flow_run_id=flow_run_id, event=event, details=job.details)
    box_path = "/".join([job.box_folder_path, *(box_safe_name(p) for p in asset.sub_path), name])
    log.info("%s → %s (%s, %d bytes, tracking ID %s)", asset.dam_path, box_path, event or "already in Box",
             stored.size, tracking_id)
    return AssetResult(campaign_number=job.campaign.number, dam_path=asset.dam_path, dam_asset_id=asset.asset_id,
                       tracking_id=tracking_id, outcome=outcome, box_file_id=stored.id, box_path=box_path,
                       size=asset.size, details=job.details)


def _tracking_id(ledger: UploadLedger, job: AssetJob, fields: DamFields) -> tuple[str, BoxUpload | None]:
    """The asset's tracking ID (reused from an earlier cycle where the workflow says so) and
    what this workflow recorded of it in Box."""
    if job.workflow.reuse_tracking_ids:
        hint = job.asset.metadata.get(fields.asset.master_tracking_id)
        tracking_id = ledger.existing_tracking_id(job.asset.asset_id, str(hint) if hint else None)
        if tracking_id:
            return tracking_id, ledger.box_upload(job.workflow.name, job.asset.asset_id)
    return ledger.register_for_upload(master_asset_record(job, fields.asset), job.workflow.name)


def _recorded_file(store: BoxStore, previous: BoxUpload, folder_id: str, name: str) -> BoxFile | None:
    """The Box file recorded for the asset, moved to ``folder_id``/``name`` when the asset was
    moved or renamed in the DAM since; None when it is no longer in Box."""
    try:
        file = store.get_file(previous.box_file_id)
    except NotFound:
        return None
    if file.parent_id != folder_id or file.name != name:
        file = store.move_file(file.id, folder_id, name)
    return file


def _same_content(dam: DamContentSource, asset_id: str, size: int, stored: BoxFile) -> bool:
    return stored.size == size and dam_sha1(dam, asset_id, declared_size=size) == stored.sha1


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


class ImportLedger(Protocol):
    """The part of the tracking database the Box→DAM import needs."""

    def start_derivative(self, **row: Any) -> dict[str, Any]: ...
    def finish_derivative(self, box_file_id: str, dam_asset_id: str, *, flow_run_id: str | None) -> None: ...
    def add_event(self, **event: Any) -> None: ...


def import_box_file_to_dam(store: BoxStore, dam: Any, ledger: ImportLedger, file: AgencyFile, name: ReturnedFileName,
                           master: dict[str, Any], representation: dict[str, Any], *, final_assets: str,
                           keep_in_box: bool, flow_run_id: str | None = None) -> tuple[str, bool]:
    """Import one agency file into the DAM folder ``final_assets``; ``(new asset id, deleted from Box)``.

    Crash-safe: the intent is recorded before the upload, and a retried import looks for its
    earlier upload in the DAM (by name) before sending again. The download is checked against
    what Box declares (size and SHA-1) while it streams, and the file leaves Box only once the
    DAM holds exactly that many bytes.
    """
    row = ledger.start_derivative(tracking_id=name.tracking_id, master_dam_asset_id=master["dam_asset_id"],
                                  campaign_number=master["campaign_number"], box_file_id=file.box_file_id,
                                  box_file_name=file.name, box_sha1=file.sha1, description=name.description,
                                  language=name.language, state=name.state, metadata=representation)
    dam_asset_id = None
    if row["created_at"] != row["updated_at"]:  # an earlier attempt got this far: did its upload land?
        dam_asset_id = next((a.asset_id for a in dam.walk_assets(final_assets) if a.name == file.name), None)
    if dam_asset_id is None:
        reader = HashingReader(store.iter_file_bytes(file.box_file_id), expected_size=file.size,
                               expected_sha1=file.sha1)
        mime = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        dam_asset_id = dam.create_asset(final_assets, file.name, mime, reader, representation)
    held = dam.get_asset(dam_asset_id).size
    if held != file.size:
        raise IntegrityError(f"{file.box_path}: the DAM holds {held} bytes as asset {dam_asset_id}, Box declares "
                             f"{file.size}; the file stays in Box — check asset {dam_asset_id} in the DAM",
                             system="dam")
    ledger.finish_derivative(file.box_file_id, dam_asset_id, flow_run_id=flow_run_id)
    if keep_in_box:
        return dam_asset_id, False
    delete_imported_file(store, ledger, file, name.tracking_id, dam_asset_id, master["campaign_number"], flow_run_id)
    return dam_asset_id, True


def delete_imported_file(store: BoxStore, ledger: ImportLedger, file: AgencyFile, tracking_id: str,
                         dam_asset_id: str, campaign_number: str, flow_run_id: str | None) -> None:
    """Delete an imported file from Box (only once the DAM returned its asset) and say so."""
    store.delete_file(file.box_file_id)
    ledger.add_event(workflow="a2-to-a3", event="deleted_from_box", tracking_id=tracking_id,
                     dam_asset_id=dam_asset_id, campaign_number=campaign_number,
                     detail={"box_file_id": file.box_file_id}, flow_run_id=flow_run_id)
