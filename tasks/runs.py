"""The flow run the code runs in, for records and links."""

from __future__ import annotations

from prefect.runtime import flow_run


def current_run_id() -> str | None:
    """The id of the flow run this code runs in (None outside one)."""
    return str(flow_run.id) if flow_run.id else None
