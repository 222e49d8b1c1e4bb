"""A2→A3: localised assets come back from Box into the DAM (polling)."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run
from prefect.states import Completed, Failed, State
from prefect.task_runners import ThreadPoolTaskRunner

from blocks.box import BoxCredentials
from blocks.creativex import CreativeXCredentials
from blocks.dam import DamCredentials
from blocks.mail_server import MailServer
from blocks.tracking_database import TrackingDatabaseBlock
from domain.file_names import FileNameError, ReturnedFileName, parse_returned_file_name
from domain.localised_files import (
    AgencyFile,
    ImportOutcome,
    ImportResult,
    deferred_reason,
    why_campaign_takes_no_files,
)
from domain.notifications import a2_to_a3_complete_notification, files_uploaded_notification
from tasks.alerts import alert_on_failure, alert_on_recovery
from tasks.dam import find_campaigns, get_campaign, set_campaign_status
from tasks.localised import find_agency_files, import_localised_file, list_agency_files
from tasks.notify import send_emails

WORKFLOW = "a2-to-a3"


@flow(name=WORKFLOW, task_runner=ThreadPoolTaskRunner(max_workers=16), log_prints=True,
      on_failure=[alert_on_failure], on_completion=[alert_on_recovery])
def a2_to_a3(
    agency_folder_id: str = "0",
    dry_run: bool = False,
    keep_files: bool = False,
    force_status_update: bool = False,
    max_files: int = 1000,
    dam_block: str = "dam",
    box_block: str = "box",
    tracking_db_block: str = "tracking-db",
    creativex_block: str = "creativex",
    email_block: str = "email",
    box_file_ids: list[str] | None = None,
) -> State:
    """Import the localised files agencies put in Box into the DAM, then set campaigns to A3.

    1. List the agency-upload folder recursively (paged, 1,000 items per call).
    2. Parse each name (``config/file_names.toml``); names that do not parse, unknown tracking
       IDs and copies of an already-imported file stay in Box and are reported with the reason.
    3. Build the new asset's metadata from the master's (27 MVP fields), the name's
       description / language / state, and the CreativeX score and URL (added or updated).
    4. Upload into the campaign's ``Final Assets``, record the derivative, then delete the
       file from Box (only after the DAM returned the new asset; ``keep_files`` keeps it).
    5. Set A2→A3 for a campaign when every master has its localised version back
       (``force_status_update``: for every campaign touched, regardless).

    Args:
        agency_folder_id: Box folder where agencies upload localised files.
        dry_run: Build and publish the representations only; nothing uploaded, deleted or changed.
        keep_files: Leave imported files in Box.
        force_status_update: Set A3 for every campaign touched even if masters are still missing.
        max_files: Upper bound of files imported in one run.
        dam_block: Name of the ``DAM Credentials`` block.
        box_block: Name of the ``Box Credentials`` block.
        tracking_db_block: Name of the ``Tracking Database`` block.
        creativex_block: Name of the ``CreativeX Credentials`` block.
        email_block: Name of the ``Mail Server`` block.
        box_file_ids: Only these files, as Box's webhook announced them (read one by one, no
            listing); the rest of the folder waits for the poll. None (the poll): every file.
    """
    logger = get_run_logger()
    dam, box = DamCredentials.load(dam_block), BoxCredentials.load(box_block)
    tracking, creativex = TrackingDatabaseBlock.load(tracking_db_block), CreativeXCredentials.load(creativex_block)
    mail = MailServer.load(email_block)
    db = tracking.get_client()

    results: list[ImportResult] = []
    waiting: list[tuple[AgencyFile, ReturnedFileName, dict]] = []
    listed = (list_agency_files(box, agency_folder_id) if box_file_ids is None
              else find_agency_files(box, agency_folder_id, box_file_ids))
    for file in listed:
        triaged = _triage(file, db)
        if isinstance(triaged, ImportResult):
            results.append(triaged)
        else:
            waiting.append((file, *triaged))
    importable, not_now = _campaigns_taking_files(waiting, dam)
    results += not_now
    submitted: list[tuple[AgencyFile, PrefectFuture]] = []
    for file, name, master in importable[:max_files]:
        submitted.append((file, import_localised_file.submit(file, name, master, dam, box, tracking, creativex,
                                                             keep_files=keep_files, dry_run=dry_run)))
    results += [ImportResult(box_path=file.box_path, box_file_id=file.box_file_id, outcome=ImportOutcome.DEFERRED,
                             reason=deferred_reason(max_files), tracking_id=name.tracking_id,
                             campaign_number=master["campaign_number"])
                for file, name, master in importable[max_files:]]
    for file, future in submitted:
        future.wait()
        if future.state.is_completed():
            results.append(future.result())
        else:
            results.append(ImportResult(box_path=file.box_path, box_file_id=file.box_file_id,
                                        outcome=ImportOutcome.FAILED,
                                        reason=f"{future.state.message}; left in Box, retried next run"))

    moved = [] if dry_run else _move_finished_campaigns(results, dam, db, force_status_update)
    _publish(results, dry_run, moved)
    run_id = str(flow_run.id) if flow_run.id else None
    # Files left in Box are told by the poll, which sees the whole folder (once, while unchanged).
    whole_folder = box_file_ids is None
    emails = [files_uploaded_notification(results, run_id, whole_folder)] if any(
        r.outcome == ImportOutcome.IMPORTED or (whole_folder and r.outcome == ImportOutcome.CAMPAIGN_NOT_OPEN)
        for r in results) else []
    emails += [a2_to_a3_complete_notification(number, name, run_id) for number, name in moved]
    if send_emails(mail, emails, tracking):
        logger.error("some emails could not be sent")
    counts = {o.value: sum(1 for r in results if r.outcome == o) for o in ImportOutcome}
    message = (f"{WORKFLOW}: {len(results)} file(s) in Box; " + ", ".join(f"{n} {k}" for k, n in counts.items() if n)
               + f"; campaigns set to A3: {', '.join(n for n, _ in moved) or 'none'}")
    logger.info(message)
    data = {"counts": counts, "campaigns_to_a3": [n for n, _ in moved], "files": [r.model_dump(exclude={"representation"})
                                                                  for r in results]}
    if any(r.outcome.is_error for r in results):
        errors = "; ".join(f"{r.box_path}: {r.reason}" for r in results if r.outcome.is_error)
        return Failed(message=f"{message}. Errors: {errors[:500]}", data=data)
    return Completed(message=message, data=data)


def _triage(file: AgencyFile, db) -> ImportResult | tuple[ReturnedFileName, dict]:  # noqa: ANN001
    """Why a file cannot be imported (a row: it stays in Box), or its parsed name and master."""
    def left(outcome: ImportOutcome, reason: str, tracking_id: str | None = None) -> ImportResult:
        return ImportResult(box_path=file.box_path, box_file_id=file.box_file_id, outcome=outcome, reason=reason,
                            tracking_id=tracking_id)

    try:
        name = parse_returned_file_name(file.name)
    except FileNameError as exc:
        return left(ImportOutcome.BAD_NAME, str(exc))
    if file.size == 0:
        return left(ImportOutcome.EMPTY_FILE, "the file is empty (0 bytes): upload the finished file again",
                    name.tracking_id)
    master = db.master_by_tracking_id(name.tracking_id)
    if master is None:
        return left(ImportOutcome.UNKNOWN_TRACKING_ID, f"no master asset has tracking ID {name.tracking_id}",
                    name.tracking_id)
    copy = db.imported_copy(name.tracking_id, file.sha1, file.box_file_id)
    if copy is not None:
        return left(ImportOutcome.DUPLICATE, f"the same file was already imported as DAM asset {copy['dam_asset_id']}"
                    f" (from {copy['box_file_name']})", name.tracking_id)
    return name, master


def _campaigns_taking_files(waiting: list[tuple[AgencyFile, ReturnedFileName, dict]], dam: DamCredentials
                            ) -> tuple[list[tuple[AgencyFile, ReturnedFileName, dict]], list[ImportResult]]:
    """The files whose campaign is in A2 or A6 now (one DAM read per campaign), and a row for each other."""
    campaigns = {master["campaign_folder_id"]: get_campaign.submit(dam, master["campaign_folder_id"])
                 for _, _, master in waiting}
    importable, rows = [], []
    for file, name, master in waiting:
        future = campaigns[master["campaign_folder_id"]]
        base = dict(box_path=file.box_path, box_file_id=file.box_file_id, tracking_id=name.tracking_id,
                    campaign_number=master["campaign_number"], campaign_folder_id=master["campaign_folder_id"])
        future.wait()
        if not future.state.is_completed():
            rows.append(ImportResult(**base, outcome=ImportOutcome.FAILED,
                                     reason=f"the campaign could not be read from the DAM: {future.state.message}; "
                                            "left in Box, retried next run"))
            continue
        reason = why_campaign_takes_no_files(master["campaign_number"], future.result().status)
        if reason:
            rows.append(ImportResult(**base, outcome=ImportOutcome.CAMPAIGN_NOT_OPEN, reason=reason))
        else:
            importable.append((file, name, master))
    return importable, rows


def _move_finished_campaigns(results: list[ImportResult], dam: DamCredentials, db,  # noqa: ANN001
                             force: bool) -> list[tuple[str, str]]:
    """A2→A3 for touched campaigns whose masters all have a localised version back."""
    touched = {r.campaign_folder_id: r.campaign_number for r in results
               if r.campaign_folder_id and r.outcome in (ImportOutcome.IMPORTED, ImportOutcome.ALREADY_IMPORTED)}
    # A run that stopped (crash, DAM outage) after the last import but before the status change
    # leaves no file in Box to touch the campaign again: finished A2 campaigns are picked up too.
    for campaign in find_campaigns(dam, "A2"):
        if campaign.folder_id not in touched and db.localised_versions_imported(campaign.folder_id) \
                and db.masters_waiting_for_localised_version(campaign.folder_id) == 0:
            touched[campaign.folder_id] = campaign.number
    moved = []
    for folder_id, number in touched.items():
        campaign = get_campaign(dam, folder_id)  # a task: a DAM hiccup here is retried
        if campaign.status == "A3":
            continue
        if force or (campaign.status == "A2" and db.masters_waiting_for_localised_version(folder_id) == 0):
            set_campaign_status(dam, campaign, "A3")
            moved.append((number, campaign.name))
    return moved


def _publish(results: list[ImportResult], dry_run: bool, moved: list[tuple[str, str]]) -> None:
    moved_numbers = {n for n, _ in moved}
    touched = sorted({r.campaign_number for r in results if r.campaign_number})
    create_table_artifact(
        key="a2-to-a3-campaigns",
        table=[{"campaign": n, "campaign_name": next((name for m, name in moved if m == n), ""),
                "outcome": "complete" if n in moved_numbers else "partial",
                "assets_succeeded": sum(1 for r in results if r.campaign_number == n and not r.outcome.left_in_box),
                "assets_failed": sum(1 for r in results if r.campaign_number == n and r.outcome.is_error),
                "assets_skipped": 0, "error": ""} for n in touched]
        or [{"campaign": "", "campaign_name": "", "outcome": "no campaigns", "assets_succeeded": 0,
             "assets_failed": 0, "assets_skipped": 0, "error": ""}],
        description="a2-to-a3: campaigns touched (complete = set to A3)",
    )
    create_table_artifact(
        key="a2-to-a3-files",
        table=[{"box_path": r.box_path, "outcome": r.outcome.value, "reason": r.reason,
                "tracking_id": r.tracking_id or "", "campaign": r.campaign_number or "",
                "dam_asset_id": r.dam_asset_id or "", "creativex": r.creativex or "",
                "left_in_box": r.outcome.left_in_box} for r in results]
        or [{"box_path": "", "outcome": "no files", "reason": "", "tracking_id": "", "campaign": "",
             "dam_asset_id": "", "creativex": "", "left_in_box": False}],
        description="a2-to-a3: one row per file in the agency-upload folder",
    )
    if dry_run:
        import json

        body = "\n\n".join(f"### {r.box_path}\n```json\n{json.dumps(r.representation, indent=2)}\n```"
                           for r in results if r.representation)
        create_markdown_artifact(key="a2-to-a3-dry-run", markdown=f"# A2→A3 dry run\n\n{body or 'No files.'}",
                                 description="The asset representations a real run would upload")
