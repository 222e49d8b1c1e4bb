"""Tasks that read and write the tracking database on behalf of the flows (never bare calls)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from prefect import get_run_logger

from blocks.tracking_database import TrackingDatabaseBlock
from domain.campaigns import Campaign
from domain.transfers import CampaignOutcome, CampaignResult, TransferWorkflow
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
