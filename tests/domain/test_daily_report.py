"""The daily report's maths from hand-made run records (the Prefect API side is in tests/flows)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.daily_report import METRICS, TRANSITION_FLOWS, RunRecord, compute_report, to_markdown

pytestmark = pytest.mark.fast

UNTIL = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)
SINCE = UNTIL - timedelta(hours=24)


def run(run_id: str, workflow: str, state: str = "COMPLETED", *campaigns: dict, message: str = "",
        hour: int = 12) -> RunRecord:
    return RunRecord(flow_run_id=run_id, workflow=workflow, state_type=state, state_name=state.title(),
                     message=message, end_time=UNTIL.replace(hour=hour), campaigns=list(campaigns))


def camp(number: str, outcome: str, ok: int = 0, failed: int = 0, skipped: int = 0, error: str = "") -> dict:
    return {"campaign": number, "campaign_name": f"Name {number}", "outcome": outcome, "assets_succeeded": ok,
            "assets_failed": failed, "assets_skipped": skipped, "error": error}


# One day of runs; listed out of time order on purpose.
DAY = [
    run("r3", "a1-to-a2", "COMPLETED", camp("C2", "complete", 2), hour=15),  # the retry that completes C2
    run("r1", "a1-to-a2", "COMPLETED", camp("C1", "complete", 3), hour=9),
    run("r2", "a1-to-a2", "FAILED", camp("C2", "partial", 1, 2, 0, "x.jpg: 403"), message="a1-to-a2: 1 partial",
        hour=10),
    run("r4", "a1-to-a2", "COMPLETED", camp("C3", "no_assets"), hour=11),
    run("r5", "a5-to-a6", "COMPLETED", camp("C5", "complete", 2, 0, 4)),
    run("r6", "a5-to-a6", "COMPLETED", camp("C6", "partial", 1, 1)),  # no error text: not in the error list
    run("r7", "b1-to-b2", "CRASHED", message="process killed"),
    run("r8", "b1-to-b2", "COMPLETED", camp("C7", "error", error="DAM 503")),
    # a2-to-a3's placeholder row when no campaign was touched: not a campaign.
    run("r9", "a2-to-a3", "COMPLETED", {"campaign": "", "campaign_name": "", "outcome": "no campaigns",
                                        "assets_succeeded": 0, "assets_failed": 0, "assets_skipped": 0, "error": ""}),
    run("r10", "a4-live-webhook", "CANCELLED"),
]


def per_workflow(report) -> dict[str, dict]:
    return {row["workflow"]: row for row in report.per_workflow}


def metrics(row: dict, *names: str) -> tuple:
    return tuple(row[n] for n in names)


def test_counts_per_workflow() -> None:
    per = per_workflow(compute_report(DAY, SINCE, UNTIL))
    assert list(per) == TRANSITION_FLOWS
    names = ("runs", "runs_failed", "runs_crashed", "campaigns_found", "campaigns_processed", "campaigns_completed",
             "campaigns_partial", "assets_succeeded", "assets_failed", "assets_skipped", "not_approved", "errors",
             "box_429s", "success_rate")
    assert names == tuple(METRICS)
    # C2 partial then complete counts once, as completed; C3 (no assets) is found but not processed.
    assert metrics(per["a1-to-a2"], *names) == (4, 1, 0, 3, 2, 2, 0, 6, 2, 0, 0, 3, 0, 75.0)
    # A5→A6: every selected asset is a NOT APPROVED one.
    assert metrics(per["a5-to-a6"], *names) == (2, 0, 0, 2, 2, 1, 1, 3, 1, 4, 4, 1, 0, 75.0)
    counts = names[:-1]  # the rate of a workflow without assets: test_no_assets_no_rate below
    # An 'error' campaign is unfinished (partial) and one error; a crashed run is another.
    assert metrics(per["b1-to-b2"], *counts) == (2, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0, 2, 0)
    assert metrics(per["a2-to-a3"], *counts) == (1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    # A cancelled run is a run, not an error.
    assert metrics(per["a4-live-webhook"], *counts) == (1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)


def test_no_assets_no_rate_even_when_another_workflow_has_one() -> None:
    report = compute_report(DAY, SINCE, UNTIL)
    assert per_workflow(report)["b1-to-b2"]["success_rate"] is None
    assert "nan" not in to_markdown(report)


def test_total_is_the_sum_and_its_rate_is_recomputed() -> None:
    report = compute_report(DAY, SINCE, UNTIL)
    assert report.total == {"runs": 10, "runs_failed": 1, "runs_crashed": 1, "campaigns_found": 6,
                            "campaigns_processed": 5, "campaigns_completed": 3, "campaigns_partial": 2,
                            "assets_succeeded": 9, "assets_failed": 3, "assets_skipped": 4, "not_approved": 4,
                            "errors": 6, "box_429s": 0, "success_rate": 75.0}
    assert (report.since, report.until) == (SINCE, UNTIL)


def test_errors_list_failed_runs_then_campaign_errors() -> None:
    report = compute_report(DAY, SINCE, UNTIL)
    assert report.errors == [
        {"workflow": "a1-to-a2", "flow_run_id": "r2", "state": "Failed", "error": "a1-to-a2: 1 partial"},
        {"workflow": "b1-to-b2", "flow_run_id": "r7", "state": "Crashed", "error": "process killed"},
        {"workflow": "a1-to-a2", "flow_run_id": "r2", "state": "campaign C2", "error": "x.jpg: 403"},
        {"workflow": "b1-to-b2", "flow_run_id": "r8", "state": "campaign C7", "error": "DAM 503"},
    ]


def test_campaign_details_by_workflow_campaign_then_time() -> None:
    report = compute_report(DAY, SINCE, UNTIL)
    assert [(c["workflow"], c["campaign"], c["flow_run_id"]) for c in report.campaigns] == [
        ("a1-to-a2", "C1", "r1"), ("a1-to-a2", "C2", "r2"), ("a1-to-a2", "C2", "r3"), ("a1-to-a2", "C3", "r4"),
        ("a5-to-a6", "C5", "r5"), ("a5-to-a6", "C6", "r6"), ("b1-to-b2", "C7", "r8")]
    assert all("end_time" not in c for c in report.campaigns)


def test_an_empty_day() -> None:
    report = compute_report([], SINCE, UNTIL)
    assert [r["workflow"] for r in report.per_workflow] == TRANSITION_FLOWS
    for row in [*report.per_workflow, report.total]:
        assert row["success_rate"] is None
        assert all(row[m] == 0 for m in METRICS if m != "success_rate"), row
    assert report.campaigns == [] and report.errors == []
    assert "| **total** | 0 | 0 |" in to_markdown(report) and "None." in to_markdown(report)


def test_missing_or_textual_counts_are_read_as_numbers() -> None:
    """Artifact tables come back as JSON: a count may be missing, null or a string."""
    rows = [{"campaign": "C1", "outcome": "partial", "assets_succeeded": "3", "assets_failed": None},
            {"campaign": "C2", "outcome": "complete"}]
    [row] = [r for r in compute_report([run("r1", "b1-to-b2", "COMPLETED", *rows)], SINCE, UNTIL).per_workflow
             if r["workflow"] == "b1-to-b2"]
    assert metrics(row, "assets_succeeded", "assets_failed", "assets_skipped", "campaigns_found",
                   "campaigns_partial", "success_rate") == (3, 0, 0, 2, 1, 100.0)


def test_a_failed_run_that_completed_nothing_and_the_rate_rounding() -> None:
    runs = [run("r1", "a1-to-a2", "FAILED", message="DAM down"),
            run("r2", "a1-to-a2", "COMPLETED", camp("C1", "partial", 2, 1))]
    a1 = per_workflow(compute_report(runs, SINCE, UNTIL))["a1-to-a2"]
    assert metrics(a1, "runs", "runs_failed", "errors", "success_rate") == (2, 1, 2, 66.7)


def test_only_the_given_workflows_are_counted() -> None:
    report = compute_report(DAY, SINCE, UNTIL, workflows=["a5-to-a6"])
    assert [r["workflow"] for r in report.per_workflow] == ["a5-to-a6"]
    assert (report.total["runs"], report.total["assets_succeeded"]) == (2, 3)


def test_box_429s_are_added_up_per_workflow_from_the_runs_requests_tables() -> None:
    def counted(run_id: str, workflow: str, box_429s: int, dam_429s: int = 0) -> RunRecord:
        return RunRecord(flow_run_id=run_id, workflow=workflow, state_type="COMPLETED", state_name="Completed",
                         requests=[{"system": "dam", "calls": 9, "rate_limited": dam_429s},
                                   {"system": "box", "calls": 12, "uploads": 4, "rate_limited": box_429s}])

    old = RunRecord(flow_run_id="r0", workflow="a1-to-a2", state_type="COMPLETED", state_name="Completed")
    report = compute_report([counted("r1", "a1-to-a2", 3, dam_429s=5), counted("r2", "a1-to-a2", 2),
                             counted("r3", "a2-to-a3", 1), old], SINCE, UNTIL)
    rows = per_workflow(report)
    assert (rows["a1-to-a2"]["box_429s"], rows["a2-to-a3"]["box_429s"], rows["b1-to-b2"]["box_429s"]) == (5, 1, 0)
    assert report.total["box_429s"] == 6  # the DAM's 429s are not Box's
    assert "box 429s" in to_markdown(report)
