"""The DAM→Box transfer pipeline that A1→A2, A5→A6 and B1→B2 share.

Reads as the SPEC's step list: find the campaigns, walk their folder, copy every selected
asset in parallel (bounded), then move each campaign's status only when all of its assets
succeeded. The run publishes one table row per asset and ends Completed or Failed with a
summary message.
"""

from __future__ import annotations

from prefect import Flow, flow, get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.futures import PrefectFuture
from prefect.states import Completed, Failed, State
from prefect.task_runners import ThreadPoolTaskRunner

from blocks.box import BoxCredentials
from blocks.dam import DamCredentials
from blocks.loading import load_blocks
from blocks.mail_server import MailServer
from blocks.status_webhook import StatusWebhook
from blocks.tracking_database import TrackingDatabaseBlock
from domain.campaigns import Campaign
from domain.fields import load_dam_fields
from domain.notifications import campaign_notification
from domain.run_tables import NO_ASSETS, NO_CAMPAIGNS, RequestRow, asset_rows, campaign_rows, table
from domain.transfers import (
    CampaignOutcome,
    CampaignPlan,
    CampaignResult,
    RunSummary,
    TransferWorkflow,
    left_to_other_run,
    plan_campaign,
    settle_campaign,
    unusable_campaign,
)
from tasks.alerts import alert_on_failure, alert_on_recovery
from tasks.box import campaign_box_folder
from tasks.dam import list_campaign_assets, search_campaigns, set_campaign_status
from tasks.engine import MAX_CONCURRENCY
from tasks.notify import send_emails
from tasks.runs import current_run_id, publish_requests, requests_counted
from tasks.tracking import claimed_campaigns, record_failures
from tasks.transfer import copy_assets
from tasks.webhook import send_status_webhook

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
    if not 1 <= max_concurrent_transfers <= MAX_CONCURRENCY:
        raise ValueError(f"max_concurrent_transfers must be between 1 and {MAX_CONCURRENCY}")
    dam, box, tracking, mail, webhook = load_blocks(
        (DamCredentials, dam_block), (BoxCredentials, box_block), (TrackingDatabaseBlock, tracking_db_block),
        (MailServer, email_block), (StatusWebhook, webhook_block))
    tracking.get_client()  # fail fast (and migrate) before touching the DAM or Box

    with requests_counted(dam=dam, box=box) as requests:  # the run's calls, uploads and 429s
        # 1. Campaigns in the starting status, oldest first, bounded per run.
        search = search_campaigns(dam, workflow.from_status, campaign_type=workflow.campaign_type,
                                  campaign_number=campaign_number, limit=max_campaigns)
        # 2. Each campaign is held by one run of the workflow at a time; the others leave it.
        with claimed_campaigns(tracking, workflow, search.campaigns) as (mine, _busy):
            # 3. Walk each campaign's folder, choose its assets, prepare its Box folder.
            plans = prepare_campaigns(workflow, mine, dam, box, tracking, box_root_folder_id)
            # 4. Copy every chosen asset, at most max_concurrent_transfers at a time.
            jobs = [job for plan in plans for job in plan.jobs(workflow)]
            get_run_logger().info("Transferring %d asset(s) of %d campaign(s), %d at a time", len(jobs), len(mine),
                                  max_concurrent_transfers)
            copied = copy_assets(jobs, dam, box, tracking, limit=max_concurrent_transfers, label=workflow.name)
            # 5. A campaign moves on only when every asset succeeded.
            settled = {p.campaign.folder_id: move_status(workflow, settle_campaign(p, copied), dam, webhook)
                       for p in plans}
    results = [settled.get(c.folder_id) or left_to_other_run(c) for c in search.campaigns]
    results += [unusable_campaign(i, workflow) for i in search.invalid]
    failures = [r for r in results if r.outcome == CampaignOutcome.ERROR or r.failed_assets]
    if failures:  # audited; a failure here must not lose the artifacts and emails
        record_failures(tracking, workflow.name, failures, return_state=True)
    # 6. What happened, for people (emails, artifacts) and for the daily report (state message).
    return publish_run(workflow, results, requests, mail, tracking)


def prepare_campaigns(workflow: TransferWorkflow, campaigns: list[Campaign], dam: DamCredentials,
                      box: BoxCredentials, tracking: TrackingDatabaseBlock, box_root_folder_id: str
                      ) -> list[CampaignPlan]:
    """Each campaign's plan: its listing walked and filtered, its Box folder made (all in parallel).
    A campaign whose listing or folder fails gets the error, the others go on."""
    logger, fields = get_run_logger(), load_dam_fields()
    folder_name = getattr(fields.campaign.folders, workflow.source_folder)

    def box_folder(campaign: Campaign) -> PrefectFuture:
        return campaign_box_folder.submit(box, tracking, workflow, campaign, box_root_folder_id)

    # A workflow that copies every asset needs the folder unless the campaign is empty: it is made
    # while the DAM is walked. One that filters (A5→A6) makes it only for a campaign with something
    # to send, so agencies never see an empty Revisions folder.
    early = not workflow.only_rejected
    started = [(c, list_campaign_assets.submit(dam, c, folder_name), box_folder(c) if early else None)
               for c in campaigns]
    plans, folders = [], []
    for campaign, listing, folder in started:
        if not _settled(listing):
            plans.append(CampaignPlan(campaign=campaign, error=listing.state.message or "listing failed"))
            continue
        plan = plan_campaign(workflow, campaign, listing.result(), fields.rejection)
        if plan.repeated:
            logger.warning("Campaign %s: the DAM listed %d asset(s) twice (%s); each is copied once",
                           campaign.number, len(plan.repeated), ", ".join(a.dam_path for a in plan.repeated[:5]))
        plans.append(plan)
        if plan.chosen:
            folders.append((plan, folder or box_folder(campaign)))
    for plan, folder in folders:
        if _settled(folder):
            plan.box_folder_id = folder.result()
        else:
            plan.error = folder.state.message or "the Box folder could not be prepared"
    return plans


def move_status(workflow: TransferWorkflow, result: CampaignResult, dam: DamCredentials,
                webhook: StatusWebhook | None) -> CampaignResult:
    """Set the campaign's next status when all its assets succeeded (and tell the status
    webhook); a failure is recorded on the result, never raised."""
    number, status = result.campaign.number, result.campaign.status
    if result.outcome == CampaignOutcome.NO_ASSETS:
        get_run_logger().warning("Campaign %s has no assets to transfer; status stays %s", number, status)
    elif result.outcome == CampaignOutcome.PARTIAL:
        get_run_logger().error("Campaign %s: %d of %d asset(s) failed; status stays %s", number,
                               len(result.failed_assets), len(result.assets), status)
    if result.outcome != CampaignOutcome.COMPLETE:
        return result
    moved = set_campaign_status(dam, result.campaign, workflow.to_status, return_state=True)
    if moved.is_failed():
        return result.model_copy(update={"outcome": CampaignOutcome.ERROR, "error": f"status not changed: {moved.message}"})
    result = result.model_copy(update={"status_after": workflow.to_status})
    if webhook is not None:
        told = send_status_webhook(webhook, result.campaign, workflow.to_status, return_state=True)
        if told.is_failed():
            error = f"status moved to {workflow.to_status} but the status webhook failed: {told.message}"
            result = result.model_copy(update={"error": error})
    return result


def publish_run(workflow: TransferWorkflow, results: list[CampaignResult], requests: list[RequestRow],
                mail: MailServer, tracking: TrackingDatabaseBlock) -> State:
    """Emails (once per situation), the run's tables, and its final state with a summary."""
    run_id = current_run_id()
    unsent = send_emails(mail, [campaign_notification(workflow, r, run_id) for r in results
                                if r.outcome != CampaignOutcome.IN_PROGRESS], tracking)
    _publish_tables(workflow, results)
    publish_requests(workflow.name, requests)
    summary = RunSummary.of(workflow.name, results)
    if unsent:
        get_run_logger().error("%d email(s) could not be sent", unsent)
    get_run_logger().info(summary.message())
    data = {"summary": summary.model_dump(), "campaigns": [_campaign_row(r) for r in results],
            "requests": [r.model_dump() for r in requests]}
    if summary.ok:
        return Completed(message=summary.message(), data=data)
    return Failed(message=summary.message() + _first_errors(results), data=data)


def _settled(future: PrefectFuture) -> bool:
    """Wait for ``future``; True when it completed."""
    future.wait()
    return future.state.is_completed()


def _publish_tables(workflow: TransferWorkflow, results: list[CampaignResult]) -> None:
    """One row per asset (for people) and one per campaign (what the daily report adds up, read
    back from the Prefect API)."""
    create_table_artifact(table=table(asset_rows(results), NO_ASSETS), key=f"{workflow.name}-assets",
                          description=f"{workflow.name}: one row per asset (campaign, DAM path, tracking ID, outcome, "
                                      "error)")
    create_table_artifact(table=table(campaign_rows(results), NO_CAMPAIGNS), key=f"{workflow.name}-campaigns",
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
