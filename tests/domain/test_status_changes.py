"""The maintenance operations' plans: what would change, or why nothing will."""

from __future__ import annotations

import pytest

from domain.campaigns import Campaign, CampaignStatus
from domain.status_changes import (
    StatusChange,
    StatusChangePlan,
    parse_status,
    plan_advance,
    plan_reset,
    plan_update,
)

pytestmark = pytest.mark.fast


def campaign(number: str, status: str, name: str = "Spring Launch") -> Campaign:
    return Campaign(folder_id=f"f-{number}", number=number, name=name, status=status)


EVERY_STATUS = [s.value for s in CampaignStatus]  # A1..A6, B1, B2


# -- parse_status ----------------------------------------------------------------------------
@pytest.mark.parametrize(("typed", "status"), [("A2", "A2"), ("a2", "A2"), (" b1 ", "B1"), ("\tA6\n", "A6")])
def test_a_status_is_read_as_people_type_it(typed: str, status: str) -> None:
    assert parse_status(typed) == CampaignStatus(status)


@pytest.mark.parametrize("typed", ["", "A", "A7", "A 2", "2", "C1", "A2,A3", "Ａ2"])
def test_an_unknown_status_names_what_is_allowed(typed: str) -> None:
    with pytest.raises(ValueError, match=r"unknown campaign status .* expected one of A1, A2, A3, A4, A5, A6, B1, B2"):
        parse_status(typed)


def test_parse_status_limited_to_some_statuses() -> None:
    assert parse_status("a1", (CampaignStatus.A1, CampaignStatus.A3)) == CampaignStatus.A1
    with pytest.raises(ValueError, match="expected one of A1, A3$"):
        parse_status("A2", (CampaignStatus.A1, CampaignStatus.A3))


# -- plan_update -----------------------------------------------------------------------------
def test_update_one_match_changes_it() -> None:
    plan = plan_update("Spring", [campaign("C000000078", "A3")], "a2")
    assert not plan.refused and plan.candidates == []
    [change] = plan.changes
    assert (change.campaign.number, change.from_status, change.to_status) == ("C000000078", "A3", "A2")
    assert change.row() == {"campaign": "C000000078", "campaign_name": "Spring Launch", "status_before": "A3",
                            "status_after": "A2"}
    assert plan.describe() == "update-campaign-status: 1 campaign(s): C000000078 A3→A2"


def test_update_no_match_is_refused_and_says_what_was_searched() -> None:
    plan = plan_update("Autumn", [], "A2")
    assert plan.refused and plan.changes == [] and plan.candidates == []
    assert plan.describe() == plan.refusal
    assert "'Autumn'" in plan.refusal and "nothing changed" in plan.refusal


def test_update_several_matches_is_refused_and_lists_them() -> None:
    matches = [campaign("C000000078", "A1", "Spring Launch"), campaign("C000000079", "A4", "Spring Launch 2")]
    plan = plan_update("Spring", matches, "A3")
    assert plan.refused and plan.changes == [] and plan.candidates == matches
    assert plan.refusal.startswith("2 campaigns match 'Spring': ")
    assert "C000000078 'Spring Launch' (A1)" in plan.refusal and "C000000079 'Spring Launch 2' (A4)" in plan.refusal
    assert "Give the campaign number" in plan.refusal and plan.refusal.endswith("nothing changed")


def test_update_to_the_status_it_has_changes_nothing_without_refusing() -> None:
    plan = plan_update("C000000078", [campaign("C000000078", "A2")], " a2 ")
    assert not plan.refused and plan.changes == []
    assert plan.describe() == "update-campaign-status: no campaign to change"


def test_update_to_an_unknown_status_raises_before_looking_at_the_matches() -> None:
    for matches in ([], [campaign("C1", "A1")], [campaign("C1", "A1"), campaign("C2", "A1")]):
        with pytest.raises(ValueError, match="unknown campaign status 'A9'"):
            plan_update("C", matches, "A9")


def test_update_stores_the_canonical_status() -> None:
    [change] = plan_update("C1", [campaign("C1", "A1")], "b2").changes
    assert change.to_status == "B2"


# -- plan_reset / plan_advance: one truth table over every status ---------------------------
@pytest.mark.parametrize("status", EVERY_STATUS)
def test_reset_takes_a2_to_a6_back_to_a1_and_leaves_the_rest(status: str) -> None:
    plan = plan_reset([campaign("C1", status)])
    resettable = status in ("A2", "A3", "A4", "A5", "A6")
    assert [(c.from_status, c.to_status) for c in plan.changes] == ([(status, "A1")] if resettable else [])
    assert not plan.refused and plan.operation == "reset-campaigns-to-a1"


@pytest.mark.parametrize("status", EVERY_STATUS)
def test_advance_takes_only_a1_to_a3(status: str) -> None:
    plan = plan_advance([campaign("C1", status)])
    assert [(c.from_status, c.to_status) for c in plan.changes] == ([("A1", "A3")] if status == "A1" else [])
    assert not plan.refused and plan.operation == "advance-a1-to-a3"


def test_reset_and_advance_keep_the_order_they_were_given_and_skip_unknown_statuses() -> None:
    given = [campaign("C3", "A4"), campaign("C1", "A1"), campaign("C2", "A2"), campaign("C4", ""),
             campaign("C5", "Z9"), campaign("C6", "A1")]
    assert [c.campaign.number for c in plan_reset(given).changes] == ["C3", "C2"]
    assert [c.campaign.number for c in plan_advance(given).changes] == ["C1", "C6"]
    assert plan_reset([]).describe() == "reset-campaigns-to-a1: no campaign to change"
    assert plan_advance(given).describe() == "advance-a1-to-a3: 2 campaign(s): C1 A1→A3, C6 A1→A3"


def test_a_plan_without_refusal_or_changes_is_an_empty_plan() -> None:
    plan = StatusChangePlan(operation="x")
    assert not plan.refused and plan.describe() == "x: no campaign to change"
    assert StatusChange(campaign=campaign("C1", "A5"), to_status="A1").from_status == "A5"
