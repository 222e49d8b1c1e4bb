"""One measurement, in a process of its own: ``python -m benchmarks.worker MODE JSON``.

Modes:
    baseline   the old scripts' way: one asset at a time, the whole file downloaded to a
               temporary file, then uploaded from it (same OtmmClient and BoxStore).
    raw        the raw limit: the same listing and folder, then ``stream_dam_to_box`` per asset
               on a ThreadPoolExecutor of N threads — no Prefect, no database.
    a1-to-a2   the flow, run through the Prefect API (``PREFECT_API_URL``), N transfers at a time.
    raw-a2-to-a3
               the raw Box→DAM limit: the same listing of an agency folder, the campaign's
               ``Final Assets`` folder, then per file on N threads: download from Box, create
               the DAM asset from the stream, delete the Box file — no Prefect, no database.
    a2-to-a3   the A2→A3 flow, through the Prefect API.

The last line on stdout is a JSON object: wall seconds of the measured part, CPU seconds of
this process, its peak RSS (VmHWM) and, for flows, where the time went (see :class:`Timers`:
totals per call, and when each kind of call first started and last ended).
The timing wrappers call straight through to the real methods; they only add up how long the
calls took (wall and this thread's CPU), so nothing the flow does is replaced.
"""

from __future__ import annotations

import functools
import inspect
import json
import mimetypes
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

CHUNK = 1024 * 1024


class Timers:
    """Thread-safe totals of wall and thread-CPU seconds per wrapped call name.

    A call nested in another call of the same category (``db``, ``box``…) is not counted
    again, so a category's total is the time spent in it, not the sum of its layers. Each name
    also keeps its span: when its first call started and its last call ended, in seconds
    since ``origin`` (the measured run's start, set by the mode).
    """

    def __init__(self) -> None:
        self.totals: dict[str, list[float]] = {}  # name -> [calls, wall, cpu]
        self.spans: dict[str, list[float]] = {}  # name -> [first start, last end] (perf_counter)
        self.origin = time.perf_counter()
        self.lock = threading.Lock()
        self.local = threading.local()

    def wrap(self, category: str, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn`` that adds its duration under ``category.name``."""
        key = f"{category}.{name}"

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
            active: set[str] = self.local.__dict__.setdefault("active", set())
            if category in active:
                return fn(*args, **kwargs)
            active.add(category)
            start, cpu = time.perf_counter(), time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                active.discard(category)
                self.add(key, start, time.perf_counter(), time.thread_time() - cpu)

        return timed

    def add(self, key: str, start: float, end: float, cpu: float) -> None:
        """One call of ``key`` from ``start`` to ``end`` (``perf_counter``) that used ``cpu`` seconds."""
        with self.lock:
            total = self.totals.setdefault(key, [0, 0.0, 0.0])
            total[0] += 1
            total[1] += end - start
            total[2] += cpu
            span = self.spans.setdefault(key, [start, end])
            span[0], span[1] = min(span[0], start), max(span[1], end)

    def wrap_class(self, category: str, cls: type, skip: tuple[str, ...] = ()) -> None:
        """Wrap every public plain method of ``cls`` (not generators or context managers)."""
        for name, member in list(vars(cls).items()):
            if name.startswith("_") or name in skip or not inspect.isfunction(member):
                continue
            inner = getattr(member, "__wrapped__", member)
            if inspect.isgeneratorfunction(member) or inspect.isgeneratorfunction(inner):
                continue
            setattr(cls, name, self.wrap(category, name, member))

    def report(self) -> dict[str, dict[str, float]]:
        """Per name: calls, wall and CPU seconds, and the span (``first_start_s``, ``last_end_s``)."""
        with self.lock:
            return {k: {"calls": int(v[0]), "wall_s": round(v[1], 4), "cpu_s": round(v[2], 4),
                        "first_start_s": round(self.spans[k][0] - self.origin, 4),
                        "last_end_s": round(self.spans[k][1] - self.origin, 4)}
                    for k, v in sorted(self.totals.items())}


TIMERS = Timers()


def peak_rss_mb() -> float:
    """This process's peak resident set size (VmHWM) in MB."""
    return _status_kb("VmHWM") / 1024


def rss_mb() -> float:
    """This process's resident set size now (VmRSS) in MB."""
    return _status_kb("VmRSS") / 1024


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _instrument_clients() -> None:
    """Time every call into the tracking DB, Box, the DAM, and every block → client lookup."""
    import blocks.box
    import blocks.dam
    import blocks.tracking_database
    import clients.transfer
    from clients.box import BoxStore
    from clients.otmm import OtmmClient
    from clients.tracking_db import TrackingDatabase

    TIMERS.wrap_class("db", TrackingDatabase, skip=("close",))
    TIMERS.wrap_class("box", BoxStore)
    TIMERS.wrap_class("dam", OtmmClient, skip=("close",))
    for module in (blocks.box, blocks.dam, blocks.tracking_database):
        module.cached_client = TIMERS.wrap("blocks", "get_client", module.cached_client)  # type: ignore[attr-defined]
    clients.transfer.stream_dam_to_box = TIMERS.wrap("stream", "stream_dam_to_box", clients.transfer.stream_dam_to_box)


def _clients() -> tuple[Any, Any]:
    from blocks.box import BoxCredentials
    from blocks.dam import DamCredentials

    return DamCredentials.load("dam").get_client(), BoxCredentials.load("box").get_client()


# -- (a) the old approach -----------------------------------------------------------------
def run_baseline(args: dict[str, Any]) -> dict[str, Any]:
    """One asset at a time: download the whole file to a temporary file, then upload it."""
    dam, store = _clients()
    TIMERS.origin = started = time.perf_counter()
    assets = list(dam.walk_assets(args["master_assets_id"]))
    folder_id = store.ensure_folder_path(args["box_root_folder_id"], [args["box_folder_name"]])
    moved = 0
    for asset in assets:
        with tempfile.TemporaryFile(dir=args.get("tmp_dir")) as tmp:
            with dam.open_content(asset.asset_id) as content:
                size = content.size
                for chunk in content.iter_bytes(CHUNK):
                    tmp.write(chunk)
            tmp.seek(0)
            chunks: Iterator[bytes] = iter(lambda f=tmp: f.read(CHUNK), b"")
            stored = store.upload_stream(folder_id, asset.name, chunks, size)
        moved += stored.size
    return {"wall_s": time.perf_counter() - started, "assets": len(assets), "bytes": moved}


# -- (b) the raw limit --------------------------------------------------------------------
def run_raw(args: dict[str, Any]) -> dict[str, Any]:
    """The same listing and folder, then N threads each calling ``stream_dam_to_box``."""
    import clients.transfer

    dam, store = _clients()
    TIMERS.origin = started = time.perf_counter()
    assets = list(dam.walk_assets(args["master_assets_id"]))
    folder_id = store.ensure_folder_path(args["box_root_folder_id"], [args["box_folder_name"]])

    def move(asset: Any) -> int:  # noqa: ANN401
        return clients.transfer.stream_dam_to_box(dam, store, asset.asset_id, folder_id, asset.name,
                                                 declared_size=asset.size).size

    with ThreadPoolExecutor(max_workers=args["concurrency"]) as pool:
        moved = sum(pool.map(move, assets))
    return {"wall_s": time.perf_counter() - started, "assets": len(assets), "bytes": moved}


def run_raw_a2_to_a3(args: dict[str, Any]) -> dict[str, Any]:
    """The agency folder's files into the campaign's ``Final Assets`` on N plain threads."""
    dam, store = _clients()
    TIMERS.origin = started = time.perf_counter()
    files = import_folder(dam, store, args["agency_folder_id"], args["campaign_folder_id"], args["concurrency"])
    return {"wall_s": time.perf_counter() - started, "files": len(files), "bytes": sum(f.size for f in files)}


def import_folder(dam: Any, store: Any, agency_folder_id: str, campaign_folder_id: str,  # noqa: ANN401
                  concurrency: int) -> list[Any]:
    """List every file below the agency folder, find the campaign's ``Final Assets`` folder,
    then :func:`import_box_file` each on ``concurrency`` threads; the files imported."""
    from domain.fields import load_dam_fields

    files = [f for _, f in store.walk_files(agency_folder_id)]
    folder_id = dam.find_subfolder(campaign_folder_id, load_dam_fields().campaign.folders.final_assets)
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(lambda f: import_box_file(dam, store, f, folder_id), files))
    return files


def import_box_file(dam: Any, store: Any, file: Any, folder_id: str) -> str:  # noqa: ANN401
    """What a2-to-a3 does to one file, with the plain clients: stream it from Box into a new
    DAM asset (checked against Box's size and SHA-1 as it passes), then delete it from Box.

    The representation comes from the file name alone (no master metadata: no database).
    """
    from clients.box import HashingReader
    from domain.asset_representation import localised_representation
    from domain.fields import load_dam_fields
    from domain.file_names import parse_returned_file_name

    name = parse_returned_file_name(file.name)
    built = localised_representation([], name, name.tracking_id, 0, "", load_dam_fields())
    reader = HashingReader(store.iter_file_bytes(file.id), expected_size=file.size, expected_sha1=file.sha1)
    mime = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    asset_id = dam.create_asset(folder_id, file.name, mime, reader, built.representation)
    store.delete_file(file.id)
    return asset_id


# -- (c) the flows, through the Prefect API -----------------------------------------------
def run_a1_to_a2(args: dict[str, Any]) -> dict[str, Any]:
    """``a1_to_a2`` for one campaign; also the transfer phase's wall time and the task runs."""
    import flows.transfer_pipeline as pipeline
    import tasks.alerts
    import tasks.transfer
    from flows.a1_to_a2 import a1_to_a2

    # The per-asset body: a plain function the transfer engine's threads call (looked up at call time).
    tasks.transfer.copy_asset = TIMERS.wrap("asset", "body", tasks.transfer.copy_asset)
    # The transfer phase: the engine task over every asset of the run.
    pipeline.copy_assets = TIMERS.wrap("flow", "transfer_phase", pipeline.copy_assets)
    # The outage hook Prefect runs once the run has ended (still part of the call's wall time).
    tasks.alerts.report_run_end = TIMERS.wrap("flow", "outage_hook", tasks.alerts.report_run_end)
    TIMERS.origin = started = time.perf_counter()
    state = a1_to_a2(campaign_number=args["campaign_number"], max_campaigns=1,
                     max_concurrent_transfers=args["concurrency"], box_root_folder_id=args["box_root_folder_id"],
                     webhook_block=None, return_state=True)
    wall = time.perf_counter() - started
    data = _state_data(state)
    campaigns = data.get("campaigns", []) if isinstance(data, dict) else []
    return {"wall_s": wall, "state": state.name, "message": state.message, "campaigns": campaigns,
            "assets": sum(c.get("assets", 0) for c in campaigns), "task_runs": _task_runs(state)}


def run_a2_to_a3(args: dict[str, Any]) -> dict[str, Any]:
    """``a2_to_a3`` over the agency folder the parent filled."""
    from flows.a2_to_a3 import a2_to_a3

    TIMERS.origin = started = time.perf_counter()
    state = a2_to_a3(agency_folder_id=args["agency_folder_id"], max_files=args.get("max_files", 1000),
                     return_state=True)
    wall = time.perf_counter() - started
    data = _state_data(state)
    return {"wall_s": wall, "state": state.name, "message": state.message,
            "summary": {k: v for k, v in data.items() if k != "files"} if isinstance(data, dict) else None,
            "task_runs": _task_runs(state)}


def _state_data(state: Any) -> Any:  # noqa: ANN401
    try:
        return state.result(raise_on_failure=False)
    except Exception:  # noqa: BLE001 - the benchmark reports what it can
        return None


def _task_runs(state: Any) -> dict[str, Any]:  # noqa: ANN401
    """Task runs of the flow run as the Prefect API stored them (durations by task name)."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    flow_run_id = state.state_details.flow_run_id
    runs: list[Any] = []
    with get_client(sync_client=True) as client:
        deadline = time.monotonic() + 30  # task-run states reach the API as events, a little later
        previous = -1
        while True:
            runs = []
            while True:  # the API hands out at most 200 per page
                page = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
                                             limit=200, offset=len(runs))
                runs += page
                if len(page) < 200:
                    break
            finished = [r for r in runs if r.end_time is not None]
            stable = len(runs) == previous and len(finished) == len(runs)
            if stable or time.monotonic() > deadline:
                break
            previous = len(runs)
            time.sleep(0.5)
        flow_run = client.read_flow_run(flow_run_id)
        logs = _count_logs(client, flow_run_id)
    by_task: dict[str, dict[str, float]] = {}
    for run in runs:
        task = run.task_key.rsplit("-", 1)[0].replace("_", "-") if run.task_key else run.name
        entry = by_task.setdefault(task, {"count": 0, "run_s": 0.0, "finished": 0})
        entry["count"] += 1
        if run.start_time and run.end_time:
            entry["finished"] += 1
            entry["run_s"] += (run.end_time - run.start_time).total_seconds()
    # When each task ran, in seconds from the flow run's start (where the time before and after
    # the transfers goes).
    origin = flow_run.start_time
    timeline = sorted(([run.name, round((run.start_time - origin).total_seconds(), 3),
                        round((run.end_time - origin).total_seconds(), 3)]
                       for run in runs if origin and run.start_time and run.end_time), key=lambda t: t[1])
    end = round((flow_run.end_time - origin).total_seconds(), 3) if origin and flow_run.end_time else None
    return {"flow_run_id": str(flow_run_id), "flow_run_s": flow_run.total_run_time.total_seconds(),
            "by_task": by_task, "log_lines": logs, "timeline": timeline[:40], "flow_run_end_s": end}


def _count_logs(client: Any, flow_run_id: Any) -> dict[str, int]:  # noqa: ANN401
    """Log lines the run shipped to the Prefect API, by level name."""
    import logging

    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    levels: Counter[str] = Counter()
    offset = 0
    while True:
        page = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])),
                                limit=200, offset=offset)
        levels.update(logging.getLevelName(log.level) for log in page)
        offset += len(page)
        if len(page) < 200:
            return dict(levels)


def run_empty_flow(args: dict[str, Any]) -> dict[str, Any]:
    """A flow that does nothing, in a fresh process like the others: what starting and finishing
    a flow run costs by itself (creating the run, its state changes, flushing its logs)."""
    from prefect import flow

    @flow(name="bench-empty-flow")
    def empty() -> None:
        return None

    started = time.perf_counter()
    state = empty(return_state=True)
    return {"wall_s": time.perf_counter() - started, "state": state.name}


MODES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "baseline": run_baseline, "raw": run_raw, "a1-to-a2": run_a1_to_a2, "raw-a2-to-a3": run_raw_a2_to_a3,
    "a2-to-a3": run_a2_to_a3, "empty-flow": run_empty_flow,
}


def main(argv: list[str]) -> int:
    """Run one mode and print its JSON result as the last line."""
    mode, args = argv[0], json.loads(argv[1])
    _instrument_clients()
    rss_before = rss_mb()
    cpu_started = time.process_time()
    result = MODES[mode](args)
    result.update(mode=mode, cpu_s=time.process_time() - cpu_started, peak_rss_mb=peak_rss_mb(),
                  rss_before_mb=rss_before, rss_after_mb=rss_mb(), timers=TIMERS.report())
    print(json.dumps(result, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
