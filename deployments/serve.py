"""Serve every deployment of ``prefect.yaml`` from one process: no work pool, no worker.

    .venv/bin/python -m deployments.serve [--parameters overrides.json] [--paused] [--limit 8]

The small-installation alternative to ``prefect deploy --all`` + ``prefect worker start`` (and
what ``make demo`` runs): the same deployments (names, schedules, timezone, parameters,
concurrency limits, the failure-alert trigger) read from ``prefect.yaml``, their one home, and
executed as subprocesses of this process while it runs. ``--parameters`` is a JSON object
``{"<deployment name>": {"<parameter>": value}}`` merged over the yaml's parameters (e.g. the
Box folder ids of a site); ``--paused`` serves the schedules inactive (resume them in the UI or
with ``prefect deployment schedule resume``). Against a server with API authentication it needs
``PREFECT_API_AUTH_STRING`` (checked first, one line when missing or wrong). Before serving, the
shared request budgets of the Box and DAM blocks are created or updated (``deployments.limits``).
"""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from deployments.api_access import api_errors_as_messages, check_api_access

ROOT = Path(__file__).resolve().parent.parent


def _schedule(spec: dict[str, Any], active: bool):  # noqa: ANN202 - prefect.schedules.Schedule
    from prefect.schedules import Cron, Interval

    if "cron" in spec:
        return Cron(spec["cron"], timezone=spec.get("timezone"), active=active)
    return Interval(timedelta(seconds=spec["interval"]), timezone=spec.get("timezone"), active=active)


def runner_deployments(overrides: dict[str, dict[str, Any]] | None = None, paused: bool = False,
                       prefect_yaml: Path = ROOT / "prefect.yaml") -> list:
    """The deployments of ``prefect_yaml`` as served deployments (``RunnerDeployment``)."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig
    from prefect.events import DeploymentEventTrigger
    from prefect.flows import load_flow_from_entrypoint

    overrides = overrides or {}
    unknown = set(overrides) - {d["name"] for d in yaml.safe_load(prefect_yaml.read_text())["deployments"]}
    if unknown:
        raise ValueError(f"--parameters names unknown deployment(s): {', '.join(sorted(unknown))}")
    served = []
    for spec in yaml.safe_load(prefect_yaml.read_text())["deployments"]:
        flow = load_flow_from_entrypoint(str(ROOT / spec["entrypoint"]))
        limit = spec.get("concurrency_limit")
        deployment = flow.to_deployment(
            name=spec["name"],
            description=spec.get("description"),
            tags=spec.get("tags", []),
            parameters={**spec.get("parameters", {}), **overrides.get(spec["name"], {})},
            schedules=[_schedule(s, active=not paused) for s in spec.get("schedules", [])],
            concurrency_limit=ConcurrencyLimitConfig(**limit) if isinstance(limit, dict) else limit,
            triggers=[DeploymentEventTrigger(**{k: v for k, v in t.items() if k != "type"})
                      for t in spec.get("triggers", [])],
        )
        # The yaml's entrypoint, not the one Prefect infers from the function's source file:
        # the three DAM→Box flows are built by one factory in flows/transfer_pipeline.py.
        deployment.entrypoint = spec["entrypoint"]
        served.append(deployment)
    return served


def main() -> None:
    from prefect import serve

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parameters", type=Path, help="JSON: deployment name → parameter overrides.")
    parser.add_argument("--paused", action="store_true", help="Serve the schedules inactive.")
    parser.add_argument("--limit", type=int, default=8, help="Flow runs executed at the same time.")
    args = parser.parse_args()
    overrides = json.loads(args.parameters.read_text()) if args.parameters else {}
    with api_errors_as_messages():
        check_api_access()
        from deployments.limits import ensure_request_budgets

        for name, outcome in ensure_request_budgets().items():
            print(f"request budget {name}: {outcome}", flush=True)
        serve(*runner_deployments(overrides, paused=args.paused), limit=args.limit)


if __name__ == "__main__":
    main()
