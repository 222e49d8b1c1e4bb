"""The retry policy every I/O task shares: retry only what may pass (``TransientError``)."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from prefect.tasks import exponential_backoff

from clients.errors import is_retryable

T = TypeVar("T")


def retry_on_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry condition: 429/5xx/timeouts/dropped connections yes; auth, not-found, bad data no."""
    try:
        state.result()
    except Exception as exc:  # noqa: BLE001 - we only classify it
        return is_retryable(exc)
    return False


# Box's SDK already retries 429/5xx per request; these task retries cover what it cannot
# (a streamed body cannot be replayed, dropped DAM downloads, database hiccups).
# CONTENT_SCALING_RETRY_BACKOFF_S tunes the base delay (tests use a fraction of a second).
BACKOFF_SECONDS = float(os.environ.get("CONTENT_SCALING_RETRY_BACKOFF_S", "2"))
IO_RETRIES: dict[str, Any] = dict(
    retries=3,
    retry_delay_seconds=exponential_backoff(backoff_factor=BACKOFF_SECONDS),
    retry_jitter_factor=0.5,
    retry_condition_fn=retry_on_transient,
)


def call_with_retries(fn: Callable[[], T], what: str, log: Callable[[str], None] | None = None) -> T:
    """``fn()`` with the same policy as ``IO_RETRIES``, for work done inside a task that handles
    many items (one failing item must not retry, or fail, the others).

    Waits at least a ``Retry-After`` the other system asked for (capped at a minute).
    """
    attempts = IO_RETRIES["retries"] + 1
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except Exception as exc:
            if attempt == attempts or not is_retryable(exc):
                raise
            delay = BACKOFF_SECONDS * 2 ** (attempt - 1) * random.uniform(0.5, 1.5)
            delay = max(delay, min(float(getattr(exc, "retry_after", None) or 0), 60.0))
            if log is not None:
                log(f"{what}: {exc}; attempt {attempt + 1} of {attempts} in {delay:.1f} s")
            time.sleep(delay)
    raise AssertionError("unreachable")
