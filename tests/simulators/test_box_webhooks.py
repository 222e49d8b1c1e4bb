"""The Box simulator's webhooks: registration by Box's rules (through the real SDK), signed
deliveries for uploads into a watched folder or below it, and Box's retries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from clients.box import BoxStore
from clients.errors import Conflict, InvalidData, NotFound
from simulators.box import BoxError
from simulators.common import ServerThread, TLSConfig


class Recorder:
    """An HTTPS endpoint that keeps every POST and answers with the statuses it is given (then 200)."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.received: list[dict] = []
        self.statuses = list(statuses or [])
        self._lock = threading.Lock()

        async def hook(request: Request) -> JSONResponse:
            body = await request.body()
            with self._lock:
                self.received.append({"headers": {k.lower(): v for k, v in request.headers.items()}, "body": body})
                status = self.statuses.pop(0) if self.statuses else 200
            return JSONResponse({}, status_code=status)

        self.app = Starlette(routes=[Route("/box/webhook", hook, methods=["POST"])])

    def wait_for(self, n: int, timeout: float = 15) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= n:
                    return list(self.received)
            time.sleep(0.02)
        raise AssertionError(f"{len(self.received)} deliveries arrived, {n} expected")


@pytest.fixture
def store(box) -> BoxStore:
    return box.store(max_attempts=1)


@pytest.fixture
def recorder(pki) -> Iterator[tuple[Recorder, str]]:
    rec = Recorder()
    with ServerThread(rec.app, tls=TLSConfig(pki.server_cert, pki.server_key)) as server:
        yield rec, server.base_url + "/box/webhook"


def box_signature(key: str, body: bytes, stamp: str) -> str:
    return base64.b64encode(hmac.new(key.encode(), body + stamp.encode(), hashlib.sha256).digest()).decode()


def test_registration_follows_box_rules(store: BoxStore, box, recorder) -> None:
    _, address = recorder
    agency = box.sim.create_folder("0", "Agency uploads")
    other = box.sim.create_folder("0", "Other")

    hook = store.create_folder_webhook(agency, address, ["FILE.UPLOADED"])
    assert (hook.target_id, hook.target_type, hook.address, hook.triggers) == (agency, "folder", address,
                                                                                ["FILE.UPLOADED"])
    with pytest.raises(Conflict):  # one webhook per item, app and user — even for another trigger
        store.create_folder_webhook(agency, address, ["FILE.DELETED"])
    with pytest.raises(InvalidData, match="root folder"):
        store.create_folder_webhook("0", address, ["FILE.UPLOADED"])
    with pytest.raises(NotFound):
        store.create_folder_webhook("999999", address, ["FILE.UPLOADED"])
    for bad in (address.replace("https://", "http://"), "https://app.box.com/hook", "not a url"):
        with pytest.raises(InvalidData):
            store.create_folder_webhook(other, bad, ["FILE.UPLOADED"])
    with pytest.raises(BoxError, match="trigger"):
        box.sim.webhooks.create({"target": {"id": other, "type": "folder"}, "address": address, "triggers": ["NOPE"]})
    box.sim.webhooks.settings.allow_any_port = False  # Box's own rule: port 443 only
    with pytest.raises(InvalidData, match="443"):
        store.create_folder_webhook(other, address, ["FILE.UPLOADED"])
    box.sim.webhooks.settings.allow_any_port = True

    second = store.create_folder_webhook(other, address, ["FILE.UPLOADED"])
    assert {h.id for h in store.list_webhooks()} == {hook.id, second.id}
    assert [h.id for h in store.list_webhooks(agency)] == [hook.id]
    moved = store.update_webhook(hook.id, address + "?v=2", ["FILE.UPLOADED", "FILE.MOVED"])
    assert store.list_webhooks(agency)[0].address == moved.address == address + "?v=2"
    store.delete_webhook(hook.id)
    assert store.list_webhooks(agency) == []
    with pytest.raises(NotFound):
        store.delete_webhook(hook.id)


def test_uploads_into_the_watched_folder_or_below_are_delivered_signed(store: BoxStore, box, recorder) -> None:
    rec, address = recorder
    agency = box.sim.create_folder("0", "Agency uploads")
    italy = box.sim.create_folder(agency, "Italy")
    elsewhere = box.sim.create_folder("0", "Elsewhere")
    hook = store.create_folder_webhook(agency, address, ["FILE.UPLOADED"])

    box.sim.put_file(elsewhere, "not watched.jpg", b"x")
    uploaded = store.upload_stream(italy, "ABC123_Città_it-IT_Lazio.jpg", iter([b"localised"]), 9)
    store.upload_new_version(uploaded.id, "ABC123_Città_it-IT_Lazio.jpg", iter([b"localised 2"]), 11)
    box.sim.put_file(agency, "second.jpg", b"y")

    # Deliveries go out on their own threads (Box promises no order either): sorted, second.jpg last.
    got = sorted(rec.wait_for(2), key=lambda r: json.loads(r["body"])["source"]["name"] == "second.jpg")
    time.sleep(0.5)
    assert len(rec.received) == 2, "one delivery per new file below the watched folder, none for a new version"
    first = got[0]
    h, body = first["headers"], first["body"]
    payload = json.loads(body)
    assert (payload["type"], payload["trigger"], payload["webhook"]["id"]) == ("webhook_event", "FILE.UPLOADED", hook.id)
    assert payload["source"]["id"] == uploaded.id and payload["source"]["name"] == "ABC123_Città_it-IT_Lazio.jpg"
    assert payload["source"]["parent"]["id"] == italy
    assert h["box-signature-algorithm"] == "HmacSHA256" and h["box-signature-version"] == "1"
    assert h["box-signature-primary"] == box_signature(box.webhook_primary_key, body, h["box-delivery-timestamp"])
    assert h["box-signature-secondary"] == box_signature(box.webhook_secondary_key, body, h["box-delivery-timestamp"])
    assert json.loads(got[1]["body"])["source"]["name"] == "second.jpg"
    assert got[0]["headers"]["box-delivery-id"] != got[1]["headers"]["box-delivery-id"]


def test_a_delivery_without_a_2xx_is_retried_with_a_new_delivery_id_and_the_same_payload(box, recorder) -> None:
    rec, address = recorder
    rec.statuses = [500, 404]
    agency = box.sim.create_folder("0", "Agency uploads")
    box.sim.webhooks.create({"target": {"id": agency, "type": "folder"}, "address": address,
                             "triggers": ["FILE.UPLOADED"]})
    box.sim.put_file(agency, "a.jpg", b"a")

    got = rec.wait_for(3)
    time.sleep(1.0)  # 0.2 s, then 0.4 s between attempts; nothing after the 200
    assert len(rec.received) == 3
    assert len({json.loads(g["body"])["id"] for g in got}) == 1
    assert len({g["headers"]["box-delivery-id"] for g in got}) == 3
    for g in got:  # each attempt signed for its own timestamp
        assert g["headers"]["box-signature-primary"] == box_signature(box.webhook_primary_key, g["body"],
                                                                      g["headers"]["box-delivery-timestamp"])
    assert [d["status"] for d in box.sim.webhook_deliveries()] == [500, 404, 200]


def test_retries_stop_after_max_retries_and_unreachable_or_untrusted_receivers_count_as_failures(
        box, tmp_path: Path) -> None:
    from simulators.certs import make_pki

    settings = box.sim.webhooks.settings
    settings.max_retries, settings.retry_base_s = 2, 0.05
    agency = box.sim.create_folder("0", "Agency uploads")
    stranger = make_pki(tmp_path / "other-ca", client_password="x")  # a certificate Box would not trust
    rec = Recorder()
    with ServerThread(rec.app, tls=TLSConfig(stranger.server_cert, stranger.server_key)) as server:
        box.sim.webhooks.create({"target": {"id": agency, "type": "folder"}, "address": server.base_url + "/box/webhook",
                                 "triggers": ["FILE.UPLOADED"]})
        box.sim.put_file(agency, "a.jpg", b"a")
        deadline = time.monotonic() + 10
        while len(box.sim.webhook_deliveries()) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
    attempts = box.sim.webhook_deliveries()
    assert [a["attempt"] for a in attempts] == [1, 2, 3]  # the first delivery and max_retries retries
    assert all(a["status"] is None and "SSL" in (a["error"] or "").upper() for a in attempts), attempts
    assert rec.received == [] and box.sim.webhooks.pending() == 0
