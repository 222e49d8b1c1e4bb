"""Prefect tasks for the campaign status webhook."""

from __future__ import annotations

from prefect import get_run_logger

from blocks.status_webhook import StatusWebhook
from blocks.tracking_database import TrackingDatabaseBlock
from clients.webhook import StatusMessage
from domain.campaigns import Campaign
from tasks.retry import io_task


@io_task(name="send-live-campaign-webhook", task_run_name="live-campaign-{campaign.number}")
def send_live_campaign_webhook(campaign: Campaign, webhook: StatusWebhook, tracking: TrackingDatabaseBlock) -> bool:
    """Send ``Live Campaign: NO`` for an A4 campaign unless it was ever sent; True when sent now.

    The tracking database hands the send to exactly one run, so overlapping runs never send twice.
    """
    db = tracking.get_client()
    if not db.claim_live_campaign_webhook(campaign.number, campaign.folder_id, campaign.status):
        return False
    try:
        webhook.get_client().send(StatusMessage(campaign_number=campaign.number, campaign_name=campaign.name,
                                                status=campaign.status, live_campaign="NO"))
    except BaseException:
        db.release_live_campaign_webhook(campaign.number)
        raise
    db.live_campaign_webhook_sent(campaign.number)
    get_run_logger().info("Campaign %s: sent Live Campaign: NO", campaign.number)
    return True


@io_task(name="send-status-webhook", task_run_name="status-webhook-{campaign.number}-{status}")
def send_status_webhook(webhook: StatusWebhook, campaign: Campaign, status: str) -> None:
    """Tell the status webhook that the campaign moved to ``status`` (not live yet)."""
    webhook.get_client().send(StatusMessage(campaign_number=campaign.number, campaign_name=campaign.name,
                                            status=status, live_campaign="NO"))
    get_run_logger().info("Campaign %s: status webhook told %s", campaign.number, status)
