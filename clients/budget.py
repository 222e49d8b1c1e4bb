"""The seam between the clients and a shared request budget, and what a client counts.

A budget is any callable taking the kind of request about to be sent (``"call"``, or
``"upload"`` for Box's upload requests, which count as calls too). It returns when the request
may go, or raises :class:`clients.errors.BudgetUnavailable` (retryable) when no slot came in
time. The clients call it before every HTTP request they send, retries included, and stay
Prefect-free: the blocks (``blocks/_budget.py``) wire it to Prefect's global concurrency limits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Literal

RequestKind = Literal["call", "upload"]
RequestBudget = Callable[[RequestKind], None]


class RequestCounts:
    """Requests sent by kind, seconds spent waiting for the budget, and 429 answers. Thread-safe.

    A flow takes a :meth:`snapshot` before and after its work and publishes the difference
    (one live client serves every run of a process, see ``blocks/_cache.py``).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()  # this thread's last Retry-After answer
        self._calls = 0
        self._uploads = 0
        self._throttled = 0
        self._budget_wait_s = 0.0

    def take(self, budget: RequestBudget | None, kind: RequestKind) -> None:
        """Take ``kind``'s share from ``budget`` (if any) and count the request."""
        waited = 0.0
        if budget is not None:
            started = time.monotonic()
            try:
                budget(kind)
            finally:
                waited = time.monotonic() - started
        with self._lock:
            self._budget_wait_s += waited
            if kind == "upload":
                self._uploads += 1
            self._calls += 1  # an upload is a call too (Box counts uploads inside the calls)

    def throttled(self, retry_after: float | None = None) -> None:
        """The service answered 429 (rate limit exceeded), asking to wait ``retry_after`` seconds."""
        with self._lock:
            self._throttled += 1
        self._local.retry_after = retry_after

    def last_retry_after(self) -> float | None:
        """The ``Retry-After`` of this thread's last 429 since the previous call (then forgotten):
        how long the retry layer should wait when a client could not retry the request itself."""
        value = getattr(self._local, "retry_after", None)
        self._local.retry_after = None
        return value

    def snapshot(self) -> dict[str, float]:
        """``{"calls", "uploads", "rate_limited", "budget_wait_s"}`` so far."""
        with self._lock:
            return {"calls": self._calls, "uploads": self._uploads, "rate_limited": self._throttled,
                    "budget_wait_s": round(self._budget_wait_s, 3)}

    @staticmethod
    def difference(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
        """What happened between two snapshots."""
        return {k: round(after[k] - before.get(k, 0), 3) for k in after}
