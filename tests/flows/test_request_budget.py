"""The shared Box request budget (Prefect global concurrency limits, rate-limit mode) against a
real Prefect API and the Box simulator enforcing Box's per-user limits.

Proven: two flow runs in two processes at once stay under Box's limit (the budget is shared,
not per process); a budget that does not exist yet is created from the block, not an error;
the Prefect API slow or down while taking a slot fails the request clearly and retryably
within the block's wait, never hangs, and sends nothing to Box.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import yaml

from blocks._cache import clear_cached_clients
from simulators.box import BoxRateLimits
from simulators.common import FaultRule

pytestmark = [pytest.mark.prefect, pytest.mark.slow]  # minutes of flow runs: make test-slow

ROOT = Path(__file__).resolve().parents[2]


def save_box_block(env, name: str = "box", **budget) -> dict:
    """The test Box block with the request budget on, under limit names of its own."""
    from blocks.box import BoxCredentials

    tag = uuid.uuid4().hex[:8]
    fields = {"request_budget": True, "calls_limit_name": f"test-box-calls-{tag}",
              "uploads_limit_name": f"test-box-uploads-{tag}", **budget}
    box = env.box
    BoxCredentials(client_id=box.client_id, client_secret=box.client_secret, public_key_id=box.keys.key_id,
                   private_key=box.keys.private_key_pem, private_key_passphrase=box.keys.passphrase,
                   enterprise_id=box.enterprise_id, api_base_url=box.base_url, upload_base_url=box.base_url + "/api",
                   max_attempts=3, retry_base_interval=0.01, **fields).save(name, overwrite=True)
    clear_cached_clients()
    return fields


def read_limit(name: str):
    from prefect import get_client

    with get_client(sync_client=True) as client:
        return client.read_global_concurrency_limit_by_name(name)


# -- created when missing ------------------------------------------------------------------------
def test_a_budget_that_does_not_exist_yet_is_created_from_the_block(flow_env) -> None:
    from prefect.exceptions import ObjectNotFound

    from blocks.box import BoxCredentials

    fields = save_box_block(flow_env, calls_per_minute=600, calls_burst=20, uploads_per_minute=120, uploads_burst=6)
    for name in (fields["calls_limit_name"], fields["uploads_limit_name"]):
        with pytest.raises(ObjectNotFound):
            read_limit(name)
    store = BoxCredentials.load("box").get_client()
    folder = store.ensure_folder_path(flow_env.box_root, ["Budget"])
    store.upload_stream(folder, "a.jpg", iter([b"x" * 1000]), 1000)
    calls, uploads = read_limit(fields["calls_limit_name"]), read_limit(fields["uploads_limit_name"])
    # Uploads take from their own limit; the other calls from the rest of Box's calls budget.
    assert (calls.limit, calls.slot_decay_per_second, calls.active) == (20, 8.0, True)
    assert (uploads.limit, uploads.slot_decay_per_second) == (6, 2.0)
    assert store.counts.snapshot()["uploads"] == 1


def test_the_setup_command_and_the_deploy_build_step_set_the_limits_from_the_blocks(flow_env) -> None:
    """``prefect deploy`` runs prefect.yaml's build steps: the same function, through Prefect's step runner."""
    from prefect.deployments.steps.core import run_steps
    from prefect.utilities.asyncutils import run_coro_as_sync

    from blocks.box import BoxCredentials
    from deployments.limits import ensure_request_budgets

    fields = save_box_block(flow_env, "box-deploy", calls_per_minute=300, calls_burst=10, uploads_per_minute=60)
    steps = yaml.safe_load((ROOT / "prefect.yaml").read_text())["build"]
    assert steps == [{"deployments.limits.ensure_request_budgets": {"box_block": "box", "dam_block": "dam"}}]
    steps[0]["deployments.limits.ensure_request_budgets"]["box_block"] = "box-deploy"
    run_coro_as_sync(run_steps(steps))
    assert read_limit(fields["calls_limit_name"]).limit == 10
    # The operator changes the rate in the block (UI or create_blocks); the command applies it.
    block = BoxCredentials.load("box-deploy")
    block.calls_per_minute, block.calls_burst = 180.0, 4
    block.save("box-deploy", overwrite=True)
    done = ensure_request_budgets("box-deploy", "dam")
    assert done[fields["calls_limit_name"]] == "120/min, burst 4"  # 180 calls a minute, 60 of them uploads
    assert done["DamCredentials 'dam'"] == "skipped: request_budget is off"
    calls = read_limit(fields["calls_limit_name"])
    assert (calls.limit, calls.slot_decay_per_second) == (4, 2.0)
    with pytest.raises(ValueError, match="uploads_per_minute .* must be below calls_per_minute"):
        BoxCredentials(**{**block.model_dump(), "calls_per_minute": 60.0})


def test_a_limit_that_cannot_be_a_budget_is_named_with_what_to_do(flow_env) -> None:
    from prefect import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate

    from blocks.box import BoxCredentials

    fields = save_box_block(flow_env)
    with get_client(sync_client=True) as client:  # someone made it by hand, without slot decay
        client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=fields["calls_limit_name"], limit=5))
    with pytest.raises(ValueError, match="no slot decay|needs slots and a slot decay") as raised:
        BoxCredentials.load("box").get_client().get_folder_name("0")
    assert "deployments.limits" in str(raised.value)


# -- the Prefect API slow or down -----------------------------------------------------------------
class SilentServer:
    """Accepts connections and never answers: a Prefect API that hangs."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/api"
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


CHILD_WITH_API = r"""
import json, sys, time
from blocks.box import BoxCredentials
from clients.errors import BudgetUnavailable
job = json.loads(sys.argv[1])
store = BoxCredentials(**job["block"]).get_client()
started = time.monotonic()
try:
    store.get_folder_name("0")
    print(json.dumps({"outcome": "sent"}))
except BudgetUnavailable as exc:
    print(json.dumps({"outcome": "budget", "retryable": exc.__class__.__mro__[1].__name__, "message": str(exc),
                      "seconds": time.monotonic() - started}))
"""


@pytest.mark.parametrize("api", ["hangs", "is down"])
def test_the_prefect_api_slow_or_down_fails_the_request_clearly_within_the_wait(box, tmp_path, api) -> None:
    """A process whose Prefect API hangs or refuses connections: the request fails with a
    retryable BudgetUnavailable within the block's wait (no hang) and Box never sees it."""
    from prefect.settings import PREFECT_API_URL  # noqa: F401 - the child gets its URL from the environment

    silent = SilentServer()
    if api == "is down":
        silent.close()  # nothing listens on the port any more: connection refused
    block = {"client_id": box.client_id, "client_secret": box.client_secret, "public_key_id": box.keys.key_id,
             "private_key": box.keys.private_key_pem, "private_key_passphrase": box.keys.passphrase,
             "enterprise_id": box.enterprise_id, "api_base_url": box.base_url,
             "upload_base_url": box.base_url + "/api", "budget_wait_s": 3.0}
    env = {**os.environ, "PREFECT_API_URL": silent.url, "PYTHONPATH": str(ROOT), "PREFECT_API_REQUEST_TIMEOUT": "60"}
    try:
        started = time.monotonic()
        out = subprocess.run([sys.executable, "-c", CHILD_WITH_API, json.dumps({"block": block})], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=90)
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["outcome"] == "budget", result
    assert result["retryable"] == "TransientError"
    assert result["seconds"] <= 3.5, result  # the block's wait, not the API client's 60 s timeout or retries
    assert "box-api-calls" in result["message"] and "nothing was sent to Box" in result["message"]
    assert elapsed < 30
    assert [r for r in box.sim.injector.log if r["path"].startswith("/2.0")] == []


def test_a_run_whose_budget_gives_no_slot_fails_the_item_and_finishes(flow_env) -> None:
    """The upload budget used up (one slot, taken, coming back in ~17 minutes): the asset's upload
    waits the block's wait, fails as retryable, the asset is reported failed with the reason, the
    campaign stays A1, and the run ends instead of hanging."""
    from prefect import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate

    from flows.a1_to_a2 import a1_to_a2

    fields = save_box_block(flow_env, budget_wait_s=1.0)
    with get_client(sync_client=True) as client:
        client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(
            name=fields["uploads_limit_name"], limit=1, active_slots=1, slot_decay_per_second=0.001))
    sim = flow_env.otmm.sim
    campaign = sim.add_campaign(number="C000000901", name="Starved", status="A1")
    sim.add_asset(campaign.master_assets_id, "hero.jpg", size=2_000, mime_type="image/jpeg")
    started = time.monotonic()
    state = a1_to_a2(campaign_number="C000000901", box_root_folder_id=flow_env.box_root, webhook_block=None,
                     return_state=True)
    assert time.monotonic() - started < 120
    assert state.is_failed()
    assert "request budget" in (state.message or "") + json.dumps(state.result(raise_on_failure=False), default=str)
    assert sim.campaign_status(campaign.folder_id) == "A1"


# -- two processes, one budget ---------------------------------------------------------------------
CHILD_FLOW = r"""
import json, sys
from flows.a1_to_a2 import a1_to_a2
print("ready", flush=True)
job = json.loads(sys.stdin.readline())
state = a1_to_a2(campaign_number=job["campaign"], box_root_folder_id=job["folder"], webhook_block=None,
                 max_concurrent_transfers=8, return_state=True)
print(json.dumps({"state": state.name}), flush=True)
"""


def test_two_runs_in_two_processes_at_once_stay_under_box_limit(flow_env, tmp_path) -> None:
    """Box allows 60 uploads and 300 calls a minute here; each run alone would go at the budget's
    full rate, so two per-process limiters would send about twice Box's rate and meet 429s."""
    import prefect.settings

    box = flow_env.box.sim
    box.set_rate_limits(BoxRateLimits(enabled=True, calls_per_minute=300, calls_burst=14, uploads_per_minute=60,
                                      uploads_burst=3))
    save_box_block(flow_env, calls_per_minute=270, calls_burst=8, uploads_per_minute=54, uploads_burst=2)
    sim = flow_env.otmm.sim
    campaigns = []
    for number in ("C000000911", "C000000912"):
        campaign = sim.add_campaign(number=number, name=f"Shared {number[-1]}", status="A1")
        campaigns.append(campaign)
        for i in range(5):
            sim.add_asset(campaign.master_assets_id, f"asset{i}.jpg", size=3_000 + i, mime_type="image/jpeg")

    # Each run's campaign search is held until the other run's arrives (flow start-up takes
    # seconds here): from then on both work, and upload, at the same time.
    flow_env.otmm.sim.injector.add(FaultRule(path="/search/text$", kind="barrier", parties=2, count=2, seconds=60))
    env = {**os.environ, "PREFECT_API_URL": prefect.settings.PREFECT_API_URL.value(), "PYTHONPATH": str(ROOT),
           "PREFECT_LOGGING_LEVEL": "WARNING"}
    children = [subprocess.Popen([sys.executable, "-c", CHILD_FLOW], cwd=ROOT, env=env, stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=(tmp_path / f"child{i}.log").open("w"), text=True)
                for i in range(2)]
    try:
        for child in children:
            assert child.stdout.readline().strip() == "ready"
        started = time.time()
        for child, number in zip(children, ("C000000911", "C000000912"), strict=True):
            child.stdin.write(json.dumps({"campaign": number, "folder": flow_env.box_root}) + "\n")
            child.stdin.flush()
        results = [json.loads(child.stdout.readline()) for child in children]
        for child in children:
            child.wait(120)
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    assert results == [{"state": "Completed"}, {"state": "Completed"}], (tmp_path / "child0.log").read_text()[-3000:]
    seen = box.rate_limit_stats()["users"]["enterprise:4242"]
    assert seen.get("calls_refused", 0) == 0 and seen.get("uploads_refused", 0) == 0, seen
    assert seen["uploads_admitted"] == 10
    requests = [r for r in box.injector.log if r["time"] >= started and "authorization" in r["headers"]]
    times = sorted(r["time"] for r in requests if r["path"] == "/api/2.0/files/content")
    # Together at most Box's rate: 10 uploads at 1/s after a burst of 3 take at least ~7 s ...
    assert len(times) == 10 and times[-1] - times[0] >= 6.0, times
    # ... while both processes (one token each) were working on Box at the same time. (Who gets
    # the next slot is first come, first served: a run already at the ceiling tends to keep it.)
    spans: dict[str, list[float]] = {}
    for r in requests:
        spans.setdefault(r["headers"]["authorization"], []).append(r["time"])
    assert len(spans) == 2
    first, second = spans.values()
    assert first[0] < second[-1] and second[0] < first[-1], spans
    assert {sim.campaign_status(c.folder_id) for c in campaigns} == {"A2"}


# -- the 429s that still happen are counted, in the run's artifact and the daily report ---------
def test_the_429s_a_run_meets_are_counted_in_its_artifact_and_the_daily_report(flow_env) -> None:
    """The budget off, Box's limit low: the run meets 429s (retried after Box's Retry-After), and
    its ``a1-to-a2-requests`` table says how many — exactly what Box refused — as does the
    daily report's ``box_429s``."""
    from datetime import UTC, datetime, timedelta

    from prefect import flow, get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

    from domain.daily_report import compute_report
    from flows.a1_to_a2 import a1_to_a2
    from tasks.report import read_flow_run_history

    since = datetime.now(UTC) - timedelta(seconds=5)
    box = flow_env.box.sim
    box.set_rate_limits(BoxRateLimits(enabled=True, calls_per_minute=240, calls_burst=4, uploads_per_minute=120,
                                      uploads_burst=2))
    try:
        sim = flow_env.otmm.sim
        campaign = sim.add_campaign(number="C000000921", name="Throttled", status="A1")
        for i in range(6):
            sim.add_asset(campaign.master_assets_id, f"asset{i}.jpg", size=2_000 + i, mime_type="image/jpeg")
        state = a1_to_a2(campaign_number="C000000921", box_root_folder_id=flow_env.box_root, webhook_block=None,
                         return_state=True)
        refused = box.rate_limit_stats()["users"]["enterprise:4242"]
    finally:
        box.set_rate_limits(BoxRateLimits(enabled=False))
    box_429s = refused.get("calls_refused", 0) + refused.get("uploads_refused", 0)
    assert box_429s > 0, refused
    with get_client(sync_client=True) as client:
        [artifact] = client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=["a1-to-a2-requests"]),
            flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id])))
    rows = {r["system"]: r for r in (json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data)}
    assert rows["box"]["rate_limited"] == box_429s and rows["box"]["uploads"] >= 6
    assert rows["dam"]["rate_limited"] == 0 and rows["dam"]["calls"] > 0

    @flow
    def report() -> int:
        runs = read_flow_run_history(["a1-to-a2"], since, datetime.now(UTC) + timedelta(seconds=5))
        return compute_report(runs, since, datetime.now(UTC)).total["box_429s"]

    assert report() == box_429s
