"""The order in which a run's transfer lanes take its assets."""

from __future__ import annotations

import pytest

from domain.campaigns import Campaign, DamAsset
from domain.transfers import A1_TO_A2, AssetJob, transfer_order

pytestmark = pytest.mark.fast

CAMPAIGN = Campaign(folder_id="f1", number="C000000001", name="Lanes", status="A1")


def job(name: str, size: int) -> AssetJob:
    return AssetJob(workflow=A1_TO_A2, campaign=CAMPAIGN, asset=DamAsset(asset_id=name, name=name, size=size),
                    box_folder_id="1", box_folder_path="C000000001-Lanes")


def test_largest_first_then_campaign_order() -> None:
    jobs = [job("a.jpg", 300), job("video.mov", 900_000_000), job("b.jpg", 300), job("c.pdf", 5000)]
    assert [j.asset.name for j in transfer_order(jobs)] == ["video.mov", "c.pdf", "a.jpg", "b.jpg"]
    assert transfer_order([]) == []
