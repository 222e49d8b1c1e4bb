"""Loading a run's blocks at once (each load is a round trip to the Prefect API)."""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from prefect.blocks.core import Block


def load_blocks(*wanted: tuple[type[Block], str | None]) -> list[Any]:
    """``[kind.load(name) for kind, name in wanted]``, the loads in parallel; None for a name
    that is None or empty (an optional block the run goes without)."""
    with ThreadPoolExecutor(max_workers=max(1, len(wanted)), thread_name_prefix="load-blocks") as pool:
        futures = [pool.submit(contextvars.copy_context().run, kind.load, name) if name else None
                   for kind, name in wanted]
        return [f.result() if f is not None else None for f in futures]
