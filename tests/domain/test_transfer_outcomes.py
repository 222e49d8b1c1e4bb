"""DAM→Box decisions as truth tables: a campaign's outcome, a run's summary, each asset once,
the order of the transfers."""

from __future__ import annotations

from itertools import permutations

import pytest

from domain.campaigns import Campaign, DamAsset
from domain.transfers import (
    A1_TO_A2,
    AssetJob,
    AssetOutcome,
    AssetResult,
    CampaignOutcome,
    CampaignResult,
    RunSummary,
    campaign_outcome,
    once_per_asset,
    transfer_order,
)

pytestmark = pytest.mark.fast

U, B, F, S = AssetOutcome.UPLOADED, AssetOutcome.ALREADY_IN_BOX, AssetOutcome.FAILED, AssetOutcome.SKIPPED
CAMPAIGN = Campaign(folder_id="f1", number="C000000001", name="Spring", status="A1")


def result(outcome: AssetOutcome, size: int = 10, asset_id: str = "x") -> AssetResult:
    return AssetResult(campaign_number="C000000001", dam_path=f"{asset_id}.jpg", dam_asset_id=asset_id,
                       outcome=outcome, size=size)


# -- campaign_outcome ----------------------------------------------------------------------------
@pytest.mark.parametrize(("outcomes", "expected"), [
    ([], CampaignOutcome.NO_ASSETS),
    ([S], CampaignOutcome.NO_ASSETS),
    ([S, S, S], CampaignOutcome.NO_ASSETS),  # A5→A6 with nothing NOT APPROVED
    ([U], CampaignOutcome.COMPLETE),
    ([B], CampaignOutcome.COMPLETE),  # a re-run that finds everything in Box completes
    ([U, B, S], CampaignOutcome.COMPLETE),  # skipped assets do not hold a campaign back
    ([F], CampaignOutcome.PARTIAL),  # every asset failed: still partial (error is for the campaign itself)
    ([F, F], CampaignOutcome.PARTIAL),
    ([U, F], CampaignOutcome.PARTIAL),
    ([B, F, S], CampaignOutcome.PARTIAL),
    ([S, F], CampaignOutcome.PARTIAL),
])
def test_campaign_outcome(outcomes: list[AssetOutcome], expected: CampaignOutcome) -> None:
    for order in set(permutations(outcomes)):  # the order the lanes finished in does not matter
        assert campaign_outcome([result(o) for o in order]) == expected


# -- RunSummary ----------------------------------------------------------------------------------
def campaign(outcome: CampaignOutcome, *assets: AssetResult) -> CampaignResult:
    return CampaignResult(campaign=CAMPAIGN, outcome=outcome, status_before="A1", status_after="A1",
                          assets=list(assets))


def test_summary_counts_every_outcome() -> None:
    summary = RunSummary.of("b1-to-b2", [
        campaign(CampaignOutcome.COMPLETE, result(U, 100), result(B, 7_000), result(S, 50)),
        campaign(CampaignOutcome.PARTIAL, result(U, 20), result(F, 300)),
        campaign(CampaignOutcome.NO_ASSETS, result(S, 1)),
        campaign(CampaignOutcome.ERROR),
        campaign(CampaignOutcome.IN_PROGRESS),
        campaign(CampaignOutcome.IN_PROGRESS),
    ])
    assert summary.model_dump() == {
        "workflow": "b1-to-b2", "campaigns_found": 6, "campaigns_completed": 1, "campaigns_partial": 1,
        "campaigns_no_assets": 1, "campaigns_error": 1, "campaigns_in_progress": 2, "assets_succeeded": 3,
        "assets_failed": 1, "assets_skipped": 2,
        "bytes_transferred": 120,  # only what this run uploaded: not what was in Box, failed or skipped
    }
    assert summary.message() == (
        "b1-to-b2: 6 campaign(s) found, 1 completed, 1 partial, 1 without assets, 1 in error, "
        "2 left to another run; assets: 3 succeeded, 1 failed, 2 skipped")


def test_an_empty_run_is_ok_and_says_so() -> None:
    summary = RunSummary.of("a1-to-a2", [])
    assert summary.ok and summary.bytes_transferred == 0
    assert summary.message() == ("a1-to-a2: 0 campaign(s) found, 0 completed, 0 partial, 0 without assets, "
                                 "0 in error; assets: 0 succeeded, 0 failed, 0 skipped")


@pytest.mark.parametrize(("outcome", "ok"), [
    (CampaignOutcome.COMPLETE, True),
    (CampaignOutcome.NO_ASSETS, True),  # nothing to do is not a failure
    (CampaignOutcome.IN_PROGRESS, True),  # another run has it: not this run's failure
    (CampaignOutcome.PARTIAL, False),
    (CampaignOutcome.ERROR, False),
])
def test_a_run_is_ok_unless_a_campaign_is_partial_or_in_error(outcome: CampaignOutcome, ok: bool) -> None:
    assert RunSummary.of("a5-to-a6", [campaign(CampaignOutcome.COMPLETE), campaign(outcome)]).ok is ok


def test_the_message_mentions_campaigns_left_to_another_run_only_when_there_are_some() -> None:
    assert "another run" not in RunSummary.of("a1-to-a2", [campaign(CampaignOutcome.COMPLETE)]).message()
    assert ", 1 left to another run;" in RunSummary.of("a1-to-a2", [campaign(CampaignOutcome.IN_PROGRESS)]).message()


# -- once_per_asset ------------------------------------------------------------------------------
def asset(asset_id: str, name: str = "hero.jpg", *sub_path: str) -> DamAsset:
    return DamAsset(asset_id=asset_id, name=name, size=1, sub_path=list(sub_path))


def test_each_asset_once_by_id_not_by_name() -> None:
    assert once_per_asset([]) == ([], [])
    same_name = [asset("a", "hero.jpg", "Social"), asset("b", "hero.jpg", "Print")]  # two assets, one name
    assert once_per_asset(same_name) == (same_name, [])


def test_an_asset_listed_three_times_is_kept_once_and_repeated_twice_in_listing_order() -> None:
    listing = [asset("a", "x.jpg", "One"), asset("b"), asset("a", "x.jpg", "Two"), asset("c"),
               asset("a", "x.jpg", "Three")]
    kept, repeated = once_per_asset(listing)
    assert [(x.asset_id, x.sub_path) for x in kept] == [("a", ["One"]), ("b", []), ("c", [])]
    assert [(x.asset_id, x.sub_path) for x in repeated] == [("a", ["Two"]), ("a", ["Three"])]
    assert len(listing) == 5  # the listing itself is left as it was


# -- transfer_order ------------------------------------------------------------------------------
def job(name: str, size: int) -> AssetJob:
    return AssetJob(workflow=A1_TO_A2, campaign=CAMPAIGN, asset=DamAsset(asset_id=name, name=name, size=size),
                    box_folder_id="1", box_folder_path="C000000001-Spring")


def test_transfer_order_is_largest_first_stable_and_leaves_the_input_alone() -> None:
    jobs = [job("a", 0), job("b", 5), job("c", 0), job("d", 5), job("e", 10**12)]
    assert [j.asset.name for j in transfer_order(jobs)] == ["e", "b", "d", "a", "c"]
    assert [j.asset.name for j in jobs] == ["a", "b", "c", "d", "e"]
    equal = [job(n, 7) for n in "zyxw"]
    assert [j.asset.name for j in transfer_order(equal)] == ["z", "y", "x", "w"]  # equal sizes: as given
