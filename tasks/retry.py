"""The retry policy every I/O task shares: retry only what may pass (``TransientError``)."""

from __future__ import annotations

import os
from typing import Any

from prefect.tasks import exponential_backoff

from clients.errors import is_retryable


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
