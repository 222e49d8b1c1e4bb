"""A2→A3: list the agency uploads in Box, import the localised files into the DAM (on the transfer engine)."""

from __future__ import annotations

from functools import partial

from prefect import get_run_logger

from blocks.box import BoxCredentials
from blocks.creativex import CreativeXCredentials
from blocks.dam import DamCredentials
from blocks.tracking_database import TrackingDatabaseBlock
from clients.box import BoxStore
from clients.errors import NotFound
from clients.transfer import ImportLedger, delete_imported_file, import_box_file_to_dam
from domain.asset_representation import localised_representation
from domain.fields import load_dam_fields
from domain.localised_files import WORKFLOW, AgencyFile, ImportJob, ImportOutcome, ImportResult
from tasks.engine import transfer_items
from tasks.retry import io_task
from tasks.runs import current_run_id


@io_task(name="list-agency-files")
def list_agency_files(box: BoxCredentials, folder_id: str) -> list[AgencyFile]:
    """Every file below the agency-upload folder (marker paging, 1,000 per call)."""
    files = [AgencyFile(box_file_id=f.id, name=f.name, sub_path=path, size=f.size, sha1=f.sha1)
             for path, f in box.get_client().walk_files(folder_id)]
    get_run_logger().info("%d file(s) waiting in the agency-upload folder", len(files))
    return files


@io_task(name="find-announced-agency-files")
def find_agency_files(box: BoxCredentials, folder_id: str, box_file_ids: list[str]) -> list[AgencyFile]:
    """The files Box's webhook announced that are still below the agency-upload folder (one call
    each, no listing); files gone meanwhile or outside the folder are left out."""
    files = [AgencyFile(box_file_id=f.id, name=f.name, sub_path=path, size=f.size, sha1=f.sha1)
             for path, f in box.get_client().files_below(folder_id, box_file_ids)]
    get_run_logger().info("%d of %d announced file(s) waiting in the agency-upload folder", len(files),
                          len(set(box_file_ids)))
    return files


@io_task(name="take-announced-uploads")
def take_announced_uploads(tracking: TrackingDatabaseBlock, flow_run_id: str | None, limit: int) -> list[str]:
    """The Box file ids the webhook receiver recorded and no run has taken yet, now this run's."""
    ids = tracking.get_client().take_webhook_uploads(flow_run_id, limit)
    get_run_logger().info("%d announced upload(s) taken", len(ids))
    return ids


def import_files(jobs: list[ImportJob], dam: DamCredentials, box: BoxCredentials, tracking: TrackingDatabaseBlock,
                 creativex: CreativeXCredentials, *, keep_files: bool, dry_run: bool, limit: int
                 ) -> list[ImportResult]:
    """Every file through the transfer engine, ``limit`` at a time; one result per file (a
    failure is a ``failed`` row: the file stays in Box and the next run tries again)."""
    work = partial(import_localised_file, dam=dam, box=box, tracking=tracking, creativex=creativex,
                   keep_files=keep_files, dry_run=dry_run)
    return transfer_items(jobs, work, _failed, _what, limit=limit, label=WORKFLOW)


def import_localised_file(job: ImportJob, dam: DamCredentials, box: BoxCredentials, tracking: TrackingDatabaseBlock,
                          creativex: CreativeXCredentials, keep_files: bool = False, dry_run: bool = False
                          ) -> ImportResult:
    """Import one localised file into its campaign's ``Final Assets`` folder, then delete it from Box.

    Overlap-safe: one run at a time holds a file (a claim in the tracking database that a dying
    process releases); another run leaves it. Crash-safe: see
    :func:`clients.transfer.import_box_file_to_dam`.
    """
    with tracking.get_client().claim(f"{WORKFLOW}:{job.file.box_file_id}") as mine:
        if not mine:
            return job.result(ImportOutcome.IN_PROGRESS, reason="another run is importing this file right now; "
                                                                "left to it")
        return _import_claimed_file(job, dam, box, tracking, creativex, keep_files, dry_run)


def _import_claimed_file(job: ImportJob, dam: DamCredentials, box: BoxCredentials, tracking: TrackingDatabaseBlock,
                         creativex: CreativeXCredentials, keep_files: bool, dry_run: bool) -> ImportResult:
    file, name, master = job.file, job.name, job.master
    fields = load_dam_fields()
    db, store, run_id = tracking.get_client(), box.get_client(), current_run_id()
    existing = db.derivative_for_box_file(file.box_file_id)
    if existing and existing["status"] == "imported":
        return _finish_earlier_import(job, existing["dam_asset_id"], store, db, keep_files or dry_run, run_id)
    score = creativex.get_client().score(tracking_id=name.tracking_id, file_name=file.name, sha1=file.sha1)
    master_elements = (master.get("metadata") or {}).get("metadata_element_list") or []
    built = localised_representation(master_elements, name, name.tracking_id, score.score, score.report_url, fields)
    if dry_run:
        return job.result(ImportOutcome.DRY_RUN, creativex=built.creativex, representation=built.representation,
                          reason="dry run: nothing uploaded or deleted")
    dam_client = dam.get_client()
    final_assets = job.final_assets or dam_client.find_subfolder(master["campaign_folder_id"],
                                                                 fields.campaign.folders.final_assets)
    dam_asset_id, deleted = import_box_file_to_dam(store, dam_client, db, file, name, master, built.representation,
                                                   final_assets=final_assets, keep_in_box=keep_files,
                                                   flow_run_id=run_id)
    get_run_logger().info("%s → DAM asset %s (CreativeX %s, score %d)", file.box_path, dam_asset_id, built.creativex,
                          score.score)
    return job.result(ImportOutcome.IMPORTED, dam_asset_id=dam_asset_id, creativex=built.creativex,
                      deleted_from_box=deleted)


def _finish_earlier_import(job: ImportJob, dam_asset_id: str, store: BoxStore, db: ImportLedger, keep: bool,
                           run_id: str | None) -> ImportResult:
    """A file an earlier run imported but did not (or chose not to) delete from Box."""
    if keep:
        return job.result(ImportOutcome.ALREADY_IMPORTED, dam_asset_id=dam_asset_id, reason="imported by an earlier run")
    try:
        delete_imported_file(store, db, job.file, job.name.tracking_id, dam_asset_id, job.master["campaign_number"],
                             run_id)
    except NotFound:  # an overlapping run imported and deleted it a moment ago
        return job.result(ImportOutcome.ALREADY_IMPORTED, dam_asset_id=dam_asset_id, reason="imported by another run")
    return job.result(ImportOutcome.ALREADY_IMPORTED, dam_asset_id=dam_asset_id, deleted_from_box=True,
                      reason="imported by an earlier run")


def _failed(job: ImportJob, error: str) -> ImportResult:
    return job.result(ImportOutcome.FAILED, reason=f"{error}; left in Box, retried next run")


def _what(job: ImportJob) -> str:
    return job.file.box_path
