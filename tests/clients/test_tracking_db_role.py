"""Least privilege: the tracking database's role (``database/roles.sql``) owns its schema and
nothing else, and that is enough for the migrations and every query the flows make."""

from __future__ import annotations

import psycopg2
import psycopg2.errors
import pytest

from clients.errors import ClientError
from clients.tracking_db import (
    MIGRATIONS_DIR,
    BoxUpload,
    CampaignBoxFolder,
    MasterAssetRecord,
    TrackingDatabase,
)
from domain.notification_rules import Outage, Situation
from tests.conftest import TRACKING_ROLE

TABLES = {"master_assets", "box_uploads", "derivative_assets", "asset_events", "campaign_status", "schema_migrations",
          "box_webhook_deliveries", "notifications_sent", "flow_outages"}
# Plumbing and the read-only helper of reports and tests; every other public method is a query of the flows.
NOT_FLOW_QUERIES = {"transaction", "close", "fetch_all"}


class _Recorder:
    """The client, noting which of its methods the test used."""

    def __init__(self, db: TrackingDatabase) -> None:
        self._db, self.used = db, set()

    def __getattr__(self, name: str):  # noqa: ANN204 - whatever the client's attribute is
        self.used.add(name)
        return getattr(self._db, name)


def _record(asset: str) -> MasterAssetRecord:
    return MasterAssetRecord(dam_asset_id=asset, campaign_folder_id="folder-1", campaign_number="C1",
                             campaign_name="Spring", dam_path=f"x/{asset}.jpg", file_name=f"{asset}.jpg", size=10)


def test_the_migrations_and_every_query_of_the_flows_run_as_the_restricted_role(restricted_tracking_dsn: str,
                                                                               tracking_dsn: str) -> None:
    with TrackingDatabase(restricted_tracking_dsn) as client:
        db = _Recorder(client)
        assert db.migrate() == sorted(p.stem for p in MIGRATIONS_DIR.glob("*.sql"))
        assert db.migrate() == []
        # A1→A2 / B1→B2: tracking IDs, Box uploads with their audit event, claims.
        tid = db.register_master_asset(_record("a"))
        assert db.register_for_upload(_record("a"), "a1-to-a2") == (tid, None)
        upload = BoxUpload(workflow="a1-to-a2", tracking_id=tid, dam_asset_id="a", box_folder_id="5", box_file_id="9",
                           box_file_name=f"{tid}_a.jpg", sha1="0" * 40, size=10)
        db.record_box_upload(upload, campaign_number="C1", flow_run_id="run-1")
        assert db.box_upload("a1-to-a2", "a") == upload
        assert db.tracking_id_for("folder-1", "a") == tid == db.existing_tracking_id("a")
        with db.claim("a1-to-a2:C1") as mine:
            assert mine
        folder = CampaignBoxFolder(workflow="a1-to-a2", campaign_folder_id="folder-1", box_root_folder_id="0",
                                   box_folder_id="5", box_folder_name="C1-Spring")
        db.remember_campaign_box_folder(folder)
        db.remember_campaign_box_folder(folder.model_copy(update={"box_folder_name": "C1-Spring Sale"}))
        assert [f.box_folder_name for f in db.campaign_box_folders("folder-1")] == ["C1-Spring Sale"]
        # A2→A3: the intent, then the import.
        assert db.master_by_tracking_id(tid)["dam_asset_id"] == "a"
        assert db.masters_waiting_for_localised_version("folder-1", sent_by="a1-to-a2") == 1
        assert db.masters_waiting_for_localised_version("folder-1", sent_by="b1-to-b2") == 0  # sent by A1→A2 only
        db.start_derivative(tracking_id=tid, master_dam_asset_id="a", campaign_number="C1", box_file_id="77",
                            box_file_name=f"{tid}_a_it-IT_Lazio.jpg", box_sha1="1" * 40, description="a",
                            language="it-IT", state="Lazio", metadata={"k": "v"})
        db.finish_derivative("77", "dam-new", flow_run_id="run-2")
        assert db.derivative_for_box_file("77")["status"] == "imported"
        assert db.imported_copy(tid, "1" * 40, "78")["box_file_id"] == "77"
        assert db.localised_versions_imported("folder-1") == 1
        # Box webhook: the receiver's de-duplication, a2-to-a3-webhook's inbox.
        assert db.seconds_since_last_webhook_delivery() is None
        assert db.record_webhook_delivery(payload_id="p-1", trigger="FILE.UPLOADED", box_file_id="77")
        assert not db.record_webhook_delivery(payload_id="p-1", trigger="FILE.UPLOADED", box_file_id="77")
        assert db.webhook_uploads_waiting() == 1 and db.seconds_since_last_webhook_delivery() >= 0
        assert db.take_webhook_uploads("run-3") == ["77"] and db.webhook_uploads_waiting() == 0
        # A4: the once-only webhook; maintenance: audit events.
        assert db.claim_live_campaign_webhook("C1", "folder-1", "A4")
        db.release_live_campaign_webhook("C1")
        assert db.claim_live_campaign_webhook("C1", "folder-1", "A4")
        db.live_campaign_webhook_sent("C1")
        db.add_event(workflow="update-campaign-status", event="status_changed_by_operator", campaign_number="C1")
        assert [e["event"] for e in db.events(campaign_number="C1")] == [
            "uploaded_to_box", "imported_to_dam", "status_changed_by_operator"]
        # Notifications: once per situation (forgotten on an operator's status change), once per outage.
        situation = Situation(subject="a1-to-a2:campaign:folder-1", workflow="a1-to-a2", campaign_number="C1",
                              kind="a1_to_a2_no_assets", fingerprint="f")
        with db.notification_memory(situation.subject) as memory:
            assert memory.last is None
            memory.sent(situation, "run-1")
        with db.notification_memory(situation.subject) as memory:
            assert memory.last.fingerprint == "f"
            memory.repeated()
        assert db.forget_notifications("C1") == 1
        with db.outage("a1-to-a2") as record:
            assert record.current is None
            record.save(Outage(workflow="a1-to-a2", started_at="2026-03-02T09:00:00Z", first_flow_run_id="run-3",
                               first_state="Failed", failed_runs=1, last_flow_run_id="run-3",
                               last_at="2026-03-02T09:00:00Z", flow_run_ids=["run-3"]))
        with db.outage("a1-to-a2") as record:
            assert record.current.failed_runs == 1
            record.save(None)
        db.ping()
    public = {n for n, v in vars(TrackingDatabase).items() if callable(v) and not n.startswith("_")}
    assert public - NOT_FLOW_QUERIES - db.used == set(), "a new query: exercise it here as the restricted role"
    # Everything landed in the role's own schema, owned by it; nothing in public.
    admin = psycopg2.connect(tracking_dsn)
    with admin.cursor() as cur:
        cur.execute("SELECT schemaname, tablename, tableowner FROM pg_tables WHERE schemaname NOT IN "
                    "('pg_catalog', 'information_schema')")
        rows = cur.fetchall()
        cur.execute("SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls FROM pg_roles "
                    "WHERE rolname=%s", (TRACKING_ROLE,))
        assert cur.fetchone() == (False, False, False, False, False)
    admin.close()
    assert TABLES <= {r[1] for r in rows}
    assert {(r[0], r[2]) for r in rows} == {(TRACKING_ROLE, TRACKING_ROLE)}


@pytest.mark.parametrize("statement", [
    "CREATE TABLE public.intruder (x int)",           # the public schema
    "CREATE SCHEMA elsewhere",                        # another schema
    "SELECT * FROM public.admin_only",                # another owner's table
    "CREATE TEMP TABLE scratch (x int)",              # temporary tables
    "CREATE DATABASE another",
    "CREATE ROLE another",
    "CREATE EXTENSION vector",                        # (pgvector is the one the embedded server ships)
    "SET ROLE postgres",
    "SELECT pg_read_file('postgresql.conf')",         # the server's files
])
def test_the_role_reaches_nothing_beyond_its_schema(restricted_tracking_dsn: str, tracking_dsn: str,
                                                    statement: str) -> None:
    admin = psycopg2.connect(tracking_dsn)
    admin.autocommit = True
    admin.cursor().execute("CREATE TABLE public.admin_only (secret text)")
    admin.close()
    conn = psycopg2.connect(restricted_tracking_dsn)
    conn.autocommit = True  # CREATE DATABASE refuses to run inside a transaction
    try:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege), conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.close()


def test_roles_sql_runs_again_without_harm(restricted_tracking_dsn: str, tracking_dsn: str) -> None:
    from pathlib import Path

    with TrackingDatabase(restricted_tracking_dsn) as db:
        db.migrate()
        tid = db.register_master_asset(_record("a"))
    admin = psycopg2.connect(tracking_dsn)
    admin.autocommit = True
    admin.cursor().execute((Path(__file__).resolve().parents[2] / "database" / "roles.sql").read_text())
    admin.close()
    with TrackingDatabase(restricted_tracking_dsn) as db:
        assert db.migrate() == []
        assert db.tracking_id_for("folder-1", "a") == tid


def test_a_role_without_its_schema_is_told_what_to_run(tracking_dsn: str) -> None:
    """A user that may connect but owns no schema: the first use names the fix, no half-made schema."""
    admin = psycopg2.connect(tracking_dsn)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname='cs_no_schema'")
        if cur.fetchone() is None:
            cur.execute("CREATE ROLE cs_no_schema LOGIN")
        cur.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    admin.close()
    dsn = tracking_dsn.replace("postgresql://postgres:@", "postgresql://cs_no_schema@", 1)
    with TrackingDatabase(dsn) as db, pytest.raises(ClientError) as refused:
        db.migrate()
    assert "database/roles.sql" in str(refused.value) and "schema_migrations" in str(refused.value)
    assert refused.value.system == "tracking-db"
