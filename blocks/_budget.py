"""A request budget shared by every thread, run, flow and worker that uses the same account.

Box limits each *user* (one JWT service account is one user) to about 1000 API calls and 240
uploads a minute (shared/reference/box_limits_and_webhooks.md §1). Only a limiter that every
worker asks can keep that budget, so the budget lives on the Prefect server: one global
concurrency limit per budget in rate-limit mode (``limit`` = burst, ``slot_decay_per_second``
= rate), taken with ``prefect.concurrency.asyncio.rate_limit``. The blocks wire it into the
clients through their ``budget`` hook (``clients/budget.py``).

What Prefect 3.9.1 does, read in its source and measured on this machine, and why this module
looks the way it does:

* **Slots are taken in batches, paced.** The server decays a limit by ``floor(rate × seconds
  since its row was last written)``, and a refused request writes the row too (``denied_slots``)
  without applying the decay, so every refusal throws away the decay accrued so far. One slot per
  request got 44–62 % of the configured rate here (4 threads or 2 processes at 16/s). So the
  thread at the head of a process's queue takes the slots of every thread waiting (at most half
  the burst) in one request, and the process asks again only once that batch can have decayed
  (counted from the answer, so a busy server's latency jitter cannot make it early). Measured:
  0.96–1.0 of the configured rate for one process, about 0.85 for two processes competing for
  one limit. A
  process keeps unused slots of a batch for at most :data:`BATCH_TTL_S`, so leftovers never add
  up to a burst Box would refuse: any window of T seconds sees at most ``burst + rate × (T +
  0.5)`` requests.
* **Each request takes from one limit.** A refused acquisition rewrites every limit it names,
  so a request naming two limits (an upload taking Box's upload and call budgets together)
  stopped the decay of the call budget whenever uploads were refused, and another process's
  calls starved the uploads for 120 s. Box's calls are therefore split: uploads take from the
  upload limit, other calls from a limit of the rest (see ``blocks/box.py``). Holding one slot
  while waiting for another was no better: the upload then went out late, in a bunch (a 429).
* **One acquisition in flight per set of limits and process.** Prefect serialises acquisitions
  of the same limit names per process, and its ``timeout_seconds`` only starts when a request
  reaches the head of that queue; a single refilling thread (the others wait here, in arrival
  order, against their own deadline) keeps every wait bounded.
* **A missing limit would be skipped, not created.** ``rate_limit`` has no ``create_if_missing``
  in 3.9 (the server ignores the deprecated flag); without ``strict`` a missing limit only logs
  a warning and lets everything through. This module creates a missing limit from the block's
  values before the first acquisition (idempotent, a 409 from a racing process is fine) and then
  acquires with ``strict=True``.
* **A slow or unreachable Prefect API is a retryable error, never a hang.** Everything, the
  creation check included, runs under one deadline (``wait_s``); past it the request fails with
  :class:`clients.errors.BudgetUnavailable` and nothing is sent to Box.
* **Cost.** Each batch is one request to the Prefect API (median 18 ms here, plus one acquisition
  event per limit), about two a second for a busy process; the first use in a process reads
  (and maybe creates) each limit once.

Outside a flow run ``rate_limit`` works the same (it only needs the Prefect API). Without
``PREFECT_API_URL`` Prefect starts a temporary server per process, so the budget is then per
process only: production sets the URL on every worker.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import anyio
import httpx
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate, GlobalConcurrencyLimitUpdate
from prefect.concurrency.asyncio import rate_limit
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.utilities.asyncutils import run_coro_as_sync

from clients.budget import RequestKind
from clients.errors import BudgetUnavailable

# Slots granted to a process and not used within this time are dropped, so leftovers of many
# processes never add up to a burst Box would refuse.
BATCH_TTL_S = 0.5
# A process asks for its next batch no sooner than its last one can have decayed, plus this.
PACING_MARGIN_S = 0.005


@dataclass(frozen=True)
class RateLimitSpec:
    """One global concurrency limit in rate-limit mode, as a block describes it."""

    name: str
    per_minute: float
    burst: int

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("a budget needs a limit name")
        if self.per_minute <= 0:
            raise ValueError(f"budget {self.name!r}: the rate per minute must be positive")
        if self.burst < 1:
            raise ValueError(f"budget {self.name!r}: the burst must be at least 1")

    @property
    def slot_decay_per_second(self) -> float:
        return self.per_minute / 60.0


class SharedBudget:
    """The ``budget`` hook of a client (``clients/budget.py``) over Prefect global concurrency limits.

    ``limits`` says which limits each kind of request takes a slot from, e.g. a Box upload from
    ``box-uploads`` and ``box-api-calls`` (uploads count inside Box's calls).
    """

    def __init__(self, limits: dict[RequestKind, Sequence[RateLimitSpec]], wait_s: float, system: str) -> None:
        if wait_s <= 0:
            raise ValueError("the budget's longest wait must be positive")
        self.limits = {kind: tuple(specs) for kind, specs in limits.items()}
        self.wait_s = wait_s
        self.system = system

    def __call__(self, kind: RequestKind) -> None:
        specs = self.limits.get(kind)
        if specs:
            _pool(specs).take(time.monotonic() + self.wait_s, self.wait_s, self.system)

    def specs(self) -> list[RateLimitSpec]:
        """Every limit this budget uses, once each."""
        return list({s.name: s for specs in self.limits.values() for s in specs}.values())


# -- one pool of granted slots per set of limits and process ----------------------------------
_pools: dict[tuple[RateLimitSpec, ...], _SlotPool] = {}
_pools_lock = threading.Lock()


def _pool(specs: tuple[RateLimitSpec, ...]) -> _SlotPool:
    with _pools_lock:
        if specs not in _pools:
            _pools[specs] = _SlotPool(specs)
        return _pools[specs]


class _SlotPool:
    """Slots granted to this process, each one of every limit in ``specs`` (taken together in one
    all-or-nothing request: an upload and its call are granted at the same moment, so a thread
    never holds one while it waits for the other), not used yet. Threads are served in arrival
    order; the thread at the head takes a slot, or refills the pool for everyone waiting."""

    def __init__(self, specs: tuple[RateLimitSpec, ...]) -> None:
        self.specs = specs
        self.names = [s.name for s in specs]
        self._cond = threading.Condition()
        self._queue: deque[object] = deque()
        self._slots = 0
        self._expires = 0.0
        self._next_refill = 0.0  # no earlier: the last batch has not decayed on the server yet
        self._server_limits: dict[str, int] | None = None  # the limits' sizes in Prefect, read once

    def take(self, deadline: float, wait_s: float, system: str) -> None:
        me = object()
        with self._cond:
            self._queue.append(me)
            try:
                while self._queue[0] is not me:
                    if not self._cond.wait(max(0.0, deadline - time.monotonic())) and time.monotonic() >= deadline:
                        raise self._timed_out(wait_s, system)
                while not (self._slots and time.monotonic() < self._expires):
                    waiting = len(self._queue)
                    self._cond.release()  # the API call runs without the lock; the others keep their place
                    try:
                        occupy = self._refill(waiting, deadline, wait_s, system)
                    finally:
                        self._cond.acquire()
                    self._slots, self._expires = occupy, time.monotonic() + BATCH_TTL_S
                self._slots -= 1
            finally:
                self._queue.remove(me)
                self._cond.notify_all()

    def _refill(self, waiting: int, deadline: float, wait_s: float, system: str) -> int:
        """Wait for the pacing point, then take one slot per waiting thread (at most half a burst).

        The next batch of this process cannot be granted before the last one has decayed on the
        server; asking earlier would be refused, and a refusal throws the decay accrued so far
        away. Paced from the moment the grant was answered (the server wrote it before), the
        next request cannot reach the server too early, however much its latency varies:
        pacing from the send time instead saved the round trip but, with the Prefect server
        busy with another flow, got refused every few batches (3 s stalls, 0.74 of the rate).
        """
        pause = self._next_refill - time.monotonic()
        if pause > 0:
            if time.monotonic() + pause >= deadline:
                raise self._timed_out(wait_s, system)
            time.sleep(pause)
        occupy = self._acquire(waiting, deadline, wait_s, system)
        slowest = min(s.slot_decay_per_second for s in self.specs)
        self._next_refill = time.monotonic() + occupy / slowest + PACING_MARGIN_S
        return occupy

    def _acquire(self, waiting: int, deadline: float, wait_s: float, system: str) -> int:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise self._timed_out(wait_s, system)
        try:
            return run_coro_as_sync(self._acquire_async(waiting, remaining))
        except ValueError:
            raise  # a limit in Prefect cannot serve this budget: a configuration error, said plainly
        except TimeoutError as exc:  # AcquireConcurrencySlotTimeoutError included
            raise self._timed_out(wait_s, system) from exc
        except Exception as exc:  # noqa: BLE001 - ConcurrencySlotAcquisitionError, httpx errors: the API failed
            self._server_limits = None  # read the limits again next time (one may have been deleted)
            cause = exc.__cause__ or exc
            raise BudgetUnavailable(
                f"request budget {' + '.join(self.names)}: the Prefect API did not grant a slot "
                f"({type(cause).__name__}: {cause}); nothing was sent to {system}, retry when the Prefect API answers",
                system=system) from exc

    async def _acquire_async(self, waiting: int, seconds: float) -> int:
        with anyio.fail_after(seconds):
            if self._server_limits is None:
                self._server_limits = {s.name: await ensure_rate_limit(s, update=False) for s in self.specs}
            occupy = max(1, min(waiting, *(s.burst // 2 for s in self.specs), *self._server_limits.values()))
            await rate_limit(self.names, occupy=occupy, timeout_seconds=seconds, strict=True)
            return occupy

    def _timed_out(self, wait_s: float, system: str) -> BudgetUnavailable:
        rates = ", ".join(f"{s.name} {s.per_minute:g}/min" for s in self.specs)
        return BudgetUnavailable(
            f"request budget ({rates}): no slot within {wait_s:g} s (used up by other runs, or the Prefect API "
            f"is slow or down); nothing was sent to {system}, retry later", system=system)


# -- creating the limits ------------------------------------------------------------------------
async def ensure_rate_limit(spec: RateLimitSpec, *, update: bool) -> int:
    """Create the limit if it is missing; with ``update``, also set an existing one to ``spec``.

    Returns the limit's size (its burst) in Prefect. Raises :class:`ValueError` when an existing
    limit cannot be a rate budget (no slot decay, or no slot at all).
    """
    async with get_client() as client:
        try:
            existing = await client.read_global_concurrency_limit_by_name(spec.name)
        except ObjectNotFound:
            try:
                await client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(
                    name=spec.name, limit=spec.burst, slot_decay_per_second=spec.slot_decay_per_second, active=True))
                return spec.burst
            except (ObjectAlreadyExists, httpx.HTTPStatusError) as exc:
                # Another process created it a moment ago: 409, or on a SQLite-backed server a
                # 500 "UNIQUE constraint failed" (observed when two runs start together).
                try:
                    existing = await client.read_global_concurrency_limit_by_name(spec.name)
                except ObjectNotFound:
                    raise exc from None
        if update and (existing.limit != spec.burst
                       or abs(existing.slot_decay_per_second - spec.slot_decay_per_second) > 1e-9):
            await client.update_global_concurrency_limit(spec.name, GlobalConcurrencyLimitUpdate(
                limit=spec.burst, slot_decay_per_second=spec.slot_decay_per_second))
            return spec.burst
    if not existing.slot_decay_per_second or existing.limit < 1:
        raise ValueError(f"the Prefect concurrency limit {spec.name!r} ({existing.limit} slots, decay "
                         f"{existing.slot_decay_per_second:g}/s) cannot be a rate budget: it needs slots and a slot "
                         "decay; run `python -m deployments.limits` to set it from the blocks, or delete it")
    return existing.limit


def ensure_rate_limits(specs: Sequence[RateLimitSpec], *, update: bool = True) -> dict[str, str]:
    """Create each limit, or (``update``) set it to its spec; limit name → a line saying what it is now."""
    async def run() -> dict[str, str]:
        out = {}
        for spec in specs:
            await ensure_rate_limit(spec, update=update)
            out[spec.name] = f"{spec.per_minute:g}/min, burst {spec.burst}"
        return out

    return run_coro_as_sync(run())
