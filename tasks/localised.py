"""A2→A3 tasks: list the agency uploads in Box, import one localised file into the DAM."""

from __future__ import annotations

from prefect import get_run_logger
from prefect.runtime import flow_run

from blocks.box import BoxCredentials
from blocks.creativex import CreativeXCredentials
from blocks.dam import DamCredentials
from blocks.tracking_database import TrackingDatabaseBlock
from clients.box import HashingReader
from clients.errors import IntegrityError, NotFound
from domain.asset_representation import localised_representation
from domain.fields import load_dam_fields
from domain.file_names import ReturnedFileName
from domain.localised_files import AgencyFile, ImportOutcome, ImportResult
from tasks.retry import io_task


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


@io_task(name="import-localised-file", task_run_name="import-{file.name}")
def import_localised_file(file: AgencyFile, name: ReturnedFileName, master: dict, dam: DamCredentials,
                          box: BoxCredentials, tracking: TrackingDatabaseBlock, creativex: CreativeXCredentials,
                          keep_files: bool = False, dry_run: bool = False) -> ImportResult:
    """Import one localised file into its campaign's ``Final Assets`` folder, then delete it from Box.

    Crash-safe: the intent is recorded before the upload; a file whose earlier upload may have
    reached the DAM is looked for there (by name) before uploading again, and the Box file is
    deleted only after the DAM returned the new asset. Overlap-safe: one run at a time holds a
    file (a claim in the tracking database that a dying process releases); another run leaves it.
    """
    with tracking.get_client().claim(f"a2-to-a3:{file.box_file_id}") as mine:
        if not mine:
            return ImportResult(box_path=file.box_path, box_file_id=file.box_file_id, tracking_id=name.tracking_id,
                                campaign_number=master["campaign_number"],
                                campaign_folder_id=master["campaign_folder_id"], outcome=ImportOutcome.IN_PROGRESS,
                                reason="another run is importing this file right now; left to it")
        return _import_claimed_file(file, name, master, dam, box, tracking, creativex, keep_files, dry_run)


def _import_claimed_file(file: AgencyFile, name: ReturnedFileName, master: dict, dam: DamCredentials,
                         box: BoxCredentials, tracking: TrackingDatabaseBlock, creativex: CreativeXCredentials,
                         keep_files: bool, dry_run: bool) -> ImportResult:
    logger = get_run_logger()
    fields = load_dam_fields()
    db, store, dam_client = tracking.get_client(), box.get_client(), dam.get_client()
    run_id = str(flow_run.id) if flow_run.id else None
    base = dict(box_path=file.box_path, box_file_id=file.box_file_id, tracking_id=name.tracking_id,
                campaign_number=master["campaign_number"], campaign_folder_id=master["campaign_folder_id"])

    existing = db.derivative_for_box_file(file.box_file_id)
    if existing and existing["status"] == "imported":
        # Imported by an earlier run that stopped before (or chose not to) delete it from Box.
        deleted = False
        if not keep_files and not dry_run:
            try:
                store.delete_file(file.box_file_id)
            except NotFound:  # an overlapping run imported and deleted it a moment ago
                return ImportResult(**base, outcome=ImportOutcome.ALREADY_IMPORTED,
                                    dam_asset_id=existing["dam_asset_id"], reason="imported by another run")
            db.add_event(workflow="a2-to-a3", event="deleted_from_box", tracking_id=name.tracking_id,
                         dam_asset_id=existing["dam_asset_id"], campaign_number=master["campaign_number"],
                         detail={"box_file_id": file.box_file_id}, flow_run_id=run_id)
            deleted = True
        return ImportResult(**base, outcome=ImportOutcome.ALREADY_IMPORTED, dam_asset_id=existing["dam_asset_id"],
                            deleted_from_box=deleted, reason="imported by an earlier run")

    score = creativex.get_client().score(tracking_id=name.tracking_id, file_name=file.name, sha1=file.sha1)
    master_elements = (master.get("metadata") or {}).get("metadata_element_list") or []
    built = localised_representation(master_elements, name, name.tracking_id, score.score, score.report_url, fields)
    if dry_run:
        return ImportResult(**base, outcome=ImportOutcome.DRY_RUN, creativex=built.creativex,
                            representation=built.representation, reason="dry run: nothing uploaded or deleted")

    final_assets = dam_client.find_subfolder(master["campaign_folder_id"], fields.campaign.folders.final_assets)
    row = db.start_derivative(tracking_id=name.tracking_id, master_dam_asset_id=master["dam_asset_id"],
                              campaign_number=master["campaign_number"], box_file_id=file.box_file_id,
                              box_file_name=file.name, box_sha1=file.sha1, description=name.description,
                              language=name.language, state=name.state, metadata=built.representation)
    dam_asset_id = None
    if row["created_at"] != row["updated_at"]:  # an earlier attempt got this far: did its upload land?
        dam_asset_id = next((a.asset_id for a in dam_client.walk_assets(final_assets) if a.name == file.name), None)
    if dam_asset_id is None:
        # Checked against what Box declares for the file (size and SHA-1) while it streams: a
        # download that is short, long or different fails before the DAM gets a whole body.
        reader = HashingReader(store.iter_file_bytes(file.box_file_id), expected_size=file.size,
                               expected_sha1=file.sha1)
        dam_asset_id = dam_client.create_asset(final_assets, file.name, _mime(file.name), reader, built.representation)
    held = dam_client.get_asset(dam_asset_id).size
    if held != file.size:  # the file leaves Box only once the DAM holds exactly what Box declared
        raise IntegrityError(f"{file.box_path}: the DAM holds {held} bytes as asset {dam_asset_id}, Box declares "
                             f"{file.size}; the file stays in Box — check asset {dam_asset_id} in the DAM",
                             system="dam")
    db.finish_derivative(file.box_file_id, dam_asset_id, flow_run_id=run_id)
    deleted = False
    if not keep_files:
        store.delete_file(file.box_file_id)  # only now: the DAM has returned the new asset
        db.add_event(workflow="a2-to-a3", event="deleted_from_box", tracking_id=name.tracking_id,
                     dam_asset_id=dam_asset_id, campaign_number=master["campaign_number"],
                     detail={"box_file_id": file.box_file_id}, flow_run_id=run_id)
        deleted = True
    logger.info("%s → DAM asset %s (CreativeX %s, score %d)", file.box_path, dam_asset_id, built.creativex,
                score.score)
    return ImportResult(**base, outcome=ImportOutcome.IMPORTED, dam_asset_id=dam_asset_id, creativex=built.creativex,
                        deleted_from_box=deleted)


def _mime(name: str) -> str:
    import mimetypes

    return mimetypes.guess_type(name)[0] or "application/octet-stream"
