"""The tracking database (PostgreSQL over psycopg2): tracking IDs, Box uploads, audit events.

Versioned SQL migrations in ``database/migrations`` are applied idempotently (and safely when
two processes start at once: an advisory lock serialises them).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extras
import psycopg2.pool

from clients.errors import ClientError, TransientError
from domain.notification_rules import LastSent, Outage, Situation
from domain.tracking_ids import new_tracking_id
from domain.tracking_records import BoxUpload, CampaignBoxFolder, MasterAssetRecord

__all__ = ["BoxUpload", "CampaignBoxFolder", "MasterAssetRecord", "TrackingDatabase"]

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "database" / "migrations"
_CLAIM_LOCK_SPACE = 7_246_002  # first key of the two-key advisory locks taken by claim()
_MIGRATION_LOCK_KEY = 7_246_001  # arbitrary, constant: pg_advisory_xact_lock key for migrations
_NOTIFICATION_LOCK_SPACE = 7_246_003  # first key of the locks of notification_memory() and outage()
_MAX_ID_ATTEMPTS = 20


# How long a thread waits for a free pooled connection before giving up (a transient error).
CONNECTION_WAIT_S = 60.0


class TrackingDatabase:
    """Thread-safe access to the tracking database (a small connection pool)."""

    def __init__(self, dsn: str, max_connections: int = 20) -> None:
        self._dsn = dsn
        self._max = max_connections
        self._pool: psycopg2.pool.ThreadedConnectionPool | None = None
        self._pool_lock = threading.Lock()
        # psycopg2's pool raises PoolError when every connection is out; more threads than
        # connections (a run's transfer lanes) wait for one instead.
        self._free = threading.BoundedSemaphore(max_connections)

    # -- plumbing -------------------------------------------------------------------------
    def _get_pool(self) -> psycopg2.pool.ThreadedConnectionPool:
        with self._pool_lock:
            if self._pool is None:
                try:
                    self._pool = psycopg2.pool.ThreadedConnectionPool(1, self._max, self._dsn)
                except psycopg2.OperationalError as exc:
                    raise TransientError(
                        f"cannot connect to the tracking database: {_first_line(exc)}", system="tracking-db"
                    ) from exc
            return self._pool

    @contextmanager
    def transaction(self) -> Iterator[psycopg2.extras.RealDictCursor]:
        """A cursor inside one transaction: committed on success, rolled back on error."""
        pool = self._get_pool()
        if not self._free.acquire(timeout=CONNECTION_WAIT_S):
            raise TransientError(f"no free tracking database connection after {CONNECTION_WAIT_S:.0f} s "
                                 f"({self._max} in use)", system="tracking-db")
        try:
            conn = pool.getconn()
        except BaseException:
            self._free.release()
            raise
        broken = False
        try:
            with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                yield cur
            conn.commit()
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            broken = True
            _safe_rollback(conn)
            raise TransientError(f"tracking database error: {_first_line(exc)}", system="tracking-db") from exc
        except BaseException:
            _safe_rollback(conn)
            raise
        finally:
            try:
                pool.putconn(conn, close=broken or conn.closed != 0)
            finally:
                self._free.release()

    def close(self) -> None:
        with self._pool_lock:
            if self._pool is not None:
                self._pool.closeall()
                self._pool = None

    def __enter__(self) -> TrackingDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema ---------------------------------------------------------------------------
    def migrate(self, directory: Path = MIGRATIONS_DIR) -> list[str]:
        """Apply every migration not applied yet, in file-name order. Returns what was applied.

        Runs as the application's own role, which needs only to own its schema
        (``database/roles.sql``); without that, a :class:`ClientError` says what to run.
        """
        applied: list[str] = []
        step = "schema_migrations"
        try:
            with self.transaction() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK_KEY,))
                cur.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
                )
                cur.execute("SELECT version FROM schema_migrations")
                done = {row["version"] for row in cur.fetchall()}
                for path in sorted(directory.glob("*.sql")):
                    if path.stem in done:
                        continue
                    step = path.stem
                    cur.execute(path.read_text(encoding="utf-8"))
                    cur.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (path.stem,))
                    applied.append(path.stem)
        except psycopg2.errors.InsufficientPrivilege as exc:
            raise ClientError(
                f"the tracking database user may not apply migration {step} ({_first_line(exc)}): it must own "
                "its schema; an administrator runs database/roles.sql once", system="tracking-db") from exc
        return applied

    def ping(self) -> None:
        with self.transaction() as cur:
            cur.execute("SELECT 1")

    # -- master assets and tracking IDs ---------------------------------------------------
    def register_master_asset(self, record: MasterAssetRecord) -> str:
        """Insert or refresh the asset's row; return its tracking ID (stable across runs)."""
        return self._register(record, workflow=None)[0]

    def register_for_upload(self, record: MasterAssetRecord, workflow: str) -> tuple[str, BoxUpload | None]:
        """:meth:`register_master_asset` and :meth:`box_upload` in one transaction."""
        return self._register(record, workflow=workflow)

    def _register(self, record: MasterAssetRecord, workflow: str | None) -> tuple[str, BoxUpload | None]:
        for _ in range(_MAX_ID_ATTEMPTS):
            candidate = new_tracking_id()
            try:
                with self.transaction() as cur:
                    cur.execute(_UPSERT_MASTER, _no_nul({**record.model_dump(), "tracking_id": candidate,
                                                         "metadata": json.dumps(_no_nul(record.metadata))}))
                    row = cur.fetchone()
                    assert row is not None
                    previous = None
                    if workflow is not None:
                        cur.execute("SELECT * FROM box_uploads WHERE workflow=%s AND dam_asset_id=%s",
                                    (workflow, record.dam_asset_id))
                        found = cur.fetchone()
                        previous = BoxUpload.model_validate(_strip(found)) if found else None
                    return str(row["tracking_id"]), previous
            except psycopg2.errors.UniqueViolation:
                continue  # the random candidate belongs to another asset: draw again
        raise ClientError("could not allocate a free tracking ID", system="tracking-db")

    def tracking_id_for(self, campaign_folder_id: str, dam_asset_id: str) -> str | None:
        with self.transaction() as cur:
            cur.execute(
                "SELECT tracking_id FROM master_assets WHERE campaign_folder_id=%s AND dam_asset_id=%s",
                (campaign_folder_id, dam_asset_id),
            )
            row = cur.fetchone()
            return str(row["tracking_id"]) if row else None

    def existing_tracking_id(self, dam_asset_id: str, master_tracking_id: str | None = None) -> str | None:
        """The tracking ID a DAM asset already carries from an earlier cycle, if any.

        A localised version (derivative) carries its master's; a master carries its own;
        a ``master_tracking_id`` read from the asset's metadata counts when we know it.
        """
        with self.transaction() as cur:
            cur.execute(
                "SELECT tracking_id FROM derivative_assets WHERE dam_asset_id=%s "
                "UNION ALL SELECT tracking_id FROM master_assets WHERE dam_asset_id=%s "
                "UNION ALL SELECT tracking_id FROM master_assets WHERE tracking_id=%s LIMIT 1",
                (dam_asset_id, dam_asset_id, master_tracking_id or ""),
            )
            row = cur.fetchone()
            return str(row["tracking_id"]).strip() if row else None

    # -- Box uploads ----------------------------------------------------------------------
    def box_upload(self, workflow: str, dam_asset_id: str) -> BoxUpload | None:
        """What ``workflow`` last put in Box for this DAM asset, if anything."""
        with self.transaction() as cur:
            cur.execute("SELECT * FROM box_uploads WHERE workflow=%s AND dam_asset_id=%s", (workflow, dam_asset_id))
            row = cur.fetchone()
            return BoxUpload.model_validate(_strip(row)) if row else None

    def record_box_upload(self, upload: BoxUpload, *, campaign_number: str, flow_run_id: str | None,
                          event: str = "uploaded_to_box", details: dict[str, Any] | None = None) -> None:
        """Remember the Box file, move the asset to ``in_box`` and write the audit event, atomically.

        One round trip (three statements sent together): with a run's lanes sharing a busy
        interpreter, every extra round trip costs milliseconds of waiting for the GIL.
        """
        detail = {"box_file_id": upload.box_file_id, "box_folder_id": upload.box_folder_id,
                  "box_file_name": upload.box_file_name, "sha1": upload.sha1, "size": upload.size, **(details or {})}
        with self.transaction() as cur:
            cur.execute(_RECORD_UPLOAD, {**upload.model_dump(), "campaign_number": campaign_number, "event": event,
                                         "detail": json.dumps(_no_nul(detail), default=str),
                                         "flow_run_id": flow_run_id})

    # -- campaign Box folders -------------------------------------------------------------
    def campaign_box_folders(self, campaign_folder_id: str) -> list[CampaignBoxFolder]:
        """Every Box folder a workflow made for this campaign (one per workflow)."""
        rows = self.fetch_all("SELECT * FROM campaign_box_folders WHERE campaign_folder_id=%s ORDER BY workflow",
                              (campaign_folder_id,))
        return [CampaignBoxFolder.model_validate(r) for r in rows]

    def remember_campaign_box_folder(self, folder: CampaignBoxFolder) -> None:
        """Record (or update) the Box folder of a campaign for a workflow."""
        with self.transaction() as cur:
            cur.execute(
                "INSERT INTO campaign_box_folders (workflow, campaign_folder_id, box_root_folder_id, box_folder_id,"
                " box_folder_name) VALUES (%(workflow)s, %(campaign_folder_id)s, %(box_root_folder_id)s,"
                " %(box_folder_id)s, %(box_folder_name)s) ON CONFLICT (workflow, campaign_folder_id) DO UPDATE SET"
                " box_root_folder_id=EXCLUDED.box_root_folder_id, box_folder_id=EXCLUDED.box_folder_id,"
                " box_folder_name=EXCLUDED.box_folder_name, updated_at=now()",
                _no_nul(folder.model_dump()))

    # -- localised versions (A2→A3) -------------------------------------------------------
    def master_by_tracking_id(self, tracking_id: str) -> dict[str, Any] | None:
        rows = self.fetch_all("SELECT * FROM master_assets WHERE tracking_id=%s", (tracking_id,))
        return rows[0] if rows else None

    def derivative_for_box_file(self, box_file_id: str) -> dict[str, Any] | None:
        rows = self.fetch_all("SELECT * FROM derivative_assets WHERE box_file_id=%s", (box_file_id,))
        return rows[0] if rows else None

    def imported_copy(self, tracking_id: str, sha1: str, box_file_id: str) -> dict[str, Any] | None:
        """An already-imported localised file with the same content (another Box file)."""
        rows = self.fetch_all(
            "SELECT * FROM derivative_assets WHERE tracking_id=%s AND box_sha1=%s AND box_file_id<>%s"
            " AND status='imported' ORDER BY id LIMIT 1", (tracking_id, sha1, box_file_id))
        return rows[0] if rows else None

    def start_derivative(self, *, tracking_id: str, master_dam_asset_id: str, campaign_number: str, box_file_id: str,
                         box_file_name: str, box_sha1: str, description: str, language: str, state: str,
                         metadata: dict[str, Any]) -> dict[str, Any]:
        """Record the intent to import a Box file *before* uploading it (crash safety). Returns the row."""
        with self.transaction() as cur:
            cur.execute(
                "INSERT INTO derivative_assets (tracking_id, master_dam_asset_id, campaign_number, box_file_id,"
                " box_file_name, box_sha1, description, language, state, metadata)"
                " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s::jsonb)"
                " ON CONFLICT (box_file_id) DO UPDATE SET updated_at=now() RETURNING *",
                _no_nul((tracking_id, master_dam_asset_id, campaign_number, box_file_id, box_file_name, box_sha1,
                         description, language, state, json.dumps(_no_nul(metadata), default=str))))
            return _strip(cur.fetchone())

    def finish_derivative(self, box_file_id: str, dam_asset_id: str, *, flow_run_id: str | None) -> None:
        with self.transaction() as cur:
            cur.execute("UPDATE derivative_assets SET status='imported', dam_asset_id=%s, updated_at=now()"
                        " WHERE box_file_id=%s RETURNING tracking_id, campaign_number", (dam_asset_id, box_file_id))
            row = cur.fetchone()
            _insert_event(cur, workflow="a2-to-a3", event="imported_to_dam", tracking_id=row["tracking_id"],
                          dam_asset_id=dam_asset_id, campaign_number=row["campaign_number"],
                          detail={"box_file_id": box_file_id}, flow_run_id=flow_run_id)

    def masters_waiting_for_localised_version(self, campaign_folder_id: str, sent_by: str) -> int:
        """Masters of a campaign sent to Box by the workflow ``sent_by`` with no localised version
        imported yet."""
        rows = self.fetch_all(
            "SELECT count(*) AS n FROM master_assets m WHERE m.campaign_folder_id=%s"
            " AND EXISTS (SELECT 1 FROM box_uploads b WHERE b.workflow=%s AND b.dam_asset_id=m.dam_asset_id)"
            " AND NOT EXISTS (SELECT 1 FROM derivative_assets d WHERE d.tracking_id=m.tracking_id"
            " AND d.status='imported')", (campaign_folder_id, sent_by))
        return int(rows[0]["n"])

    @contextmanager
    def claim(self, key: str) -> Iterator[bool]:
        """Claim ``key`` across processes while the ``with`` block runs; yields True for one holder at a time.

        A PostgreSQL session advisory lock on a connection of its own: a process that dies
        (SIGKILL, lost worker) drops the connection and with it the claim, so a crash never
        leaves a stale claim behind.
        """
        conn = psycopg2.connect(self._dsn)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", (_CLAIM_LOCK_SPACE, key))
                held = bool(cur.fetchone()[0])
            yield held
        finally:
            conn.close()  # releases the lock

    def localised_versions_imported(self, campaign_folder_id: str) -> int:
        """Localised versions imported into the DAM for the masters of a campaign."""
        rows = self.fetch_all(
            "SELECT count(*) AS n FROM derivative_assets d JOIN master_assets m ON m.tracking_id=d.tracking_id"
            " WHERE m.campaign_folder_id=%s AND d.status='imported'", (campaign_folder_id,))
        return int(rows[0]["n"])

    # -- campaign status webhook ---------------------------------------------------------
    def claim_live_campaign_webhook(self, campaign_number: str, campaign_folder_id: str, status: str) -> bool:
        """Claim the right to send a campaign's ``Live Campaign: NO`` webhook (once per campaign ever).

        True for exactly one caller, even when runs overlap. A claim whose sender died without
        sending is taken over after 10 minutes.
        """
        with self.transaction() as cur:
            cur.execute(
                "INSERT INTO campaign_status (campaign_number, campaign_folder_id, status, live_campaign)"
                " VALUES (%s, %s, %s, 'NO')"
                " ON CONFLICT (campaign_number) DO UPDATE SET updated_at=now(), status=EXCLUDED.status"
                " WHERE campaign_status.webhook_sent_at IS NULL"
                " AND campaign_status.updated_at < now() - interval '10 minutes'"
                " RETURNING campaign_number", (campaign_number, campaign_folder_id, status))
            return cur.fetchone() is not None

    def live_campaign_webhook_sent(self, campaign_number: str) -> None:
        with self.transaction() as cur:
            cur.execute("UPDATE campaign_status SET webhook_sent_at=now(), updated_at=now()"
                        " WHERE campaign_number=%s", (campaign_number,))

    def release_live_campaign_webhook(self, campaign_number: str) -> None:
        """The send failed: let the next run try again."""
        with self.transaction() as cur:
            cur.execute("DELETE FROM campaign_status WHERE campaign_number=%s AND webhook_sent_at IS NULL",
                        (campaign_number,))

    # -- notifications: once per situation, once per outage -------------------------------
    @contextmanager
    def notification_memory(self, subject: str) -> Iterator[NotificationMemory]:
        """The last notification sent about ``subject``, held for this caller until the block ends.

        What the block records (``sent`` / ``repeated``) is committed when it ends and rolled
        back when it raises: a notification whose sending failed is not remembered (the next
        run sends it). A second caller for the same subject waits, then sees what the first
        recorded, so overlapping runs send it once.
        """
        with self.transaction() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_NOTIFICATION_LOCK_SPACE, subject))
            cur.execute("SELECT kind, fingerprint, sent_at, flow_run_id, repeats FROM notifications_sent"
                        " WHERE subject=%s", (subject,))
            row = cur.fetchone()
            yield NotificationMemory(cur, subject, LastSent.model_validate(row) if row else None)

    def forget_notifications(self, campaign_number: str) -> int:
        """Forget what was sent about a campaign (an operator changed its status: a new cycle)."""
        with self.transaction() as cur:
            cur.execute("DELETE FROM notifications_sent WHERE campaign_number=%s", (campaign_number,))
            return cur.rowcount

    @contextmanager
    def outage(self, workflow: str) -> Iterator[OutageRecord]:
        """The flow's current outage (None when it works), held for this caller until the block
        ends; ``save`` is committed with it, and rolled back when the block raises."""
        with self.transaction() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_NOTIFICATION_LOCK_SPACE,
                                                                           f"outage:{workflow}"))
            cur.execute("SELECT * FROM flow_outages WHERE workflow=%s", (workflow,))
            row = cur.fetchone()
            yield OutageRecord(cur, workflow, Outage.model_validate(row) if row else None)

    # -- audit events ---------------------------------------------------------------------
    def add_event(self, *, workflow: str, event: str, tracking_id: str | None = None,
                  dam_asset_id: str | None = None, campaign_number: str | None = None,
                  detail: dict[str, Any] | None = None, flow_run_id: str | None = None) -> None:
        with self.transaction() as cur:
            _insert_event(cur, workflow=workflow, event=event, tracking_id=tracking_id,
                          dam_asset_id=dam_asset_id, campaign_number=campaign_number,
                          detail=detail or {}, flow_run_id=flow_run_id)

    def events(self, *, campaign_number: str | None = None, event: str | None = None) -> list[dict[str, Any]]:
        clauses, params = [], []
        if campaign_number:
            clauses.append("campaign_number=%s")
            params.append(campaign_number)
        if event:
            clauses.append("event=%s")
            params.append(event)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self.transaction() as cur:
            cur.execute(f"SELECT * FROM asset_events {where} ORDER BY id", params)
            return [_strip(r) for r in cur.fetchall()]

    # -- Box webhook deliveries (the receiver's de-duplication, the triggered import's inbox) --
    def record_webhook_delivery(self, *, payload_id: str, trigger: str, box_file_id: str,
                                box_folder_id: str | None = None, webhook_id: str | None = None,
                                event_created_at: str | None = None) -> bool:
        """Remember a verified delivery; True the first time its payload id is seen, False for a repeat.

        Atomic (one ``INSERT … ON CONFLICT``), so two copies of a delivery arriving at once, in
        one receiver or two, give True to exactly one of them.
        """
        with self.transaction() as cur:
            cur.execute(
                "INSERT INTO box_webhook_deliveries (payload_id, trigger, box_file_id, box_folder_id, webhook_id,"
                " event_created_at) VALUES (%s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (payload_id) DO UPDATE SET deliveries = box_webhook_deliveries.deliveries + 1,"
                " last_delivery_at = now()"
                " RETURNING (xmax = 0) AS inserted",
                (payload_id, trigger, box_file_id, box_folder_id, webhook_id, event_created_at))
            return bool(cur.fetchone()["inserted"])

    def take_webhook_uploads(self, flow_run_id: str | None, limit: int = 1000) -> list[str]:
        """The Box file ids announced and not taken yet (oldest first, each once), now taken by this run.

        ``FOR UPDATE SKIP LOCKED``: two runs taking at once get disjoint files. A run that dies
        after taking leaves its files to the poll, which imports whatever is still in Box.
        """
        with self.transaction() as cur:
            cur.execute(
                "WITH waiting AS (SELECT payload_id FROM box_webhook_deliveries WHERE taken_at IS NULL"
                " ORDER BY received_at LIMIT %s FOR UPDATE SKIP LOCKED)"
                " UPDATE box_webhook_deliveries d SET taken_at = now(), taken_by_flow_run = %s"
                " FROM waiting WHERE d.payload_id = waiting.payload_id RETURNING d.box_file_id, d.received_at",
                (limit, flow_run_id))
            rows = sorted(cur.fetchall(), key=lambda r: r["received_at"])
        return list(dict.fromkeys(r["box_file_id"] for r in rows))

    def seconds_since_last_webhook_delivery(self) -> float | None:
        """Seconds since the receiver last recorded a new delivery, by the database's clock (None: never)."""
        row = self.fetch_all("SELECT EXTRACT(EPOCH FROM now() - max(received_at)) AS s FROM box_webhook_deliveries")[0]
        return None if row["s"] is None else float(row["s"])

    def webhook_uploads_waiting(self) -> int:
        """Announced uploads no run has taken yet."""
        return int(self.fetch_all("SELECT count(*) AS n FROM box_webhook_deliveries WHERE taken_at IS NULL")[0]["n"])

    def fetch_all(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        """Read-only helper for reports and tests."""
        with self.transaction() as cur:
            cur.execute(sql, params)
            return [_strip(r) for r in cur.fetchall()]


class NotificationMemory:
    """The memory of one subject inside :meth:`TrackingDatabase.notification_memory`."""

    def __init__(self, cur: Any, subject: str, last: LastSent | None) -> None:
        self._cur, self.subject, self.last = cur, subject, last

    def sent(self, situation: Situation, flow_run_id: str | None) -> None:
        """The notification of ``situation`` was sent: it is what is remembered now."""
        self._cur.execute(
            "INSERT INTO notifications_sent (subject, workflow, campaign_number, kind, fingerprint, summary,"
            " flow_run_id) VALUES (%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (subject) DO UPDATE SET"
            " workflow=EXCLUDED.workflow, campaign_number=EXCLUDED.campaign_number, kind=EXCLUDED.kind,"
            " fingerprint=EXCLUDED.fingerprint, summary=EXCLUDED.summary, flow_run_id=EXCLUDED.flow_run_id,"
            " sent_at=now(), repeats=0, last_seen_at=now()",
            _no_nul((self.subject, situation.workflow, situation.campaign_number, situation.kind,
                     situation.fingerprint, situation.summary, flow_run_id)))

    def repeated(self) -> None:
        """The same situation again: nothing sent, counted."""
        self._cur.execute("UPDATE notifications_sent SET repeats=repeats+1, last_seen_at=now() WHERE subject=%s",
                          (self.subject,))


class OutageRecord:
    """A flow's outage inside :meth:`TrackingDatabase.outage`."""

    def __init__(self, cur: Any, workflow: str, current: Outage | None) -> None:
        self._cur, self.workflow, self.current = cur, workflow, current

    def save(self, outage: Outage | None) -> None:
        """Keep ``outage`` as the flow's state (None: the flow works, the row goes)."""
        if outage is None:
            self._cur.execute("DELETE FROM flow_outages WHERE workflow=%s", (self.workflow,))
            return
        values = _no_nul(outage.model_dump())
        columns = list(values)
        self._cur.execute(
            f"INSERT INTO flow_outages ({', '.join(columns)}) VALUES ({', '.join(f'%({c})s' for c in columns)})"
            f" ON CONFLICT (workflow) DO UPDATE SET "
            + ", ".join(f"{c}=EXCLUDED.{c}" for c in columns if c != "workflow"), values)


_UPSERT_MASTER = """
INSERT INTO master_assets (tracking_id, dam_asset_id, campaign_folder_id, campaign_number, campaign_name,
    local_campaign_id, global_master_campaign_id, dam_path, file_name, extension, size, mime_type,
    brand, country, language, metadata)
VALUES (%(tracking_id)s, %(dam_asset_id)s, %(campaign_folder_id)s, %(campaign_number)s, %(campaign_name)s,
    %(local_campaign_id)s, %(global_master_campaign_id)s, %(dam_path)s, %(file_name)s, %(extension)s,
    %(size)s, %(mime_type)s, %(brand)s, %(country)s, %(language)s, %(metadata)s::jsonb)
ON CONFLICT (campaign_folder_id, dam_asset_id) DO UPDATE SET
    campaign_number = EXCLUDED.campaign_number,
    campaign_name = EXCLUDED.campaign_name,
    local_campaign_id = COALESCE(EXCLUDED.local_campaign_id, master_assets.local_campaign_id),
    global_master_campaign_id = COALESCE(EXCLUDED.global_master_campaign_id,
                                         master_assets.global_master_campaign_id),
    dam_path = EXCLUDED.dam_path, file_name = EXCLUDED.file_name, extension = EXCLUDED.extension,
    size = EXCLUDED.size, mime_type = EXCLUDED.mime_type, brand = EXCLUDED.brand,
    country = EXCLUDED.country, language = EXCLUDED.language, metadata = EXCLUDED.metadata,
    updated_at = now()
RETURNING tracking_id
"""

_UPSERT_UPLOAD = """
INSERT INTO box_uploads (workflow, tracking_id, dam_asset_id, box_folder_id, box_file_id, box_file_name, sha1, size)
VALUES (%(workflow)s, %(tracking_id)s, %(dam_asset_id)s, %(box_folder_id)s, %(box_file_id)s,
        %(box_file_name)s, %(sha1)s, %(size)s)
ON CONFLICT (workflow, dam_asset_id) DO UPDATE SET
    tracking_id = EXCLUDED.tracking_id, box_folder_id = EXCLUDED.box_folder_id,
    box_file_id = EXCLUDED.box_file_id, box_file_name = EXCLUDED.box_file_name,
    sha1 = EXCLUDED.sha1, size = EXCLUDED.size, uploaded_at = now()
"""


_RECORD_UPLOAD = _UPSERT_UPLOAD + """;
UPDATE master_assets SET status='in_box', updated_at=now() WHERE tracking_id=%(tracking_id)s;
INSERT INTO asset_events (tracking_id, dam_asset_id, campaign_number, workflow, event, detail, flow_run_id)
VALUES (%(tracking_id)s, %(dam_asset_id)s, %(campaign_number)s, %(workflow)s, %(event)s, %(detail)s::jsonb,
        %(flow_run_id)s)
"""


def _insert_event(cur: Any, *, workflow: str, event: str, tracking_id: str | None, dam_asset_id: str | None,
                  campaign_number: str | None, detail: dict[str, Any], flow_run_id: str | None) -> None:
    cur.execute(
        "INSERT INTO asset_events (tracking_id, dam_asset_id, campaign_number, workflow, event, detail, flow_run_id)"
        " VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s)",
        (tracking_id, dam_asset_id, campaign_number, workflow, event, json.dumps(_no_nul(detail), default=str),
         flow_run_id),
    )


def _no_nul(value: Any) -> Any:
    """PostgreSQL stores no NUL character (TEXT or JSONB): a DAM name or value holding one would
    make the whole write fail, so each NUL becomes U+FFFD (shown as �) in what we record."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_no_nul(k): _no_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_no_nul(v) for v in value)
    return value


def _strip(row: dict[str, Any] | None) -> dict[str, Any]:
    """CHAR(n) columns come back space-padded; the rest as is."""
    return {k: (v.strip() if isinstance(v, str) and k in ("tracking_id", "sha1") else v)
            for k, v in (row or {}).items()}


def _safe_rollback(conn: Any) -> None:
    try:
        conn.rollback()
    except psycopg2.Error:
        pass


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
