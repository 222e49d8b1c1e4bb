"""A4: tell the status webhook, once per campaign ever, that an A4 campaign is not live."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.states import Completed, Failed, State
from prefect.task_runners import ThreadPoolTaskRunner

from blocks.dam import DamCredentials
from blocks.status_webhook import StatusWebhook
from blocks.tracking_database import TrackingDatabaseBlock
from tasks.alerts import alert_on_failure, alert_on_recovery
from tasks.dam import find_campaigns
from tasks.webhook import send_live_campaign_webhook


@flow(name="a4-live-webhook", task_runner=ThreadPoolTaskRunner(max_workers=8), log_prints=True,
      on_failure=[alert_on_failure], on_completion=[alert_on_recovery])
def a4_live_webhook(dam_block: str = "dam", tracking_db_block: str = "tracking-db",
                    webhook_block: str = "status-webhook", email_block: str = "email") -> State:
    """Send the status webhook with ``Live Campaign: NO`` for every A4 campaign, all in one run.

    Each campaign is announced once ever: the tracking database (``campaign_status``) remembers
    what was sent, and hands each send to one run only, so overlapping runs are safe.

    Args:
        dam_block: Name of the ``DAM Credentials`` block.
        tracking_db_block: Name of the ``Tracking Database`` block.
        webhook_block: Name of the ``Status Webhook`` block.
        email_block: Name of the ``Mail Server`` block (failure and recovery alerts).
    """
    dam, tracking = DamCredentials.load(dam_block), TrackingDatabaseBlock.load(tracking_db_block)
    webhook = StatusWebhook.load(webhook_block)
    campaigns = find_campaigns(dam, "A4")
    futures = [(c, send_live_campaign_webhook.submit(c, webhook, tracking)) for c in campaigns]
    rows, sent, already, failed = [], 0, 0, 0
    for campaign, future in futures:
        future.wait()
        if future.state.is_completed():
            outcome = "sent" if future.result() else "sent earlier"
            sent, already = sent + (outcome == "sent"), already + (outcome == "sent earlier")
            error = ""
        else:
            outcome, error, failed = "failed", future.state.message or "", failed + 1
        rows.append({"campaign": campaign.number, "name": campaign.name, "outcome": outcome, "error": error})
    create_table_artifact(key="a4-live-webhook", table=rows or [{"campaign": "", "name": "", "outcome":
                                                                 "no A4 campaigns", "error": ""}],
                          description="a4-live-webhook: one row per A4 campaign")
    message = (f"a4-live-webhook: {len(campaigns)} A4 campaign(s); {sent} sent, {already} sent earlier, "
               f"{failed} failed")
    get_run_logger().info(message)
    data = {"found": len(campaigns), "sent": sent, "sent_earlier": already, "failed": failed}
    return Failed(message=message, data=data) if failed else Completed(message=message, data=data)
