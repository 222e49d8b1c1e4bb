"""One measurement, in a process of its own: ``python -m benchmarks.worker MODE JSON``.

Modes:
    baseline   the old scripts' way: one asset at a time, the whole file downloaded to a
               temporary file, then uploaded from it (same OtmmClient and BoxStore).
    raw        the raw limit: the same listing and folder, then ``stream_dam_to_box`` per asset
               on a ThreadPoolExecutor of N threads — no Prefect, no database.
    a1-to-a2   the flow, run through the Prefect API (``PREFECT_API_URL``), N transfers at a time.
    a2-to-a3   the A2→A3 flow, through the Prefect API.

The last line on stdout is a JSON object: wall seconds of the measured part, CPU seconds of
this process, its peak RSS (VmHWM) and, for flows, where the time went (see :class:`Timers`).
The timing wrappers call straight through to the real methods; they only add up how long the
calls took (wall and this thread's CPU), so nothing the flow does is replaced.
"""

from __future__ import annotations

import functools
import inspect
import json
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
    again, so a category's total is the time spent in it, not the sum of its layers.
    """

    def __init__(self) -> None:
        self.totals: dict[str, list[float]] = {}  # name -> [calls, wall, cpu]
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
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                active.discard(category)
                self.add(key, time.perf_counter() - wall, time.thread_time() - cpu)

        return timed

    def add(self, key: str, wall: float, cpu: float) -> None:
        with self.lock:
            total = self.totals.setdefault(key, [0, 0.0, 0.0])
            total[0] += 1
            total[1] += wall
            total[2] += cpu

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
        with self.lock:
            return {k: {"calls": int(v[0]), "wall_s": round(v[1], 4), "cpu_s": round(v[2], 4)}
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
    started = time.perf_counter()
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
    started = time.perf_counter()
    assets = list(dam.walk_assets(args["master_assets_id"]))
    folder_id = store.ensure_folder_path(args["box_root_folder_id"], [args["box_folder_name"]])

    def move(asset: Any) -> int:  # noqa: ANN401
        return clients.transfer.stream_dam_to_box(dam, store, asset.asset_id, folder_id, asset.name,
                                                 declared_size=asset.size).size

    with ThreadPoolExecutor(max_workers=args["concurrency"]) as pool:
        moved = sum(pool.map(move, assets))
    return {"wall_s": time.perf_counter() - started, "assets": len(assets), "bytes": moved}


# -- (c) the flows, through the Prefect API -----------------------------------------------
def run_a1_to_a2(args: dict[str, Any]) -> dict[str, Any]:
    """``a1_to_a2`` for one campaign; also the transfer phase's wall time and the task runs."""
    import flows.transfer_pipeline as pipeline
    import tasks.transfer
    from flows.a1_to_a2 import a1_to_a2

    tasks.transfer.stream_dam_to_box = TIMERS.wrap("stream", "stream_dam_to_box", tasks.transfer.stream_dam_to_box)
    # The per-asset body: a plain function the lane tasks call.
    tasks.transfer.copy_asset = TIMERS.wrap("asset", "body", tasks.transfer.copy_asset)
    pipeline._transfer_all = TIMERS.wrap("flow", "transfer_phase", pipeline._transfer_all)
    started = time.perf_counter()
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

    started = time.perf_counter()
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
    return {"flow_run_id": str(flow_run_id), "flow_run_s": flow_run.total_run_time.total_seconds(),
            "by_task": by_task, "log_lines": logs}


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


MODES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "baseline": run_baseline, "raw": run_raw, "a1-to-a2": run_a1_to_a2, "a2-to-a3": run_a2_to_a3,
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
