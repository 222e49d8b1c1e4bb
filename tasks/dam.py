"""Prefect tasks that talk to the DAM: one OTMM operation each."""

from __future__ import annotations

from prefect import get_run_logger

from blocks.dam import DamCredentials
from clients.errors import NotFound
from domain.campaigns import Campaign, CampaignSearch, DamAsset, InvalidCampaign
from tasks.retry import io_task


@io_task(name="find-campaigns")
def find_campaigns(dam: DamCredentials, status: str, campaign_type: str | None = None,
                   campaign_number: str | None = None, limit: int | None = None) -> list[Campaign]:
    """Campaigns in ``status`` (and of ``campaign_type``), oldest first, at most ``limit``.

    With ``campaign_number`` only that campaign, and only when it is in ``status``. Campaign
    folders the DAM describes unusably are logged as errors and left out.
    """
    return _search(dam, status, campaign_type, campaign_number, limit).campaigns


@io_task(name="search-campaigns")
def search_campaigns(dam: DamCredentials, status: str, campaign_type: str | None = None,
                     campaign_number: str | None = None, limit: int | None = None) -> CampaignSearch:
    """:func:`find_campaigns`, also returning the campaign folders it left out and why (so a
    run can report them in its artifact and email)."""
    return _search(dam, status, campaign_type, campaign_number, limit)


def _search(dam: DamCredentials, status: str, campaign_type: str | None, campaign_number: str | None,
            limit: int | None) -> CampaignSearch:
    logger = get_run_logger()
    invalid: list[InvalidCampaign] = []
    campaigns = dam.get_client().find_campaigns(status, campaign_type=campaign_type, invalid=invalid)
    for problem in invalid:  # one bad campaign folder must not stop the others
        logger.error("Skipped: %s. Fix it in the DAM; the next run takes the campaign.", problem.problem)
    if campaign_number:
        campaigns = [c for c in campaigns if c.number == campaign_number]
        invalid = [i for i in invalid if i.number == campaign_number]
        if not campaigns and not invalid:
            logger.warning("Campaign %s is not in status %s%s: nothing to do", campaign_number, status,
                           f" with type {campaign_type!r}" if campaign_type else "")
    pending = len(campaigns)
    if limit is not None:
        campaigns = campaigns[:limit]
    logger.info("Found %d campaign(s) in status %s; taking %d this run", pending, status, len(campaigns))
    return CampaignSearch(campaigns=campaigns, invalid=invalid)


@io_task(name="list-campaign-assets", task_run_name="list-assets-{campaign.number}")
def list_campaign_assets(dam: DamCredentials, campaign: Campaign, folder_name: str) -> list[DamAsset]:
    """Every asset under the campaign's ``folder_name`` folder, walked recursively."""
    client = dam.get_client()
    try:
        folder_id = client.find_subfolder(campaign.folder_id, folder_name)
    except NotFound as exc:
        raise NotFound(f"campaign {campaign.number} has no {folder_name!r} folder") from exc
    assets = list(client.walk_assets(folder_id))
    get_run_logger().info("Campaign %s: %d asset(s) in %r", campaign.number, len(assets), folder_name)
    return assets


@io_task(name="get-campaign")
def get_campaign(dam: DamCredentials, folder_id: str) -> Campaign:
    """The campaign folder as the DAM has it now (number, name, status)."""
    return dam.get_client().get_campaign(folder_id)


@io_task(name="read-campaign-and-folder", task_run_name="read-campaign-{folder_id}")
def get_campaign_and_folder(dam: DamCredentials, folder_id: str, folder_name: str) -> tuple[Campaign, str | None]:
    """The campaign folder as the DAM has it now, and the id of its sub-folder ``folder_name``
    (None when it has none): one read per campaign instead of one per file."""
    client = dam.get_client()
    campaign = client.get_campaign(folder_id)
    try:
        return campaign, client.find_subfolder(folder_id, folder_name)
    except NotFound:
        return campaign, None


@io_task(name="set-campaign-status", task_run_name="set-status-{campaign.number}-{status}")
def set_campaign_status(dam: DamCredentials, campaign: Campaign, status: str) -> None:
    """Move the campaign to ``status`` in the DAM (lock, update, unlock)."""
    dam.get_client().set_campaign_status(campaign.folder_id, status)
    get_run_logger().info("Campaign %s: status %s → %s", campaign.number, campaign.status, status)


@io_task(name="find-campaigns-by-number-or-name")
def find_campaigns_by_number_or_name(dam: DamCredentials, search: str) -> list[Campaign]:
    """The campaign whose number is ``search``; when none, every campaign whose name contains it."""
    found = dam.get_client().find_campaigns_by_number_or_name(search)
    get_run_logger().info("%d campaign(s) match %r", len(found), search)
    return found
