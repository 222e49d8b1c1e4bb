"""A1→A2: master assets of local campaigns go from the DAM to Box for adaptation."""

from __future__ import annotations

from prefect import flow
from prefect.states import State
from prefect.task_runners import ThreadPoolTaskRunner

from domain.transfers import A1_TO_A2
from flows.transfer_pipeline import MAX_CONCURRENCY, run_transfer_workflow


@flow(name="a1-to-a2", task_runner=ThreadPoolTaskRunner(max_workers=MAX_CONCURRENCY), log_prints=True)
def a1_to_a2(
    campaign_number: str | None = None,
    max_campaigns: int = 10,
    max_concurrent_transfers: int = 8,
    box_root_folder_id: str = "0",
    dam_block: str = "dam",
    box_block: str = "box",
    tracking_db_block: str = "tracking-db",
) -> State:
    """Copy the master assets of every A1 campaign to Box, then set the campaign to A2.

    1. Find campaigns with status A1, oldest first, at most ``max_campaigns`` per run (or only
       ``campaign_number``, when given and in A1).
    2. Walk each campaign's ``Master Assets`` folder recursively.
    3. Give every asset a tracking ID and stream it into
       ``<box_root_folder_id>/<number>-<name>/<same sub-folders>/<tracking ID>_<file name>``,
       recording it (with its full DAM metadata) in the tracking database.
    4. Set A1→A2 only for campaigns whose assets all succeeded; the others stay A1 and the
       next run finishes them without redoing what succeeded.

    Args:
        campaign_number: Only this campaign (e.g. ``C000000078``); all pending ones when empty.
        max_campaigns: Upper bound of campaigns taken in one run.
        max_concurrent_transfers: Assets streamed at the same time.
        box_root_folder_id: Box folder that receives the campaign folders.
        dam_block: Name of the ``DAM Credentials`` block.
        box_block: Name of the ``Box Credentials`` block.
        tracking_db_block: Name of the ``Tracking Database`` block.
    """
    return run_transfer_workflow(
        A1_TO_A2,
        dam_block=dam_block,
        box_block=box_block,
        tracking_db_block=tracking_db_block,
        box_root_folder_id=box_root_folder_id,
        campaign_number=campaign_number,
        max_campaigns=max_campaigns,
        max_concurrent_transfers=max_concurrent_transfers,
    )
