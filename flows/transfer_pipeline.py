"""The DAM→Box transfer pipeline that A1→A2, A5→A6 and B1→B2 share.

Reads as the SPEC's step list: find the campaigns, walk their folder, copy every selected
asset in parallel (bounded), then move each campaign's status only when all of its assets
succeeded. The run publishes one table row per asset and ends Completed or Failed with a
summary message.
"""

from __future__ import annotations

from contextlib import ExitStack

from prefect import Flow, flow, get_run_logger
from prefect.artifacts import create_progress_artifact, create_table_artifact
from prefect.futures import PrefectFuture
from prefect.states import Completed, Failed, State
from prefect.task_runners import ThreadPoolTaskRunner

from blocks.box import BoxCredentials
from blocks.dam import DamCredentials
from blocks.mail_server import MailServer
from blocks.status_webhook import StatusWebhook
from blocks.tracking_database import TrackingDatabaseBlock
from domain.campaigns import Campaign, DamAsset
from domain.fields import load_dam_fields
from domain.notifications import campaign_notification
from domain.rejections import is_rejected, rejection_details
from domain.transfers import (
    AssetJob,
    AssetOutcome,
    AssetResult,
    CampaignOutcome,
    CampaignResult,
    RunSummary,
    TransferWorkflow,
    campaign_outcome,
    once_per_asset,
)
from tasks.alerts import alert_on_failure, alert_on_recovery
from tasks.box import campaign_box_folder
from tasks.dam import list_campaign_assets, search_campaigns, set_campaign_status
from tasks.notify import send_emails
from tasks.transfer import share_out, transfer_assets
from tasks.webhook import send_status_webhook

# How much the DAM and Box may be asked at once by one run (the flows' task runners allow more).
MAX_CONCURRENCY = 64


_PARAMETERS_DOC = """
    Args:
        campaign_number: Only this campaign (e.g. ``C000000078``), and only when it is in the
            starting status; all pending campaigns when empty.
        max_campaigns: Upper bound of campaigns taken in one run (oldest first).
        max_concurrent_transfers: Assets streamed at the same time.
        box_root_folder_id: Box folder that receives the campaign folders.
        dam_block: Name of the ``DAM Credentials`` block.
        box_block: Name of the ``Box Credentials`` block.
        tracking_db_block: Name of the ``Tracking Database`` block.
        email_block: Name of the ``Mail Server`` block (recipients per workflow, error address).
        webhook_block: Name of the ``Status Webhook`` block told about each status change
            (``Live Campaign: NO``); empty for none. a1-to-a2 uses ``status-webhook`` by default.
"""


def transfer_flow(workflow: TransferWorkflow, steps: str) -> Flow:
    """The Prefect flow of one DAM→Box workflow; ``steps`` is its docstring (shown in the UI)."""

    def run(
        campaign_number: str | None = None,
        max_campaigns: int = 10,
        max_concurrent_transfers: int = 8,
        box_root_folder_id: str = "0",
        dam_block: str = "dam",
        box_block: str = "box",
        tracking_db_block: str = "tracking-db",
        email_block: str = "email",
        webhook_block: str | None = workflow.status_webhook_block,
    ) -> State:
        return run_transfer_workflow(
            workflow,
            dam_block=dam_block,
            box_block=box_block,
            tracking_db_block=tracking_db_block,
            email_block=email_block,
            webhook_block=webhook_block,
            box_root_folder_id=box_root_folder_id,
            campaign_number=campaign_number,
            max_campaigns=max_campaigns,
            max_concurrent_transfers=max_concurrent_transfers,
        )

    run.__name__ = run.__qualname__ = workflow.name.replace("-", "_")
    run.__doc__ = steps.rstrip() + "\n" + _PARAMETERS_DOC
    return flow(name=workflow.name, task_runner=ThreadPoolTaskRunner(max_workers=MAX_CONCURRENCY),
                log_prints=True, on_failure=[alert_on_failure], on_completion=[alert_on_recovery])(run)


def run_transfer_workflow(
    workflow: TransferWorkflow,
    *,
    dam_block: str,
    box_block: str,
    tracking_db_block: str,
    email_block: str,
    box_root_folder_id: str,
    webhook_block: str | None = None,
    campaign_number: str | None,
    max_campaigns: int,
    max_concurrent_transfers: int,
) -> State:
    """Run one DAM→Box workflow over every pending campaign; return the run's final state."""
    logger = get_run_logger()
    if not 1 <= max_concurrent_transfers <= MAX_CONCURRENCY:
        raise ValueError(f"max_concurrent_transfers must be between 1 and {MAX_CONCURRENCY}")
    dam = DamCredentials.load(dam_block)
    box = BoxCredentials.load(box_block)
    tracking = TrackingDatabaseBlock.load(tracking_db_block)
    mail = MailServer.load(email_block)
    webhook = StatusWebhook.load(webhook_block) if webhook_block else None
    tracking.get_client()  # fail fast (and migrate) before touching the DAM or Box

    # 1. Campaigns in the starting status, oldest first, bounded per run.
    search = search_campaigns(dam, workflow.from_status, campaign_type=workflow.campaign_type,
                              campaign_number=campaign_number, limit=max_campaigns)
    campaigns = search.campaigns
    unusable = [_campaign_error(Campaign(folder_id=i.folder_id, number=i.number, name="", status=workflow.from_status),
                                i.problem) for i in search.invalid]

    # Each campaign is claimed for this run (a lock in the tracking database, dropped if the
    # process dies): a campaign another run of this workflow is working on is left to it.
    with ExitStack() as claims:
        db = tracking.get_client()
        mine = [c for c in campaigns if claims.enter_context(db.claim(f"{workflow.name}:{c.folder_id}"))]
        busy = {c.folder_id: CampaignResult(campaign=c, outcome=CampaignOutcome.IN_PROGRESS,
                                            status_before=c.status, status_after=c.status)
                for c in campaigns if c not in mine}
        if busy:
            logger.warning("Left to the run already working on them: %s",
                           ", ".join(r.campaign.number for r in busy.values()))
        campaigns_found, campaigns = campaigns, mine

        # 2. Walk each campaign's folder; prepare its Box folder.
        fields = load_dam_fields()
        folder_name = getattr(fields.campaign.folders, workflow.source_folder)

        def selected(asset: DamAsset) -> bool:
            return not workflow.only_rejected or is_rejected(asset, fields.rejection)

        def details(asset: DamAsset) -> dict[str, str]:
            return rejection_details(asset, fields.rejection) if workflow.only_rejected else {}

        listings = {c.folder_id: list_campaign_assets.submit(dam, c, folder_name) for c in campaigns}
        results: dict[str, CampaignResult] = {}
        jobs: list[AssetJob] = []
        skipped: dict[str, list[AssetResult]] = {}
        folders: dict[str, tuple[list[DamAsset], PrefectFuture]] = {}
        for campaign in campaigns:
            listing = listings[campaign.folder_id]
            listing.wait()
            if listing.state.is_failed():
                results[campaign.folder_id] = _campaign_error(campaign, listing.state.message)
                continue
            assets, repeated = once_per_asset(listing.result())
            if repeated:
                logger.warning("Campaign %s: the DAM listed %d asset(s) twice (%s); each is copied once",
                               campaign.number, len(repeated), ", ".join(a.dam_path for a in repeated[:5]))
            chosen = [a for a in assets if selected(a)]
            skipped[campaign.folder_id] = [
                AssetResult(campaign_number=campaign.number, dam_path=a.dam_path, dam_asset_id=a.asset_id,
                            outcome=AssetOutcome.SKIPPED, size=a.size, details=details(a))
                for a in assets if not selected(a)
            ]
            if chosen:  # a campaign with nothing to send gets no Box folder
                folders[campaign.folder_id] = (chosen, campaign_box_folder.submit(box, tracking, workflow, campaign,
                                                                                  box_root_folder_id))
        for campaign in campaigns:  # the campaigns' folders were prepared in parallel
            if campaign.folder_id not in folders:
                continue
            chosen, folder = folders[campaign.folder_id]
            folder.wait()
            if not folder.state.is_completed():
                results[campaign.folder_id] = _campaign_error(campaign, folder.state.message)
                continue
            box_folder_id, folder_path = folder.result(), workflow.box_folder_name(campaign)
            results[campaign.folder_id] = CampaignResult(campaign=campaign, outcome=CampaignOutcome.PARTIAL,
                                                         box_folder_id=box_folder_id, status_before=campaign.status,
                                                         status_after=campaign.status)
            jobs += [AssetJob(workflow=workflow.name, campaign=campaign, asset=a, box_folder_id=box_folder_id,
                              box_folder_path=folder_path, campaign_id_column=workflow.campaign_id_column,
                              reuse_tracking_ids=workflow.reuse_tracking_ids, details=details(a))
                     for a in chosen]

        # 3. Copy every selected asset, at most max_concurrent_transfers at a time.
        logger.info("Transferring %d asset(s) of %d campaign(s), %d at a time",
                    len(jobs), len(campaigns), max_concurrent_transfers)
        asset_results = _transfer_all(jobs, dam, box, tracking, max_concurrent_transfers, workflow)

        # 4. Per campaign: status moves only when every asset succeeded.
        for campaign in campaigns:
            result = results.get(campaign.folder_id) or CampaignResult(
                campaign=campaign, outcome=CampaignOutcome.NO_ASSETS, status_before=campaign.status,
                status_after=campaign.status)
            if result.outcome == CampaignOutcome.ERROR:
                continue
            result.assets = [r for r in asset_results if r.campaign_number == campaign.number]
            result.assets += skipped.get(campaign.folder_id, [])
            result.outcome = campaign_outcome(result.assets)
            if result.outcome == CampaignOutcome.COMPLETE:
                moved = set_campaign_status(dam, campaign, workflow.to_status, return_state=True)
                if moved.is_failed():
                    result.outcome, result.error = CampaignOutcome.ERROR, f"status not changed: {moved.message}"
                else:
                    result.status_after = workflow.to_status
                    if webhook is not None:
                        told = send_status_webhook(webhook, campaign, workflow.to_status, return_state=True)
                        if told.is_failed():
                            result.error = f"status moved to {workflow.to_status} but the status webhook failed: " \
                                           f"{told.message}"
            elif result.outcome == CampaignOutcome.NO_ASSETS:
                logger.warning("Campaign %s has no assets to transfer; status stays %s", campaign.number, campaign.status)
            else:
                logger.error("Campaign %s: %d of %d asset(s) failed; status stays %s", campaign.number,
                             len(result.failed_assets), len(result.assets), campaign.status)
            results[campaign.folder_id] = result
    _record_failures(tracking, workflow, list(results.values()) + unusable)

    # 5. What happened, for people (emails, artifact) and for the daily report (state message).
    results.update(busy)
    ordered = [results[c.folder_id] for c in campaigns_found] + unusable
    from prefect.runtime import flow_run

    run_id = str(flow_run.id) if flow_run.id else None
    unsent = send_emails(mail, [campaign_notification(workflow.name, r, run_id) for r in ordered
                                if r.outcome != CampaignOutcome.IN_PROGRESS], tracking)  # once per situation
    _publish_table(workflow, ordered)
    _publish_campaigns(workflow, ordered)
    summary = RunSummary.of(workflow.name, ordered)
    if unsent:
        logger.error("%d email(s) could not be sent", unsent)
    logger.info(summary.message())
    data = {"summary": summary.model_dump(), "campaigns": [_campaign_row(r) for r in ordered]}
    if summary.ok:
        return Completed(message=summary.message(), data=data)
    return Failed(message=summary.message() + _first_errors(ordered), data=data)


def _transfer_all(jobs: list[AssetJob], dam: DamCredentials, box: BoxCredentials, tracking: TrackingDatabaseBlock,
                  limit: int, workflow: TransferWorkflow) -> list[AssetResult]:
    """Copy every job, ``limit`` lanes in parallel; a progress bar artifact follows the assets."""
    if not jobs:
        return []
    progress = create_progress_artifact(0.0, key=f"{workflow.name}-progress",
                                        description=f"{workflow.name}: assets copied in this run")
    lanes = min(limit, len(jobs))
    results: list[AssetResult] = []
    broken: list[str] = []
    with share_out(jobs) as work:
        futures = [transfer_assets.submit(work, dam, box, tracking, lane=f"{i + 1}-of-{lanes}",
                                          progress_artifact_id=str(progress)) for i in range(lanes)]
        for future in futures:
            future.wait()
            if future.state.is_completed():
                results += future.result()
            else:
                broken.append(future.state.message or future.state.name)
    # A lane that broke (not one asset: the lane itself) loses track of the asset it held:
    # report every asset without a result; the next run redoes it (idempotent).
    done = {(r.campaign_number, r.dam_asset_id) for r in results}
    reason = f"not transferred: a transfer lane ended early ({'; '.join(broken)})" if broken else "not transferred"
    results += [AssetResult.failed(job, reason) for job in jobs if (job.campaign.number, job.asset.asset_id) not in done]
    return results


def _campaign_error(campaign: Campaign, message: str | None) -> CampaignResult:
    return CampaignResult(campaign=campaign, outcome=CampaignOutcome.ERROR, status_before=campaign.status,
                          status_after=campaign.status, error=message or "unknown error")


def _record_failures(tracking: TrackingDatabaseBlock, workflow: TransferWorkflow,
                     results: list[CampaignResult]) -> None:
    """Audit events for what failed, so the tracking database tells the whole story."""
    from prefect.runtime import flow_run

    db = tracking.get_client()
    run_id = str(flow_run.id) if flow_run.id else None
    for result in results:
        if result.outcome == CampaignOutcome.ERROR:
            db.add_event(workflow=workflow.name, event="campaign_failed", campaign_number=result.campaign.number,
                         detail={"error": result.error}, flow_run_id=run_id)
        for asset in result.failed_assets:
            db.add_event(workflow=workflow.name, event="transfer_failed", dam_asset_id=asset.dam_asset_id,
                         campaign_number=asset.campaign_number, detail={"error": asset.error,
                                                                        "dam_path": asset.dam_path},
                         flow_run_id=run_id)


def _publish_table(workflow: TransferWorkflow, results: list[CampaignResult]) -> None:
    rows = [
        {"campaign": r.campaign.number, "campaign_name": r.campaign.name, "path": a.dam_path,
         "tracking_id": a.tracking_id or "", "outcome": a.outcome.value, "box_path": a.box_path or "",
         "error": a.error or "", "dam_asset_id": a.dam_asset_id, **a.details}
        for r in results for a in r.assets
    ]
    rows += [
        {"campaign": r.campaign.number, "campaign_name": r.campaign.name, "path": "", "tracking_id": "",
         "outcome": r.outcome.value, "box_path": "", "error": r.error or ""}
        for r in results if r.outcome in (CampaignOutcome.ERROR, CampaignOutcome.NO_ASSETS, CampaignOutcome.IN_PROGRESS)
    ]
    create_table_artifact(
        table=rows or [{"campaign": "", "campaign_name": "", "path": "", "tracking_id": "", "outcome": "no campaigns",
                        "box_path": "", "error": ""}],
        key=f"{workflow.name}-assets",
        description=f"{workflow.name}: one row per asset (campaign, DAM path, tracking ID, outcome, error)",
    )


def _publish_campaigns(workflow: TransferWorkflow, results: list[CampaignResult]) -> None:
    """One row per campaign: what the daily report adds up (read back from the Prefect API)."""
    rows = [{"campaign": r.campaign.number, "campaign_name": r.campaign.name, "outcome": r.outcome.value,
             "status_before": r.status_before, "status_after": r.status_after,
             "assets_succeeded": sum(1 for a in r.assets if a.succeeded), "assets_failed": len(r.failed_assets),
             "assets_skipped": sum(1 for a in r.assets if a.outcome == AssetOutcome.SKIPPED),
             "error": r.error or "; ".join(f"{a.dam_path}: {a.error}" for a in r.failed_assets)[:500]}
            for r in results]
    create_table_artifact(table=rows or [{"campaign": "", "campaign_name": "", "outcome": "no campaigns",
                                          "status_before": "", "status_after": "", "assets_succeeded": 0,
                                          "assets_failed": 0, "assets_skipped": 0, "error": ""}],
                          key=f"{workflow.name}-campaigns",
                          description=f"{workflow.name}: one row per campaign (outcome and asset counts)")


def _campaign_row(result: CampaignResult) -> dict[str, object]:
    return {"number": result.campaign.number, "name": result.campaign.name, "outcome": result.outcome.value,
            "status_before": result.status_before, "status_after": result.status_after,
            "box_folder_id": result.box_folder_id, "assets": len(result.assets),
            "failed": len(result.failed_assets), "error": result.error}


def _first_errors(results: list[CampaignResult], limit: int = 3) -> str:
    errors = [f"{r.campaign.number}: {r.error}" for r in results if r.error]
    errors += [f"{a.campaign_number} {a.dam_path}: {a.error}" for r in results for a in r.failed_assets]
    if not errors:
        return ""
    more = f" (+{len(errors) - limit} more)" if len(errors) > limit else ""
    return ". Errors: " + "; ".join(errors[:limit]) + more
