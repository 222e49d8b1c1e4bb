"""A2→A3 pushed by Box: the uploads Box's webhook announced, imported seconds after they arrive."""

from __future__ import annotations

import time

from prefect import flow, get_run_logger
from prefect.states import Completed, Failed, State

from blocks.tracking_database import TrackingDatabaseBlock
from flows.a2_to_a3 import a2_to_a3
from tasks.localised import take_announced_uploads
from tasks.runs import current_run_id
from tasks.tracking import seconds_since_last_delivery

WORKFLOW = "a2-to-a3-webhook"


@flow(name=WORKFLOW, log_prints=True)
def a2_to_a3_webhook(
    agency_folder_id: str = "0",
    keep_files: bool = False,
    max_files: int = 1000,
    max_minutes: float = 10.0,
    quiet_s: float = 5.0,
    dam_block: str = "dam",
    box_block: str = "box",
    tracking_db_block: str = "tracking-db",
    creativex_block: str = "creativex",
    email_block: str = "email",
) -> State:
    """Import the agency files Box's webhook announced (started by the ``box.file.uploaded`` trigger).

    The webhook receiver records every verified ``FILE.UPLOADED`` delivery in the tracking
    database. This run takes every announced file no run has taken yet and imports them with
    ``a2-to-a3`` as a subflow — the poll's import path, with its claims and idempotency — reading
    only those files from Box (no listing). Then it takes the files announced meanwhile, and it
    ends only once no delivery has arrived for ``quiet_s`` seconds: the trigger lets events pass
    for that long after it fires, and a run it starts while this one imports is cancelled (one at
    a time), so this run takes their files. After ``max_minutes`` it ends at the next quiet
    moment or round (the next delivery's trigger goes on). Whatever a run does not import (campaign not open, bad name, an error)
    stays in Box for the ``a2-to-a3`` poll, the reconciler, as do deliveries that never arrived.

    Args:
        agency_folder_id: Box folder where agencies upload localised files.
        keep_files: Leave imported files in Box.
        max_files: Upper bound of files taken (and imported) per round.
        max_minutes: Minutes after which the run starts no new round.
        quiet_s: Seconds without a new delivery before the run ends; at least the trigger's ``within``.
        dam_block: Name of the ``DAM Credentials`` block.
        box_block: Name of the ``Box Credentials`` block.
        tracking_db_block: Name of the ``Tracking Database`` block.
        creativex_block: Name of the ``CreativeX Credentials`` block.
        email_block: Name of the ``Mail Server`` block.
    """
    tracking = TrackingDatabaseBlock.load(tracking_db_block)
    run_id = current_run_id()
    rounds: list[State] = []
    taken = 0
    stop_at = time.monotonic() + max_minutes * 60
    while time.monotonic() < stop_at:
        ids = take_announced_uploads(tracking, run_id, max_files)
        if not ids:
            quiet = seconds_since_last_delivery(tracking)
            if quiet is None or quiet >= quiet_s:
                break
            time.sleep(quiet_s - quiet)  # a delivery may still be on its way for a trigger this run covers
            continue
        taken += len(ids)
        rounds.append(a2_to_a3(agency_folder_id=agency_folder_id, box_file_ids=ids, keep_files=keep_files,
                               max_files=max_files, dam_block=dam_block, box_block=box_block,
                               tracking_db_block=tracking_db_block, creativex_block=creativex_block,
                               email_block=email_block, return_state=True))
    message = (f"{WORKFLOW}: {taken} announced file(s) in {len(rounds)} round(s)"
               + "".join(f"; {state.message}" for state in rounds))[:2000]
    get_run_logger().info(message)
    data = {"announced_files": taken, "rounds": [state.message for state in rounds]}
    return Failed(message=message, data=data) if any(not s.is_completed() for s in rounds) \
        else Completed(message=message, data=data)
