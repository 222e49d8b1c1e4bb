"""Box's per-user rate limits: API calls and uploads, counted per authenticated user.

Box documents (developer.box.com guides/api-calls/permissions-and-errors/rate-limits, read in
shared/reference/box_limits_and_webhooks.md §1):

* about **1000 API requests per minute per user**, and **240 file upload requests per minute
  per user**; uploads count *inside* the general limit, so an upload request takes from both;
* over a limit the API answers ``429 Too Many Requests`` with a ``retry-after: <seconds>``
  header and the body ``{"type": "error", "status": 429, "code": "rate_limit_exceeded",
  "message": "Request rate limit exceeded, please try again later", "request_id": …}``.

The limits are per *user*: a JWT app acting as its enterprise's service account is one user, so
every process using that app shares one budget. The simulator keys the counters by the token's
subject (``enterprise:<id>`` or ``user:<id>``, see :mod:`simulators.box.jwt_auth`).

Box publishes per-minute counts, not its algorithm. The simulator is deliberately strict: a
token bucket per user and per limit that refills at the per-minute rate and holds only a few
seconds of it (``burst``), so a client must pace itself, not just stay under 1000 in a minute.
An upload request is admitted only when both buckets have a token (and then takes one of each);
a refused request takes none. ``Retry-After`` is whole seconds (what the SDK can parse), at
least 1.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

RequestKind = Literal["call", "upload"]

# Box's published limits (rate-limits guide).
BOX_CALLS_PER_MINUTE = 1000.0
BOX_UPLOADS_PER_MINUTE = 240.0
# Our choice (Box does not publish one): about three seconds of each rate.
DEFAULT_CALLS_BURST = 50
DEFAULT_UPLOADS_BURST = 12
RATE_LIMIT_MESSAGE = "Request rate limit exceeded, please try again later"


@dataclass
class BoxRateLimits:
    """How the simulator limits each user (``enabled=False``: no limit, the default for tests)."""

    enabled: bool = False
    calls_per_minute: float = BOX_CALLS_PER_MINUTE
    uploads_per_minute: float = BOX_UPLOADS_PER_MINUTE
    calls_burst: int = DEFAULT_CALLS_BURST
    uploads_burst: int = DEFAULT_UPLOADS_BURST

    def __post_init__(self) -> None:
        for name in ("calls_per_minute", "uploads_per_minute"):
            if float(getattr(self, name)) <= 0:
                raise ValueError(f"{name} must be positive (switch the limits off with enabled=False)")
        for name in ("calls_burst", "uploads_burst"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1")


@dataclass
class _Bucket:
    rate_per_s: float
    capacity: float
    tokens: float
    updated: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate_per_s)
        self.updated = now

    def wait_for_one(self) -> float:
        return max(0.0, (1.0 - self.tokens) / self.rate_per_s)


@dataclass
class RateLimiter:
    """The buckets of every user, and what was admitted and refused. Thread-safe."""

    config: BoxRateLimits = field(default_factory=BoxRateLimits)
    _buckets: dict[tuple[str, RequestKind], _Bucket] = field(default_factory=dict)
    _counts: dict[tuple[str, RequestKind, str], int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, config: BoxRateLimits) -> None:
        """New limits; every bucket starts full again."""
        with self._lock:
            self.config = config
            self._buckets.clear()

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()

    def admit(self, user: str, kind: RequestKind) -> int | None:
        """``None`` when ``user`` may make this request now (it is counted), else the
        ``Retry-After`` seconds of the 429."""
        now = time.monotonic()
        with self._lock:
            if not self.config.enabled:
                return None
            kinds: tuple[RequestKind, ...] = ("call", "upload") if kind == "upload" else ("call",)
            buckets = [self._bucket(user, k, now) for k in kinds]
            for bucket in buckets:
                bucket.refill(now)
            if all(b.tokens >= 1.0 for b in buckets):
                for bucket in buckets:
                    bucket.tokens -= 1.0
                self._count(user, kind, "admitted")
                return None
            self._count(user, kind, "refused")
            return max(1, math.ceil(max(b.wait_for_one() for b in buckets)))

    def stats(self) -> dict[str, Any]:
        """The configuration, plus admitted/refused requests per user and kind."""
        with self._lock:
            users: dict[str, dict[str, int]] = {}
            for (user, kind, outcome), n in sorted(self._counts.items()):
                users.setdefault(user, {})[f"{kind}s_{outcome}"] = n
            return {**self.config.__dict__, "users": users}

    def _bucket(self, user: str, kind: RequestKind, now: float) -> _Bucket:
        key = (user, kind)
        if key not in self._buckets:
            per_minute = self.config.uploads_per_minute if kind == "upload" else self.config.calls_per_minute
            burst = self.config.uploads_burst if kind == "upload" else self.config.calls_burst
            self._buckets[key] = _Bucket(per_minute / 60.0, float(burst), float(burst), now)
        return self._buckets[key]

    def _count(self, user: str, kind: RequestKind, outcome: str) -> None:
        key = (user, kind, outcome)
        self._counts[key] = self._counts.get(key, 0) + 1
