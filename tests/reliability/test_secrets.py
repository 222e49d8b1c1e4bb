"""Secrets: every flow runs with recognisable secret values (canaries) in its blocks — DAM
OAuth2 client secret, DAM service-user password (OTMM session login, OTDS and OTMM password
grants), DAM mTLS PFX and its password, Box client secret, JWT private key and its
passphrase, the tracking database password (in its DSN), the SMTP password, the status
webhook URL's token, the CreativeX API key, the chat channel's token (a Prefect notification
block that gets the failure/recovery alerts and the daily report's summary; one more that
fails) — on happy paths and on failure paths (refused credentials and passwords, a failing
webhook, CreativeX down, an unreachable database). The DAM tokens and session credentials
(message digest, JSESSIONID) handed out during the runs are looked for too. Then every place
a secret could leak to is scanned: the Prefect logs, flow-run state messages and parameters,
artifacts, the emails as received (raw and decoded), what the webhook and the chat channel
received, every row of the tracking database (outages and the memory of sent notifications
included), and every temporary file written during the test. Zero occurrences.

Not scanned: the Prefect API's own database, where blocks (the one home of secrets) live.
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import os
import secrets
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from prefect import get_client

from domain.fields import load_dam_fields
from simulators.common import ServerThread

pytestmark = [pytest.mark.prefect, pytest.mark.slow]
F = load_dam_fields()


def _canary(kind: str) -> str:
    return f"CANARY{kind}{secrets.token_hex(6)}"


@pytest.fixture
def canaries() -> dict[str, str]:
    return {k: _canary(k) for k in ("dam", "dambad", "dampass", "dampassbad", "pfx", "box", "boxpass", "db", "smtp",
                                    "hook", "cx", "chat")}


def _paged(read, **kw) -> list:
    out, offset = [], 0
    while True:
        page = read(limit=200, offset=offset, **kw)
        out += page
        if len(page) < 200:
            return out
        offset += 200


def test_no_secret_in_logs_artifacts_emails_database_or_temp_files(prefect_api, tracking_dsn, tmp_path, canaries):
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    from blocks._cache import clear_cached_clients
    from blocks.box import BoxCredentials
    from blocks.creativex import CreativeXCredentials
    from blocks.dam import DamCredentials
    from blocks.mail_server import MailServer as MailBlock
    from blocks.status_webhook import StatusWebhook
    from blocks.tracking_database import TrackingDatabaseBlock
    from clients.tracking_db import TrackingDatabase
    from simulators.box import BoxSimulator
    from simulators.certs import make_pki
    from simulators.creativex import CreativeXSimulator
    from simulators.jwt_keys import make_jwt_app_keys
    from simulators.mail import MailServer
    from simulators.otmm import OtmmSimulator
    from simulators.webhook import WebhookReceiver

    c = canaries
    started = time.time() - 1
    pki = make_pki(tmp_path / "pki", client_password=c["pfx"])
    keys = make_jwt_app_keys("kid-1", c["boxpass"])
    otmm = OtmmSimulator(client_id="cs", client_secret=c["dam"], username="cs-user", password=c["dampass"])
    otmm_mtls = OtmmSimulator(auth_mode="mtls")
    box = BoxSimulator(storage_dir=tmp_path / "box", client_id="cs-box", client_secret=c["box"],
                       public_keys={keys.key_id: keys.public_key_pem}, enterprise_id="4242")
    hook, cx, chat = WebhookReceiver(), CreativeXSimulator(api_key=c["cx"]), WebhookReceiver()
    # a password in the DSN: the embedded PostgreSQL trusts local connections, so it is accepted and unused
    dsn = tracking_dsn.replace("postgres:@", f"postgres:{c['db']}@")
    assert c["db"] in dsn
    pfx_b64 = base64.b64encode(pki.client_pfx.read_bytes()).decode()
    key_body = "".join(keys.private_key_pem.strip().splitlines()[1:-1])
    needles = {**c, "private key": key_body[100:160], "pfx file": pfx_b64[200:260]}

    with ServerThread(otmm.app) as dam_server, \
            ServerThread(otmm_mtls.app, tls=pki.server_tls(require_client_cert=True)) as mtls_server, \
            ServerThread(box.app) as box_server, ServerThread(hook.app) as hook_server, \
            ServerThread(cx.app) as cx_server, ServerThread(chat.app) as chat_server, \
            MailServer(tmp_path / "mail", pki.server_cert, pki.server_key, username="cs-mail",
                       password=c["smtp"]) as mail:
        clear_cached_clients()
        dam = {"base_url": dam_server.base_url, "client_id": "cs", "client_secret": c["dam"], "username": "cs-user"}
        # The main block signs in with an OTMM session; each other method has a block of its own.
        DamCredentials(**dam, auth_method="session", password=c["dampass"]).save("dam", overwrite=True)
        DamCredentials(**dam).save("dam-oauth2", overwrite=True)
        DamCredentials(**dam, auth_method="otds_password", password=c["dampass"]).save("dam-otds-grant", overwrite=True)
        DamCredentials(**dam, auth_method="otmm_password", password=c["dampass"]).save("dam-otmm-grant", overwrite=True)
        DamCredentials(**dam, auth_method="session", password=c["dampassbad"]).save("dam-session-refused",
                                                                                 overwrite=True)
        DamCredentials(base_url=dam_server.base_url, client_id="cs", client_secret=c["dambad"]
                       ).save("dam-refused", overwrite=True)
        DamCredentials(base_url=mtls_server.base_url, auth_method="mtls", pfx_base64=pfx_b64, pfx_password=c["pfx"],
                       ca_bundle_pem=pki.ca_cert.read_text()).save("dam-mtls", overwrite=True)
        BoxCredentials(client_id="cs-box", client_secret=c["box"], public_key_id=keys.key_id,
                       private_key=keys.private_key_pem, private_key_passphrase=c["boxpass"], enterprise_id="4242",
                       api_base_url=box_server.base_url, upload_base_url=box_server.base_url + "/api",
                       max_attempts=2, retry_base_interval=0.01).save("box", overwrite=True)
        TrackingDatabaseBlock(dsn=dsn).save("tracking-db", overwrite=True)
        TrackingDatabaseBlock(dsn=dsn.replace("/t_", "/missing_t_")).save("tracking-db-missing", overwrite=True)
        MailBlock(host="127.0.0.1", port=mail.port, username="cs-mail", password=c["smtp"],
                  from_address="content-scaling@example.test", ca_bundle_pem=pki.ca_cert.read_text(),
                  default_recipients=["ops@example.test"], error_recipients=["errors@example.test"],
                  notification_blocks=["custom-webhook/ops-chat", "custom-webhook/ops-chat-down"],
                  daily_report_to_notification_blocks=True,
                  ).save("email", overwrite=True)
        CustomWebhookNotificationBlock(name="ops-chat", url=chat_server.base_url + "/hooks/{{token}}",
                                       secrets={"token": c["chat"]}, json_data={"text": "{{subject}}\n{{body}}"},
                                       ).save("ops-chat", overwrite=True)
        # a channel that fails: its error is logged, and an HTTP error's text carries the URL (the secret)
        CustomWebhookNotificationBlock(name="ops-chat-down", url=chat_server.base_url + "/hooks/{{token}}-down",
                                       secrets={"token": c["chat"]}, json_data={"text": "{{body}}"},
                                       ).save("ops-chat-down", overwrite=True)
        httpx.post(chat_server.base_url + "/_sim/faults", json={"path": "-down$", "kind": "status", "status": 500}
                   ).raise_for_status()
        StatusWebhook(url=f"{hook_server.base_url}/hooks/{c['hook']}").save("status-webhook", overwrite=True)
        CreativeXCredentials(url=cx_server.base_url, api_key=c["cx"]).save("creativex", overwrite=True)
        db = TrackingDatabase(dsn)
        db.migrate()
        root = box.create_folder("0", "Local adaptation")
        _run_every_flow(otmm, otmm_mtls, box, root, db, hook_server, cx_server)
        clear_cached_clients()  # the sessions are closed, as at process exit (a DELETE carries them too)
        assert otmm.sign_ins("session") and otmm.sign_ins("otds_password") and otmm.sign_ins("otmm_password")
        with otmm.state.lock:
            issued = list(otmm.state.tokens) + otmm.session_credentials()
        needles.update({f"DAM sign-in credential #{i}": value for i, value in enumerate(issued)})

        # The scan must be able to fail: a planted probe in a temp file has to be found.
        probe = _canary("probe")
        (tmp_path / "probe.txt").write_text(f"planted {probe}")
        t0 = time.monotonic()
        found = _scan({**needles, "probe": probe}, db, hook, chat, mail, started)
        print(f"scan took {time.monotonic() - t0:.1f}s")
        db.close()
    clear_cached_clients()
    assert [f for f in found if f.startswith("probe secret in temp file")], "the scan missed the planted probe"
    found = [f for f in found if not f.startswith("probe secret")]
    assert found == [], "\n".join(found)


def _run_every_flow(otmm, otmm_mtls, box, root, db, hook_server, cx_server) -> None:
    from flows.a1_to_a2 import a1_to_a2
    from flows.a2_to_a3 import a2_to_a3
    from flows.a4_live_webhook import a4_live_webhook
    from flows.a5_to_a6 import a5_to_a6
    from flows.b1_to_b2 import b1_to_b2
    from flows.daily_report import daily_report
    from flows.maintenance import check_certificate, check_connections
    from flows.status_maintenance import advance_a1_to_a3, reset_campaigns_to_a1, update_campaign_status

    a1 = otmm.add_campaign(number="C000000801", name="Secret Spring", status="A1")
    otmm.add_asset(a1.master_assets_id, "hero.jpg", size=1_500)
    a5 = otmm.add_campaign(number="C000000802", name="Secret Rework", status="A5")
    otmm.add_asset(a5.final_assets_id, "rejected.jpg", size=1_200, fields={
        F.rejection.ecommerce_status: "NOT APPROVED", F.rejection.approver_comments: "too dark"})
    b1 = otmm.add_campaign(number="C000000803", name="Secret Global", status="B1", campaign_type="Global comm")
    otmm.add_asset(b1.final_assets_id, "global.jpg", size=1_300)
    otmm.add_campaign(number="C000000804", name="Secret Live", status="A4")
    other = otmm.add_campaign(number="C000000805", name="Secret Other", status="A1")
    otmm.add_asset(other.master_assets_id, "other.jpg", size=1_100)
    otmm_mtls.add_campaign(number="C000000806", name="Secret mTLS", status="B1", campaign_type="Global comm")
    for number in ("C000000807", "C000000808"):
        grant = otmm.add_campaign(number=number, name="Secret Grant", status="A1")
        otmm.add_asset(grant.master_assets_id, "grant.jpg", size=1_000)

    states = {}
    states["a1-to-a2"] = a1_to_a2(box_root_folder_id=root, campaign_number="C000000801", return_state=True)
    states["a5-to-a6"] = a5_to_a6(box_root_folder_id=root, return_state=True)
    states["b1-to-b2"] = b1_to_b2(box_root_folder_id=root, return_state=True)
    tid = db.fetch_all("SELECT tracking_id FROM master_assets WHERE campaign_number='C000000801'")[0]["tracking_id"]
    agency = box.create_folder("0", "Agency uploads")
    box.put_file(agency, f"{tid}_Hero_it-IT_Lazio.jpg", b"localised" * 30)
    box.put_file(agency, "no tracking id.jpg", b"x" * 30)
    states["a2-to-a3"] = a2_to_a3(agency_folder_id=agency, return_state=True)
    states["a4-live-webhook"] = a4_live_webhook(return_state=True)
    states["test-connections"] = check_connections(return_state=True)
    states["check-certificate"] = check_certificate(dam_block="dam-mtls", return_state=True)
    states["test-connections mTLS"] = check_connections(dam_block="dam-mtls", return_state=True)
    for block in ("dam-oauth2", "dam-otds-grant", "dam-otmm-grant"):
        states[f"test-connections {block}"] = check_connections(dam_block=block, return_state=True)
    states["a1-to-a2 OTDS password grant"] = a1_to_a2(box_root_folder_id=root, campaign_number="C000000807",
                                                      dam_block="dam-otds-grant", return_state=True)
    states["a1-to-a2 OTMM password grant"] = a1_to_a2(box_root_folder_id=root, campaign_number="C000000808",
                                                      dam_block="dam-otmm-grant", return_state=True)
    states["b1-to-b2 mTLS"] = b1_to_b2(box_root_folder_id=root, dam_block="dam-mtls", return_state=True)
    states["update-campaign-status"] = update_campaign_status(campaign="C000000804", new_status="A4", confirm=True,
                                                              return_state=True)
    states["reset-campaigns-to-a1"] = reset_campaigns_to_a1(status="A6", return_state=True)
    states["advance-a1-to-a3"] = advance_a1_to_a3(return_state=True)
    for name, state in states.items():
        assert state.is_completed(), (name, state.message)

    # Failure paths: messages, logs and error emails are where a secret slips out.
    httpx.post(hook_server.base_url + "/_sim/faults", json={"path": "/hooks/", "kind": "status", "status": 500}
               ).raise_for_status()
    httpx.post(cx_server.base_url + "/_sim/faults", json={"path": ".*", "kind": "status", "status": 503}
               ).raise_for_status()
    failing = {
        "a1-to-a2, webhook failing": a1_to_a2(box_root_folder_id=root, return_state=True),
        "a2-to-a3, CreativeX down": _a2_to_a3_again(box, agency, db, a2_to_a3),
        "test-connections, refused DAM secret, missing database": check_connections(
            dam_block="dam-refused", tracking_db_block="tracking-db-missing", return_state=True),
        "a1-to-a2, refused DAM secret": a1_to_a2(box_root_folder_id=root, dam_block="dam-refused",
                                                 return_state=True),
        "a1-to-a2, refused DAM password": a1_to_a2(box_root_folder_id=root, dam_block="dam-session-refused",
                                                   return_state=True),
        "test-connections, refused DAM password": check_connections(dam_block="dam-session-refused",
                                                                    return_state=True),
    }
    hook_failed = failing["a1-to-a2, webhook failing"].result(raise_on_failure=False)["campaigns"]
    assert any("status webhook failed" in (r["error"] or "") for r in hook_failed), hook_failed
    assert not failing["a2-to-a3, CreativeX down"].is_completed()
    assert not failing["test-connections, refused DAM secret, missing database"].is_completed()
    assert not failing["a1-to-a2, refused DAM secret"].is_completed()
    assert "auth_method 'session'" in failing["a1-to-a2, refused DAM password"].message
    assert not failing["test-connections, refused DAM password"].is_completed()
    states["daily-report"] = daily_report(return_state=True)
    assert states["daily-report"].is_completed(), states["daily-report"].message


def _a2_to_a3_again(box, agency, db, a2_to_a3):
    masters = db.fetch_all("SELECT tracking_id FROM master_assets WHERE campaign_number='C000000802'")
    box.put_file(agency, f"{masters[0]['tracking_id']}_Rework_fr-FR_IDF.jpg", b"rework" * 30)
    return a2_to_a3(agency_folder_id=agency, return_state=True)


def _scan(needles: dict[str, str], db, hook, chat, mail, started: float) -> list[str]:
    found: list[str] = []

    def check(where: str, text: str) -> None:
        for kind, needle in needles.items():
            if needle in text:
                found.append(f"{kind} secret in {where}: …{text[max(0, text.find(needle) - 80):][:200]}…")

    with get_client(sync_client=True) as client:
        for log in _paged(client.read_logs):
            check(f"Prefect log {log.flow_run_id}", log.message)
        for art in _paged(client.read_artifacts):
            check(f"artifact {art.key}", json.dumps(art.data, default=str) + str(art.description))
        for run in _paged(client.read_flow_runs):
            check(f"flow run {run.name} ({run.flow_id})", json.dumps(run.parameters, default=str)
                  + str(run.state.message if run.state else ""))
    assert mail.messages, "no email was sent: the scan would prove nothing"
    for path in sorted(mail.directory.glob("*.eml")):
        raw = path.read_bytes()
        check(f"email {path.name} (raw)", raw.decode("utf-8", "replace"))
        message = email.message_from_bytes(raw, policy=email.policy.default)
        for part in message.walk():
            if not part.is_multipart():
                check(f"email {path.name} ({part.get_content_type()})", str(part.get_content()))
        check(f"email {path.name} (headers)", str(dict(message.items())))
    # (a receiver keeps the URL's token it was called on: that is its own)
    assert len(chat.received) >= 3, "the chat channel got no alerts or report: the scan would prove nothing"
    for entry in hook.received:
        check("webhook body", json.dumps(entry["body"]))
    for entry in chat.received:
        check("chat channel message", json.dumps(entry["body"]))
    tables = [r["table_name"] for r in db.fetch_all(
        "SELECT table_name FROM information_schema.tables WHERE table_schema='public'")]
    assert {"master_assets", "asset_events", "derivative_assets"} <= set(tables)
    for table in tables:
        for row in db.fetch_all(f'SELECT row_to_json(t)::text AS j FROM "{table}" t'):
            check(f"tracking database {table}", row["j"])
    for path in _temp_files_written_since(started):
        try:
            data = path.read_bytes()
        except OSError:
            continue  # removed meanwhile
        text = data.decode("latin-1")
        check(f"temp file {path}", text)
    return found


def _temp_files_written_since(started: float) -> list[Path]:
    """Files under the temp directory and PREFECT_HOME written during the test (not the
    Prefect API database: blocks — the one home of the secrets — are stored there)."""
    import prefect.settings

    api_db = str(prefect.settings.PREFECT_API_DATABASE_CONNECTION_URL.value() or "")
    roots = [Path(tempfile.gettempdir()), Path(str(prefect.settings.PREFECT_HOME.value()))]
    out = []
    for root in roots:
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                path = Path(dirpath) / name
                try:
                    st = path.stat()
                except OSError:
                    continue
                if st.st_mtime < started or st.st_size > 64 * 1024 * 1024 or not path.is_file():
                    continue
                if api_db and path.name.startswith(Path(api_db.split("///")[-1]).name):
                    continue
                out.append(path)
    assert out, "no temporary file written: the scan would prove nothing"
    return out
