"""Tasks and the transfer engine run their work under the unit layer of the one retry policy.

:mod:`clients.retry` says what is retried where. Here: :func:`io_task` makes a Prefect task
whose body is one unit of work, tried again (``UNIT_RETRIES``) only for failures no client
could replay, with ``Retry-After`` honoured; :func:`run_unit` does the same for one item of a
batch (the engine's assets and files), so one failing item never retries the others.

Prefect's own task retries are not used: they restart a task with no memory of what the
requests inside it already retried, which is how attempts used to multiply (up to 20 per Box
call). Each retry is logged on the run with its reason and wait.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from clients.retry import UNIT_RETRIES, RetryPolicy

T = TypeVar("T")


def run_unit(fn: Callable[[], T], what: str, policy: RetryPolicy = UNIT_RETRIES) -> T:
    """``fn()`` as one unit of work: retried per ``policy``, each retry logged on the run."""
    return policy.run(fn, what, warn=get_run_logger().warning)


def io_task(**task_options: Any) -> Callable[[Callable[..., T]], Any]:
    """``@task(...)`` for a task that talks to another system: no result cache, and its body
    is one unit of work (:func:`run_unit`) named after the task."""

    def decorate(fn: Callable[..., T]) -> Any:
        what = task_options.get("name", fn.__name__)

        @functools.wraps(fn)
        def unit(*args: Any, **kwargs: Any) -> T:
            return run_unit(lambda: fn(*args, **kwargs), what)

        return task(cache_policy=NO_CACHE, **task_options)(unit)

    return decorate
