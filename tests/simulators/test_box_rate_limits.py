"""Box's per-user rate limits in the simulator: calls and uploads counted per user, 429 with
``Retry-After`` and Box's ``rate_limit_exceeded`` body, configurable and off by default."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from simulators.box import BoxRateLimits, BoxSimulator
from simulators.box.__main__ import parse_args
from simulators.common import ServerThread

SECRET = "s3cret"


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[tuple[BoxSimulator, str]]:
    box = BoxSimulator(tmp_path / "box", client_id="cs-box", client_secret=SECRET, enterprise_id="4242",
                       persist=False)
    with ServerThread(box.app) as server:
        yield box, server.base_url


def token(base: str, subject_type: str = "enterprise", subject_id: str = "4242") -> dict[str, str]:
    """A bearer header for a client-credentials token acting as the given user."""
    answer = httpx.post(base + "/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": "cs-box", "client_secret": SECRET,
        "box_subject_type": subject_type, "box_subject_id": subject_id})
    answer.raise_for_status()
    return {"Authorization": "Bearer " + answer.json()["access_token"]}


def call(base: str, auth: dict[str, str]) -> httpx.Response:
    return httpx.get(base + "/2.0/folders/0", headers=auth)


def upload(base: str, auth: dict[str, str], name: str) -> httpx.Response:
    return httpx.post(base + "/api/2.0/files/content", headers=auth, files={
        "attributes": (None, f'{{"name": "{name}", "parent": {{"id": "0"}}}}'),
        "file": (name, b"x" * 10, "application/octet-stream")})


def test_limits_are_off_by_default(sim) -> None:
    box, base = sim
    auth = token(base)
    with httpx.Client(headers=auth) as client:  # kept alive: 80 calls well inside a second's worth of Box's
        assert [client.get(base + "/2.0/folders/0").status_code for _ in range(80)] == [200] * 80
    assert box.rate_limit_stats()["enabled"] is False


def test_over_the_call_limit_box_answers_429_with_retry_after_and_its_error_body(sim) -> None:
    box, base = sim
    box.set_rate_limits(BoxRateLimits(enabled=True, calls_per_minute=60, calls_burst=3))
    auth = token(base)
    assert [call(base, auth).status_code for _ in range(3)] == [200, 200, 200]
    refused = call(base, auth)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"  # whole seconds: one token comes back in 1 s at 60/min
    body = refused.json()
    assert {k: body[k] for k in ("type", "status", "code", "message")} == {
        "type": "error", "status": 429, "code": "rate_limit_exceeded",
        "message": "Request rate limit exceeded, please try again later"}
    assert body["request_id"]
    time.sleep(1.05)  # one call's worth refills
    assert call(base, auth).status_code == 200
    assert call(base, auth).status_code == 429
    stats = box.rate_limit_stats()["users"]["enterprise:4242"]
    assert stats == {"calls_admitted": 4, "calls_refused": 2}


def test_uploads_have_their_own_limit_and_count_inside_the_calls(sim) -> None:
    box, base = sim
    box.set_rate_limits(BoxRateLimits(enabled=True, calls_per_minute=6, calls_burst=5, uploads_per_minute=6,
                                      uploads_burst=2))
    auth = token(base)
    assert [upload(base, auth, f"f{i}.bin").status_code for i in range(3)] == [201, 201, 429]
    # The two uploads took two of the five calls; the refused one took nothing.
    assert [call(base, auth).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert upload(base, auth, "late.bin").status_code == 429
    assert [f["name"] for f in box.files()] == ["f0.bin", "f1.bin"]
    # Preflight (OPTIONS on the API host) is a call, not an upload; upload-session requests are uploads.
    box.set_rate_limits(BoxRateLimits(enabled=True, calls_per_minute=6, calls_burst=5, uploads_per_minute=6,
                                      uploads_burst=1))
    preflight = httpx.request("OPTIONS", base + "/2.0/files/content", headers=auth,
                              json={"name": "p.bin", "parent": {"id": "0"}, "size": 10})
    assert preflight.status_code == 200
    session = httpx.post(base + "/api/2.0/files/upload_sessions", headers=auth,
                         json={"folder_id": "0", "file_size": 30 * 1024 * 1024, "file_name": "big.bin"})
    assert session.status_code == 201
    abort = httpx.delete(session.json()["session_endpoints"]["abort"], headers=auth)
    assert abort.status_code == 429


def test_each_user_has_a_budget_and_every_token_of_a_user_shares_it(sim) -> None:
    box, base = sim
    box.set_rate_limits(BoxRateLimits(enabled=True, calls_per_minute=6, calls_burst=2))
    service, again, other = token(base), token(base), token(base, "user", "777")
    assert call(base, service).status_code == 200
    assert call(base, again).status_code == 200  # another token of the same service account
    assert call(base, service).status_code == 429
    assert call(base, again).status_code == 429
    assert [call(base, other).status_code for _ in range(3)] == [200, 200, 429]
    users = box.rate_limit_stats()["users"]
    assert users["enterprise:4242"] == {"calls_admitted": 2, "calls_refused": 2}
    assert users["user:777"] == {"calls_admitted": 2, "calls_refused": 1}
    # Unauthenticated requests are refused (401) before any limit: they never count.
    assert httpx.get(base + "/2.0/folders/0").status_code == 401


def test_limits_change_over_http_and_are_checked(sim) -> None:
    box, base = sim
    answer = httpx.post(base + "/_sim/box/rate-limits", json={"enabled": True, "calls_burst": 1,
                                                              "calls_per_minute": 6})
    assert answer.status_code == 200
    assert answer.json()["calls_burst"] == 1 and answer.json()["uploads_per_minute"] == 240
    auth = token(base)
    assert [call(base, auth).status_code for _ in range(2)] == [200, 429]
    stats = httpx.get(base + "/_sim/box/rate-limits").json()
    assert stats["users"]["enterprise:4242"] == {"calls_admitted": 1, "calls_refused": 1}
    assert httpx.post(base + "/_sim/box/rate-limits", json={"reset_counts": True}).json()["users"] == {}
    assert httpx.post(base + "/_sim/box/rate-limits", json={"calls_burst": 0}).status_code == 400
    assert httpx.post(base + "/_sim/box/rate-limits", json={"burst": 5}).status_code == 400
    assert httpx.post(base + "/_sim/box/rate-limits", json={"enabled": False}).json()["enabled"] is False
    assert [call(base, auth).status_code for _ in range(5)] == [200] * 5


def test_command_line_flags() -> None:
    args = parse_args(["--storage", "/tmp/x", "--client-secret", "s", "--rate-limits", "--uploads-per-minute", "120",
                       "--calls-burst", "20"])
    assert (args.rate_limits, args.calls_per_minute, args.uploads_per_minute, args.calls_burst,
            args.uploads_burst) == (True, 1000.0, 120.0, 20, 12)
    assert parse_args(["--storage", "/tmp/x", "--client-secret", "s"]).rate_limits is False
