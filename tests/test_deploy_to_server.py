"""`prefect deploy --all` against a fresh local Prefect server with a process work pool and worker.

What an operator does, command by command: start a server, create the pool, create the blocks
(``deployments.create_blocks`` from an env file), ``prefect deploy --all``, start a worker,
then ``prefect deployment run a1-to-a2/a1-to-a2 -p campaign_number=…`` to retry one campaign.
Also proves the failure alert: a deployment run killed with SIGKILL ends Crashed, and the
``failure-alert`` deployment's automation mails the error address.

The server runs as the README's production path sets it: Prefect's API authentication
(``PREFECT_SERVER_API_AUTH_STRING``, a string generated here, never written to a file; every
client gets ``PREFECT_API_AUTH_STRING``), its own ``PREFECT_SERVER_ENCRYPTION_KEY``, and the
tracking database reached as the restricted role of ``database/roles.sql``. Without the credential
the block secrets, new flow runs, concurrency limits and variables are refused (401), the
project's commands say which setting is missing or wrong, and the auth string appears nowhere.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from simulators.processes import free_port

pytestmark = [pytest.mark.prefect, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = {"a1-to-a2", "a5-to-a6", "b1-to-b2", "a2-to-a3", "a2-to-a3-webhook", "a4-live-webhook", "daily-report",
            "test-connections", "check-certificate", "update-campaign-status", "reset-campaigns-to-a1",
            "advance-a1-to-a3", "failure-alert", "box-webhook"}


@dataclass
class Server:
    """A running ``prefect server start`` and the environment of a shell pointed at it."""

    env: dict[str, str]  # PREFECT_API_URL, PREFECT_API_AUTH_STRING, ...
    auth: str  # the generated API auth string (user:password)
    encryption_key: str
    home: Path  # the server's PREFECT_HOME: its SQLite database
    log: Path

    @property
    def api_url(self) -> str:
        return self.env["PREFECT_API_URL"]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A real `prefect server start` (SQLite in tmp) with API authentication and its own encryption key."""
    from cryptography.fernet import Fernet

    port = free_port()
    auth = f"content-scaling:{secrets.token_urlsafe(24)}"
    key = Fernet.generate_key().decode()
    base = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    base.update({"PREFECT_API_URL": f"http://127.0.0.1:{port}/api", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                 "DO_NOT_TRACK": "1", "CONTENT_SCALING_HOME": str(ROOT), "PREFECT_UI_URL": f"http://127.0.0.1:{port}",
                 "NO_PROXY": "127.0.0.1,localhost", "PYTHONPATH": str(ROOT)})
    home, log_path = tmp_path / "server-home", tmp_path / "server.log"
    # The server alone knows the server settings; clients (CLI, worker, flows) get the client one.
    server_env = {**base, "PREFECT_HOME": str(home), "PREFECT_SERVER_API_AUTH_STRING": auth,
                  "PREFECT_SERVER_ENCRYPTION_KEY": key}
    env = {**base, "PREFECT_HOME": str(tmp_path / "prefect-home"), "PREFECT_API_AUTH_STRING": auth}
    log = open(log_path, "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port",
                             str(port)], env=server_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:  # the health probe stays open without credentials (load balancers, systemd checks)
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("prefect server did not start: " + log_path.read_text()[-2000:])
    yield Server(env=env, auth=auth, encryption_key=key, home=home, log=log_path)
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(30)
    log.close()


def basic(credential: str) -> dict[str, str]:
    """The Authorization header Prefect's client sends for ``PREFECT_API_AUTH_STRING``."""
    return {"Authorization": "Basic " + base64.b64encode(credential.encode()).decode()}


def prefect(env: dict[str, str], *args: str, timeout: float = 180) -> str:
    out = subprocess.run([sys.executable, "-m", "prefect", "--no-prompt", *args], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"prefect {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}"
    return out.stdout


def api(env: dict[str, str], method: str, path: str, body: dict | None = None) -> object:
    response = httpx.request(method, env["PREFECT_API_URL"] + path, json=body, timeout=30,
                             headers=basic(env["PREFECT_API_AUTH_STRING"]))
    response.raise_for_status()
    return response.json() if response.content else None


def wait_for_state(env: dict[str, str], run_id: str, names: set[str], timeout: float = 120) -> tuple[str, float]:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        state = api(env, "GET", f"/flow_runs/{run_id}")["state"]
        if state and state["name"] in names:
            return state["name"], time.monotonic() - start
        time.sleep(0.1)
    pytest.fail(f"flow run {run_id} never reached {names}")


def test_deploy_all_run_one_campaign_and_alert_on_crash(server: Server, tmp_path: Path, otmm, box,
                                                        restricted_tracking_dsn: str, mail_server, pki) -> None:
    from simulators.common import ServerThread
    from simulators.webhook import WebhookReceiver

    env = server.env
    outputs: list[str] = []  # everything the commands printed, scanned for the auth string at the end
    receiver = WebhookReceiver()
    hooks = ServerThread(receiver.app).start()
    # Blocks, the operator's way: an env file (never committed) and the idempotent command.
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
        f"CS_TRACKING_DSN={restricted_tracking_dsn}", "CS_SMTP_HOST=127.0.0.1", f"CS_SMTP_PORT={mail_server.port}",
        "CS_SMTP_USERNAME=cs-mail", "CS_SMTP_PASSWORD=mail-pass", "CS_SMTP_FROM=content-scaling@example.test",
        f"CS_SMTP_CA_FILE={pki.ca_cert}", "CS_EMAIL_TO=ops@example.test", "CS_EMAIL_ERRORS_TO=errors@example.test",
        f"CS_STATUS_WEBHOOK_URL={hooks.base_url}/hooks/deploy-test",
    ]) + "\n")
    made = subprocess.run([sys.executable, "-m", "deployments.create_blocks", "--env-file", str(env_file)], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    outputs += [made.stdout, made.stderr]

    prefect(env, "work-pool", "create", "content-scaling", "--type", "process")
    started = time.monotonic()
    prefect(env, "deploy", "--all")
    deploy_seconds = time.monotonic() - started
    # Schedules are deployed, but this test drives the runs itself.
    prefect(env, "deployment", "schedule", "pause", "--all")

    deployments = {d["name"]: d for d in api(env, "POST", "/deployments/filter", {"limit": 50})}
    assert set(deployments) == EXPECTED
    a1 = deployments["a1-to-a2"]
    assert [s["schedule"] for s in a1["schedules"]] == [{"interval": 300.0, "anchor_date": a1["schedules"][0]
                                                         ["schedule"]["anchor_date"], "timezone": "Europe/Rome"}]
    assert deployments["daily-report"]["schedules"][0]["schedule"]["cron"] == "0 19 * * *"
    assert a1["concurrency_limit"] == 1 or a1["global_concurrency_limit"]["limit"] == 1
    assert a1["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"
    automations = api(env, "POST", "/automations/filter", {})
    assert any("prefect.flow-run.Crashed" in a["trigger"]["expect"] for a in automations)
    assert any("box.file.uploaded" in a["trigger"]["expect"] and a["trigger"]["within"] == 5.0 for a in automations)
    for run in api(env, "POST", "/flow_runs/filter", {"flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}}):
        api(env, "DELETE", f"/flow_runs/{run['id']}")

    started = time.monotonic()
    _refused_without_the_credential(server, a1, otmm.client_secret)
    _blocks_encrypted_with_the_servers_key(server, otmm.client_secret)
    refusals_seconds = time.monotonic() - started

    # Two A1 campaigns; the operator retries only one of them.
    sim = otmm.sim
    target = sim.add_campaign(number="C000000401", name="Retry Me", status="A1")
    other = sim.add_campaign(number="C000000402", name="Leave Me", status="A1")
    sim.add_asset(target.master_assets_id, "hero.jpg", size=200_000, mime_type="image/jpeg")
    sim.add_asset(other.master_assets_id, "other.jpg", size=200_000, mime_type="image/jpeg")
    root = box.sim.create_folder("0", "Local adaptation")

    worker_log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 - closed below
    worker = subprocess.Popen([sys.executable, "-m", "prefect", "worker", "start", "--pool", "content-scaling",
                               "--limit", "4"], env=env, cwd=ROOT,
                              stdout=worker_log, stderr=subprocess.STDOUT, start_new_session=True)
    commands: dict[tuple[str, str], subprocess.Popen] = {}
    try:
        started = time.monotonic()
        out = prefect(env, "deployment", "run", "a1-to-a2/a1-to-a2", "-p", "campaign_number=C000000401",
                      "-p", f'box_root_folder_id="{root}"')  # -p values are JSON: quote numeric ids
        run_id = next(line.split()[-1] for line in out.splitlines() if "UUID" in line)
        wait_for_state(env, run_id, {"Running", "Completed", "Failed", "Crashed"})
        to_running = time.monotonic() - started  # includes the CLI's own start (~2 s of imports)
        final, _ = wait_for_state(env, run_id, {"Completed", "Failed", "Crashed"})
        total = time.monotonic() - started
        assert final == "Completed", (tmp_path / "worker.log").read_text()[-3000:]
        assert sim.campaign_status(target.folder_id) == "A2"
        assert sim.campaign_status(other.folder_id) == "A1"
        assert [f["name"].split("_", 1)[1] for f in box.sim.files()] == ["hero.jpg"]
        # The project's commands without/with the credential, while the crash below plays out
        # (mostly waiting for the server's services): they change nothing the rest checks.
        commands = _start_commands(server)

        # A run killed by the OS runs no hooks: the automation mails the error address.
        slow = sim.add_campaign(number="C000000403", name="Killed", status="A1")
        sim.add_asset(slow.master_assets_id, "big.mov", size=5_000_000, mime_type="video/quicktime")
        httpx.post(otmm.base_url + "/_sim/faults", json={"path": "/contents$", "kind": "latency", "seconds": 60})
        out = prefect(env, "deployment", "run", "a1-to-a2/a1-to-a2", "-p", "campaign_number=C000000403",
                      "-p", f'box_root_folder_id="{root}"')
        crash_id = next(line.split()[-1] for line in out.splitlines() if "UUID" in line)
        wait_for_state(env, crash_id, {"Running"})
        pid = _flow_run_process(crash_id)
        os.kill(pid, signal.SIGKILL)
        final, _ = wait_for_state(env, crash_id, {"Crashed", "Failed", "Completed"})
        assert final == "Crashed"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            alerts = [m for m in list(mail_server.messages) if crash_id in m.as_string()]
            if alerts:
                break
            time.sleep(0.5)
        else:
            pytest.fail("no error email for the crashed run; worker log:\n" +
                        (tmp_path / "worker.log").read_text()[-3000:])
        assert alerts[0]["To"] == "errors@example.test"
        assert "[a1-to-a2] ERROR: run Crashed" in alerts[0]["Subject"]
        assert sim.campaign_status(slow.folder_id) == "A1"

        # The report from this history, and the UI as a person sees it (headless Chromium).
        out = prefect(env, "deployment", "run", "daily-report/daily-report", "-p", "send=false")
        report_id = next(line.split()[-1] for line in out.splitlines() if "UUID" in line)
        assert wait_for_state(env, report_id, {"Completed", "Failed", "Crashed"})[0] == "Completed"
        outputs += _commands_named_the_missing_or_wrong_credential(server, commands)
        started = time.monotonic()
        outputs += _check_ui(server, tmp_path)
        ui_seconds = time.monotonic() - started
    finally:
        for proc in commands.values():
            if proc.poll() is None:
                proc.kill()
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)
        worker_log.close()
        hooks.stop()
    _auth_string_appears_nowhere(server, tmp_path, [m.as_bytes() for m in list(mail_server.messages)], outputs)
    print(f"\nprefect deploy --all: {deploy_seconds:.1f} s; deployment run → Running {to_running:.1f} s; "
          f"→ Completed {total:.1f} s; 401 checks {refusals_seconds:.1f} s; UI with login {ui_seconds:.1f} s")


def _refused_without_the_credential(server: Server, deployment: dict, secret: str) -> None:
    """Every way to a block secret, a new flow run, the concurrency limits or the variables is
    refused (401) without the right credential; with it the same routes answer, so the 401 is the
    credential's doing."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    env = server.env
    slug_path = "/block_types/slug/content-scaling-dam-credentials/block_documents/name/dam?include_secrets=true"
    dam = api(env, "GET", slug_path)
    assert dam["data"]["client_secret"] == secret  # what the API hands to an authenticated caller
    reads = [("GET", f"/block_documents/{dam['id']}?include_secrets=true", None), ("GET", slug_path, None),
             ("POST", "/block_documents/filter", {"include_secrets": True}), ("POST", "/v2/concurrency_limits/filter", {}),
             ("POST", "/concurrency_limits/filter", {}), ("POST", "/variables/filter", {}),
             ("GET", "/variables/name/anything", None), ("GET", "/admin/settings", None)]
    # Starting runs: with the credential these bodies are refused as invalid (422), without it never read.
    starts = [("POST", f"/deployments/{deployment['id']}/create_flow_run", {"parameters": "not an object"}),
              ("POST", "/flow_runs/", {"name": "no flow id"})]
    user, password = server.auth.split(":", 1)
    wrong = {"no credential": {}, "wrong password": basic(f"{user}:{password[::-1]}"),
             "right password, other user": basic(f"admin:{password}"), "auth string with a newline": basic(server.auth
                                                                                                        + "\n"),
             "auth string as a bearer token": {"Authorization": f"Bearer {server.auth}"},
             "auth string not base64-encoded": {"Authorization": f"Basic {server.auth}"}}
    runs_before = api(env, "POST", "/flow_runs/count", {})
    for method, path, body in reads + starts:
        for name, headers in wrong.items():
            refused = httpx.request(method, server.api_url + path, json=body, headers=headers, timeout=30)
            assert refused.status_code == 401, (name, method, path, refused.status_code)
            assert refused.json() == {"exception_message": "Unauthorized"}
        answered = httpx.request(method, server.api_url + path, json=body, headers=basic(server.auth), timeout=30)
        assert answered.status_code in ({404} if "/variables/name/" in path else {422} if (method, path, body) in
                                        starts else {200}), (method, path, answered.status_code)
    assert api(env, "POST", "/flow_runs/count", {}) == runs_before
    # The websockets (events, logs) authenticate in their first message.
    ws_url = server.api_url.replace("http://", "ws://")
    for path in ("/events/out", "/logs/out", "/events/in"):
        for token in (None, "content-scaling:wrong"):
            with connect(ws_url + path, subprotocols=["prefect"], open_timeout=10) as ws:
                ws.send(json.dumps({"type": "auth", "token": token}))
                with pytest.raises(ConnectionClosed) as closed:
                    ws.recv(timeout=10)
            assert closed.value.rcvd.code == 1008, (path, token)


def _blocks_encrypted_with_the_servers_key(server: Server, secret: str) -> None:
    """PREFECT_SERVER_ENCRYPTION_KEY encrypts the block documents; the database holds no key of its own."""
    from cryptography.fernet import Fernet

    db = sqlite3.connect(f"file:{server.home / 'prefect.db'}?mode=ro", uri=True)
    try:
        [(data,)] = db.execute("SELECT data FROM block_document WHERE name='dam'")
        assert db.execute("SELECT count(*) FROM configuration WHERE key='ENCRYPTION_KEY'").fetchone() == (0,)
    finally:
        db.close()
    assert json.loads(Fernet(server.encryption_key.encode()).decrypt(json.loads(data).encode()))["client_secret"] \
        == secret
    for path in server.home.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def _start_commands(server: Server) -> dict[tuple[str, str], subprocess.Popen]:
    """The project's commands without the credential, with a wrong one, and (the maintenance CLI) with it."""
    commands = {"cli": ["deployments.cli", "test-connections"], "create_blocks": ["deployments.create_blocks"],
                "serve": ["deployments.serve", "--paused"],
                "ui_check": ["deployments.ui_check", "--ui", server.env["PREFECT_UI_URL"], "--flow", "a1-to-a2"]}
    envs = {"missing": {k: v for k, v in server.env.items() if k != "PREFECT_API_AUTH_STRING"},
            "wrong": {**server.env, "PREFECT_API_AUTH_STRING": server.auth + "x"}, "right": server.env}
    # All of them share one check: the CLI and the UI check are tried both ways, the others once.
    cases = [("cli", "missing"), ("cli", "wrong"), ("ui_check", "missing"), ("ui_check", "wrong"),
             ("create_blocks", "wrong"), ("serve", "missing"), ("cli", "right")]
    return {(name, case): subprocess.Popen([sys.executable, "-m", *commands[name]], env=envs[case], cwd=ROOT,
                                           text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for name, case in cases}


def _commands_named_the_missing_or_wrong_credential(server: Server,
                                                    runs: dict[tuple[str, str], subprocess.Popen]) -> list[str]:
    """Without the credential or with a wrong one: one line naming the setting, exit code 1, no
    traceback, nothing printed on stdout; with it, the maintenance CLI works. Returns all they printed."""
    expected = {"missing": f"error: the Prefect API at {server.api_url} requires authentication: set "
                           "PREFECT_API_AUTH_STRING to the server's PREFECT_SERVER_API_AUTH_STRING (user:password)",
                "wrong": f"error: the Prefect API at {server.api_url} refused PREFECT_API_AUTH_STRING (401 "
                         "Unauthorized): it must equal the server's PREFECT_SERVER_API_AUTH_STRING"}
    said = {key: (*proc.communicate(timeout=300), proc.returncode) for key, proc in runs.items()}
    for (name, case), (out, err, code) in said.items():
        if case == "right":
            assert code == 0, out + err
            assert "DAM (dam): ok" in out and "Tracking database (tracking-db): ok" in out, out
            continue
        assert code == 1, (name, case, out, err)
        assert "Traceback" not in out + err and out == "", (name, case, out, err[-2000:])
        assert [line for line in err.splitlines() if "PREFECT" in line] == [expected[case]], (name, case, err)
    return [text for out, err, _ in said.values() for text in (out, err)]


def _check_ui(server: Server, tmp_path: Path) -> list[str]:
    """The UI as a person sees it: without the credential only its login form; after logging in
    with it (``deployments.ui_check``, the operator's command), the runs and the report."""
    import shutil

    from deployments.ui_check import PASSWORD_INPUT, Browser

    if shutil.which("chromium") is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs Debian's chromium")
        return []  # a developer machine without Chromium: everything else above was checked
    ui_url = server.env["PREFECT_UI_URL"]
    with Browser() as browser:
        browser.goto(f"{ui_url}/runs")
        assert browser.wait_for(f"!!{PASSWORD_INPUT}"), browser.text()[:500]
        assert "a1-to-a2" not in browser.text()
        browser.screenshot(tmp_path / "ui" / "without-login.png")
    out = subprocess.run([sys.executable, "-m", "deployments.ui_check", "--ui", ui_url, "--flow", "a1-to-a2", "--flow",
                          "failure-alert", "--flow", "daily-report", "--artifact", "daily-report",
                          *[a for e in ["Daily report", "a1-to-a2", "runs crashed", "Errors (1)"] for a in ("--expect", e)],
                          "--screenshots", str(tmp_path / "ui")], env=server.env, cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("ok  ") == 2, out.stdout  # the Runs page and the report artifact
    return [out.stdout, out.stderr]


def _auth_string_appears_nowhere(server: Server, tmp_path: Path, mails: list[bytes], outputs: list[str]) -> None:
    """Not in the server's database (logs, artifacts, runs, events, deployments), its log, the
    worker's log, the mails, the commands' output, nor prefect.yaml; neither is the encryption key."""
    password = server.auth.split(":", 1)[1]
    needles = [password.encode(), base64.b64encode(server.auth.encode()), server.encryption_key.encode()]
    places: list[tuple[str, bytes]] = [(str(p), p.read_bytes()) for p in [*server.home.rglob("*"),
                                       *(tmp_path / "prefect-home").rglob("*")] if p.is_file()]
    places += [("server.log", server.log.read_bytes()), ("worker.log", (tmp_path / "worker.log").read_bytes()),
               ("prefect.yaml", (ROOT / "prefect.yaml").read_bytes())]
    places += [(f"mail {i}", m) for i, m in enumerate(mails)] + [(f"output {i}", o.encode()) for i, o in
                                                                  enumerate(outputs)]
    assert len(mails) >= 2 and len(places) > 10
    for where, data in places:
        for needle in needles:
            assert needle not in data, where


def _flow_run_process(run_id: str, timeout: float = 30) -> int:
    """The pid of the process executing flow run ``run_id`` (the process worker sets its id in the env)."""
    deadline = time.monotonic() + timeout
    marker = f"PREFECT__FLOW_RUN_ID={run_id}".encode()
    while time.monotonic() < deadline:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    return int(entry.name)
            except OSError:
                continue
        time.sleep(0.2)
    pytest.fail(f"no process runs flow run {run_id}")
