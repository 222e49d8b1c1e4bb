"""The transfer engine both directions run on: many items, bounded parallelism, one result each.

One Prefect task runs a whole batch (every asset of a DAM→Box run, every file of an A2→A3
run) on at most ``limit`` threads of its own. Each item is one unit of work: retried on its own
(:func:`tasks.retry.run_unit`), and its failure becomes its result row (``failed(item, reason)``),
never an exception that would stop the others. A progress artifact follows the items.

Why one task and not one per item: a task run cost the flow process and the Prefect server
more CPU than copying a 2 MB asset (``make bench``: 158 CPU ms per file when A2→A3 ran a task
per file). Nothing is shared through the process: the items and the work travel as the task's
arguments, so the engine runs under any task runner (the work must then be picklable:
module-level functions and ``functools.partial`` of them are).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from prefect import get_run_logger, task
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE

from tasks.retry import run_unit

Item = TypeVar("Item")
Result = TypeVar("Result")

MAX_CONCURRENCY = 64  # how much the DAM and Box may be asked at once by one run


@task(name="transfer-items", task_run_name="transfer-{label}", cache_policy=NO_CACHE)
def transfer_items(items: Sequence[Item], work: Callable[[Item], Result], failed: Callable[[Item, str], Result],
                   describe: Callable[[Item], str], *, limit: int, label: str) -> list[Result]:
    """``work(item)`` for every item, at most ``limit`` at a time; the results in the items' order.

    An item that fails after its retries gets ``failed(item, "<Error>: <message>")``.
    ``describe(item)`` names it in the logs. Progress: the artifact ``<label>-progress``.
    """
    if not 1 <= limit <= MAX_CONCURRENCY:
        raise ValueError(f"the number of items at a time must be between 1 and {MAX_CONCURRENCY}, not {limit}")
    if not items:
        return []
    logger = get_run_logger()
    progress = _Progress(len(items), label)

    def one(item: Item) -> Result:
        try:
            return run_unit(lambda: work(item), describe(item))
        except Exception as exc:  # noqa: BLE001 - one item's failure is its row; the others go on
            logger.error("%s failed: %s", describe(item), exc)
            return failed(item, f"{type(exc).__name__}: {exc}")
        finally:
            progress.one_done()

    with ThreadPoolExecutor(max_workers=min(limit, len(items)), thread_name_prefix=label) as pool:
        # Each thread runs in a copy of the task's context: its logs and artifacts stay the task's.
        futures = [pool.submit(contextvars.copy_context().run, one, item) for item in items]
        return [f.result() for f in futures]


class _Progress:
    """The run's progress bar: updated about every 2 % of the items, and at the end."""

    def __init__(self, total: int, label: str) -> None:
        self.total, self.done, self._lock = total, 0, threading.Lock()
        self.artifact_id = create_progress_artifact(0.0, key=f"{label}-progress",
                                                    description=f"{label}: items done in this run")

    def one_done(self) -> None:
        with self._lock:
            self.done += 1
            done = self.done
        if done == self.total or done % max(1, self.total // 50) == 0:
            update_progress_artifact(self.artifact_id, progress=round(100 * done / self.total, 1))
