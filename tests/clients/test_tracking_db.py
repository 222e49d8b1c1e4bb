"""The tracking database against a real (embedded) PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

import clients.tracking_db as tracking_db
from clients.tracking_db import MIGRATIONS_DIR, BoxUpload, MasterAssetRecord, TrackingDatabase
from domain.notification_rules import Outage, Situation, decide


@pytest.fixture
def db(tracking_dsn: str):
    with TrackingDatabase(tracking_dsn) as database:
        database.migrate()
        yield database


def record(asset: str, campaign: str = "folder-1") -> MasterAssetRecord:
    return MasterAssetRecord(dam_asset_id=asset, campaign_folder_id=campaign, campaign_number="C1",
                             campaign_name="Spring", local_campaign_id="C1", dam_path=f"x/{asset}.jpg",
                             file_name=f"{asset}.jpg", extension="jpg", size=10, metadata={"k": "v"})


ALL_MIGRATIONS = sorted(p.stem for p in MIGRATIONS_DIR.glob("*.sql"))


def test_migrations_are_idempotent_and_versioned(tracking_dsn: str) -> None:
    with TrackingDatabase(tracking_dsn) as database:
        assert database.migrate() == ALL_MIGRATIONS and ALL_MIGRATIONS[0] == "0001_tracking"
        assert database.migrate() == []
        tables = {r["table_name"] for r in database.fetch_all(
            "SELECT table_name FROM information_schema.tables WHERE table_schema='public'")}
        assert {"master_assets", "derivative_assets", "asset_events", "campaign_status", "box_uploads",
                "schema_migrations"} <= tables


def test_concurrent_migrations_do_not_collide(tracking_dsn: str) -> None:
    def run(_: int) -> list[str]:
        with TrackingDatabase(tracking_dsn) as database:
            return database.migrate()

    with ThreadPoolExecutor(4) as pool:
        applied = list(pool.map(run, range(4)))
    assert sorted(map(len, applied)) == [0, 0, 0, len(ALL_MIGRATIONS)]


def test_tracking_id_is_stable_per_asset_and_campaign(db: TrackingDatabase) -> None:
    first = db.register_master_asset(record("a"))
    assert db.register_master_asset(record("a")) == first
    assert db.register_master_asset(record("b")) != first
    assert db.register_master_asset(record("a", campaign="folder-2")) != first  # same asset, other campaign
    assert len(db.fetch_all("SELECT * FROM master_assets")) == 3
    assert db.tracking_id_for("folder-1", "a") == first


def test_tracking_id_collision_draws_again(db: TrackingDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter(["AAAAAA", "AAAAAA", "BBBBBB"])
    monkeypatch.setattr(tracking_db, "new_tracking_id", lambda: next(draws))
    assert db.register_master_asset(record("a")) == "AAAAAA"
    assert db.register_master_asset(record("b")) == "BBBBBB"


def test_parallel_registration_gives_one_id_per_asset(db: TrackingDatabase) -> None:
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda i: db.register_master_asset(record(f"asset-{i % 10}")), range(80)))
    assert len(set(ids)) == 10
    assert len(db.fetch_all("SELECT * FROM master_assets")) == 10


def test_more_threads_than_connections_wait_their_turn(tracking_dsn: str) -> None:
    """A run's transfer lanes can outnumber the pool: they wait for a connection, none fails."""
    from concurrent.futures import ThreadPoolExecutor

    small = TrackingDatabase(tracking_dsn, max_connections=2)

    def query(i: int) -> int:
        with small.transaction() as cur:
            cur.execute("SELECT pg_sleep(0.02), %s AS i", (i,))
            return cur.fetchone()["i"]

    with ThreadPoolExecutor(16) as pool:
        assert sorted(pool.map(query, range(48))) == list(range(48))
    small.close()


def test_box_upload_is_recorded_with_its_event(db: TrackingDatabase) -> None:
    tid = db.register_master_asset(record("a"))
    upload = BoxUpload(workflow="a1-to-a2", tracking_id=tid, dam_asset_id="a", box_folder_id="5", box_file_id="9",
                       box_file_name=f"{tid}_a.jpg", sha1="0" * 40, size=10)
    db.record_box_upload(upload, campaign_number="C1", flow_run_id="run-1")
    db.record_box_upload(upload, campaign_number="C1", flow_run_id="run-2")
    assert db.box_upload("a1-to-a2", "a") == upload
    assert db.box_upload("b1-to-b2", "a") is None
    assert db.fetch_all("SELECT status FROM master_assets")[0]["status"] == "in_box"
    events = db.events(campaign_number="C1")
    assert [e["flow_run_id"] for e in events] == ["run-1", "run-2"]
    assert events[0]["detail"]["box_file_id"] == "9"


def test_register_for_upload_returns_the_id_and_what_was_sent(db: TrackingDatabase) -> None:
    tid, previous = db.register_for_upload(record("c"), "a1-to-a2")
    assert previous is None and tid == db.register_master_asset(record("c"))
    upload = BoxUpload(workflow="a1-to-a2", tracking_id=tid, dam_asset_id="c", box_folder_id="9", box_file_id="99",
                       box_file_name=f"{tid}_c.jpg", sha1="ab" * 20, size=3)
    db.record_box_upload(upload, campaign_number="C1", flow_run_id=None)
    assert db.register_for_upload(record("c"), "a1-to-a2") == (tid, upload)
    assert db.register_for_upload(record("c"), "b1-to-b2") == (tid, None)
    [event] = db.events(event="uploaded_to_box")
    assert event["tracking_id"] == tid and event["detail"]["box_file_id"] == "99"
    assert db.fetch_all("SELECT status FROM master_assets WHERE tracking_id=%s", (tid,))[0]["status"] == "in_box"


# -- notifications: once per situation, once per outage ------------------------------------
def _situation(fingerprint: str, subject: str = "a1-to-a2:campaign:f1") -> Situation:
    return Situation(subject=subject, workflow="a1-to-a2", campaign_number="C1", kind="a1_to_a2_no_assets",
                     fingerprint=fingerprint, summary="")


def test_notification_memory_survives_clients_and_forgets_a_failed_send(tracking_dsn: str) -> None:
    with TrackingDatabase(tracking_dsn) as first:
        first.migrate()
        with pytest.raises(RuntimeError), first.notification_memory("a1-to-a2:campaign:f1") as memory:
            assert memory.last is None
            memory.sent(_situation("x"), "run-1")
            raise RuntimeError("SMTP down")  # the send failed: nothing is remembered
        with first.notification_memory("a1-to-a2:campaign:f1") as memory:
            assert memory.last is None
            memory.sent(_situation("x"), "run-2")
    with TrackingDatabase(tracking_dsn) as second:  # another process
        with second.notification_memory("a1-to-a2:campaign:f1") as memory:
            assert memory.last.fingerprint == "x" and memory.last.flow_run_id == "run-2"
            memory.repeated()
        with second.notification_memory("a1-to-a2:campaign:f1") as memory:
            assert memory.last.repeats == 1
        assert second.forget_notifications("C1") == 1
        with second.notification_memory("a1-to-a2:campaign:f1") as memory:
            assert memory.last is None


def test_overlapping_runs_send_a_situation_once(db: TrackingDatabase) -> None:
    import threading

    sends: list[str] = []
    inside = threading.Barrier(8)

    def run(i: int) -> None:
        inside.wait()
        with db.notification_memory("a1-to-a2:campaign:f1") as memory:
            situation = _situation("same")
            if decide(situation, memory.last).send:
                sends.append(f"run-{i}")
                memory.sent(situation, f"run-{i}")
            else:
                memory.repeated()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(run, range(8)))
    assert len(sends) == 1
    assert db.fetch_all("SELECT repeats FROM notifications_sent")[0]["repeats"] == 7


def test_outage_record_round_trip(db: TrackingDatabase) -> None:
    now = datetime.now(UTC)
    outage = Outage(workflow="a1-to-a2", started_at=now, first_flow_run_id="r1", first_state="Failed",
                    first_message="boom\x00", failed_runs=2, crashed_runs=1, last_flow_run_id="r3", last_at=now,
                    flow_run_ids=["r1", "r2", "r3"])
    with db.outage("a1-to-a2") as record:
        assert record.current is None
        record.save(outage)
    with db.outage("a1-to-a2") as record:
        assert record.current.model_dump(exclude={"first_message"}) == outage.model_dump(exclude={"first_message"})
        record.save(record.current.model_copy(update={"failed_runs": 3}))
    with db.outage("a1-to-a2") as record:
        assert record.current.failed_runs == 3
        record.save(None)
    with db.outage("a1-to-a2") as record:
        assert record.current is None
