"""The run tables' rows (what a run publishes and the daily report reads back) and each DAM→Box
workflow's wording: pure functions over plain data, no servers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from domain.campaigns import Campaign
from domain.daily_report import SHORT_NAMES, TRANSITION_FLOWS, RunRecord, compute_report, report_notification
from domain.localised_files import ImportOutcome, ImportResult
from domain.notifications import WORKFLOW_TITLES, campaign_notification, render
from domain.run_tables import (
    NO_ASSETS,
    NO_CAMPAIGNS,
    NO_FILES,
    AssetRow,
    CampaignRow,
    asset_rows,
    campaign_rows,
    file_rows,
    import_campaign_rows,
    table,
)
from domain.transfers import (
    A1_TO_A2,
    A5_TO_A6,
    B1_TO_B2,
    DAM_TO_BOX,
    AssetOutcome,
    AssetResult,
    CampaignOutcome,
    CampaignResult,
    TransferWording,
    TransferWorkflow,
)

pytestmark = pytest.mark.fast

UPLOADED, ALREADY, FAILED, SKIPPED = (AssetOutcome.UPLOADED, AssetOutcome.ALREADY_IN_BOX, AssetOutcome.FAILED,
                                      AssetOutcome.SKIPPED)


def asset(n: int, outcome: AssetOutcome, error: str | None = None, details: dict[str, str] | None = None
          ) -> AssetResult:
    done = outcome in (UPLOADED, ALREADY)
    return AssetResult(campaign_number="C1", dam_path=f"Social/a{n}.jpg", dam_asset_id=f"d{n}",
                       tracking_id=f"K7M2Q{n}" if done else None, outcome=outcome,
                       box_path=f"C1-Spring/K7M2Q{n}_a{n}.jpg" if done else None, error=error,
                       details=details or {})


def result(outcome: CampaignOutcome, assets: list[AssetResult], error: str | None = None,
           number: str = "C1") -> CampaignResult:
    after = "A2" if outcome == CampaignOutcome.COMPLETE else "A1"
    return CampaignResult(campaign=Campaign(folder_id=f"f-{number}", number=number, name="Spring", status="A1"),
                          outcome=outcome, assets=assets, status_before="A1", status_after=after, error=error)


def campaign_dict(outcome: str, ok: int = 0, failed: int = 0, skipped: int = 0, error: str = "",
                  after: str = "A1", number: str = "C1") -> dict:
    return {"campaign": number, "campaign_name": "Spring", "outcome": outcome, "status_before": "A1",
            "status_after": after, "assets_succeeded": ok, "assets_failed": failed, "assets_skipped": skipped,
            "error": error}


# -- <workflow>-campaigns ---------------------------------------------------------------------
def test_campaign_rows_count_each_outcome_and_say_what_failed() -> None:
    results = [
        result(CampaignOutcome.COMPLETE, [asset(1, UPLOADED), asset(2, ALREADY), asset(3, SKIPPED)]),
        result(CampaignOutcome.PARTIAL, [asset(1, UPLOADED), asset(2, FAILED, "403 forbidden"),
                                         asset(3, FAILED, "timeout"), asset(4, SKIPPED)], number="C2"),
        result(CampaignOutcome.ERROR, [], "the campaign has no name", number="C3"),
        result(CampaignOutcome.NO_ASSETS, [asset(1, SKIPPED)], number="C4"),
        result(CampaignOutcome.IN_PROGRESS, [], number="C5"),
    ]
    assert table(campaign_rows(results), NO_CAMPAIGNS) == [
        campaign_dict("complete", ok=2, skipped=1, after="A2"),
        campaign_dict("partial", ok=1, failed=2, skipped=1, number="C2",
                      error="Social/a2.jpg: 403 forbidden; Social/a3.jpg: timeout"),
        campaign_dict("error", error="the campaign has no name", number="C3"),
        campaign_dict("no_assets", skipped=1, number="C4"),
        campaign_dict("in_progress", number="C5"),
    ]


def test_a_campaign_error_wins_over_asset_errors_and_asset_errors_are_cut_at_500() -> None:
    many = [asset(i, FAILED, "x" * 100) for i in range(20)]
    [cut] = campaign_rows([result(CampaignOutcome.PARTIAL, many)])
    assert len(cut.error) == 500 and cut.error.startswith("Social/a0.jpg: xxx")
    [own] = campaign_rows([result(CampaignOutcome.ERROR, many, "status move failed: 503")])
    assert own.error == "status move failed: 503"


def test_no_campaigns_gives_the_placeholder_row() -> None:
    assert table(campaign_rows([]), NO_CAMPAIGNS) == [campaign_dict("no campaigns", number="") | {
        "campaign_name": "", "status_before": "", "status_after": ""}]


# -- <workflow>-assets ------------------------------------------------------------------------
def asset_dict(n: int, outcome: str, error: str = "", number: str = "C1") -> dict:
    done = outcome in ("uploaded", "already_in_box")
    return {"campaign": number, "campaign_name": "Spring", "path": f"Social/a{n}.jpg",
            "tracking_id": f"K7M2Q{n}" if done else "", "outcome": outcome,
            "box_path": f"C1-Spring/K7M2Q{n}_a{n}.jpg" if done else "", "error": error, "dam_asset_id": f"d{n}"}


def campaign_only(outcome: str, number: str, error: str = "") -> dict:
    return {"campaign": number, "campaign_name": "Spring", "path": "", "tracking_id": "", "outcome": outcome,
            "box_path": "", "error": error, "dam_asset_id": ""}


def test_asset_rows_list_every_asset_then_the_campaigns_without_one() -> None:
    results = [
        result(CampaignOutcome.COMPLETE, [asset(1, UPLOADED), asset(2, ALREADY)]),
        result(CampaignOutcome.PARTIAL, [asset(3, FAILED, "403 forbidden"), asset(4, SKIPPED)], number="C2"),
        result(CampaignOutcome.ERROR, [], "the campaign has no name", number="C3"),
        result(CampaignOutcome.NO_ASSETS, [asset(5, SKIPPED)], number="C4"),
        result(CampaignOutcome.IN_PROGRESS, [], number="C5"),
    ]
    assert table(asset_rows(results), NO_ASSETS) == [
        asset_dict(1, "uploaded"), asset_dict(2, "already_in_box"),
        asset_dict(3, "failed", "403 forbidden", "C2"), asset_dict(4, "skipped", number="C2"),
        asset_dict(5, "skipped", number="C4"),
        # complete and partial campaigns have asset rows; the others get one row each
        campaign_only("error", "C3", "the campaign has no name"), campaign_only("no_assets", "C4"),
        campaign_only("in_progress", "C5"),
    ]


def test_a5_to_a6_detail_columns_follow_the_fixed_ones_and_read_back() -> None:
    details = {"ecommerce_status": "NOT APPROVED", "approver_comments": "Logo too small", "iacc_comments": "",
               "error": "a detail never overwrites a fixed column"}
    [row] = table(asset_rows([result(CampaignOutcome.COMPLETE, [asset(1, UPLOADED, details=details)])]), NO_ASSETS)
    assert list(row) == [*asset_dict(1, "uploaded"), "ecommerce_status", "approver_comments", "iacc_comments"]
    assert row == asset_dict(1, "uploaded") | {"ecommerce_status": "NOT APPROVED",
                                               "approver_comments": "Logo too small", "iacc_comments": ""}
    assert AssetRow.model_validate(row).details == {"ecommerce_status": "NOT APPROVED",
                                                    "approver_comments": "Logo too small", "iacc_comments": ""}


def test_no_assets_table_placeholder() -> None:
    assert table(asset_rows([]), NO_ASSETS) == [campaign_only("no campaigns", "") | {"campaign_name": ""}]


# -- a2-to-a3-files and a2-to-a3-campaigns ----------------------------------------------------
def imported(n: int, campaign: str, outcome: ImportOutcome = ImportOutcome.IMPORTED, reason: str = "") -> ImportResult:
    return ImportResult(box_path=f"Italy/K7M2Q{n}_a_it-IT_Lazio.jpg", box_file_id=f"b{n}", outcome=outcome,
                        reason=reason, tracking_id=f"K7M2Q{n}", campaign_number=campaign, campaign_folder_id="f",
                        dam_asset_id=f"d{n}" if outcome == ImportOutcome.IMPORTED else None,
                        creativex="added" if outcome == ImportOutcome.IMPORTED else None)


def test_file_rows_say_what_came_in_and_what_stays_in_box() -> None:
    bad = ImportResult(box_path="notes.txt", box_file_id="b9", outcome=ImportOutcome.BAD_NAME, reason="bad name")
    assert table(file_rows([imported(1, "C1"), bad]), NO_FILES) == [
        {"box_path": "Italy/K7M2Q1_a_it-IT_Lazio.jpg", "outcome": "imported", "reason": "", "tracking_id": "K7M2Q1",
         "campaign": "C1", "dam_asset_id": "d1", "creativex": "added", "left_in_box": False},
        {"box_path": "notes.txt", "outcome": "bad_name", "reason": "bad name", "tracking_id": "", "campaign": "",
         "dam_asset_id": "", "creativex": "", "left_in_box": True},
    ]
    assert table(file_rows([]), NO_FILES) == [{"box_path": "", "outcome": "no files", "reason": "", "tracking_id": "",
                                               "campaign": "", "dam_asset_id": "", "creativex": "",
                                               "left_in_box": False}]


def test_import_campaign_rows_complete_only_for_campaigns_set_to_a3() -> None:
    results = [imported(1, "C2"), imported(2, "C2", ImportOutcome.ALREADY_IMPORTED),
               imported(3, "C1"), imported(4, "C1", ImportOutcome.FAILED, "DAM 503"),
               imported(5, "C1", ImportOutcome.DUPLICATE, "same file"),
               ImportResult(box_path="x.txt", box_file_id="b9", outcome=ImportOutcome.BAD_NAME)]  # no campaign
    rows = table(import_campaign_rows(results, moved=[("C2", "Easter")]), NO_CAMPAIGNS)
    blank = {"status_before": "", "status_after": "", "assets_skipped": 0, "error": ""}
    assert rows == [  # sorted by campaign number
        {"campaign": "C1", "campaign_name": "", "outcome": "partial", "assets_succeeded": 1, "assets_failed": 1} | blank,
        {"campaign": "C2", "campaign_name": "Easter", "outcome": "complete", "assets_succeeded": 2,
         "assets_failed": 0} | blank,
    ]
    assert table(import_campaign_rows([], []), NO_CAMPAIGNS) == table([], NO_CAMPAIGNS)


def test_table_takes_plain_dicts_too() -> None:
    assert table([], {"id": "", "outcome": "none"}) == [{"id": "", "outcome": "none"}]
    assert table([{"id": "1"}], {"id": ""}) == [{"id": "1"}]


# -- the daily report reads the rows back -----------------------------------------------------
def test_the_daily_report_reads_rows_of_older_runs() -> None:
    now = datetime(2026, 3, 2, tzinfo=UTC)
    old = [{"campaign": "C1", "outcome": "complete", "assets_succeeded": "3"},  # no name, status, skipped, error
           {"campaign": "C2", "campaign_name": None, "outcome": "partial", "assets_succeeded": 1,
            "assets_failed": 2, "assets_skipped": "", "error": "a.jpg: 403", "some_old_column": 1},
           {"campaign": "", "outcome": "no campaigns"}]  # a run without campaigns: not a campaign
    runs = [RunRecord(flow_run_id="r1", workflow="a1-to-a2", state_type="COMPLETED", state_name="Completed",
                      end_time=now, campaigns=old),
            RunRecord(flow_run_id="r2", workflow="a5-to-a6", state_type="COMPLETED", state_name="Completed",
                      end_time=now, campaigns=table(campaign_rows([result(
                          CampaignOutcome.COMPLETE, [asset(1, UPLOADED), asset(2, SKIPPED)])]), NO_CAMPAIGNS))]
    assert isinstance(runs[0].campaigns[0], CampaignRow) and runs[0].campaigns[0].assets_skipped == 0
    report = compute_report(runs, now, now)
    per = {r["workflow"]: r for r in report.per_workflow}
    assert (per["a1-to-a2"]["campaigns_found"], per["a1-to-a2"]["assets_succeeded"],
            per["a1-to-a2"]["assets_failed"], per["a1-to-a2"]["campaigns_partial"]) == (2, 4, 2, 1)
    assert (per["a5-to-a6"]["not_approved"], per["a5-to-a6"]["assets_skipped"]) == (1, 1)
    assert per["a1-to-a2"]["not_approved"] == per["b1-to-b2"]["not_approved"] == 0
    assert [(e["state"], e["error"]) for e in report.errors] == [("campaign C2", "a.jpg: 403")]
    assert "Per workflow" in render(report_notification(report)).text


def test_a_row_with_a_count_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(ValidationError, match="assets_failed"):
        CampaignRow.model_validate({"campaign": "C1", "assets_failed": "many"})


# -- each workflow's wording, from TransferWorkflow -------------------------------------------
def test_the_registry_gives_today_s_names_titles_and_columns() -> None:
    assert TRANSITION_FLOWS == ["a1-to-a2", "a2-to-a3", "a5-to-a6", "b1-to-b2", "a4-live-webhook"]
    assert {w: SHORT_NAMES[w] for w in DAM_TO_BOX} == {"a1-to-a2": "A1→A2", "a5-to-a6": "A5→A6",
                                                       "b1-to-b2": "B1→B2"}
    assert {w: WORKFLOW_TITLES[w] for w in DAM_TO_BOX} == {
        "a1-to-a2": "A1 → A2 · master assets to Box", "a5-to-a6": "A5 → A6 · rejected assets to Box for rework",
        "b1-to-b2": "B1 → B2 · global masters to Box"}


@pytest.mark.parametrize(("workflow", "kinds"), [
    (A1_TO_A2, ["a1_to_a2_complete", "a1_to_a2_partial", "a1_to_a2_partial", "a1_to_a2_no_assets"]),
    (A5_TO_A6, ["a5_to_a6_rejections", "a5_to_a6_partial", "a5_to_a6_partial", "a5_to_a6_no_rejections"]),
    (B1_TO_B2, ["b1_to_b2_complete", "b1_to_b2_partial", "b1_to_b2_partial", "b1_to_b2_no_assets"]),
])
def test_notification_kinds_per_workflow(workflow: TransferWorkflow, kinds: list[str]) -> None:
    outcomes = [CampaignOutcome.COMPLETE, CampaignOutcome.PARTIAL, CampaignOutcome.ERROR, CampaignOutcome.NO_ASSETS]
    assert [workflow.notification_kind(o) for o in outcomes] == kinds
    with pytest.raises(ValueError, match="in_progress gets no email"):
        workflow.notification_kind(CampaignOutcome.IN_PROGRESS)


@pytest.mark.parametrize(("name", "one", "two"), [
    ("a1-to-a2", "1 master asset is in Box for adaptation", "2 master assets are in Box for adaptation"),
    ("a5-to-a6", "Rework: 1 rejected asset sent to Box", "Rework: 2 rejected assets sent to Box"),
    ("b1-to-b2", "1 global master asset is in Box", "2 global master assets are in Box"),
])
def test_complete_headlines_count_the_assets(name: str, one: str, two: str) -> None:
    headlines = [campaign_notification(name, result(CampaignOutcome.COMPLETE, [asset(i, UPLOADED) for i in range(n)]))
                 .headline for n in (1, 2)]
    assert headlines == [one, two]


def test_a_new_workflow_needs_only_its_transfer_workflow() -> None:
    """Nothing in the emails is keyed by a workflow's name: a fifth one brings its own wording."""
    c1 = TransferWorkflow(name="c1-to-c2", from_status="C1", to_status="C2", source_folder="final_assets",
                          only_rejected=True, wording=TransferWording(
                              what="samples to Box", asset_noun="sample", complete="{assets} {are} ready",
                              no_assets="No samples", complete_kind="ready"))
    done = campaign_notification(c1, result(CampaignOutcome.COMPLETE, [asset(1, UPLOADED, details={"approver_comments": "ok"})]))
    assert (done.kind, done.headline, done.label) == ("c1_to_c2_ready", "1 sample is ready",
                                                      "Done · c1-to-c2")  # no title registered for it
    assert done.subject.startswith("[c1-to-c2] C1 Spring:")
    assert [s.title for s in done.sections] == ["Rejected assets and reviewer comments"]  # only_rejected
    none = campaign_notification(c1, result(CampaignOutcome.NO_ASSETS, []))
    assert (none.kind, none.headline) == ("c1_to_c2_no_assets", "No samples")
    assert c1.title == "C1 → C2 · samples to Box" and c1.short_name == "C1→C2"


def test_an_unknown_workflow_name_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="'a2-to-a3' is not a DAM→Box workflow; the workflows are a1-to-a2, "
                                         "a5-to-a6, b1-to-b2"):
        campaign_notification("a2-to-a3", result(CampaignOutcome.COMPLETE, []))
