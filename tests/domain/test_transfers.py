from __future__ import annotations

import pytest

from domain.campaigns import Campaign
from domain.transfers import (
    A1_TO_A2,
    AssetOutcome,
    AssetResult,
    CampaignOutcome,
    CampaignResult,
    RunSummary,
    campaign_outcome,
)

pytestmark = pytest.mark.fast


def result(outcome: AssetOutcome, size: int = 10) -> AssetResult:
    return AssetResult(campaign_number="C1", dam_path="a.jpg", dam_asset_id="x", outcome=outcome, size=size)


def test_campaign_outcome() -> None:
    assert campaign_outcome([]) == CampaignOutcome.NO_ASSETS
    assert campaign_outcome([result(AssetOutcome.SKIPPED)]) == CampaignOutcome.NO_ASSETS
    assert campaign_outcome([result(AssetOutcome.UPLOADED), result(AssetOutcome.ALREADY_IN_BOX)]) == \
        CampaignOutcome.COMPLETE
    assert campaign_outcome([result(AssetOutcome.UPLOADED), result(AssetOutcome.FAILED)]) == CampaignOutcome.PARTIAL


def test_summary_counts_and_message() -> None:
    c = Campaign(folder_id="f", number="C1", name="N", status="A1")
    results = [
        CampaignResult(campaign=c, outcome=CampaignOutcome.COMPLETE, status_before="A1", status_after="A2",
                       assets=[result(AssetOutcome.UPLOADED, 5), result(AssetOutcome.ALREADY_IN_BOX, 7)]),
        CampaignResult(campaign=c, outcome=CampaignOutcome.PARTIAL, status_before="A1", status_after="A1",
                       assets=[result(AssetOutcome.FAILED), result(AssetOutcome.SKIPPED)]),
    ]
    summary = RunSummary.of("a1-to-a2", results)
    assert (summary.campaigns_completed, summary.campaigns_partial) == (1, 1)
    assert (summary.assets_succeeded, summary.assets_failed, summary.assets_skipped) == (2, 1, 1)
    assert summary.bytes_transferred == 5
    assert not summary.ok and "1 partial" in summary.message()


def test_box_folder_name_of_a_workflow() -> None:
    c = Campaign(folder_id="f", number="C000000078", name="Spring/Launch", status="A1")
    assert A1_TO_A2.box_folder_name(c) == "C000000078-Spring_Launch"


def test_an_asset_listed_twice_is_kept_once_at_its_first_place() -> None:
    from domain.campaigns import DamAsset
    from domain.transfers import once_per_asset

    a = DamAsset(asset_id="a", name="hero.jpg", size=1, sub_path=["Social"])
    b = DamAsset(asset_id="b", name="post.png", size=1)
    kept, repeated = once_per_asset([a, b, a.model_copy(update={"sub_path": ["Twin"]})])
    assert [x.asset_id for x in kept] == ["a", "b"] and kept[0].sub_path == ["Social"]
    assert [x.sub_path for x in repeated] == [["Twin"]]


def test_files_are_imported_only_while_the_campaign_waits_for_them() -> None:
    from domain.localised_files import why_campaign_takes_no_files

    assert why_campaign_takes_no_files("C1", "A2") is None and why_campaign_takes_no_files("C1", "A6") is None
    for status in ("A1", "A3", "A4", "A5", "B1", "B2", "", "Z9"):
        reason = why_campaign_takes_no_files("C1", status)
        assert reason and "C1" in reason and "A2 or A6" in reason, status
