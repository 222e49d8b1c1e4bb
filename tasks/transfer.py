"""The DAM→Box copy of A1→A2, A5→A6 and B1→B2, run by the transfer engine."""

from __future__ import annotations

from functools import partial

from blocks.box import BoxCredentials
from blocks.dam import DamCredentials
from blocks.tracking_database import TrackingDatabaseBlock
from clients.transfer import copy_dam_asset_to_box
from domain.fields import load_dam_fields
from domain.transfers import AssetJob, AssetResult, transfer_order
from tasks.engine import transfer_items
from tasks.runs import current_run_id


def copy_asset(job: AssetJob, dam: DamCredentials, box: BoxCredentials, tracking: TrackingDatabaseBlock
               ) -> AssetResult:
    """One asset into its campaign's Box folder (:func:`clients.transfer.copy_dam_asset_to_box`)."""
    return copy_dam_asset_to_box(dam.get_client(), box.get_client(), tracking.get_client(), job, load_dam_fields(),
                                 flow_run_id=current_run_id())


def copy_assets(jobs: list[AssetJob], dam: DamCredentials, box: BoxCredentials, tracking: TrackingDatabaseBlock,
                *, limit: int, label: str) -> list[AssetResult]:
    """Every job through the engine, ``limit`` at a time, largest asset first (so one big video
    does not start last and hold up the end of the run); one result per job."""
    return transfer_items(transfer_order(jobs), partial(copy_asset, dam=dam, box=box, tracking=tracking),
                          AssetResult.failed, _what, limit=limit, label=label)


def _what(job: AssetJob) -> str:
    return job.what
