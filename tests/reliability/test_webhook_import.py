"""The push path (Box webhook → receiver → a2-to-a3-webhook) and its reconciler (the a2-to-a3 poll).

The receiver's part is recorded here as it records it (``record_webhook_delivery``, one row per
Box payload id); the runs are real flows against the simulators, the tracking database and
the Prefect API. Proven: announced files are imported without listing the agency folder and
the rest waits for the poll; a delivery repeated, or two deliveries for one file, give one DAM
asset; a file whose delivery never arrived (receiver down) is imported by the poll; a file
announced outside the agency folder is not imported; a webhook run and a poll at the same
moment import each file once.
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from collections import Counter

import httpx
import pytest

from tests.reliability.worlds import Child, World, close_world, make_world, seed_a2, snapshot

pytestmark = [pytest.mark.prefect, pytest.mark.slow]  # minutes of flow runs: make test-slow


def announce(world: World, file_id: str, payload_id: str | None = None) -> bool:
    """What the receiver does for a verified FILE.UPLOADED delivery (the event itself is not needed here)."""
    return world.db.record_webhook_delivery(payload_id=payload_id or str(uuid.uuid4()), trigger="FILE.UPLOADED",
                                            box_file_id=file_id, box_folder_id=world.agency)


def agency_files(world: World) -> dict[str, str]:
    return {f["name"]: f["id"] for f in world.box.files() if f["path"].startswith("Agency uploads/")}


def run_webhook(world: World, quiet_s: float = 0):
    from flows.a2_to_a3_webhook import a2_to_a3_webhook

    return a2_to_a3_webhook(agency_folder_id=world.agency, quiet_s=quiet_s, return_state=True)


def run_poll(world: World):
    from flows.a2_to_a3 import a2_to_a3

    return a2_to_a3(agency_folder_id=world.agency, return_state=True)


def box_calls(world: World) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in world.box.injector.log if not r["path"].startswith("/oauth2")]


def test_announced_files_are_imported_without_a_listing_and_the_rest_waits_for_the_poll(shared):
    world = make_world(shared, "webhook-announced")
    try:
        seed_a2(world)
        waiting = agency_files(world)
        announced = sorted(n for n in waiting if "_Local hero_" in n)  # one file of each campaign
        for name in announced:
            assert announce(world, waiting[name])
        world.box.injector.log.clear()

        state = run_webhook(world)

        assert state.is_completed(), state.message
        assert "2 announced file(s) in 1 round(s)" in state.message
        assert sorted(u["name"] for u in world.otmm.uploaded_assets()) == announced
        assert sorted(agency_files(world)) == sorted(set(waiting) - set(announced))
        assert not [c for c in box_calls(world) if "/items" in c], "the webhook run never lists the folder"
        assert world.db.webhook_uploads_waiting() == 0
        assert set(snapshot(world)["statuses"].values()) == {"A2"}  # each campaign still misses a master

        state = run_poll(world)  # the reconciler imports what was never announced

        assert state.is_completed(), state.message
        assert agency_files(world) == {}
        assert Counter(u["name"] for u in world.otmm.uploaded_assets()) == Counter(list(world.agency_bytes))
        assert set(snapshot(world)["statuses"].values()) == {"A3"}
        assert world.violations == []
    finally:
        close_world(shared, world)


def test_a_repeated_delivery_and_two_deliveries_for_one_file_give_one_dam_asset(shared):
    world = make_world(shared, "webhook-repeated")
    try:
        seed_a2(world)
        name, file_id = sorted(agency_files(world).items())[0]
        assert announce(world, file_id, "payload-1")
        assert not announce(world, file_id, "payload-1")  # Box's retry of the same payload
        assert announce(world, file_id, "payload-2")  # another delivery naming the same file

        first, second = run_webhook(world), run_webhook(world)

        assert first.is_completed() and second.is_completed(), (first.message, second.message)
        assert "1 announced file(s)" in first.message and "0 announced file(s)" in second.message
        assert [u["name"] for u in world.otmm.uploaded_assets()] == [name]
        assert name not in agency_files(world)
        assert announce(world, file_id, "payload-3")  # announced again after the import
        assert run_webhook(world).is_completed()
        assert len(world.otmm.uploaded_assets()) == 1  # the file is gone from Box: nothing imported twice
    finally:
        close_world(shared, world)


def test_a_file_whose_delivery_never_arrived_is_imported_by_the_poll_and_files_elsewhere_never(shared):
    world = make_world(shared, "webhook-lost")
    try:
        seed_a2(world)
        stranger = world.box.create_folder("0", "Someone else's folder")
        name = sorted(world.agency_bytes)[0]
        outside = world.box.put_file(stranger, name.replace("Local", "Other"), world.agency_bytes[name])
        assert announce(world, outside)  # a delivery for a file that is not below the agency folder

        state = run_webhook(world)  # the receiver was down for the agency's files: nothing announced

        assert state.is_completed(), state.message
        assert world.otmm.uploaded_assets() == []
        assert [f["id"] for f in world.box.files() if f["path"].startswith("Someone")] == [outside]

        state = run_poll(world)

        assert state.is_completed(), state.message
        assert agency_files(world) == {}
        assert sorted(u["name"] for u in world.otmm.uploaded_assets()) == sorted(world.agency_bytes)
        assert set(snapshot(world)["statuses"].values()) == {"A3"}
    finally:
        close_world(shared, world)


def test_a_webhook_run_and_a_poll_at_once_import_each_file_once(shared, tmp_path):
    world = make_world(shared, "webhook-overlap")
    try:
        seed_a2(world)
        for file_id in agency_files(world).values():
            announce(world, file_id)
        # Both runs' first Box read (the poll's listing, the webhook run's first file) waits for the
        # other; each DAM upload takes a few tenths of a second, so they work on the same files.
        first_read = f"^/2\\.0/(folders/{world.agency}/items|files/[0-9]+)$"
        httpx.post(world.box_url + "/_sim/faults", json={"path": first_read, "method": "GET", "kind": "barrier",
                                                         "parties": 2, "count": 2, "seconds": 60}).raise_for_status()
        httpx.post(world.otmm_url + "/_sim/faults", json=[
            {"path": "/contents$", "kind": "latency", "seconds": 0.3},
            {"path": "/otmmapi/v6/assets$", "method": "POST", "kind": "latency", "seconds": 0.3}]).raise_for_status()
        webhook, poll = Child(tmp_path / "webhook.log"), Child(tmp_path / "poll.log")
        try:
            webhook.ready(), poll.ready()
            webhook.go("a2_to_a3_webhook", world.agency)
            poll.go("a2_to_a3", world.agency)
            assert webhook.wait() == 0 and poll.wait() == 0
        finally:
            webhook.kill()
            poll.kill()

        created = Counter(u["name"] for u in world.otmm.uploaded_assets())
        assert created == Counter(list(world.agency_bytes)), created  # one DAM asset per agency file
        assert {u["name"]: u["sha1"] for u in world.otmm.uploaded_assets()} == {
            n: hashlib.sha1(b).hexdigest() for n, b in world.agency_bytes.items()}
        posts = [r for r in world.otmm.injector.log if r["method"] == "POST" and r["path"] == "/otmmapi/v6/assets"]
        assert len(posts) == 4, len(posts)
        after = snapshot(world)
        assert set(after["statuses"].values()) == {"A3"} and agency_files(world) == {}
        assert [d[2] for d in after["derivative_assets"]] == ["imported"] * 4
        assert world.violations == []
        both = {re.sub(r"/[0-9]+(?=/|$)", "/N", c) for c in box_calls(world)}
        assert "GET /2.0/folders/N/items" in both and "GET /2.0/files/N" in both  # both runs really ran
    finally:
        close_world(shared, world)


def test_a_run_waits_for_quiet_and_takes_what_is_announced_meanwhile(shared):
    """The trigger lets events pass for a few seconds after it fires, and a run it starts while
    another imports is cancelled: the running one must take those files before it ends."""
    import threading

    world = make_world(shared, "webhook-quiet")
    try:
        seed_a2(world)
        files = sorted(agency_files(world).items())
        announce(world, files[0][1])
        late = threading.Timer(2.0, lambda: [announce(world, file_id) for _, file_id in files[1:]])
        late.start()
        started = time.monotonic()

        state = run_webhook(world, quiet_s=4)

        late.join()
        assert state.is_completed(), state.message
        assert "4 announced file(s)" in state.message, state.message
        assert agency_files(world) == {} and set(snapshot(world)["statuses"].values()) == {"A3"}
        assert time.monotonic() - started >= 6  # 2 s until the late deliveries, then 4 s of quiet
    finally:
        close_world(shared, world)
