"""The one retry policy: what is retried, where, how often and how long it waits.

Every failure is retried at exactly one layer, so attempts never multiply:

- a **request** a client can send again (no streamed body: reads, folder creates, status
  changes) is replayed by the client, ``attempts`` times at most; when the client gives up, the
  error is marked *exhausted* and no layer above tries again;
- a **unit of work** (one asset copied, one file imported, one task) is run again only for a
  failure no client could replay: a streamed download or upload broken mid-body, a 429 on a
  streamed upload, a database hiccup. It too runs ``attempts`` times at most.

Waits grow exponentially with jitter, and are at least the ``Retry-After`` the other system
asked for (capped: a service asking for an hour gets the error instead). No Prefect here:
the clients and the tasks share this module.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel, Field

from clients.errors import is_retryable, mark_exhausted

T = TypeVar("T")
log = logging.getLogger(__name__)


class RetryPolicy(BaseModel):
    """How often one layer tries, and how long it waits between tries."""

    attempts: int = Field(4, ge=1, description="Tries in all, the first one included.")
    base_delay_s: float = Field(1.0, ge=0, description="Wait before the second try; doubles each time.")
    max_delay_s: float = Field(30.0, ge=0, description="Longest backoff between two tries.")
    retry_after_cap_s: float = Field(60.0, ge=0, description="Longest Retry-After honoured.")
    jitter: float = Field(0.5, ge=0, le=1, description="Each wait is scaled by U(1-jitter, 1+jitter).")

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based)."""
        backoff = min(self.base_delay_s * 2 ** (attempt - 1), self.max_delay_s)
        backoff *= random.uniform(1 - self.jitter, 1 + self.jitter)
        if retry_after is None:
            return backoff
        return max(backoff, min(max(retry_after, 0.0), self.retry_after_cap_s))

    def run(self, fn: Callable[[], T], what: str, warn: Callable[[str], None] | None = None,
            leave: tuple[type[BaseException], ...] = ()) -> T:
        """``fn()``, tried again on a retryable error; the last error is raised marked exhausted.

        ``warn`` receives one line per retry (the tasks pass the Prefect run logger). Errors of
        the ``leave`` types are raised at once, unmarked: this layer cannot usefully repeat them
        (a shared budget that already waited its longest), the unit above may.
        """
        for attempt in range(1, self.attempts + 1):
            try:
                return fn()
            except Exception as exc:
                if isinstance(exc, leave) or not is_retryable(exc):
                    raise
                if attempt == self.attempts:
                    mark_exhausted(exc, self.attempts)
                    raise
                wait = self.delay(attempt, getattr(exc, "retry_after", None))
                (warn or log.info)(f"{what}: {exc}; try {attempt + 1} of {self.attempts} in {wait:.1f} s")
                time.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover


# Request layer: what a client replays itself (the DAM and Box blocks set ``attempts``).
REQUEST_RETRIES = RetryPolicy(attempts=5, base_delay_s=0.2)
# Unit layer: the tasks and the transfer engine's items (failures no client could replay).
UNIT_RETRIES = RetryPolicy(attempts=4, base_delay_s=1.0)
