"""The once-only rules over many runs: a situation is told when it starts or changes, an outage
alerts once, counts its runs and is resolved once."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from domain.campaigns import Campaign
from domain.notification_rules import (
    LastSent,
    Outage,
    RunEnd,
    Situation,
    after_run,
    decide,
    error_class,
)
from domain.notifications import campaign_notification
from domain.transfers import AssetOutcome, AssetResult, CampaignOutcome, CampaignResult

pytestmark = pytest.mark.fast

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def asset(asset_id: str, outcome: AssetOutcome = AssetOutcome.UPLOADED, error: str | None = None) -> AssetResult:
    return AssetResult(campaign_number="C1", dam_path=f"{asset_id}.jpg", dam_asset_id=asset_id, outcome=outcome,
                       error=error)


def result(outcome: CampaignOutcome, assets: list[AssetResult] = (), error: str | None = None,
           folder: str = "f1") -> CampaignResult:
    return CampaignResult(campaign=Campaign(folder_id=folder, number="C1", name="N", status="A1"), outcome=outcome,
                          assets=list(assets), status_before="A1",
                          status_after="A2" if outcome == CampaignOutcome.COMPLETE else "A1", error=error)


def failing(*pairs: tuple[str, str]) -> CampaignResult:
    return result(CampaignOutcome.PARTIAL, [asset("ok")] + [asset(a, AssetOutcome.FAILED, e) for a, e in pairs])


def situation(workflow: str, r: CampaignResult) -> Situation:
    return campaign_notification(workflow, r).situation


class Memory:
    """What the tracking database does with decide(): remember what was sent."""

    def __init__(self) -> None:
        self.last: dict[str, LastSent] = {}
        self.sent: list[str] = []

    def run(self, s: Situation, at: datetime) -> bool:
        decision = decide(s, self.last.get(s.subject))
        if decision.send:
            self.last[s.subject] = LastSent(kind=s.kind, fingerprint=s.fingerprint, sent_at=at)
            self.sent.append(s.kind)
        else:
            self.last[s.subject].repeats += 1
        return decision.send


def test_an_empty_campaign_over_a_day_of_runs_is_told_once_then_its_completion():
    memory = Memory()
    for i in range(288):  # every 5 minutes for a day
        memory.run(situation("a1-to-a2", result(CampaignOutcome.NO_ASSETS)), T0 + timedelta(minutes=5 * i))
    assert memory.sent == ["a1_to_a2_no_assets"] and memory.last["a1-to-a2:campaign:f1"].repeats == 287
    memory.run(situation("a1-to-a2", result(CampaignOutcome.COMPLETE, [asset("a")])), T0 + timedelta(days=1))
    assert memory.sent == ["a1_to_a2_no_assets", "a1_to_a2_complete"]
    # sent round again and empty again: a new situation after the completion
    memory.run(situation("a1-to-a2", result(CampaignOutcome.NO_ASSETS)), T0 + timedelta(days=2))
    assert memory.sent[-1] == "a1_to_a2_no_assets" and len(memory.sent) == 3


def test_a_completion_is_always_told_even_twice():
    memory = Memory()
    for _ in range(2):
        assert memory.run(situation("b1-to-b2", result(CampaignOutcome.COMPLETE, [asset("a")])), T0)


def test_partial_told_again_only_when_the_failures_change():
    memory = Memory()
    sequence = [
        (failing(("a", "TransientError: DAM answered 503 (request 1f3a)")), True),
        (failing(("a", "TransientError: DAM answered 502 (request 99b0) after 4 attempts")), False),  # same class
        (failing(("a", "TransientError: read timed out at byte 40960")), False),
        (failing(("a", "AuthError: DAM 403 (the service account lacks a permission)")), True),  # fails differently
        (failing(("a", "AuthError: DAM 403"), ("b", "NotFound: gone")), True),  # one more asset fails
        (failing(("b", "NotFound: gone"), ("a", "AuthError: DAM 403")), False),  # same, other order
        (failing(("b", "NotFound: gone")), True),  # one recovered
        (result(CampaignOutcome.ERROR, error="Task run encountered an exception TransientError: 503"), True),
        (result(CampaignOutcome.ERROR, error="Task run encountered an exception TransientError: 504"), False),
        (result(CampaignOutcome.COMPLETE, [asset("a"), asset("b")]), True),
    ]
    told = [memory.run(situation("a1-to-a2", r), T0 + timedelta(minutes=5 * i)) for i, (r, _) in enumerate(sequence)]
    assert told == [expected for _, expected in sequence]


def test_rework_is_news_when_the_rejected_assets_change():
    def rework(*rejected: str, failed: str | None = None) -> CampaignResult:
        assets = [asset(a, AssetOutcome.FAILED if a == failed else AssetOutcome.UPLOADED, "Box 503" if a == failed
                        else None) for a in rejected] + [asset("approved", AssetOutcome.SKIPPED)]
        return result(CampaignOutcome.PARTIAL if failed else CampaignOutcome.NO_ASSETS, assets)

    memory = Memory()
    assert memory.run(situation("a5-to-a6", rework("r1", "r2", failed="r1")), T0)
    assert not memory.run(situation("a5-to-a6", rework("r2", "r1", failed="r1")), T0)
    assert memory.run(situation("a5-to-a6", rework("r1", "r2", "r3", failed="r1")), T0)  # newly rejected
    assert memory.run(situation("a5-to-a6", result(CampaignOutcome.NO_ASSETS, [asset("x", AssetOutcome.SKIPPED)])),
                      T0)
    assert not memory.run(situation("a5-to-a6", result(CampaignOutcome.NO_ASSETS)), T0)


def test_each_campaign_and_workflow_is_its_own_subject():
    a = situation("a1-to-a2", result(CampaignOutcome.NO_ASSETS, folder="f1"))
    b = situation("a1-to-a2", result(CampaignOutcome.NO_ASSETS, folder="f2"))
    c = situation("b1-to-b2", result(CampaignOutcome.NO_ASSETS, folder="f1"))
    assert len({a.subject, b.subject, c.subject}) == 3
    memory = Memory()
    assert [memory.run(s, T0) for s in (a, b, c, a, b, c)] == [True] * 3 + [False] * 3


@pytest.mark.parametrize(("message", "cls"), [
    ("TransientError: DAM answered 503", "TransientError"),
    ("Task run encountered an exception AuthError: refused", "AuthError"),
    ("not transferred: a transfer lane ended early (boom 42)", "not transferred"),
    ("403 forbidden", "# forbidden"),
    ("status not changed: NotFound: folder 12", "NotFound"),
    ("", ""), (None, ""),
])
def test_error_class(message, cls):
    assert error_class(message) == cls


# -- outages -------------------------------------------------------------------------------
def ended(i: int, ok: bool, crashed: bool = False) -> RunEnd:
    return RunEnd(workflow="a1-to-a2", flow_run_id=f"run-{i}", state_name="Completed" if ok else
                  ("Crashed" if crashed else "Failed"), ok=ok, crashed=crashed, message=f"boom {i}",
                  at=T0 + timedelta(minutes=5 * i))


def test_an_outage_of_n_runs_is_one_alert_and_one_resolved_with_the_counts():
    outage, alerts = None, []
    runs = [ended(0, True)] + [ended(i, False, crashed=i % 4 == 0) for i in range(1, 13)] + [ended(13, True)]
    for run in runs:
        step = after_run(outage, run)
        outage = step.outage
        if step.alert:
            alerts.append((step.alert, run.flow_run_id, step.ended))
    assert [(a, r) for a, r, _ in alerts] == [("failing", "run-1"), ("resolved", "run-13")]
    ended_outage: Outage = alerts[1][2]
    assert (ended_outage.failed_runs, ended_outage.crashed_runs) == (9, 3)
    assert ended_outage.first_flow_run_id == "run-1" and ended_outage.first_message == "boom 1"
    assert ended_outage.started_at == T0 + timedelta(minutes=5) and outage is None


@pytest.mark.parametrize("seed", range(5))
def test_alerts_over_a_random_week_of_runs_match_the_failure_streaks(seed):
    rng = random.Random(seed)
    runs, ok = [], True
    for i in range(7 * 288):
        if rng.random() < 0.02:  # outages start and end now and then, runs repeat their neighbour's fate
            ok = not ok
        runs.append(ended(i, ok, crashed=not ok and rng.random() < 0.1))
    streaks = []  # expected: the lengths of the maximal runs of failures
    for i, run in enumerate(runs):
        if not run.ok and (not streaks or runs[i - 1].ok):
            streaks.append(0)
        if not run.ok:
            streaks[-1] += 1
    outage, failing, resolved = None, 0, []
    for run in runs:
        step = after_run(outage, run)
        if rng.random() < 0.05 and not run.ok:  # a retried alert reports the same run again
            again = after_run(step.outage, run)
            assert again.alert is None and again.outage == step.outage
        outage = step.outage
        failing += step.alert == "failing"
        if step.alert == "resolved":
            resolved.append(step.ended.runs)
    assert failing == len(streaks) and failing > 3
    assert resolved == streaks[:len(resolved)] and len(resolved) >= len(streaks) - 1
    assert sum(streaks) > 100  # (and 12 alerts an hour per flow before)


def test_a_run_reported_twice_counts_once_even_after_others():
    step = after_run(None, ended(1, False))
    step = after_run(step.outage, ended(2, False, crashed=True))
    again = after_run(step.outage, ended(1, False))
    assert again.alert is None and again.outage.runs == 2


def test_files_left_in_box_are_told_when_they_change_and_imports_always():
    from domain.localised_files import ImportOutcome, ImportResult
    from domain.notification_rules import files_left_situation

    def files(*pairs: tuple[str, ImportOutcome]) -> list[ImportResult]:
        return [ImportResult(box_path=f"{i}.jpg", box_file_id=i, outcome=o, reason="r") for i, o in pairs]

    def told(results: list[ImportResult]) -> bool:
        return memory.run(files_left_situation(results, "a2_to_a3_file_uploaded"), T0)

    memory = Memory()
    waiting = (("1", ImportOutcome.CAMPAIGN_NOT_OPEN), ("2", ImportOutcome.BAD_NAME))
    assert told(files(*waiting))
    assert not told(files(*reversed(waiting)))
    assert not told(files(*waiting, ("3", ImportOutcome.DEFERRED), ("4", ImportOutcome.FAILED)))  # handled by runs
    assert told(files(*waiting, ("5", ImportOutcome.EMPTY_FILE)))  # a new file to act on
    assert told(files(("1", ImportOutcome.BAD_NAME), ("5", ImportOutcome.EMPTY_FILE)))  # another reason
    assert told(files(("1", ImportOutcome.BAD_NAME), ("5", ImportOutcome.EMPTY_FILE), ("6", ImportOutcome.IMPORTED)))
    assert told(files(("6", ImportOutcome.IMPORTED)))  # an import is always news
