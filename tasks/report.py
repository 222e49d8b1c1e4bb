"""Reading the transition flows' history from the Prefect API (never from log files)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from prefect import get_client, get_run_logger
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterType,
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterEndTime,
)
from prefect.client.schemas.sorting import FlowRunSort

from domain.daily_report import RunRecord
from tasks.retry import io_task

PAGE = 200  # the server's maximum page size


@io_task(name="read-flow-run-history")
def read_flow_run_history(flow_names: list[str], since: datetime, until: datetime) -> list[RunRecord]:
    """Every run of ``flow_names`` that ended in [since, until), with its table artifacts (paged)."""
    with get_client(sync_client=True) as client:
        flows = {f.id: f.name for f in client.read_flows(flow_filter=FlowFilter(name=FlowFilterName(any_=flow_names)))}
        runs: list[Any] = []
        while True:
            page = client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=flow_names)),
                flow_run_filter=FlowRunFilter(end_time=FlowRunFilterEndTime(after_=since, before_=until)),
                sort=FlowRunSort.END_TIME_DESC, limit=PAGE, offset=len(runs))
            runs += page
            if len(page) < PAGE:
                break
        tables: dict[str, dict[str, list[dict[str, Any]]]] = {}
        ids = [r.id for r in runs]
        for start in range(0, len(ids), PAGE):
            chunk, offset = ids[start:start + PAGE], 0
            while True:
                arts = client.read_artifacts(
                    artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=chunk),
                                                   type=ArtifactFilterType(any_=["table"])),
                    limit=PAGE, offset=offset)
                for art in arts:
                    data = json.loads(art.data) if isinstance(art.data, str) else art.data
                    tables.setdefault(str(art.flow_run_id), {})[art.key or ""] = data if isinstance(data, list) else []
                offset += len(arts)
                if len(arts) < PAGE:
                    break
    records = []
    for r in runs:
        workflow = flows.get(r.flow_id, "?")
        mine = tables.get(str(r.id), {})
        records.append(RunRecord(
            flow_run_id=str(r.id), workflow=workflow, state_type=r.state.type.value if r.state else "UNKNOWN",
            state_name=r.state.name if r.state else "Unknown", message=(r.state.message or "") if r.state else "",
            end_time=r.end_time, campaigns=mine.get(f"{workflow}-campaigns", []),
            files=mine.get(f"{workflow}-files", []), requests=mine.get(f"{workflow}-requests", [])))
    get_run_logger().info("Read %d flow run(s) ended between %s and %s", len(records), since, until)
    return records
