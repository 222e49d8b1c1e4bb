"""The Box webhook receiver over real HTTPS, with the real tracking database and Prefect API:
forged, stale or malformed deliveries run nothing; a delivery repeated (by Box's retries, at
once, or after a restart) is recorded and announced once; Box's deliveries reach it end to end."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from clients.tracking_db import TrackingDatabase
from deployments.box_webhook_receiver import EVENT, PATH, announce_upload, build_app
from domain.box_webhooks import DeliveryVerifier, WebhookEvent
from simulators.common import ServerThread, TLSConfig
from simulators.processes import free_port

pytestmark = pytest.mark.prefect


@dataclass
class Receiver:
    url: str
    db: TrackingDatabase
    announced: list[str]
    ca: str
    primary: str
    secondary: str

    def post(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return httpx.post(self.url, content=body, headers=headers, verify=self.ca, timeout=10)


def start_receiver(db: TrackingDatabase, pki, primary: str, secondary: str, announced: list[str],
                   port: int = 0) -> ServerThread:
    def announce(event: WebhookEvent) -> None:  # the real announcement, counted
        announced.append(event.id)
        announce_upload(event)

    app = build_app(DeliveryVerifier(primary, secondary), db, announce)
    return ServerThread(app, tls=TLSConfig(pki.server_cert, pki.server_key), port=port).start()


@pytest.fixture
def receiver(prefect_api, tracking_dsn: str, pki, box) -> Iterator[Receiver]:
    db = TrackingDatabase(tracking_dsn)
    db.migrate()
    announced: list[str] = []
    server = start_receiver(db, pki, box.webhook_primary_key, box.webhook_secondary_key, announced)
    yield Receiver(server.base_url + PATH, db, announced, str(pki.ca_cert), box.webhook_primary_key,
                   box.webhook_secondary_key)
    server.stop()
    db.close()


def payload(file_id: str = "5001", payload_id: str | None = None, trigger: str = "FILE.UPLOADED") -> bytes:
    return json.dumps({"type": "webhook_event", "id": payload_id or str(uuid.uuid4()), "trigger": trigger,
                       "created_at": "2025-06-01T12:00:00-07:00", "webhook": {"id": "900", "type": "webhook"},
                       "source": {"type": "file", "id": file_id, "name": "ABC123_Hero_it-IT_Lazio.jpg",
                                  "parent": {"type": "folder", "id": "42"}}}).encode()


def signed(body: bytes, key: str, other: str | None = None, sent: datetime | None = None, **extra: str
           ) -> dict[str, str]:
    stamp = (sent or datetime.now(UTC)).isoformat(timespec="seconds")
    sign = lambda k: base64.b64encode(hmac.new(k.encode(), body + stamp.encode(), hashlib.sha256).digest()).decode()  # noqa: E731
    out = {"BOX-DELIVERY-ID": str(uuid.uuid4()), "BOX-DELIVERY-TIMESTAMP": stamp, "BOX-SIGNATURE-PRIMARY": sign(key),
           "BOX-SIGNATURE-VERSION": "1", "BOX-SIGNATURE-ALGORITHM": "HmacSHA256", "Content-Type": "application/json"}
    if other:
        out["BOX-SIGNATURE-SECONDARY"] = sign(other)
    out.update(extra)
    return out


def rows(db: TrackingDatabase) -> list[dict]:
    return db.fetch_all("SELECT * FROM box_webhook_deliveries ORDER BY received_at")


def events_for(file_id: str, expect: int, timeout: float = 20) -> list:
    from prefect import get_client
    from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter

    flt = EventFilter(event=EventNameFilter(name=[EVENT]), resource=EventResourceFilter(id=[f"box.file.{file_id}"]))
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            found = client.read_events(filter=flt, limit=50).events
            if len(found) >= expect or time.monotonic() > deadline:
                return found
            time.sleep(0.3)


def test_forged_stale_and_malformed_deliveries_run_nothing_and_log_no_secrets(receiver: Receiver, caplog) -> None:
    caplog.set_level(logging.INFO, logger="content_scaling.box_webhook_receiver")
    body = payload("6001")
    forger = "not-the-app-key"
    attempts = {
        "forged": (body, signed(body, forger, forger), 401),
        "stale": (body, signed(body, receiver.primary, sent=datetime.now(UTC) - timedelta(minutes=11)), 401),
        "wrong algorithm": (body, signed(body, receiver.primary, **{"BOX-SIGNATURE-ALGORITHM": "HmacSHA1"}), 400),
        "unsigned": (body, {"BOX-DELIVERY-TIMESTAMP": datetime.now(UTC).isoformat(),
                            "BOX-SIGNATURE-ALGORITHM": "HmacSHA256", "BOX-SIGNATURE-VERSION": "1"}, 401),
        "not a payload": (b'{"hello": "world"}', signed(b'{"hello": "world"}', receiver.primary), 400),
        "oversized": (b" " * 300_000, signed(b" " * 300_000, receiver.primary), 413),
    }
    for name, (content, headers, status) in attempts.items():
        response = receiver.post(content, headers)
        assert response.status_code == status, (name, response.text)
    assert rows(receiver.db) == [] and receiver.announced == []
    assert events_for("6001", expect=1, timeout=3) == []
    log = caplog.text
    assert log.count("refused Box delivery") == len(attempts)
    for secret in (receiver.primary, receiver.secondary, "ABC123_Hero", attempts["forged"][1]["BOX-SIGNATURE-PRIMARY"]):
        assert secret not in log


def test_a_delivery_repeated_is_recorded_and_announced_once_even_at_once_and_after_a_restart(
        receiver: Receiver, pki, box) -> None:
    body = payload("7001", payload_id="payload-7001")
    first = receiver.post(body, signed(body, receiver.primary, receiver.secondary))
    assert first.status_code == 200 and first.json() == {"status": "accepted"}
    # Box retries with a new delivery id and timestamp, signed with the secondary key only this time
    retry = receiver.post(body, signed(body, "rotated-primary", receiver.secondary))
    assert retry.json() == {"status": "duplicate"}

    other = payload("7001", payload_id="payload-7001-b")  # the same payload delivered 8 times at once
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: receiver.post(other, signed(other, receiver.primary)).json()["status"],
                                range(8)))
    assert sorted(answers) == ["accepted"] + ["duplicate"] * 7

    # a restarted receiver (new process state, same database) still knows the payload
    restarted: list[str] = []
    server = start_receiver(receiver.db, pki, receiver.primary, receiver.secondary, restarted)
    try:
        again = httpx.post(server.base_url + PATH, content=body, headers=signed(body, receiver.primary),
                           verify=receiver.ca, timeout=10)
        assert again.json() == {"status": "duplicate"} and restarted == []
    finally:
        server.stop()

    recorded = rows(receiver.db)
    assert [(r["payload_id"], r["box_file_id"], r["deliveries"]) for r in recorded] == [
        ("payload-7001", "7001", 3), ("payload-7001-b", "7001", 8)]
    assert receiver.announced == ["payload-7001", "payload-7001-b"]
    found = events_for("7001", expect=2)
    assert len(found) == 2 and {e.resource["box.folder.id"] for e in found} == {"42"}
    assert receiver.db.take_webhook_uploads("run-1") == ["7001"]  # one file to import, not two
    assert receiver.db.take_webhook_uploads("run-2") == []


def test_other_triggers_are_acknowledged_and_a_lost_database_gets_a_503(receiver: Receiver, pki) -> None:
    body = payload("8001", trigger="FILE.DELETED")
    assert receiver.post(body, signed(body, receiver.primary)).json() == {"status": "ignored"}
    assert rows(receiver.db) == []

    gone = TrackingDatabase(f"postgresql://nobody@127.0.0.1:{free_port()}/nothing?connect_timeout=2")
    server = start_receiver(gone, pki, receiver.primary, receiver.secondary, [])
    try:
        upload = payload("8002")
        answer = httpx.post(server.base_url + PATH, content=upload, headers=signed(upload, receiver.primary),
                            verify=receiver.ca, timeout=20)
        assert answer.status_code == 503  # Box delivers it again later
    finally:
        server.stop()


def test_box_deliveries_reach_the_receiver_and_a_receiver_that_was_down_gets_them_by_box_retries(
        prefect_api, tracking_dsn: str, pki, box) -> None:
    db = TrackingDatabase(tracking_dsn)
    db.migrate()
    port = free_port()
    agency = box.sim.create_folder("0", "Agency uploads")
    box.sim.webhooks.create({"target": {"id": agency, "type": "folder"}, "address": f"https://127.0.0.1:{port}{PATH}",
                             "triggers": ["FILE.UPLOADED"]})
    file_id = box.sim.put_file(agency, "ABC123_Hero_it-IT_Lazio.jpg", b"localised")  # the receiver is down
    deadline = time.monotonic() + 10
    while not box.sim.webhook_deliveries() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert box.sim.webhook_deliveries()[0]["error"], "the first attempt found nobody listening"

    announced: list[str] = []
    server = start_receiver(db, pki, box.webhook_primary_key, box.webhook_secondary_key, announced, port=port)
    try:
        deadline = time.monotonic() + 20
        while not rows(db) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [r["box_file_id"] for r in rows(db)] == [file_id]
        assert box.sim.webhook_deliveries()[-1]["status"] == 200 and len(announced) == 1
        assert len(events_for(file_id, expect=1)) == 1
    finally:
        server.stop()
        db.close()
