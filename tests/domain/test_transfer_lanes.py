"""Sharing a run's assets out between its transfer lanes."""

from __future__ import annotations

import pytest

from domain.campaigns import Campaign, DamAsset
from domain.transfers import PER_ASSET_WEIGHT_BYTES, AssetJob, plan_lanes

CAMPAIGN = Campaign(folder_id="f1", number="C000000001", name="Lanes", status="A1")


def job(name: str, size: int) -> AssetJob:
    return AssetJob(workflow="a1-to-a2", campaign=CAMPAIGN, asset=DamAsset(asset_id=name, name=name, size=size),
                    box_folder_id="1", box_folder_path="C000000001-Lanes")


def test_every_job_once_and_no_more_lanes_than_jobs() -> None:
    jobs = [job(f"a{i}", 1000 * i) for i in range(10)]
    lanes = plan_lanes(jobs, 16)
    assert len(lanes) == 10
    assert sorted(j.asset.name for lane in lanes for j in lane) == sorted(j.asset.name for j in jobs)


def test_equal_assets_are_shared_evenly_and_keep_their_order() -> None:
    jobs = [job(f"a{i:03d}", 2_000_000) for i in range(200)]
    lanes = plan_lanes(jobs, 16)
    assert sorted(len(lane) for lane in lanes) == [12] * 8 + [13] * 8
    for lane in lanes:
        assert [j.asset.name for j in lane] == sorted(j.asset.name for j in lane)


def test_a_big_video_gets_a_lane_of_its_own() -> None:
    jobs = [job("video.mov", 500_000_000)] + [job(f"img{i}.jpg", 300_000) for i in range(30)]
    lanes = plan_lanes(jobs, 4)
    video_lane = next(lane for lane in lanes if any(j.asset.name == "video.mov" for j in lane))
    assert len(video_lane) == 1
    loads = [sum(j.asset.size + PER_ASSET_WEIGHT_BYTES for j in lane) for lane in lanes if lane is not video_lane]
    assert max(loads) - min(loads) <= 1_300_000


def test_no_lane_is_refused() -> None:
    with pytest.raises(ValueError):
        plan_lanes([job("a", 1)], 0)
    assert plan_lanes([], 4) == []
