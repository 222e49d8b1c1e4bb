"""The push path end to end against a real `prefect server start` (self-hosted automations have had
bugs: this proves the trigger fires): an agency upload into Box → the simulator's signed webhook
delivery → the receiver (its own process) → a box.file.uploaded event → the a2-to-a3-webhook
deployment's trigger → a run executed by the serving process (`deployments.serve`, the demo's
way) → the file is a DAM asset, seconds after the upload, with every schedule paused. The
server requires API authentication (the receiver's events and the runs carry the credential)
and the tracking database is reached as its restricted role.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clients.tracking_db import BoxUpload, MasterAssetRecord, TrackingDatabase
from simulators.common import ServerThread
from simulators.processes import read_base_url, spawn
from tests.test_deploy_to_server import api, server  # noqa: F401 - the real-server fixture

pytestmark = [pytest.mark.prefect, pytest.mark.slow]
ROOT = Path(__file__).resolve().parent.parent


def seed_campaign(otmm, db: TrackingDatabase, masters: int) -> tuple[str, list[str]]:
    """An A2 campaign whose masters went to Box (as A1→A2 records them); their tracking IDs."""
    c = otmm.sim.add_campaign(number="C000000601", name="Pushed", status="A2")
    ids = []
    for i in range(masters):
        name = f"asset{i}.jpg"
        asset_id = otmm.sim.add_asset(c.master_assets_id, name, size=2_000 + i)
        tid = db.register_master_asset(MasterAssetRecord(
            dam_asset_id=asset_id, campaign_folder_id=c.folder_id, campaign_number="C000000601",
            campaign_name="Pushed", local_campaign_id="C000000601", dam_path=name, file_name=name, extension="jpg",
            size=2_000 + i, metadata={"metadata_element_list": []}))
        db.record_box_upload(BoxUpload(workflow="a1-to-a2", tracking_id=tid, dam_asset_id=asset_id, box_folder_id="0",
                                       box_file_id=f"master-{tid}", box_file_name=f"{tid}_{name}", sha1="0" * 40,
                                       size=2_000 + i), campaign_number="C000000601", flow_run_id=None)
        ids.append(tid)
    return c.folder_id, ids


def wait_until(what: str, check, timeout: float, logs: list[Path]):  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    tails = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2500:]}" for p in logs if p.exists())
    pytest.fail(f"{what} did not happen within {timeout} s\n{tails}")


def test_an_agency_upload_reaches_the_dam_through_the_webhook_trigger(server, tmp_path: Path, otmm, box,  # noqa: F811
                                                                       restricted_tracking_dsn, mail_server, pki) -> None:
    from simulators.creativex import CreativeXSimulator

    # The production setup: API authentication on the server, the tracking database as its role.
    env = dict(server.env)
    tracking_dsn = restricted_tracking_dsn
    cx_key = secrets.token_urlsafe(12)
    cx = ServerThread(CreativeXSimulator(api_key=cx_key).app).start()
    db = TrackingDatabase(tracking_dsn)
    db.migrate()
    campaign, tids = seed_campaign(otmm, db, masters=4)
    agency = box.sim.create_folder("0", "Agency uploads")
    box_config = tmp_path / "box-config.json"
    box_config.write_text(json.dumps({"boxAppSettings": {
        "clientID": box.client_id, "clientSecret": box.client_secret, "appAuth": {
            "publicKeyID": box.keys.key_id, "privateKey": box.keys.private_key_pem,
            "passphrase": box.keys.passphrase}}, "enterpriseID": box.enterprise_id}))
    env_file = tmp_path / "secrets.env"
    env_file.write_text("\n".join([
        f"CS_DAM_BASE_URL={otmm.base_url}", f"CS_DAM_CLIENT_ID={otmm.client_id}",
        f"CS_DAM_CLIENT_SECRET={otmm.client_secret}", f"CS_BOX_CONFIG_FILE={box_config}",
        f"CS_BOX_API_BASE_URL={box.base_url}", f"CS_BOX_UPLOAD_BASE_URL={box.base_url}/api",
        f"CS_TRACKING_DSN={tracking_dsn}", "CS_SMTP_HOST=127.0.0.1", f"CS_SMTP_PORT={mail_server.port}",
        "CS_SMTP_USERNAME=cs-mail", "CS_SMTP_PASSWORD=mail-pass", "CS_SMTP_FROM=content-scaling@example.test",
        f"CS_SMTP_CA_FILE={pki.ca_cert}", "CS_EMAIL_TO=ops@example.test", "CS_EMAIL_ERRORS_TO=errors@example.test",
        f"CS_CREATIVEX_URL={cx.base_url}", f"CS_CREATIVEX_API_KEY={cx_key}",
        f"CS_BOX_WEBHOOK_PRIMARY_KEY={box.webhook_primary_key}",
        f"CS_BOX_WEBHOOK_SECONDARY_KEY={box.webhook_secondary_key}",
    ]) + "\n")
    made = subprocess.run([sys.executable, "-m", "deployments.create_blocks", "--env-file", str(env_file)], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0 and "box-webhook     saved" in made.stdout, made.stdout + made.stderr

    logs = [tmp_path / "receiver.log", tmp_path / "serve.log"]
    parameters = tmp_path / "parameters.json"
    parameters.write_text(json.dumps({"a2-to-a3-webhook": {"agency_folder_id": agency},
                                      "a2-to-a3": {"agency_folder_id": agency}}))
    receiver = spawn([sys.executable, "-m", "deployments.box_webhook_receiver", "--port", "0", "--tls-cert",
                      str(pki.server_cert), "--tls-key", str(pki.server_key)], logs[0], env, ROOT)
    served = spawn([sys.executable, "-m", "deployments.serve", "--parameters", str(parameters), "--paused"], logs[1],
                   {**env, "PREFECT_RUNNER_POLL_FREQUENCY": "1"}, ROOT)
    try:
        address = read_base_url(logs[0], proc=receiver) + "/box/webhook"
        registered = subprocess.run([sys.executable, "-m", "deployments.cli", "box-webhook", "create",
                                     "--agency-folder-id", agency, "--address", address], env=env, cwd=ROOT,
                                    capture_output=True, text=True, timeout=120)
        assert registered.returncode == 0 and ": created" in registered.stdout, registered.stdout + registered.stderr
        deployment = wait_until("serving a2-to-a3-webhook", lambda: next(
            (d for d in api(env, "POST", "/deployments/filter", {"limit": 50}) if d["name"] == "a2-to-a3-webhook"),
            None), 180, logs)
        automation = wait_until("the trigger's automation", lambda: [
            a for a in api(env, "POST", "/automations/filter", {})
            if "box.file.uploaded" in a["trigger"].get("expect", [])], 60, logs)
        assert automation[0]["trigger"]["within"] == 5.0
        poll = next(d for d in api(env, "POST", "/deployments/filter", {"limit": 50}) if d["name"] == "a2-to-a3")
        assert poll["schedules"] and not any(s["active"] for s in poll["schedules"])  # only the push can import

        # One upload: the push path alone imports it (every schedule is paused).
        name = f"{tids[0]}_Pushed_it-IT_Lazio.jpg"
        uploaded = time.monotonic()
        box.sim.put_file(agency, name, b"localised by push" * 100)
        wait_until("the DAM asset", lambda: [u for u in otmm.sim.uploaded_assets() if u["name"] == name], 90, logs)
        latency = time.monotonic() - uploaded
        def webhook_runs() -> list[dict]:
            return api(env, "POST", "/flow_runs/filter", {"flow_runs": {"deployment_id": {"any_": [deployment["id"]]}}})

        def all_ended() -> bool:
            return all(r["state"]["type"] in ("COMPLETED", "CANCELLED", "FAILED", "CRASHED") for r in webhook_runs())

        wait_until("the run's end", all_ended, 60, logs)
        [first] = [r for r in webhook_runs() if r["state"]["type"] != "CANCELLED"]
        assert first["state"]["type"] == "COMPLETED" and first["created_by"]["type"] == "AUTOMATION", first["state"]
        assert "1 announced file(s)" in first["state"]["message"]
        assert [d["status"] for d in box.sim.webhook_deliveries()] == [200]

        # A burst: three uploads in about a second become one run, and all arrive.
        burst = [f"{tid}_Burst_it-IT_Lazio.jpg" for tid in tids[1:]]
        for n in burst:
            box.sim.put_file(agency, n, n.encode() * 50)
            time.sleep(0.3)
        wait_until("the burst in the DAM", lambda: {u["name"] for u in otmm.sim.uploaded_assets()} >= set(burst),
                   90, logs)
        wait_until("the burst's run's end", all_ended, 60, logs)
        later = [r for r in webhook_runs() if r["id"] != first["id"] and r["state"]["type"] != "CANCELLED"]
        assert [(r["state"]["type"], "3 announced file(s)" in r["state"]["message"]) for r in later] == [
            ("COMPLETED", True)], [(r["state"]["name"], r["state"]["message"]) for r in later]
        assert otmm.sim.campaign_status(campaign) == "A3"  # every master has its localised version back
        assert len(otmm.sim.uploaded_assets()) == 4 and db.webhook_uploads_waiting() == 0
        print(f"\nupload → DAM asset through the webhook trigger: {latency:.1f} s; a burst of 3 uploads: one run")
    finally:
        for proc in (served, receiver):
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(proc.pid, signal.SIGKILL)
        cx.stop()
        db.close()
        assert "refused" not in logs[0].read_text(), "the receiver refused a genuine delivery"
