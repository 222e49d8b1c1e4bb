"""The flow run the code runs in: its id, and what it asked of the DAM and Box."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prefect import get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.runtime import flow_run

from clients.budget import RequestCounts
from domain.run_tables import NO_REQUESTS, RequestRow, table


def current_run_id() -> str | None:
    """The id of the flow run this code runs in (None outside one)."""
    return str(flow_run.id) if flow_run.id else None


@contextmanager
def requests_counted(**systems: Any) -> Iterator[list[RequestRow]]:
    """The requests sent to each system (a block with a client that counts, e.g. ``dam=``,
    ``box=``) while the ``with`` block runs; the list is filled when it ends.

    Counted by this process's client (shared by its threads): runs of other deployments in the
    same process add theirs (``deployments.serve``); each worker process counts its own.
    """
    counts: dict[str, RequestCounts] = {name: block.get_client().counts for name, block in systems.items()}
    before = {name: c.snapshot() for name, c in counts.items()}
    rows: list[RequestRow] = []
    try:
        yield rows
    finally:
        rows += [RequestRow(system=name, **RequestCounts.difference(c.snapshot(), before[name]))
                 for name, c in counts.items()]
        throttled = [f"{r.system} {r.rate_limited}" for r in rows if r.rate_limited]
        if throttled:
            get_run_logger().warning("Answered 429 (rate limit exceeded) in this run: %s", ", ".join(throttled))


def publish_requests(workflow: str, rows: list[RequestRow]) -> None:
    """The run's ``<workflow>-requests`` table (read back by the daily report)."""
    create_table_artifact(table=table(rows, NO_REQUESTS), key=f"{workflow}-requests",
                          description=f"{workflow}: requests sent per system in this run (retries included), "
                                      "uploads, 429 answers, seconds waiting for the request budget")
