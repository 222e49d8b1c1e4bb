"""prefect.yaml cannot rot: every entrypoint loads, names and parameters match the flows."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import yaml
from prefect.flows import load_flow_from_entrypoint

ROOT = Path(__file__).resolve().parent.parent


def test_every_deployment_loads_with_known_parameters() -> None:
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    names = []
    for deployment in spec["deployments"]:
        flow = load_flow_from_entrypoint(str(ROOT / deployment["entrypoint"]))
        assert flow.name == deployment["name"]
        assert set(deployment["parameters"]) <= set(flow.parameters.properties)
        if flow.name != "failure-alert":  # alerts queue instead (several runs may crash at once)
            assert deployment["concurrency_limit"] == {"limit": 1, "collision_strategy": "CANCEL_NEW"}
        assert flow.description, f"{flow.name} needs a docstring (shown in the UI)"
        names.append(flow.name)
    assert sorted(names) == ["a1-to-a2", "a2-to-a3", "a2-to-a3-webhook", "a4-live-webhook", "a5-to-a6",
                            "advance-a1-to-a3", "b1-to-b2", "box-webhook", "check-certificate", "daily-report",
                            "failure-alert", "reset-campaigns-to-a1", "test-connections", "update-campaign-status"]


def test_schedules_every_five_minutes_report_at_seven_pm_maintenance_on_demand() -> None:
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    by_name = {d["name"]: d for d in spec["deployments"]}
    timezone = spec["definitions"]["timezone"]
    for name in ("a1-to-a2", "a5-to-a6", "b1-to-b2", "a2-to-a3", "a4-live-webhook"):
        assert by_name[name]["schedules"] == [{"interval": 300, "timezone": timezone}], name
    assert by_name["daily-report"]["schedules"] == [{"cron": "0 19 * * *", "timezone": timezone}]
    for name in ("test-connections", "check-certificate", "update-campaign-status", "reset-campaigns-to-a1",
                 "advance-a1-to-a3", "failure-alert", "box-webhook", "a2-to-a3-webhook"):
        assert "schedules" not in by_name[name], f"{name} runs on demand only"
    for name in ("update-campaign-status", "reset-campaigns-to-a1", "advance-a1-to-a3"):
        assert by_name[name]["parameters"]["confirm"] is False, "changing flows list by default"
    trigger = by_name["failure-alert"]["triggers"][0]
    assert trigger["expect"] == ["prefect.flow-run.Crashed"]
    assert "content-scaling" not in by_name["failure-alert"]["tags"]


def test_no_secret_looking_parameters() -> None:
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    for deployment in spec["deployments"]:
        for key in deployment.get("parameters", {}):
            assert not any(word in key for word in ("secret", "password", "token", "key")), key


def test_box_uploads_trigger_one_batched_webhook_run_with_the_polls_parameters() -> None:
    """The trigger's shape, which the slow end-to-end test proves against a real server: every
    box.file.uploaded event counts, at most one firing per window, and a run stays until no delivery
    came for at least that window (quiet_s >= within), so the files of the events the trigger let
    pass, or of the runs it started that were cancelled, are taken by the run that was going."""
    from prefect.events import DeploymentEventTrigger

    by_name = {d["name"]: d for d in yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]}
    webhook, poll = by_name["a2-to-a3-webhook"], by_name["a2-to-a3"]
    [raw] = webhook["triggers"]
    trigger = DeploymentEventTrigger(**{k: v for k, v in raw.items() if k != "type"})
    assert trigger.expect == {"box.file.uploaded"} and trigger.match.model_dump() == {"prefect.resource.id": "box.file.*"}
    assert trigger.posture == "Reactive" and trigger.threshold == 1 and not trigger.for_each
    assert timedelta(seconds=webhook["parameters"]["quiet_s"]) >= trigger.within > timedelta(0)
    assert trigger.schedule_after == timedelta(0)  # the run's own wait batches; no added delay
    shared = set(webhook["parameters"]) & set(poll["parameters"])
    assert {k: webhook["parameters"][k] for k in shared} == {k: poll["parameters"][k] for k in shared}
    assert "box-webhook" in by_name and by_name["box-webhook"]["parameters"]["action"] == "list"
