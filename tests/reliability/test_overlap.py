"""Overlap: two runs of the same flow started at the same moment, in two processes, against the
same DAM, Box and tracking database (the deployments' concurrency limit is not what protects
this: a manual run, a retry from the UI or a second worker can still overlap a scheduled run).

Proven for A1→A2 and A2→A3: no asset is processed twice — each DAM master is downloaded,
sent to Box and recorded by one run only; each agency file is uploaded into the DAM, recorded
and deleted from Box by one run only — and the state is that of a single clean run.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter

import httpx
import pytest

from tests.reliability.worlds import Child, close_world, make_world, seed_a1, seed_a2, snapshot

pytestmark = pytest.mark.prefect


def _line_up(world, flow: str) -> None:
    """Both runs read the same starting point (the campaign search, or the agency folder listing,
    is held until both runs have asked), and each file takes a few tenths of a second, so the
    two runs really work on the same assets at the same time."""
    if flow == "a1_to_a2":
        barrier = {"path": "/search/text$", "kind": "barrier", "parties": 2, "count": 2, "seconds": 60}
        httpx.post(world.otmm_url + "/_sim/faults", json=barrier).raise_for_status()
    else:
        barrier = {"path": f"^/2\\.0/folders/{world.agency}/items$", "kind": "barrier", "parties": 2, "count": 2,
                   "seconds": 60}
        httpx.post(world.box_url + "/_sim/faults", json=barrier).raise_for_status()
    httpx.post(world.otmm_url + "/_sim/faults", json=[
        {"path": "/contents$", "kind": "latency", "seconds": 0.3},
        {"path": "/otmmapi/v6/assets$", "method": "POST", "kind": "latency", "seconds": 0.3}]).raise_for_status()


def _run_two_at_once(world, flow: str, folder: str, tmp_path) -> None:
    first, second = Child(tmp_path / "first.log"), Child(tmp_path / "second.log")
    try:
        first.ready(), second.ready()
        first.go(flow, folder)
        second.go(flow, folder)
        assert first.wait() == 0 and second.wait() == 0, (first.log.name, second.log.name)
    finally:
        first.kill()
        second.kill()


def test_two_a1_to_a2_runs_at_once_leave_the_state_of_one_run(shared, tmp_path):
    world = make_world(shared, "overlap-a1")
    try:
        seed_a1(world)
        _line_up(world, "a1_to_a2")
        _run_two_at_once(world, "a1_to_a2", world.box_root, tmp_path)

        after = snapshot(world)
        assert set(after["statuses"].values()) == {"A2"}
        assert len(after["box_files"]) == 4 and len(after["box_uploads"]) == 4
        assert len(after["master_assets"]) == 4
        assert len({path for path, _ in after["box_files"]}) == 4
    finally:
        close_world(shared, world)


def test_two_a1_to_a2_runs_at_once_copy_each_asset_once(shared, tmp_path):
    world = make_world(shared, "overlap-a1-once")
    try:
        seed_a1(world)
        _line_up(world, "a1_to_a2")
        _run_two_at_once(world, "a1_to_a2", world.box_root, tmp_path)

        downloads = Counter(r["path"] for r in world.otmm.injector.log
                            if re.fullmatch(r"/otmmapi/v6/assets/[^/]+/contents", r["path"]))
        events = Counter(e["dam_asset_id"] for e in world.db.fetch_all(
            "SELECT * FROM asset_events WHERE event IN ('uploaded_to_box', 'found_in_box', 'updated_in_box')"))
        assert sorted(events.values()) == [1, 1, 1, 1], events
        assert sorted(downloads.values()) == [1, 1, 1, 1], downloads
    finally:
        close_world(shared, world)


def test_two_a2_to_a3_runs_at_once_import_each_file_once(shared, tmp_path):
    world = make_world(shared, "overlap-a2")
    try:
        seed_a2(world)
        _line_up(world, "a2_to_a3")
        _run_two_at_once(world, "a2_to_a3", world.agency, tmp_path)

        after = snapshot(world)
        assert set(after["statuses"].values()) == {"A3"}
        created = Counter(u["name"] for u in world.otmm.uploaded_assets())
        assert created == Counter(list(world.agency_bytes)), created  # one DAM asset per agency file
        assert {u["name"]: u["sha1"] for u in world.otmm.uploaded_assets()} == {
            n: hashlib.sha1(b).hexdigest() for n, b in world.agency_bytes.items()}
        posts = [r for r in world.otmm.injector.log if r["method"] == "POST" and r["path"] == "/otmmapi/v6/assets"]
        assert len(posts) == 4, len(posts)
        assert [f for f in after["box_files"] if "Agency uploads" in f[0]] == []
        assert [d[2] for d in after["derivative_assets"]] == ["imported"] * 4
        assert world.violations == []
    finally:
        close_world(shared, world)
