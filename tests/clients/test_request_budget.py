"""The request-budget seam of the clients: every request Box (or the DAM) receives took its
share first, classified as Box counts it; what was refused never left; 429s are counted."""

from __future__ import annotations

import os
import threading
from collections import Counter

import httpx
import pytest
from box_sdk_gen.networking.fetch_response import FetchResponse

from clients.box import MAX_RETRY_AFTER_S, BoxStore, _CappedRetryAfter, box_request_kind
from clients.errors import BudgetUnavailable, TransientError
from simulators.box import BoxRateLimits


class RecordingBudget:
    """A budget that lets everything through and remembers what it was asked for."""

    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()
        self.lock = threading.Lock()

    def __call__(self, kind: str) -> None:
        with self.lock:
            self.kinds[kind] += 1


def make_store(box, budget=None, max_attempts: int = 3) -> BoxStore:
    return box.store(max_attempts=max_attempts, chunked_threshold=1024 * 1024, budget=budget)


def chunks(data: bytes, size: int = 256 * 1024):
    return (data[i:i + size] for i in range(0, len(data), size))


def test_the_budget_sees_exactly_the_calls_and_uploads_box_counts(box) -> None:
    """Independent classifications, the client's and the simulator's, must agree on every kind of
    request the project sends: folders, preflight, direct and chunked uploads, new versions,
    listings, downloads (with their redirect), moves and deletes."""
    box.sim.set_rate_limits(BoxRateLimits(enabled=True, calls_per_minute=100_000, uploads_per_minute=100_000,
                                          calls_burst=10_000, uploads_burst=10_000))
    budget = RecordingBudget()
    store = make_store(box, budget)
    folder = store.ensure_folder_path("0", ["C1-Budget", "Social"])
    small = store.upload_stream(folder, "a.jpg", chunks(os.urandom(100_000)), 100_000)
    big_bytes = os.urandom(2 * 1024 * 1024 + 7)
    big = store.upload_stream(folder, "b.mov", chunks(big_bytes), len(big_bytes))
    store.upload_new_version(small.id, "a.jpg", chunks(b"v2" * 1000), 2000)
    assert store.find_file(folder, "a.jpg").id == small.id
    assert b"".join(store.iter_file_bytes(big.id)) == big_bytes
    assert len(list(store.walk_files("0"))) == 2
    store.move_file(small.id, folder, "c.jpg")
    store.delete_file(big.id)

    seen = box.sim.rate_limit_stats()["users"]["enterprise:4242"]
    assert seen.get("calls_refused", 0) == 0 and seen.get("uploads_refused", 0) == 0
    assert budget.kinds["upload"] == seen["uploads_admitted"] >= 5  # 2 direct + session create/parts/commit
    assert budget.kinds["call"] == seen["calls_admitted"] >= 8
    counts = store.counts.snapshot()
    assert (counts["calls"], counts["uploads"], counts["rate_limited"]) == (
        budget.kinds["call"] + budget.kinds["upload"], budget.kinds["upload"], 0)


def test_retries_of_the_sdk_take_their_share_too(box) -> None:
    budget = RecordingBudget()
    store = make_store(box, budget, max_attempts=3)
    folder = store.ensure_folder_path("0", ["retry"])
    before = sum(budget.kinds.values())
    httpx.post(box.base_url + "/_sim/faults", json={"path": f"^/2.0/folders/{folder}$", "method": "GET",
                                                     "kind": "status", "status": 503, "count": 2})
    assert store.get_folder_name(folder) == "retry"
    assert sum(budget.kinds.values()) - before == 3  # two refused by a 503, the third answered


def test_a_budget_that_gives_no_slot_sends_nothing_and_is_retryable(box) -> None:
    def closed(kind: str) -> None:
        raise BudgetUnavailable(f"no {kind} slot", system="box")

    store = make_store(box, closed)
    httpx.delete(box.base_url + "/_sim/requests")
    with pytest.raises(BudgetUnavailable) as raised:
        store.upload_stream("0", "never.jpg", chunks(b"x" * 1000), 1000)
    assert isinstance(raised.value, TransientError)
    sent = httpx.get(box.base_url + "/_sim/requests").json()["requests"]
    assert [r for r in sent if r["path"].startswith(("/2.0", "/api/2.0"))] == []
    assert box.sim.files() == []


def test_429s_are_honoured_and_counted(box) -> None:
    box.sim.set_rate_limits(BoxRateLimits(enabled=True, calls_per_minute=60, calls_burst=2))
    store = make_store(box, max_attempts=3)
    folder = store.ensure_folder_path("0", ["limited"])  # 1 call
    store.get_folder_name(folder)                        # 2 calls: the bucket is empty
    assert store.get_folder_name(folder) == "limited"    # 429, Retry-After: 1, then answered
    assert store.counts.snapshot()["rate_limited"] == 1
    assert box.sim.rate_limit_stats()["users"]["enterprise:4242"]["calls_refused"] == 1


def test_retry_after_is_capped_and_an_http_date_does_not_crash() -> None:
    strategy = _CappedRetryAfter(max_attempts=5, retry_base_interval=0.5)
    wait = strategy.retry_after(None, FetchResponse(status=429, headers={"Retry-After": "3600"}), 1)
    assert wait == MAX_RETRY_AFTER_S
    assert strategy.retry_after(None, FetchResponse(status=429, headers={"Retry-After": "2"}), 1) == 2.0
    dated = strategy.retry_after(None, FetchResponse(status=429, headers={"Retry-After": "Wed, 21 Oct 2015 "
                                                                                          "07:28:00 GMT"}), 1)
    assert 0.25 <= dated <= 0.75  # the request layer's back-off after try 1: 0.5 s × U(0.5, 1.5)


@pytest.mark.parametrize(("method", "url", "kind"), [
    ("POST", "https://upload.box.com/api/2.0/files/content", "upload"),
    ("POST", "https://upload.box.com/api/2.0/files/123/content", "upload"),
    ("PUT", "https://upload.box.com/api/2.0/files/upload_sessions/AB12", "upload"),
    ("POST", "https://upload.box.com/api/2.0/files/upload_sessions/AB12/commit", "upload"),
    ("OPTIONS", "https://api.box.com/2.0/files/content", "call"),
    ("GET", "https://api.box.com/2.0/files/123/content", "call"),
    ("GET", "https://api.box.com/2.0/folders/0/items?usemarker=true", "call"),
    ("POST", "https://api.box.com/oauth2/token", None),
    ("GET", "https://dl.boxcloud.com/d/1/abc/download", None),
])
def test_request_kinds_on_the_real_hosts(method: str, url: str, kind: str | None) -> None:
    assert box_request_kind(method, url, "https://api.box.com", "https://upload.box.com/api") == kind


def test_the_dam_client_takes_a_share_for_every_request_retries_included(otmm) -> None:
    from clients.otmm import OAuth2ClientCredentials, OtmmClient

    budget = RecordingBudget()
    auth = OAuth2ClientCredentials(token_url=otmm.base_url + "/otdsws/oauth2/token", client_id=otmm.client_id,
                                   client_secret=otmm.client_secret)
    httpx.post(otmm.base_url + "/_sim/faults", json={"path": "/folders/.*/children$", "kind": "status",
                                                      "status": 429, "retry_after": 0, "count": 1})
    with OtmmClient(otmm.base_url, auth, request_attempts=3, budget=budget) as dam:
        dam.ping()
        assert budget.kinds == {"call": 2}  # 429, then answered (the token request is not a DAM API call)
        assert dam.counts.snapshot()["rate_limited"] == 1

    def closed(kind: str) -> None:
        raise BudgetUnavailable("no slot", system="dam")

    with OtmmClient(otmm.base_url, auth, request_attempts=3, budget=closed) as dam:
        with pytest.raises(BudgetUnavailable):
            dam.ping()


def test_a_429_the_sdk_cannot_retry_reaches_the_retry_layer_with_its_retry_after(box) -> None:
    """A streamed upload cannot be re-sent by the SDK, and a call whose attempts are all used up
    is given up: both become a TransientError carrying Box's Retry-After (tasks/retry.py waits it)."""
    box.sim.set_rate_limits(BoxRateLimits(enabled=True, uploads_per_minute=6, uploads_burst=1))
    store = make_store(box, max_attempts=2)
    store.upload_stream("0", "first.jpg", chunks(b"a" * 1000), 1000)
    with pytest.raises(TransientError) as raised:
        store.upload_stream("0", "second.jpg", chunks(b"b" * 1000), 1000)
    assert raised.value.retry_after == 10.0  # one upload every 10 s at 6 a minute
    assert store.counts.snapshot()["rate_limited"] == 1

    httpx.post(box.base_url + "/_sim/faults", json={"path": "^/2.0/folders/0$", "kind": "status", "status": 429,
                                                     "retry_after": 1, "count": 2})
    with pytest.raises(TransientError) as raised:
        store.get_folder_name("0")  # 429, wait 1 s, 429: the SDK's two attempts are used up
    assert raised.value.status == 429 and raised.value.retry_after == 1.0
    assert store.get_folder_name("0") == "All Files"
