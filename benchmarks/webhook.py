"""``make bench-webhook`` (``python -m benchmarks.webhook``): agency upload → DAM asset, pushed by Box vs polled.

Against the simulators in their own processes, a real Prefect server, the Box webhook receiver
(HTTPS) and ``deployments.serve`` (which looks for runs every ``--runner-poll-s`` seconds):

* **webhook**: ``--uploads`` localised files uploaded into the agency folder, spread evenly over
  ``--spread-s`` seconds; the folder has the Box webhook, every schedule is paused. Latency per
  file = from the start of its upload to its import being recorded (the DAM returned the asset);
  the Box API calls the imports made (the agency's own uploads and token requests not counted).
* **poll**: the same number of files in a folder without a webhook, imported by one ``a2-to-a3``
  deployment run (the 5-minute poll's work, minus the wait for the schedule); its Box API calls.

The last line on stdout is one JSON object (``webhook_import_p50_s``, ``webhook_import_p95_s``,
``box_calls_per_file_webhook``, ``box_calls_per_file_poll``, …).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.environment import BenchEnvironment, CampaignPlan
from benchmarks.run import _request_kinds, say

WEBHOOK, POLL = "C900000201", "C900000202"
FLOW_CALLS = ("/2.0/", "/api/2.0/")  # Box API calls (downloads' /dl redirect targets are not API calls)
AGENCY_CALLS = ("OPTIONS /2.0/files/content", "POST /api/2.0/files/content")  # the agency uploading, not us


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.webhook", description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=50, help="Agency uploads in each phase (default 50).")
    parser.add_argument("--spread-s", type=float, default=60.0, help="Seconds the webhook uploads spread over.")
    parser.add_argument("--size-kb", type=int, default=200, help="Size of each localised file (default 200 KB).")
    parser.add_argument("--runner-poll-s", type=int, default=2,
                        help="How often the serving process looks for runs to start (Prefect's default: 10).")
    parser.add_argument("--keep-logs", type=Path, help="Copy the parts' logs here before cleaning up.")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    plan = [CampaignPlan(WEBHOOK, "Webhook bench", args.uploads, 20_000, status="A2"),
            CampaignPlan(POLL, "Poll bench", args.uploads, 20_000, status="A2")]
    env = BenchEnvironment(plan)
    try:
        env.start()
        masters = {number: _register_masters(env, number) for number in (WEBHOOK, POLL)}
        from blocks.box import BoxCredentials

        store = BoxCredentials.load("box").get_client()
        pushed, polled = env.new_box_folder("bench-agency-webhook"), env.new_box_folder("bench-agency-poll")
        receiver = env.start_part("box-webhook-receiver", [
            sys.executable, "-m", "deployments.box_webhook_receiver", "--port", "0", "--tls-cert",
            str(env.pki.server_cert), "--tls-key", str(env.pki.server_key)])
        parameters = env.workdir / "parameters.json"
        parameters.write_text(json.dumps({"a2-to-a3-webhook": {"agency_folder_id": pushed},
                                          "a2-to-a3": {"agency_folder_id": polled}}))
        env.start_part("serve", [sys.executable, "-m", "deployments.serve", "--parameters", str(parameters),
                                 "--paused"], {"PREFECT_RUNNER_POLL_FREQUENCY": str(args.runner_poll_s)}, schemes=())
        _wait_for_deployment("a2-to-a3-webhook")
        store.create_folder_webhook(pushed, receiver + "/box/webhook", ["FILE.UPLOADED"])
        say(f"parts up in {time.monotonic() - started:.1f} s; receiver {receiver}; runner polls every "
            f"{args.runner_poll_s} s")

        webhook = _webhook_phase(env, store, pushed, masters[WEBHOOK], args)
        poll = _poll_phase(env, store, polled, masters[POLL], args)
    finally:
        if args.keep_logs:
            shutil.copytree(env.workdir / "logs", args.keep_logs, dirs_exist_ok=True)
        env.stop()
    latencies = sorted(webhook["latencies"])
    summary = {
        "uploads": args.uploads, "spread_s": args.spread_s, "size_kb": args.size_kb,
        "runner_poll_s": args.runner_poll_s,
        "webhook_imported": len(latencies),
        "webhook_import_p50_s": round(statistics.median(latencies), 2) if latencies else None,
        "webhook_import_p95_s": round(_percentile(latencies, 95), 2) if latencies else None,
        "webhook_import_max_s": round(latencies[-1], 2) if latencies else None,
        "webhook_runs_completed": webhook["runs"].get("COMPLETED", 0),
        "webhook_runs_cancelled": webhook["runs"].get("CANCELLED", 0),
        "box_calls_per_file_webhook": round(webhook["calls"] / args.uploads, 2),
        "box_calls_per_file_poll": round(poll["calls"] / args.uploads, 2),
        "box_calls_idle_poll": poll["idle_calls"],
        "poll_run_s": poll["wall_s"],
        "webhook_box_calls": webhook["kinds"], "poll_box_calls": poll["kinds"],
        "bench_wall_s": round(time.monotonic() - started, 1),
    }
    say(f"\nwebhook: {len(latencies)}/{args.uploads} imported; upload → DAM p50 {summary['webhook_import_p50_s']} s, "
        f"p95 {summary['webhook_import_p95_s']} s, max {summary['webhook_import_max_s']} s; "
        f"{summary['webhook_runs_completed']} run(s) completed, {summary['webhook_runs_cancelled']} cancelled")
    say(f"Box API calls per imported file: webhook {summary['box_calls_per_file_webhook']}, "
        f"poll {summary['box_calls_per_file_poll']} (+{poll['idle_calls']} per poll run with nothing to import, "
        "every 5 minutes)")
    print(json.dumps(summary), flush=True)
    return 0 if len(latencies) == args.uploads else 1


def _register_masters(env: BenchEnvironment, number: str) -> list[str]:
    """The campaign's masters as A1→A2 leaves them in the tracking database; their tracking IDs."""
    from blocks.tracking_database import TrackingDatabaseBlock
    from clients.tracking_db import BoxUpload, MasterAssetRecord

    db = TrackingDatabaseBlock.load("tracking-db").get_client()
    campaign, ids = env.campaigns[number], []
    for n, asset_id in enumerate(campaign["assets"]):
        name = f"asset-{n:05d}.jpg"
        tid = db.register_master_asset(MasterAssetRecord(
            dam_asset_id=asset_id, campaign_folder_id=campaign["folder_id"], campaign_number=number,
            campaign_name=campaign["name"], local_campaign_id=number, dam_path=name, file_name=name, extension="jpg",
            size=20_000, metadata={"metadata_element_list": []}))
        db.record_box_upload(BoxUpload(workflow="a1-to-a2", tracking_id=tid, dam_asset_id=asset_id, box_folder_id="0",
                                       box_file_id=f"master-{tid}", box_file_name=f"{tid}_{name}", sha1="0" * 40,
                                       size=20_000), campaign_number=number, flow_run_id=None)
        ids.append(tid)
    return ids


def _wait_for_deployment(name: str, timeout: float = 180) -> None:
    from prefect import get_client

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            if any(d.name == name for d in client.read_deployments()):
                return
            time.sleep(0.5)
    raise RuntimeError(f"deployment {name} was not served")


def _file_name(tid: str, n: int) -> str:
    return f"{tid}_Bench {n:03d}_it-IT_Lazio.jpg"


def _webhook_phase(env: BenchEnvironment, store: Any, folder: str, tids: list[str], args: argparse.Namespace) -> dict:  # noqa: ANN401
    from blocks.tracking_database import TrackingDatabaseBlock

    db = TrackingDatabaseBlock.load("tracking-db").get_client()
    body = b"x" * (args.size_kb * 1000)
    started: dict[str, float] = {}
    since = time.time()
    say(f"webhook: {args.uploads} uploads over {args.spread_s:g} s…")

    def upload(n: int, tid: str) -> None:
        name = _file_name(tid, n)
        started[name] = time.time()
        store.upload_stream(folder, name, iter([body]), len(body))

    threads = []
    for n, tid in enumerate(tids[:args.uploads]):
        due = since + n * args.spread_s / max(1, args.uploads - 1)
        time.sleep(max(0.0, due - time.time()))
        threads.append(threading.Thread(target=upload, args=(n, tid)))
        threads[-1].start()
    for t in threads:
        t.join()
    names = set(started)
    deadline = time.time() + 300
    done: dict[str, float] = {}
    while time.time() < deadline and len(done) < len(names):
        for row in db.fetch_all("SELECT box_file_name, EXTRACT(EPOCH FROM updated_at) AS at FROM derivative_assets"
                                " WHERE status='imported'"):
            if row["box_file_name"] in names:
                done[row["box_file_name"]] = float(row["at"])
        time.sleep(0.5)
    time.sleep(8)  # the last run waits for quiet before it ends; its calls count too
    calls = [e for e in env.requests_since("box", since) if e["path"].startswith(FLOW_CALLS)
             and f"{e['method']} {e['path']}" not in AGENCY_CALLS]
    by_upload = sorted(started, key=started.get)
    say("  latency by upload order (s): " + " ".join(f"{done[n] - started[n]:.1f}" if n in done else "-"
                                                      for n in by_upload))
    return {"latencies": [done[n] - started[n] for n in done], "calls": len(calls), "kinds": _request_kinds(calls),
            "runs": _run_states("a2-to-a3-webhook")}


def _poll_phase(env: BenchEnvironment, store: Any, folder: str, tids: list[str], args: argparse.Namespace) -> dict:  # noqa: ANN401
    from prefect.deployments import run_deployment

    body = b"x" * (args.size_kb * 1000)
    for n, tid in enumerate(tids[:args.uploads]):
        store.upload_stream(folder, _file_name(tid, n), iter([body]), len(body))
    say(f"poll: {args.uploads} files waiting; one a2-to-a3 run…")
    since = time.time()
    run = run_deployment("a2-to-a3/a2-to-a3", timeout=900, poll_interval=1)
    wall = (run.end_time - run.start_time).total_seconds() if run.start_time and run.end_time else None
    calls = [e for e in env.requests_since("box", since) if e["path"].startswith(FLOW_CALLS)]
    say(f"  {run.state.name}: {run.state.message}")
    since = time.time()
    idle = run_deployment("a2-to-a3/a2-to-a3", timeout=900, poll_interval=1)
    idle_calls = [e for e in env.requests_since("box", since) if e["path"].startswith(FLOW_CALLS)]
    say(f"  idle poll {idle.state.name}: {len(idle_calls)} Box call(s)")
    return {"calls": len(calls), "kinds": _request_kinds(calls), "wall_s": round(wall, 1) if wall else None,
            "idle_calls": len(idle_calls)}


def _run_states(deployment: str) -> dict[str, int]:
    from collections import Counter

    from prefect import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[deployment])))
    return dict(Counter(r.state.type.value for r in runs if r.state))


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
