"""Prefect tasks that talk to Box: one Box operation each."""

from __future__ import annotations

from prefect import get_run_logger

from blocks.box import BoxCredentials
from blocks.tracking_database import TrackingDatabaseBlock
from clients.box import BoxStore
from clients.errors import ClientError, NotFound
from clients.tracking_db import CampaignBoxFolder
from domain.box_names import box_safe_name
from domain.campaigns import Campaign
from domain.transfers import DAM_TO_BOX, TransferWorkflow
from tasks.retry import io_task


@io_task(name="ensure-box-folder", task_run_name="box-folder-{name}")
def ensure_box_folder(box: BoxCredentials, parent_folder_id: str, name: str) -> str:
    """The id of Box folder ``parent/name``, created when missing (safe against races)."""
    return box.get_client().ensure_folder_path(parent_folder_id, [name])


@io_task(name="campaign-box-folder", task_run_name="box-folder-{campaign.number}")
def campaign_box_folder(box: BoxCredentials, tracking: TrackingDatabaseBlock, workflow: TransferWorkflow,
                        campaign: Campaign, root_folder_id: str) -> str:
    """The campaign's one Box folder for ``workflow``, named after the campaign as the DAM names it now.

    The folder is found by the id recorded when it was made, so a campaign renamed in the DAM
    keeps its folder (and what is in it, its shared links and collaborators): the folder is
    renamed to follow. The campaign's folders of the other DAM→Box workflows follow too. A
    folder deleted in Box, or a new ``root_folder_id``, gets a new folder.
    """
    store, db = box.get_client(), tracking.get_client()
    known = {f.workflow: f for f in db.campaign_box_folders(campaign.folder_id)}
    for other in known.values():
        if other.workflow != workflow.name and other.workflow in DAM_TO_BOX:
            try:
                _follow_campaign_name(store, db, other, DAM_TO_BOX[other.workflow].box_folder_name(campaign))
            except ClientError as exc:  # the folder this run needs is not this one: say so, go on
                get_run_logger().warning("Box folder %s (%s) of campaign %s not renamed: %s", other.box_folder_id,
                                         other.workflow, campaign.number, exc)
    name = workflow.box_folder_name(campaign)
    mine = known.get(workflow.name)
    folder_id = None
    if mine is not None and mine.box_root_folder_id == root_folder_id:
        folder_id = _follow_campaign_name(store, db, mine, name)
    if folder_id is None:
        folder_id = store.ensure_folder_path(root_folder_id, [name])
        db.remember_campaign_box_folder(CampaignBoxFolder(
            workflow=workflow.name, campaign_folder_id=campaign.folder_id, box_root_folder_id=root_folder_id,
            box_folder_id=folder_id, box_folder_name=name))
    return folder_id


def _follow_campaign_name(store: BoxStore, db, folder: CampaignBoxFolder, name: str) -> str | None:  # noqa: ANN001
    """Rename the recorded folder to ``name`` when the campaign was renamed; None when it is gone."""
    try:
        current = store.get_folder_name(folder.box_folder_id)
    except NotFound:
        return None
    if current != box_safe_name(name):
        store.rename_folder(folder.box_folder_id, name)
        get_run_logger().info("Box folder %s renamed %r → %r (the campaign was renamed in the DAM)",
                              folder.box_folder_id, current, name)
    if folder.box_folder_name != name or current != box_safe_name(name):
        db.remember_campaign_box_folder(folder.model_copy(update={"box_folder_name": name}))
    return folder.box_folder_id
