"""``make bench`` (``python -m benchmarks.run``): how fast and how lean the DAM→Box flows are.

In one run, against the simulators with ``--latency-ms`` per request and ``--bandwidth`` per
stream, for a campaign of ``--assets`` × ``--size-mb``:

    (a) baseline   the old scripts' way (one asset at a time, temp file, then upload);
    (b) raw limit  the same bytes, same concurrency, plain threads calling ``stream_dam_to_box``;
    (c) a1-to-a2   the flow through a real Prefect API (``prefect server start``), with
                   ``max_concurrent_transfers`` = the same concurrency;
    (d) the same raw limit and flow for a small campaign (``--small-assets`` × ``--small-size-mb``,
        default 50 × 0.5 MB), where the flow's fixed per-run work weighs most;
    (e) a2-to-a3   the localised files back into the DAM: first its raw limit (one file per
                   master the flow sent, plain threads: download from Box, create the DAM
                   asset, delete the Box file; no Prefect, no database), then the flow over
                   the same number of files;
    then one ``--big-gb`` asset through a1-to-a2 for its peak RSS.

Each measurement runs in its own process (:mod:`benchmarks.worker`) on its own campaign and a
fresh Box folder. Besides wall time it reports the CPU every part used (the flow process,
the Prefect server, PostgreSQL, the simulators: they all share the machine's cores) per
asset or file for both flows, the requests each simulator received per asset, and where the
flow's time went: the seconds of an a1-to-a2 run before its first asset's copy started and
after its last one ended. The last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks.environment import ROOT, BenchEnvironment, CampaignPlan

MB = 1_000_000
NUMBERS = {"warmup": "C900000000", "baseline": "C900000001", "raw": "C900000002", "flow": "C900000003",
           "big": "C900000004", "small_raw": "C900000005", "small_flow": "C900000006"}
# The processes that are neither the measured one, the Prefect server nor PostgreSQL.
SERVICES = ("prefect-server", "postgres")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (defaults: the issue's campaign of 200 × 2 MB at 100 ms per request)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--assets", type=int, default=200, help="Assets in the campaign (default 200).")
    parser.add_argument("--size-mb", type=float, default=2.0, help="Size of each asset in MB (default 2).")
    parser.add_argument("--latency-ms", type=float, default=100.0, help="Added to every DAM and Box request.")
    parser.add_argument("--bandwidth", type=int, default=None,
                        help="Bytes per second per response stream (default: unlimited).")
    parser.add_argument("--concurrency", type=int, default=16, help="Transfers at a time, raw and flow (default 16).")
    parser.add_argument("--big-gb", type=float, default=2.0, help="Size of the single big asset (default 2 GB).")
    parser.add_argument("--skip-big", action="store_true", help="Do not move the big asset.")
    parser.add_argument("--skip-baseline", action="store_true", help="Do not run the sequential baseline.")
    parser.add_argument("--skip-a2-to-a3", action="store_true", help="Do not run a2-to-a3 (nor its raw limit).")
    parser.add_argument("--small-assets", type=int, default=50, help="Assets in the small campaign (default 50).")
    parser.add_argument("--small-size-mb", type=float, default=0.5,
                        help="Size of each small-campaign asset in MB (default 0.5).")
    parser.add_argument("--skip-small", action="store_true", help="Do not measure the small campaign.")
    parser.add_argument("--keep-logs", type=Path, help="Copy the parts' logs here before cleaning up.")
    parser.add_argument("--results", type=Path, help="Also write every raw measurement here (JSON).")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Start the parts, run every measurement, print the table and the JSON line."""
    args = parse_args(argv)
    size = int(args.size_mb * MB)
    plan = [CampaignPlan(NUMBERS["warmup"], "Bench warm-up", 4, 100_000),
            CampaignPlan(NUMBERS["baseline"], "Bench baseline", args.assets, size),
            CampaignPlan(NUMBERS["raw"], "Bench raw", args.assets, size),
            CampaignPlan(NUMBERS["flow"], "Bench flow", args.assets, size)]
    if not args.skip_small:
        small_size = int(args.small_size_mb * MB)
        plan += [CampaignPlan(NUMBERS["small_raw"], "Bench small raw", args.small_assets, small_size),
                 CampaignPlan(NUMBERS["small_flow"], "Bench small flow", args.small_assets, small_size)]
    if not args.skip_big:
        plan.append(CampaignPlan(NUMBERS["big"], "Bench big", 1, int(args.big_gb * 1000 * MB)))
    latency = args.latency_ms / 1000
    results: dict[str, Any] = {}
    started = time.monotonic()
    env = BenchEnvironment(plan)
    try:
        env.start()
        say(f"parts up in {time.monotonic() - started:.1f} s (Prefect API {env.urls['prefect']}, "
            f"DAM {env.urls['otmm']}, Box {env.urls['box']})")
        say(f"campaign: {args.assets} assets × {args.size_mb:g} MB, {args.latency_ms:g} ms per request, "
            f"bandwidth {args.bandwidth or 'unlimited'} B/s per stream, concurrency {args.concurrency}")
        env.set_network(latency, args.bandwidth)
        measure(env, "warmup", "a1-to-a2", _flow_args(env, "warmup", args.concurrency))
        results["empty_flow"] = measure(env, "empty flow", "empty-flow", {})
        if not args.skip_baseline:
            results["baseline"] = measure(env, "baseline", "baseline", _plain_args(env, "baseline", args.concurrency))
        results.update(measure_raw_and_flow(env, "raw", "flow", args.concurrency))
        if not args.skip_small:
            results.update(measure_raw_and_flow(env, "small_raw", "small_flow", args.concurrency))
        if not args.skip_a2_to_a3:
            results.update(measure_a2_to_a3(env, args, size, latency))
        if not args.skip_big:
            results["big"] = measure(env, "big", "a1-to-a2", _flow_args(env, "big", args.concurrency))
            results["big"]["box_bytes_on_disk"] = env.box_storage_bytes()
    finally:
        if args.keep_logs:
            import shutil

            shutil.copytree(env.workdir / "logs", args.keep_logs, dirs_exist_ok=True)
        env.stop()
    summary = summarise(results, args, size)
    if args.results:
        args.results.write_text(json.dumps({"summary": summary, "results": results}, indent=1, default=str))
    print_table(results, summary, args)
    summary["bench_wall_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(summary), flush=True)
    return 0


def say(line: str) -> None:
    """A progress line (stdout, before the table)."""
    print(line, flush=True)


def _plain_args(env: BenchEnvironment, key: str, concurrency: int) -> dict[str, Any]:
    campaign = env.campaigns[NUMBERS[key]]
    return {"master_assets_id": campaign["master_assets_id"], "concurrency": concurrency,
            "box_root_folder_id": env.new_box_folder(f"bench-{key}"),
            "box_folder_name": f"{NUMBERS[key]}-{campaign['name']}", "tmp_dir": str(env.workdir)}


def _flow_args(env: BenchEnvironment, key: str, concurrency: int) -> dict[str, Any]:
    return {"campaign_number": NUMBERS[key], "concurrency": concurrency,
            "box_root_folder_id": env.new_box_folder(f"bench-{key}")}


def measure_raw_and_flow(env: BenchEnvironment, raw_key: str, flow_key: str, concurrency: int) -> dict[str, Any]:
    """a1-to-a2's raw limit on one campaign, then the flow on its twin (each into a fresh Box folder)."""
    return {raw_key: measure(env, raw_key, "raw", _plain_args(env, raw_key, concurrency)),
            flow_key: measure(env, flow_key, "a1-to-a2", _flow_args(env, flow_key, concurrency))}


def measure_a2_to_a3(env: BenchEnvironment, args: argparse.Namespace, size: int, latency: float) -> dict[str, Any]:
    """a2-to-a3's raw limit, then the flow, each over its own agency folder holding one localised
    file per master the a1-to-a2 flow sent (the raw one imports into the raw campaign's DAM folder)."""
    folders = {key: seed_agency_uploads(env, NUMBERS["flow"], size, args.concurrency, f"bench-agency-uploads-{key}")
               for key in ("raw", "flow")}
    env.set_network(latency, args.bandwidth)
    raw_args = {"agency_folder_id": folders["raw"], "campaign_folder_id": env.campaigns[NUMBERS["raw"]]["folder_id"],
                "concurrency": args.concurrency}
    return {"a2_to_a3_raw": measure(env, "a2-to-a3 raw", "raw-a2-to-a3", raw_args),
            "a2_to_a3": measure(env, "a2-to-a3", "a2-to-a3",
                                {"agency_folder_id": folders["flow"], "max_files": args.assets + 10})}


def measure(env: BenchEnvironment, label: str, mode: str, worker_args: dict[str, Any]) -> dict[str, Any]:
    """Run one worker process; add the CPU of every part and the simulators' requests."""
    cpu_before = env.cpu_seconds()
    since = time.time()
    proc = subprocess.run([sys.executable, "-m", "benchmarks.worker", mode, json.dumps(worker_args)], cwd=ROOT,
                          env={**env.env, "PREFECT_API_URL": env.urls["prefect"]}, capture_output=True, text=True,
                          timeout=3600)
    until = time.time()
    cpu_after = env.cpu_seconds()
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{label}: worker failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    result = json.loads(lines[-1])
    result["cpu_parts_s"] = {k: round(cpu_after.get(k, 0) - cpu_before.get(k, 0), 3) for k in cpu_after}
    result["requests"] = {name: _request_kinds(env.requests_since(name, since, until)) for name in ("otmm", "box")}
    say(f"  {label}: {result['wall_s']:.2f} s" + (f" ({result.get('state')}: {result.get('message')})"
                                                 if result.get("state") else ""))
    return result


_ID_SEGMENT = re.compile(r"/(?:\d+|(?=[^/]*\d)[^/]{6,})(?=/|$)")


def _request_kinds(entries: list[dict[str, Any]]) -> dict[str, int]:
    """Requests by method and path with IDs replaced by ``{id}``."""
    return dict(Counter(f"{e['method']} {_ID_SEGMENT.sub('/{id}', e['path'])}" for e in entries).most_common())


def seed_agency_uploads(env: BenchEnvironment, campaign_number: str, size: int, concurrency: int,
                        folder_name: str) -> str:
    """One localised file per master the flow sent, in a fresh agency folder (no latency while seeding)."""
    from blocks.box import BoxCredentials
    from blocks.tracking_database import TrackingDatabaseBlock

    env.set_network(0, None)
    store = BoxCredentials.load("box").get_client()
    masters = TrackingDatabaseBlock.load("tracking-db").get_client().fetch_all(
        "SELECT tracking_id, file_name FROM master_assets WHERE campaign_number=%s", (campaign_number,))
    agency = env.new_box_folder(folder_name)
    italy = store.ensure_folder_path(agency, ["Italy"])
    block = os.urandom(MB)

    def upload(row: dict[str, Any]) -> None:
        stem, _, ext = row["file_name"].rpartition(".")
        chunks = (block[: min(MB, size - offset)] for offset in range(0, size, MB))
        store.upload_stream(italy, f"{row['tracking_id']}_{stem} IT_it-IT_Lazio.{ext}", chunks, size)

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(upload, masters))
    say(f"  seeded {len(masters)} localised file(s) in {folder_name}")
    return agency


# -- the figures --------------------------------------------------------------------------
def _per_asset(value: float, assets: int) -> float:
    return round(1000 * value / assets, 2) if assets else 0.0


def _timer(result: dict[str, Any], key: str, what: str = "wall_s") -> float:
    return float(result.get("timers", {}).get(key, {}).get(what, 0.0))


def _category(result: dict[str, Any], category: str, what: str = "wall_s") -> float:
    return sum(v[what] for k, v in result.get("timers", {}).items() if k.startswith(category + "."))


def _ratio(flow: dict[str, Any], raw: dict[str, Any]) -> float:
    return round(flow["wall_s"] / raw["wall_s"], 3)


def _cpu_ms_per_item(result: dict[str, Any], n: int) -> dict[str, float]:
    """CPU ms per item of the measured process and of each part."""
    return {"process": _per_asset(result["cpu_s"], n), **{k: _per_asset(v, n) for k, v in result["cpu_parts_s"].items()}}


def _cpu_by_process(result: dict[str, Any], n: int, prefix: str) -> dict[str, float]:
    """CPU ms per item, flat keys: the flow process, the Prefect server, PostgreSQL, the simulators."""
    parts = result["cpu_parts_s"]
    simulators = sum(v for k, v in parts.items() if k not in SERVICES)
    return {f"{prefix}_flow": _per_asset(result["cpu_s"], n),
            f"{prefix}_prefect_server": _per_asset(parts.get("prefect-server", 0), n),
            f"{prefix}_postgres": _per_asset(parts.get("postgres", 0), n),
            f"{prefix}_simulators": _per_asset(simulators, n),
            f"{prefix}_total": _per_asset(result["cpu_s"] + sum(parts.values()), n)}


def _around_transfers(flow: dict[str, Any], prefix: str) -> dict[str, float | None]:
    """Seconds of an a1-to-a2 run before its first asset's copy started and after its last one
    ended (the span of the per-asset body the transfer engine calls, timed in the flow process)."""
    span = flow.get("timers", {}).get("asset.body")
    before = round(span["first_start_s"], 3) if span else None
    after = round(flow["wall_s"] - span["last_end_s"], 3) if span else None
    return {f"{prefix}_before_transfers_s": before, f"{prefix}_after_transfers_s": after}


def summarise(results: dict[str, Any], args: argparse.Namespace, size: int) -> dict[str, Any]:
    """The JSON line: throughput, speed-up, ratio to the raw limit, overheads, peak RSS."""
    n = args.assets
    raw, flow = results["raw"], results["flow"]
    baseline = results.get("baseline")
    out: dict[str, Any] = {
        "assets": n, "size_mb": args.size_mb, "latency_ms": args.latency_ms, "bandwidth": args.bandwidth,
        "concurrency": args.concurrency,
        "baseline_s": round(baseline["wall_s"], 2) if baseline else None,
        "raw_s": round(raw["wall_s"], 2), "flow_s": round(flow["wall_s"], 2),
        # What a flow run costs by itself (an empty flow in a fresh process): part of every flow's time.
        "empty_flow_s": round(results["empty_flow"]["wall_s"], 2) if "empty_flow" in results else None,
        "flow_assets_per_s": round(n / flow["wall_s"], 2),
        "flow_mb_per_s": round(n * size / MB / flow["wall_s"], 2),
        "raw_assets_per_s": round(n / raw["wall_s"], 2),
        "baseline_assets_per_s": round(n / baseline["wall_s"], 2) if baseline else None,
        "speedup_vs_baseline": round(baseline["wall_s"] / flow["wall_s"], 2) if baseline else None,
        "ratio_to_raw_limit": _ratio(flow, raw),
    }
    # CPU is what the parts compete for on this machine: the flow's extra CPU per asset, by part.
    extra_cpu = {part: _per_asset(flow["cpu_parts_s"].get(part, 0) - raw["cpu_parts_s"].get(part, 0), n)
                 for part in flow["cpu_parts_s"]}
    db_cpu_in_flow = _category(flow, "db", "cpu_s")
    flow_process_extra = flow["cpu_s"] - raw["cpu_s"]
    out["prefect_overhead_ms_per_asset"] = round(
        _per_asset(flow_process_extra - db_cpu_in_flow, n) + extra_cpu.get("prefect-server", 0), 2)
    out["db_overhead_ms_per_asset"] = round(_per_asset(db_cpu_in_flow, n) + extra_cpu.get("postgres", 0), 2)
    out["cpu_ms_per_asset"] = {"raw": _cpu_ms_per_item(raw, n), "flow": _cpu_ms_per_item(flow, n)}
    out.update(_cpu_by_process(flow, n, "a1_to_a2_cpu_ms_per_asset"))
    out["flow_gap_ms_per_asset"] = _per_asset(flow["wall_s"] - raw["wall_s"], n)
    # Wall time per asset inside the flow process (an engine thread waits on these one after the other).
    phase = _timer(flow, "flow.transfer_phase") or flow["wall_s"]
    runs = flow.get("task_runs", {})
    out["flow_wall_breakdown_s"] = {
        "flow_total": round(flow["wall_s"], 3),
        "before_and_after_transfers": round(flow["wall_s"] - phase, 3),
        "transfer_phase": round(phase, 3),
        "raw_total": round(raw["wall_s"], 3),
    }
    out.update(_around_transfers(flow, "a1_to_a2"))
    out["per_asset_wall_ms"] = {
        "asset_body": _per_asset(_timer(flow, "asset.body"), n),
        "stream_dam_to_box": _per_asset(_timer(flow, "stream.stream_dam_to_box"), n),
        "db_calls": _per_asset(_category(flow, "db"), n),
        "box_calls_besides_upload": _per_asset(_category(flow, "box") - _timer(flow, "box.upload_stream"), n),
        "block_get_client": _per_asset(_timer(flow, "blocks.get_client"), n),
        "raw_stream_dam_to_box": _per_asset(_timer(raw, "stream.stream_dam_to_box"), n),
    }
    out["flow_task_runs"] = {task: {"count": v["count"], "mean_s": round(v["run_s"] / max(v["finished"], 1), 3)}
                             for task, v in runs.get("by_task", {}).items()}
    out["flow_log_lines_per_asset"] = round(sum(runs.get("log_lines", {}).values()) / n, 2)
    out["requests_per_asset"] = {
        label: {name: round(sum(results[label]["requests"][name].values()) / n, 2) for name in ("otmm", "box")}
        for label in ("baseline", "raw", "flow") if label in results
    }
    out["peak_rss_mb_flow"] = round(flow["peak_rss_mb"], 1)
    out["peak_rss_mb_raw"] = round(raw["peak_rss_mb"], 1)
    if "small_flow" in results:
        out.update(_summarise_small(results["small_raw"], results["small_flow"], args))
    if "a2_to_a3" in results:
        a2, a2_raw = results["a2_to_a3"], results["a2_to_a3_raw"]
        out["a2_to_a3_s"] = round(a2["wall_s"], 2)
        out["a2_to_a3_assets_per_s"] = round(n / a2["wall_s"], 2)
        out["a2_to_a3_state"] = a2.get("state")
        out["a2_to_a3_raw_s"] = round(a2_raw["wall_s"], 2)
        out["a2_to_a3_raw_files"] = a2_raw["files"]
        out["a2_to_a3_ratio_to_raw_limit"] = _ratio(a2, a2_raw)
        out["a2_to_a3_parts_cpu_ms_per_file"] = {"raw": _cpu_ms_per_item(a2_raw, n), "flow": _cpu_ms_per_item(a2, n)}
        out.update(_cpu_by_process(a2, n, "a2_to_a3_cpu_ms_per_file"))
    if "big" in results:
        big = results["big"]
        out["big_gb"] = args.big_gb
        out["big_s"] = round(big["wall_s"], 2)
        out["big_mb_per_s"] = round(args.big_gb * 1000 / big["wall_s"], 1)
        out["peak_rss_mb_2gb"] = round(big["peak_rss_mb"], 1)
        out["rss_before_transfer_mb_2gb"] = round(big["rss_before_mb"], 1)
        out["big_state"] = big.get("state")
    out["flow_state"] = flow.get("state")
    out["targets_met"] = {
        "speedup_ge_8": bool(out["speedup_vs_baseline"] and out["speedup_vs_baseline"] >= 8),
        "ratio_le_1.3": out["ratio_to_raw_limit"] <= 1.3,
        "peak_rss_2gb_lt_200": bool(out.get("peak_rss_mb_2gb") and out["peak_rss_mb_2gb"] < 200),
    }
    if "a2_to_a3_ratio_to_raw_limit" in out:
        out["targets_met"]["a2_to_a3_ratio_le_1.3"] = out["a2_to_a3_ratio_to_raw_limit"] <= 1.3
    if "small_campaign_ratio_to_raw_limit" in out:
        out["targets_met"]["small_campaign_ratio_le_2.0"] = out["small_campaign_ratio_to_raw_limit"] <= 2.0
    return out


def _summarise_small(raw: dict[str, Any], flow: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """The small campaign's keys: wall times, ratio to its raw limit, time outside the transfers."""
    return {"small_campaign_assets": args.small_assets, "small_campaign_size_mb": args.small_size_mb,
            "small_campaign_raw_s": round(raw["wall_s"], 2), "small_campaign_flow_s": round(flow["wall_s"], 2),
            "small_campaign_ratio_to_raw_limit": _ratio(flow, raw),
            **_around_transfers(flow, "small_campaign"),
            "small_campaign_state": flow.get("state")}


def print_table(results: dict[str, Any], summary: dict[str, Any], args: argparse.Namespace) -> None:
    """Human-readable lines (the JSON line comes after them)."""
    n = args.assets
    small = (args.small_assets, args.small_size_mb)
    shapes = {"baseline": (n, args.size_mb), "raw": (n, args.size_mb), "flow": (n, args.size_mb), "small_raw": small,
              "small_flow": small, "a2_to_a3_raw": (n, args.size_mb), "a2_to_a3": (n, args.size_mb)}
    print()
    print(f"{'run':<14}{'wall s':>9}{'assets/s':>10}{'MB/s':>9}{'CPU ms/asset':>14}{'peak RSS MB':>13}"
          f"{'DAM req/asset':>15}{'Box req/asset':>15}")
    for label, (items, size_mb) in shapes.items():
        r = results.get(label)
        if r is None:
            continue
        cpu = sum(r["cpu_parts_s"].values()) + r["cpu_s"]
        reqs = {k: sum(v.values()) / items for k, v in r["requests"].items()}
        print(f"{label:<14}{r['wall_s']:>9.2f}{items / r['wall_s']:>10.1f}{items * size_mb / r['wall_s']:>9.1f}"
              f"{1000 * cpu / items:>14.1f}{r['peak_rss_mb']:>13.1f}{reqs['otmm']:>15.2f}{reqs['box']:>15.2f}")
    if "big" in results:
        b = results["big"]
        print(f"{'big':<14}{b['wall_s']:>9.2f}{'':>10}{args.big_gb * 1000 / b['wall_s']:>9.1f}{'':>14}"
              f"{b['peak_rss_mb']:>13.1f}   (one {args.big_gb:g} GB asset through a1-to-a2; "
              f"RSS before the transfer {b['rss_before_mb']:.0f} MB)")
    print()
    print(f"speed-up vs baseline: {summary['speedup_vs_baseline']}×   flow / raw limit: "
          f"{summary['ratio_to_raw_limit']}×   gap {summary['flow_gap_ms_per_asset']} ms per asset")
    print("flow / raw limit: " + ", ".join(f"{label} {summary[key]}×" for label, key in (
        ("a1-to-a2", "ratio_to_raw_limit"), ("small campaign", "small_campaign_ratio_to_raw_limit"),
        ("a2-to-a3", "a2_to_a3_ratio_to_raw_limit")) if key in summary))
    print("a1-to-a2 outside the transfers (s): " + ", ".join(
        f"{label} before {summary[prefix + '_before_transfers_s']} after {summary[prefix + '_after_transfers_s']}"
        for label, prefix in (("campaign", "a1_to_a2"), ("small campaign", "small_campaign"))
        if prefix + "_before_transfers_s" in summary))
    print("CPU ms per item by process: " + "; ".join(
        f"{label}: " + ", ".join(f"{k.removeprefix(prefix + '_')} {v}" for k, v in summary.items()
                                 if k.startswith(prefix + "_"))
        for label, prefix in (("a1-to-a2 per asset", "a1_to_a2_cpu_ms_per_asset"),
                              ("a2-to-a3 per file", "a2_to_a3_cpu_ms_per_file"))))
    print("CPU ms per asset by part (all parts share the cores):")
    for label in ("raw", "flow"):
        parts = summary["cpu_ms_per_asset"][label]
        print(f"  {label:<5} " + "  ".join(f"{k} {v:.1f}" for k, v in parts.items()))
    print(f"Prefect overhead ≈ {summary['prefect_overhead_ms_per_asset']} CPU ms/asset (flow process beyond raw, "
          f"minus DB calls, plus Prefect server); DB ≈ {summary['db_overhead_ms_per_asset']} CPU ms/asset "
          "(DB calls in the flow process plus PostgreSQL)")
    print("flow wall time (s): " + ", ".join(f"{k} {v}" for k, v in summary["flow_wall_breakdown_s"].items()))
    print("per asset in the flow, wall ms: " + ", ".join(f"{k} {v}" for k, v in summary["per_asset_wall_ms"].items()))
    print("task runs (count, mean s): " + ", ".join(f"{k} {v['count']}/{v['mean_s']}"
                                                    for k, v in summary["flow_task_runs"].items())
          + f"; log lines sent to the Prefect API per asset: {summary['flow_log_lines_per_asset']}")
    for label in ("raw", "flow"):
        kinds = results[label]["requests"]
        print(f"requests in {label}: " + "; ".join(f"{name}: " + ", ".join(f"{k} ×{v}" for k, v in kinds[name].items())
                                                     for name in ("otmm", "box")))
    if "a2_to_a3" in results:
        a2 = results["a2_to_a3"]
        print("a2-to-a3 CPU ms per file by part: process " + f"{1000 * a2['cpu_s'] / n:.1f}  " + "  ".join(
            f"{k} {1000 * v / n:.1f}" for k, v in a2["cpu_parts_s"].items()))
        print("a2-to-a3 requests: " + "; ".join(f"{name}: " + ", ".join(f"{k} ×{v}" for k, v in a2["requests"][name].items())
                                               for name in ("otmm", "box")))
        print("calls timed in the a2-to-a3 process (calls, wall s, CPU s): " + "; ".join(
            f"{k} {v['calls']}/{v['wall_s']:.2f}/{v['cpu_s']:.2f}" for k, v in a2.get("timers", {}).items()))
    flow_timers = results["flow"].get("timers", {})
    print("calls timed in the flow process (calls, wall s, CPU s): " + "; ".join(
        f"{k} {v['calls']}/{v['wall_s']:.2f}/{v['cpu_s']:.2f}" for k, v in flow_timers.items()))
    print()


if __name__ == "__main__":
    sys.exit(main())
