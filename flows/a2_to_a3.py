"""A2→A3: localised assets come back from Box into the DAM (polling)."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.states import Completed, Failed, State
from prefect.task_runners import ThreadPoolTaskRunner

from blocks.box import BoxCredentials
from blocks.creativex import CreativeXCredentials
from blocks.dam import DamCredentials
from blocks.loading import load_blocks
from blocks.mail_server import MailServer
from blocks.tracking_database import TrackingDatabaseBlock
from domain.campaigns import CampaignStatus
from domain.fields import load_dam_fields
from domain.localised_files import (
    WORKFLOW,
    ImportJob,
    ImportOutcome,
    ImportResult,
    deferred_reason,
    ready_for_a3,
    why_campaign_takes_no_files,
)
from domain.notifications import a2_to_a3_complete_notification, files_uploaded_notification
from domain.run_tables import NO_CAMPAIGNS, NO_FILES, RequestRow, file_rows, import_campaign_rows, table
from tasks.alerts import alert_on_failure, alert_on_recovery
from tasks.dam import find_campaigns, get_campaign, get_campaign_and_folder, set_campaign_status
from tasks.localised import find_agency_files, import_files, list_agency_files
from tasks.notify import send_emails
from tasks.runs import current_run_id, publish_requests, requests_counted
from tasks.tracking import masters_waiting, triage_agency_files

# Files imported at the same time (the transfer engine's limit for A2→A3).
IMPORT_CONCURRENCY = 16


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
    dam, box, tracking, creativex, mail = load_blocks(
        (DamCredentials, dam_block), (BoxCredentials, box_block), (TrackingDatabaseBlock, tracking_db_block),
        (CreativeXCredentials, creativex_block), (MailServer, email_block))

    with requests_counted(dam=dam, box=box) as requests:  # the run's calls, uploads and 429s
        # 1-2. The files waiting (listed, or as the webhook announced them); what cannot be imported stays.
        listed = (list_agency_files(box, agency_folder_id) if box_file_ids is None
                  else find_agency_files(box, agency_folder_id, box_file_ids))
        results, waiting = triage_agency_files(tracking, listed)
        importable, not_open = campaigns_taking_files(waiting, dam)
        # 3-4. Import, at most max_files per run, IMPORT_CONCURRENCY at a time.
        results += not_open + import_files(importable[:max_files], dam, box, tracking, creativex, keep_files=keep_files,
                                           dry_run=dry_run, limit=IMPORT_CONCURRENCY)
        results += [job.result(ImportOutcome.DEFERRED, reason=deferred_reason(max_files))
                    for job in importable[max_files:]]
        # 5. A2→A3 for the campaigns whose masters all came back; a failure here is reported, not raised.
        moved, not_moved = ([], {}) if dry_run else move_finished_campaigns(results, dam, tracking, force_status_update)
    # 6. Artifacts and emails, always.
    return publish_imports(results, moved, not_moved, requests, dry_run, whole_folder=box_file_ids is None,
                           mail=mail, tracking=tracking)


def campaigns_taking_files(waiting: list[ImportJob], dam: DamCredentials) -> tuple[list[ImportJob], list[ImportResult]]:
    """The files whose campaign is in A2 or A6 now, each with its campaign's Final Assets folder
    (one DAM read per campaign), and a row for each other."""
    final_assets = load_dam_fields().campaign.folders.final_assets
    folder_ids = dict.fromkeys(job.master["campaign_folder_id"] for job in waiting)
    campaigns = {f: get_campaign_and_folder.submit(dam, f, final_assets) for f in folder_ids}
    importable, rows = [], []
    for job in waiting:
        future = campaigns[job.master["campaign_folder_id"]]
        future.wait()
        if not future.state.is_completed():
            rows.append(job.result(ImportOutcome.FAILED, reason=f"the campaign could not be read from the DAM: "
                                                                f"{future.state.message}; left in Box, retried next run"))
            continue
        campaign, folder_id = future.result()
        reason = why_campaign_takes_no_files(job.master["campaign_number"], campaign.status)
        if reason:
            rows.append(job.result(ImportOutcome.CAMPAIGN_NOT_OPEN, reason=reason))
        elif folder_id is None:
            rows.append(job.result(ImportOutcome.FAILED, reason=f"campaign {campaign.number} has no {final_assets!r} "
                                                                "folder in the DAM; left in Box, retried next run"))
        else:
            importable.append(job.model_copy(update={"final_assets": folder_id}))
    return importable, rows


def move_finished_campaigns(results: list[ImportResult], dam: DamCredentials, tracking: TrackingDatabaseBlock,
                            force: bool) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """A2→A3 for touched campaigns whose masters all have a localised version back:
    ``(moved as (number, name), errors per campaign number)``."""
    touched = {r.campaign_folder_id: r.campaign_number for r in results
               if r.campaign_folder_id and r.outcome in (ImportOutcome.IMPORTED, ImportOutcome.ALREADY_IMPORTED)}
    not_moved: dict[str, str] = {}
    # A run that stopped (crash, DAM outage) after the last import but before the status change
    # leaves no file in Box to touch the campaign again: finished A2 campaigns are picked up too.
    in_a2 = find_campaigns(dam, CampaignStatus.A2, return_state=True)
    if in_a2.is_completed():
        others = [c for c in in_a2.result() if c.folder_id not in touched]
        counts = masters_waiting(tracking, [c.folder_id for c in others]) if others else {}
        touched |= {c.folder_id: c.number for c in others if counts[c.folder_id][0] and not counts[c.folder_id][1]}
    else:
        not_moved["(A2 campaigns)"] = f"could not list the A2 campaigns: {in_a2.message}"
    waiting = masters_waiting(tracking, list(touched)) if touched else {}
    moved = []
    for folder_id, number in touched.items():
        read = get_campaign(dam, folder_id, return_state=True)
        if not read.is_completed():
            not_moved[number] = f"status not changed: the campaign could not be read: {read.message}"
            continue
        campaign = read.result()
        if not ready_for_a3(campaign.status, waiting[folder_id][1], force):
            continue
        done = set_campaign_status(dam, campaign, CampaignStatus.A3, return_state=True)
        if done.is_completed():
            moved.append((number, campaign.name))
        else:
            not_moved[number] = f"status not changed: {done.message}"
    return moved, not_moved


def publish_imports(results: list[ImportResult], moved: list[tuple[str, str]], not_moved: dict[str, str],
                    requests: list[RequestRow], dry_run: bool, *, whole_folder: bool, mail: MailServer,
                    tracking: TrackingDatabaseBlock) -> State:
    """The run's artifacts and emails, and its final state with a summary."""
    _publish(results, dry_run, moved, not_moved)
    publish_requests(WORKFLOW, requests)
    run_id = current_run_id()
    # Files left in Box are told by the poll, which sees the whole folder (once, while unchanged).
    emails = [files_uploaded_notification(results, run_id, whole_folder)] if any(
        r.outcome == ImportOutcome.IMPORTED or (whole_folder and r.outcome == ImportOutcome.CAMPAIGN_NOT_OPEN)
        for r in results) else []
    emails += [a2_to_a3_complete_notification(number, name, run_id) for number, name in moved]
    if send_emails(mail, emails, tracking):
        get_run_logger().error("some emails could not be sent")
    counts = {o.value: sum(1 for r in results if r.outcome == o) for o in ImportOutcome}
    message = (f"{WORKFLOW}: {len(results)} file(s) in Box; " + ", ".join(f"{n} {k}" for k, n in counts.items() if n)
               + f"; campaigns set to A3: {', '.join(n for n, _ in moved) or 'none'}")
    get_run_logger().info(message)
    data = {"counts": counts, "campaigns_to_a3": [n for n, _ in moved],
            "files": [r.model_dump(exclude={"representation"}) for r in results],
            "requests": [r.model_dump() for r in requests]}
    errors = [f"{r.box_path}: {r.reason}" for r in results if r.outcome.is_error]
    errors += [f"campaign {number}: {error}" for number, error in not_moved.items()]
    if errors:
        return Failed(message=f"{message}. Errors: {'; '.join(errors)[:500]}", data=data)
    return Completed(message=message, data=data)


def _publish(results: list[ImportResult], dry_run: bool, moved: list[tuple[str, str]], not_moved: dict[str, str]
             ) -> None:
    create_table_artifact(key=f"{WORKFLOW}-campaigns", table=table(import_campaign_rows(results, moved, not_moved),
                                                                   NO_CAMPAIGNS),
                          description="a2-to-a3: campaigns touched (complete = set to A3)")
    create_table_artifact(key=f"{WORKFLOW}-files", table=table(file_rows(results), NO_FILES),
                          description="a2-to-a3: one row per file in the agency-upload folder")
    if dry_run:
        import json

        body = "\n\n".join(f"### {r.box_path}\n```json\n{json.dumps(r.representation, indent=2)}\n```"
                           for r in results if r.representation)
        create_markdown_artifact(key="a2-to-a3-dry-run", markdown=f"# A2→A3 dry run\n\n{body or 'No files.'}",
                                 description="The asset representations a real run would upload")
