"""update-campaign-status, reset-campaigns-to-a1 and advance-a1-to-a3: dry listing by default,
refusal on ambiguous input, changes only when confirmed (parameter or paused-run input)."""

from __future__ import annotations

import threading
import time

import pytest
from prefect import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey, FlowRunFilter, FlowRunFilterName

from flows.status_maintenance import advance_a1_to_a3, reset_campaigns_to_a1, update_campaign_status

pytestmark = pytest.mark.prefect


def seed(sim) -> dict[str, str]:
    """Campaigns in several statuses; two share 'Summer' in their name."""
    specs = [("C000000201", "Summer Sale Italy", "A2"), ("C000000202", "Summer Sale Spain", "A5"),
             ("C000000203", "Winter Launch", "A1"), ("C000000204", "Autumn Teaser", "A1"),
             ("C000000205", "Spring Event", "A4"), ("C000000206", "Global Hero", "B2")]
    return {number: sim.add_campaign(number=number, name=name, status=status).folder_id
            for number, name, status in specs}


def statuses(sim, folders: dict[str, str]) -> dict[str, str]:
    return {number: sim.campaign_status(folder) for number, folder in folders.items()}


def latest_plan(key: str) -> list[dict]:
    with get_client(sync_client=True) as client:
        artifact = client.read_latest_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])))
    import json

    data = artifact[0].data
    return json.loads(data) if isinstance(data, str) else data


def test_update_status_dry_listing_then_confirmed(flow_env):
    sim = flow_env.otmm.sim
    folders = seed(sim)
    before = statuses(sim, folders)

    dry = update_campaign_status(campaign="Winter", new_status="a2", return_state=True)
    assert dry.is_completed(), dry.message
    assert dry.message.startswith("Dry run, nothing changed.") and "C000000203 A1→A2" in dry.message
    assert statuses(sim, folders) == before
    assert latest_plan("update-campaign-status-plan")[0]["result"] == "would change (dry run)"

    done = update_campaign_status(campaign="C000000203", new_status="A2", confirm=True, return_state=True)
    assert done.is_completed(), done.message
    assert statuses(sim, folders) == {**before, "C000000203": "A2"}
    events = flow_env.db.events(event="status_changed_by_operator")
    assert [(e["campaign_number"], e["detail"]) for e in events] == [("C000000203", {"from": "A1", "to": "A2"})]


def test_update_status_refuses_several_matches_and_unknown_input(flow_env):
    sim = flow_env.otmm.sim
    folders = seed(sim)
    before = statuses(sim, folders)

    several = update_campaign_status(campaign="summer sale", new_status="A1", confirm=True, return_state=True)
    assert several.is_failed()
    assert "2 campaigns match 'summer sale'" in several.message
    assert "C000000201 'Summer Sale Italy' (A2)" in several.message and "C000000202" in several.message
    assert {r["campaign"] for r in latest_plan("update-campaign-status-plan")} == {"C000000201", "C000000202"}

    none = update_campaign_status(campaign="Nothing like this", new_status="A1", confirm=True, return_state=True)
    assert none.is_failed() and "no campaign has the number or a name containing" in none.message

    typo = update_campaign_status(campaign="C000000203", new_status="A9", confirm=True, return_state=True)
    assert typo.is_failed() and "unknown campaign status 'A9'" in typo.message
    assert statuses(sim, folders) == before
    assert flow_env.db.events(event="status_changed_by_operator") == []


def test_reset_to_a1_one_status_then_all(flow_env):
    sim = flow_env.otmm.sim
    folders = seed(sim)

    only_a5 = reset_campaigns_to_a1(status="A5", confirm=True, return_state=True)
    assert only_a5.is_completed(), only_a5.message
    assert statuses(sim, folders)["C000000202"] == "A1"
    assert statuses(sim, folders)["C000000201"] == "A2"

    dry = reset_campaigns_to_a1(return_state=True)
    assert dry.is_completed() and "2 campaign(s)" in dry.message  # the A2 and the A4 one
    assert statuses(sim, folders)["C000000201"] == "A2"

    reset_campaigns_to_a1(confirm=True)
    assert statuses(sim, folders) == {"C000000201": "A1", "C000000202": "A1", "C000000203": "A1",
                                      "C000000204": "A1", "C000000205": "A1", "C000000206": "B2"}

    wrong = reset_campaigns_to_a1(status="B2", confirm=True, return_state=True)
    assert wrong.is_failed() and "expected one of A2, A3, A4, A5, A6" in wrong.message


def test_advance_waits_for_confirmation_in_the_ui(flow_env):
    """wait_for_confirmation pauses the run; resuming it with confirm=true (what the UI form
    does) applies the plan."""
    from prefect.flow_runs import resume_flow_run

    sim = flow_env.otmm.sim
    folders = seed(sim)
    outcome: dict[str, object] = {}

    def run() -> None:
        waiting = advance_a1_to_a3.with_options(flow_run_name="advance-waiting-for-ui")
        outcome["state"] = waiting(wait_for_confirmation=True, return_state=True)

    thread = threading.Thread(target=run)
    thread.start()
    with get_client(sync_client=True) as client:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(
                name=FlowRunFilterName(any_=["advance-waiting-for-ui"])))
            if runs and runs[0].state and runs[0].state.is_paused():
                break
            time.sleep(0.5)
        else:
            pytest.fail("the run never paused for confirmation")
    assert statuses(sim, folders)["C000000203"] == "A1"
    resume_flow_run(runs[0].id, run_input={"confirm": True, "note": "checked with the agency"})
    thread.join(60)
    state = outcome["state"]
    assert state.is_completed(), state.message
    assert statuses(sim, folders)["C000000203"] == "A3" and statuses(sim, folders)["C000000204"] == "A3"
    assert statuses(sim, folders)["C000000201"] == "A2"
