"""prefect.yaml cannot rot: every entrypoint loads, names and parameters match the flows."""

from __future__ import annotations

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
        assert deployment["concurrency_limit"] == {"limit": 1, "collision_strategy": "CANCEL_NEW"}
        assert flow.description, f"{flow.name} needs a docstring (shown in the UI)"
        names.append(flow.name)
    assert sorted(names) == ["a1-to-a2", "a2-to-a3", "a4-live-webhook", "a5-to-a6", "b1-to-b2", "check-certificate",
                            "daily-report", "test-connections"]
