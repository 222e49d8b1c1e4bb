"""Tasks that read and write the tracking database on behalf of the flows (never bare calls)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from prefect import get_run_logger

from blocks.tracking_database import TrackingDatabaseBlock
from domain.campaigns import Campaign
from domain.localised_files import AgencyFile, ImportJob, ImportResult, triage
from domain.transfers import A1_TO_A2, CampaignOutcome, CampaignResult, TransferWorkflow
from tasks.retry import io_task
from tasks.runs import current_run_id


@contextmanager
def claimed_campaigns(tracking: TrackingDatabaseBlock, workflow: TransferWorkflow, campaigns: list[Campaign]
                      ) -> Iterator[tuple[list[Campaign], list[Campaign]]]:
    """``(mine, busy)``: the campaigns this run holds while the ``with`` block runs, and the ones
    another run of the workflow is working on (left to it). A claim is a lock in the tracking
    database that a dying process drops, so a crash never leaves a campaign claimed."""
    with ExitStack() as claims:
        db = tracking.get_client()
        mine = [c for c in campaigns if claims.enter_context(db.claim(f"{workflow.name}:{c.folder_id}"))]
        busy = [c for c in campaigns if c not in mine]
        if busy:
            get_run_logger().warning("Left to the run already working on them: %s",
                                     ", ".join(c.number for c in busy))
        yield mine, busy


@io_task(name="record-failures")
def record_failures(tracking: TrackingDatabaseBlock, workflow: str, results: list[CampaignResult]) -> None:
    """Audit events for what failed, so the tracking database tells the whole story."""
    db, run_id = tracking.get_client(), current_run_id()
    for result in results:
        if result.outcome == CampaignOutcome.ERROR:
            db.add_event(workflow=workflow, event="campaign_failed", campaign_number=result.campaign.number,
                         detail={"error": result.error}, flow_run_id=run_id)
        for asset in result.failed_assets:
            db.add_event(workflow=workflow, event="transfer_failed", dam_asset_id=asset.dam_asset_id,
                         campaign_number=asset.campaign_number,
                         detail={"error": asset.error, "dam_path": asset.dam_path}, flow_run_id=run_id)


@io_task(name="triage-agency-files")
def triage_agency_files(tracking: TrackingDatabaseBlock, files: list[AgencyFile]
                        ) -> tuple[list[ImportResult], list[ImportJob]]:
    """``(left in Box, to import)``: names parsed and masters looked up once per file
    (:func:`domain.localised_files.triage` decides)."""
    db = tracking.get_client()
    left, jobs = [], []
    for file in files:
        triaged = triage(file, db.master_by_tracking_id, db.imported_copy)
        (left if isinstance(triaged, ImportResult) else jobs).append(triaged)
    return left, jobs


@io_task(name="masters-waiting")
def masters_waiting(tracking: TrackingDatabaseBlock, campaign_folder_ids: list[str]) -> dict[str, tuple[int, int]]:
    """Per campaign: ``(localised versions imported, masters sent by A1→A2 still waiting for one)``."""
    db = tracking.get_client()
    return {f: (db.localised_versions_imported(f), db.masters_waiting_for_localised_version(f, A1_TO_A2.name))
            for f in campaign_folder_ids}


@io_task(name="seconds-since-last-webhook-delivery")
def seconds_since_last_delivery(tracking: TrackingDatabaseBlock) -> float | None:
    """Seconds since the webhook receiver recorded its last delivery (None: never)."""
    return tracking.get_client().seconds_since_last_webhook_delivery()


@io_task(name="record-status-change")
def record_status_change(tracking: TrackingDatabaseBlock, operation: str, campaign_number: str, from_status: str,
                         to_status: str) -> None:
    """Audit an operator's status change, and forget the campaign's told situations: a new cycle
    makes them news again."""
    db = tracking.get_client()
    db.add_event(workflow=operation, event="status_changed_by_operator", campaign_number=campaign_number,
                 detail={"from": from_status, "to": to_status}, flow_run_id=current_run_id())
    db.forget_notifications(campaign_number)
