"""The DAM→Box transfer task shared by A1→A2, A5→A6 and B1→B2: one lane of the run's assets."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from uuid import UUID, uuid4

from prefect import get_run_logger, task
from prefect.artifacts import update_progress_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from blocks.box import BoxCredentials
from blocks.dam import DamCredentials
from blocks.tracking_database import TrackingDatabaseBlock
from clients.box import BoxFile, BoxStore
from clients.errors import AlreadyExists, NotFound
from clients.tracking_db import BoxUpload, MasterAssetRecord
from clients.transfer import dam_sha1, stream_dam_to_box
from domain.box_names import box_safe_name, tracked_file_name
from domain.fields import load_dam_fields
from domain.transfers import AssetJob, AssetOutcome, AssetResult, transfer_order
from tasks.retry import call_with_retries


def master_asset_record(job: AssetJob) -> MasterAssetRecord:
    """The tracking-database row of a DAM asset in a campaign (full metadata kept as JSONB)."""
    fields = load_dam_fields().asset
    asset, campaign = job.asset, job.campaign
    meta = asset.metadata

    def text(field_id: str) -> str | None:
        value = meta.get(field_id)
        return None if value in (None, "") else str(value)

    return MasterAssetRecord(
        dam_asset_id=asset.asset_id,
        campaign_folder_id=campaign.folder_id,
        campaign_number=campaign.number,
        campaign_name=campaign.name,
        **{job.campaign_id_column: campaign.number},
        dam_path=asset.dam_path,
        file_name=asset.name,
        extension=PurePosixPath(asset.name).suffix.lstrip(".").lower(),
        size=asset.size,
        mime_type=asset.mime_type,
        brand=text(fields.brand),
        country=text(fields.country),
        language=text(fields.language),
        metadata={"fields": meta, "metadata_element_list": asset.raw_metadata},
    )


@task(name="transfer-assets", task_run_name="transfer-lane-{lane}", cache_policy=NO_CACHE)
def transfer_assets(work: str, dam: DamCredentials, box: BoxCredentials, tracking: TrackingDatabaseBlock,
                    lane: str, progress_artifact_id: str | None = None) -> list[AssetResult]:
    """One lane of the run: take the next asset from the run's shared work list (``work``,
    see :func:`share_out`) and copy it, until none is left. The run's lanes (as many as
    ``max_concurrent_transfers``) go in parallel, so a slow asset never holds up the others.

    Every asset is retried on its own on transient errors and fails alone: the result has one
    row per asset taken (``failed`` with the reason), never an exception. One task per lane
    rather than per asset: a task run cost the Prefect server and the flow process more CPU
    than streaming a 2 MB asset (see the README's benchmark figures).
    """
    logger = get_run_logger()
    shared = _work.get(work)
    if shared is None:
        raise RuntimeError(f"the run's work list {work} is not in this process (lanes need a thread-pool task runner)")
    results = []
    while True:
        try:
            job = shared.jobs.get_nowait()
        except queue.Empty:
            return results
        what = f"{job.campaign.number} {job.asset.dam_path}"
        try:
            result = call_with_retries(lambda job=job: copy_asset(job, dam, box, tracking), what, logger.warning)
        except Exception as exc:  # noqa: BLE001 - one asset's failure is its row, the lane goes on
            logger.error("%s failed: %s", what, exc)
            result = AssetResult.failed(job, f"{type(exc).__name__}: {exc}")
        results.append(result)
        if progress_artifact_id:
            shared.count_done(progress_artifact_id)


@dataclass
class _SharedWork:
    """A run's assets waiting for a lane, and how many are done (for the progress bar)."""

    jobs: queue.SimpleQueue
    total: int
    done: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count_done(self, artifact_id: str) -> None:
        with self.lock:
            self.done += 1
            done = self.done
        if done == self.total or done % max(1, self.total // 50) == 0:  # about every 2 %
            update_progress_artifact(UUID(artifact_id), progress=round(100 * done / max(self.total, 1), 1))


_work: dict[str, _SharedWork] = {}


@contextmanager
def share_out(jobs: list[AssetJob]) -> Iterator[str]:
    """The run's work list for its lanes (largest asset first), by key; forgotten on exit."""
    key = uuid4().hex
    shared = _SharedWork(jobs=queue.SimpleQueue(), total=len(jobs))
    for job in transfer_order(jobs):
        shared.jobs.put(job)
    _work[key] = shared
    try:
        yield key
    finally:
        _work.pop(key, None)


def copy_asset(job: AssetJob, dam: DamCredentials, box: BoxCredentials, tracking: TrackingDatabaseBlock
               ) -> AssetResult:
    """Give the asset its tracking ID and stream it from the DAM into the campaign's Box folder.

    Safe to repeat, and one Box file per asset whatever the DAM does between runs: the file
    recorded for the asset is found by id (moved and renamed in Box when the asset moved or was
    renamed in the DAM), an identical copy left by a run that crashed before recording it is
    recognised by SHA-1, and a changed master becomes a new version of the same file.
    """
    logger = get_run_logger()
    db, store, dam_client = tracking.get_client(), box.get_client(), dam.get_client()
    asset = job.asset
    tracking_id = None
    if job.reuse_tracking_ids:
        hint = asset.metadata.get(load_dam_fields().asset.master_tracking_id)
        tracking_id = db.existing_tracking_id(asset.asset_id, str(hint) if hint else None)
    if tracking_id:
        previous = db.box_upload(job.workflow, asset.asset_id)
    else:
        tracking_id, previous = db.register_for_upload(master_asset_record(job), job.workflow)
    folder_id = store.ensure_folder_path(job.box_folder_id, asset.sub_path)
    name = tracked_file_name(tracking_id, asset.name)
    box_path = "/".join([job.box_folder_path, *(box_safe_name(p) for p in asset.sub_path), name])

    def result(outcome: AssetOutcome, file_id: str) -> AssetResult:
        return AssetResult(campaign_number=job.campaign.number, dam_path=asset.dam_path, dam_asset_id=asset.asset_id,
                           tracking_id=tracking_id, outcome=outcome, box_file_id=file_id, box_path=box_path,
                           size=asset.size, details=job.details)

    # The common case (never sent) costs two requests: the DAM download and the Box upload.
    # A recorded upload is looked up by id (one request) and put where the DAM has the asset now.
    existing = _recorded_file(store, previous, folder_id, name) if previous is not None else None
    unchanged = existing is not None and previous is not None and previous.sha1 == existing.sha1 \
        and existing.size == asset.size and asset.size > 0
    event, outcome, stored = "uploaded_to_box", AssetOutcome.UPLOADED, None
    if unchanged:
        stored, outcome, event = existing, AssetOutcome.ALREADY_IN_BOX, "found_in_box"
    elif existing is None:
        try:
            stored = stream_dam_to_box(dam_client, store, asset.asset_id, folder_id, name, declared_size=asset.size)
        except AlreadyExists as exc:  # a copy left by a run that crashed before recording it
            existing = store.get_file(exc.existing_id)
    if stored is None:
        if dam_sha1(dam_client, asset.asset_id, declared_size=asset.size) == existing.sha1 \
                and existing.size == asset.size:
            stored, outcome, event = existing, AssetOutcome.ALREADY_IN_BOX, "found_in_box"
        else:
            stored = stream_dam_to_box(dam_client, store, asset.asset_id, folder_id, name, declared_size=asset.size,
                                       replace_file_id=existing.id)
            event = "updated_in_box"
    moved = previous is not None and (previous.box_folder_id, previous.box_file_name) != (folder_id, name)
    if outcome == AssetOutcome.ALREADY_IN_BOX and previous is not None and previous.box_file_id == stored.id:
        if not moved:
            logger.info("%s already in Box as %s (file %s)", asset.dam_path, box_path, stored.id)
            return result(outcome, stored.id)
        event = "moved_in_box"  # renamed or moved in the DAM since: the one Box file followed
    db.record_box_upload(
        BoxUpload(workflow=job.workflow, tracking_id=tracking_id, dam_asset_id=asset.asset_id, box_folder_id=folder_id,
                  box_file_id=stored.id, box_file_name=name, sha1=stored.sha1, size=stored.size),
        campaign_number=job.campaign.number, flow_run_id=str(flow_run.id) if flow_run.id else None, event=event,
        details=job.details,
    )
    logger.info("%s → %s (%s, %d bytes, tracking ID %s)", asset.dam_path, box_path, event, stored.size, tracking_id)
    return result(outcome, stored.id)


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
