"""``make bench-limits`` (``python -m benchmarks.limits``): the flows against Box's rate limits.

The Box simulator enforces Box's per-user limits (1000 calls and 240 uploads a minute, uploads
inside the calls, see simulators/box/limits.py) scaled down in time: a rested user may burst a
few seconds' worth (50 calls, 12 uploads), not a minute's, so the ceiling is reached at once and a
campaign of ``--assets`` small files spends well over 30 s at it. Every part runs against a real
``prefect server start``, which keeps the shared budget (blocks/_budget.py).

    (a) a1-to-a2 alone, budget on;
    (b) a1-to-a2 and a2-to-a3 at the same time, deployed with ``prefect deploy`` and run by two
        ``prefect worker start`` process workers, budget on;
    (c) the same load as (b), budget off.

For each: the requests Box received in the run(s), how many it refused (429), and the rate at the
ceiling: the slope of the admitted requests of each kind over their middle 80 % (the start-up
burst and the tail left out), divided by Box's rate for that kind; the kind closer to its ceiling
is reported. Meanwhile a probe times a slot of an idle limit every 0.5 s: how long a busy
Prefect server makes any acquisition wait. The last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from benchmarks.environment import ROOT, BenchEnvironment, CampaignPlan
from clients.box import box_request_kind
from simulators.box.limits import BOX_CALLS_PER_MINUTE, BOX_UPLOADS_PER_MINUTE

NUMBERS = {"alone": "C910000001", "workers": "C910000002", "off": "C910000003"}
CEILING_PER_S = {"call": BOX_CALLS_PER_MINUTE / 60, "upload": BOX_UPLOADS_PER_MINUTE / 60}
POOL = "content-scaling"  # prefect.yaml's work pool


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.limits", description=__doc__.split("\n\n")[0])
    parser.add_argument("--assets", type=int, default=200, help="Assets per campaign (default 200).")
    parser.add_argument("--size-kb", type=int, default=100, help="Size of each asset in kB (default 100).")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="Added to every DAM and Box request.")
    parser.add_argument("--concurrency", type=int, default=16, help="max_concurrent_transfers of a1-to-a2.")
    parser.add_argument("--keep-logs", type=Path, help="Copy the parts' logs here before cleaning up.")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    size = args.size_kb * 1000
    plan = [CampaignPlan(number, f"Limits {key}", args.assets, size) for key, number in NUMBERS.items()]
    env = BenchEnvironment(plan, box_budget=True, box_sim_args=["--rate-limits"])
    started = time.monotonic()
    results: dict[str, Any] = {}
    workers: list[subprocess.Popen] = []
    try:
        env.start()
        say(f"parts up in {time.monotonic() - started:.1f} s; Box limits: "
            f"{httpx.get(env.urls['box'] + '/_sim/box/rate-limits').json()}")
        env.set_network(args.latency_ms / 1000, None)
        flow_args = {"max_concurrent_transfers": args.concurrency, "webhook_block": None}

        say("(a) a1-to-a2 alone, budget on")
        root = env.new_box_folder("limits-alone")
        results["alone"] = run_alone(env, {**flow_args, "campaign_number": NUMBERS["alone"],
                                           "box_root_folder_id": root})

        say("deploying a1-to-a2 and a2-to-a3 (prefect deploy) and starting two process workers")
        deploy(env)
        workers = [start_worker(env, i) for i in (1, 2)]
        wait_for_workers(env, 2)

        say("(b) a1-to-a2 and a2-to-a3 at the same time on two workers, budget on")
        agency = seed_agency_files(env, NUMBERS["alone"], size)
        results["workers"] = run_pair(env, {**flow_args, "campaign_number": NUMBERS["workers"],
                                            "box_root_folder_id": env.new_box_folder("limits-workers")},
                                      {"agency_folder_id": agency, "max_files": args.assets + 10})

        say("(c) the same load, budget off")
        save_box_budget(env, False)
        agency = seed_agency_files(env, NUMBERS["workers"], size)
        results["off"] = run_pair(env, {**flow_args, "campaign_number": NUMBERS["off"],
                                        "box_root_folder_id": env.new_box_folder("limits-off")},
                                  {"agency_folder_id": agency, "max_files": args.assets + 10})
    finally:
        for worker in workers:
            _stop(worker)
        if args.keep_logs:
            import shutil

            shutil.copytree(env.workdir / "logs", args.keep_logs, dirs_exist_ok=True)
        env.stop()
    summary = summarise(results)
    summary["bench_wall_s"] = round(time.monotonic() - started, 1)
    print_table(results)
    print(json.dumps(summary), flush=True)
    return 0


def say(line: str) -> None:
    print(line, flush=True)


# -- the runs -------------------------------------------------------------------------------------
def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU jiffies of the whole machine so far (every process, ours or not)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return float(sum(fields) - idle), float(sum(fields))


def busy_share(before: tuple[float, float]) -> float:
    """Share of the machine's CPU time that was busy since ``before``."""
    after = machine_cpu()
    return round((after[0] - before[0]) / max(after[1] - before[1], 1.0), 3)


@contextmanager
def prefect_write_probe(out: dict[str, Any], every_s: float = 0.5) -> Iterator[None]:
    """Meanwhile, time one slot of an idle limit (never refused: a pure write to the Prefect API)
    every ``every_s``: how long the server makes an acquisition wait when it is busy."""
    from prefect.concurrency.sync import rate_limit

    from blocks._budget import RateLimitSpec, ensure_rate_limits

    ensure_rate_limits([RateLimitSpec("bench-probe", 6_000_000, 100_000)])
    samples: list[float] = []
    stop = threading.Event()

    def probe() -> None:
        while not stop.wait(every_s):
            started = time.perf_counter()
            rate_limit("bench-probe", occupy=1, strict=True)
            samples.append(1000 * (time.perf_counter() - started))

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(60)
        samples.sort()
        out["prefect_write_ms"] = {"p50": round(statistics.median(samples)) if samples else None,
                                   "p95": round(samples[int(0.95 * (len(samples) - 1))]) if samples else None,
                                   "max": round(samples[-1]) if samples else None,
                                   "over_1s": sum(1 for x in samples if x > 1000), "samples": len(samples)}


def run_alone(env: BenchEnvironment, parameters: dict[str, Any]) -> dict[str, Any]:
    """a1-to-a2 in a process of its own through the Prefect API (:mod:`benchmarks.worker`)."""
    since, cpu, probe = time.time(), machine_cpu(), {}
    with prefect_write_probe(probe):
        proc = subprocess.run([sys.executable, "-m", "benchmarks.worker", "a1-to-a2", json.dumps({
            "campaign_number": parameters["campaign_number"], "concurrency": parameters["max_concurrent_transfers"],
            "box_root_folder_id": parameters["box_root_folder_id"]})], cwd=ROOT,
            env={**env.env, "PREFECT_API_URL": env.urls["prefect"]}, capture_output=True, text=True, timeout=3600)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"a1-to-a2 failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    run = json.loads(lines[-1])
    states = {"a1-to-a2": {"state": run["state"], "message": run["message"], "wall_s": round(run["wall_s"], 1)}}
    return {"runs": states, "box": box_traffic(env, since, time.time()), "machine_busy": busy_share(cpu), **probe}


def run_pair(env: BenchEnvironment, a1_parameters: dict[str, Any], a2_parameters: dict[str, Any]) -> dict[str, Any]:
    """Both deployments run at once; each worker (limit 1) takes one of them."""
    from prefect.deployments import run_deployment

    since, cpu, probe = time.time(), machine_cpu(), {}
    with prefect_write_probe(probe):
        runs = {"a1-to-a2": run_deployment("a1-to-a2/a1-to-a2", parameters=a1_parameters, timeout=0),
                "a2-to-a3": run_deployment("a2-to-a3/a2-to-a3", parameters=a2_parameters, timeout=0)}
        states = {name: wait_final(run.id) for name, run in runs.items()}
    return {"runs": states, "box": box_traffic(env, since, time.time()), "machine_busy": busy_share(cpu), **probe}


def wait_final(flow_run_id: Any, timeout: float = 3600) -> dict[str, Any]:  # noqa: ANN401
    from prefect import get_client

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            run = client.read_flow_run(flow_run_id)
            if run.state and run.state.is_final():
                return {"state": run.state.name, "message": run.state.message,
                        "wall_s": round(run.total_run_time.total_seconds(), 1), "worker_process": run.infrastructure_pid}
            time.sleep(1)
    raise RuntimeError(f"flow run {flow_run_id} did not finish in {timeout:.0f} s")


# -- deployments and workers ----------------------------------------------------------------------
def _prefect_env(env: BenchEnvironment) -> dict[str, str]:
    return {**env.env, "PREFECT_API_URL": env.urls["prefect"], "CONTENT_SCALING_HOME": str(ROOT),
            "PREFECT_WORKER_QUERY_SECONDS": "1"}


def _prefect(env: BenchEnvironment, *args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "prefect", "--no-prompt", *args], cwd=ROOT, env=_prefect_env(env),
                         capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"prefect {' '.join(args)} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return out.stdout


def deploy(env: BenchEnvironment) -> None:
    """``prefect deploy`` of the two deployments (its build step sets the budget's limits), schedules paused."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType

    _prefect(env, "work-pool", "create", POOL, "--type", "process")
    _prefect(env, "deploy", "-n", "a1-to-a2", "-n", "a2-to-a3")
    _prefect(env, "deployment", "schedule", "pause", "--all")
    with get_client(sync_client=True) as client:
        scheduled = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])))
        for run in client.read_flow_runs(flow_run_filter=scheduled):
            client.delete_flow_run(run.id)


def start_worker(env: BenchEnvironment, number: int) -> subprocess.Popen:
    log = (env.workdir / "logs" / f"worker-{number}.log").open("wb")
    return subprocess.Popen([sys.executable, "-m", "prefect", "worker", "start", "--pool", POOL, "--limit", "1",
                             "--name", f"bench-worker-{number}"], cwd=ROOT, env=_prefect_env(env), stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


def wait_for_workers(env: BenchEnvironment, count: int, timeout: float = 120) -> None:
    from prefect import get_client

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            online = [w for w in client.read_workers_for_work_pool(POOL) if str(w.status).endswith("ONLINE")]
            if len(online) >= count:
                return
            time.sleep(1)
    raise RuntimeError(f"{count} workers did not come online; see {env.workdir / 'logs'}")


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


def save_box_budget(env: BenchEnvironment, on: bool) -> None:
    from blocks.box import BoxCredentials

    block = BoxCredentials.load("box")
    block.request_budget = on
    block.save("box", overwrite=True)


def seed_agency_files(env: BenchEnvironment, campaign_number: str, size: int) -> str:
    """One localised file per master the campaign sent to Box, in a fresh agency folder, seeded
    through the simulator's admin route (not a Box API request: no limit, not in the log)."""
    from blocks.tracking_database import TrackingDatabaseBlock

    masters = TrackingDatabaseBlock.load("tracking-db").get_client().fetch_all(
        "SELECT tracking_id, file_name FROM master_assets WHERE campaign_number=%s", (campaign_number,))
    agency = env.new_box_folder(f"limits-agency-{campaign_number}")
    body = base64.b64encode(os.urandom(size)).decode()
    with httpx.Client(timeout=60) as http:
        for row in masters:
            stem, _, ext = row["file_name"].rpartition(".")
            http.post(env.urls["box"] + "/_sim/box/seed-file", json={
                "parent_id": agency, "path": "Italy", "name": f"{row['tracking_id']}_{stem} IT_it-IT_Lazio.{ext}",
                "content_base64": body}).raise_for_status()
    say(f"  seeded {len(masters)} localised file(s) for {campaign_number}")
    return agency


# -- the figures ----------------------------------------------------------------------------------
def box_traffic(env: BenchEnvironment, since: float, until: float) -> dict[str, Any]:
    """Box API requests in the window: by kind, refused (429), and the rate at the ceiling."""
    entries = [e for e in env.requests_since("box", since, until) if e["path"].startswith(("/2.0/", "/api/2.0/"))]
    out: dict[str, Any] = {"requests": len(entries), "refused_429": sum(1 for e in entries if e["status"] == 429)}
    for kind in ("call", "upload"):
        # The uploads count inside the calls at Box: a kind's requests include the uploads for "call".
        times = sorted(e["time"] for e in entries if e["status"] != 429 and (
            kind == "call" or box_request_kind(e["method"], "x" + e["path"], "x", "x/api") == "upload"))
        rate, seconds = middle_rate(times)
        out[kind] = {"admitted": len(times), "rate_per_s": round(rate, 3), "seconds_at_rate": round(seconds, 1),
                     "share_of_ceiling": round(rate / CEILING_PER_S[kind], 3)}
    out["kinds"] = dict(Counter(box_request_kind(e["method"], "x" + e["path"], "x", "x/api") for e in entries))
    return out


def middle_rate(times: list[float]) -> tuple[float, float]:
    """Requests per second over the middle 80 % of ``times`` (least squares), and that span in seconds."""
    if len(times) < 10:
        return 0.0, 0.0
    cut = len(times) // 10
    middle = times[cut:len(times) - cut]
    n = len(middle)
    mean_t = sum(middle) / n
    mean_i = (n - 1) / 2
    slope_den = sum((t - mean_t) ** 2 for t in middle)
    if slope_den == 0:
        return 0.0, 0.0
    slope = sum((t - mean_t) * (i - mean_i) for i, t in enumerate(middle)) / slope_den
    return slope, middle[-1] - middle[0]


def _binding(box: dict[str, Any]) -> dict[str, Any]:
    return max((box["call"], box["upload"]), key=lambda k: k["share_of_ceiling"])


def summarise(results: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, prefix in (("alone", "box_limits"), ("workers", "box_limits_two_workers"), ("off", "box_limits_off")):
        result = results.get(key)
        if not result:
            continue
        box = result["box"]
        binding = _binding(box)
        if key != "off":
            out[f"{prefix}_share_of_ceiling"] = binding["share_of_ceiling"]
        out[f"{prefix}_429_share"] = round(box["refused_429"] / max(box["requests"], 1), 4)
        out[f"{prefix}_seconds_at_ceiling"] = binding["seconds_at_rate"]
        out[f"{prefix}_states"] = {name: run["state"] for name, run in result["runs"].items()}
        out[f"{prefix}_machine_cpu_busy"] = result["machine_busy"]
        out[f"{prefix}_prefect_write_ms"] = result["prefect_write_ms"]
    out["targets_met"] = {
        "share_ge_0.9": all(out.get(k, 0) >= 0.9 for k in ("box_limits_share_of_ceiling",
                                                           "box_limits_two_workers_share_of_ceiling")),
        "429_share_le_0.01": all(out.get(k, 1) <= 0.01 for k in ("box_limits_429_share",
                                                                 "box_limits_two_workers_429_share")),
        "no_failed_run": all(s == "Completed" for k in ("box_limits_states", "box_limits_two_workers_states")
                             for s in out.get(k, {"?": "missing"}).values()),
        "30_s_at_ceiling": all(out.get(k, 0) >= 30 for k in ("box_limits_seconds_at_ceiling",
                                                             "box_limits_two_workers_seconds_at_ceiling")),
    }
    return out


def print_table(results: dict[str, Any]) -> None:
    print()
    print(f"{'profile':<10}{'requests':>10}{'429':>7}{'calls/s':>9}{'share':>7}{'uploads/s':>11}{'share':>7}"
          f"{'s at rate':>11}{'CPU busy':>10}{'API write p50/p95/max ms':>26}  runs")
    for key, result in results.items():
        box = result["box"]
        runs = ", ".join(f"{n} {r['state']} {r['wall_s']} s" for n, r in result["runs"].items())
        print(f"{key:<10}{box['requests']:>10}{box['refused_429']:>7}{box['call']['rate_per_s']:>9.2f}"
              f"{box['call']['share_of_ceiling']:>7.2f}{box['upload']['rate_per_s']:>11.2f}"
              f"{box['upload']['share_of_ceiling']:>7.2f}{_binding(box)['seconds_at_rate']:>11.1f}"
              f"{result['machine_busy']:>10.0%}{'/'.join(str(v) for v in list(result['prefect_write_ms'].values())[:3]):>26}"
              f"  {runs}")
    print()


if __name__ == "__main__":
    sys.exit(main())
