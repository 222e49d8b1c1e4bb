"""`prefect deploy --all` against a fresh local Prefect server with a process work pool and worker.

What an operator does, command by command: start a server, create the pool, create the blocks
(``deployments.create_blocks`` from an env file), ``prefect deploy --all``, start a worker,
then ``prefect deployment run a1-to-a2/a1-to-a2 -p campaign_number=…`` to retry one campaign.
Also proves the failure alert: a deployment run killed with SIGKILL ends Crashed, and the
``failure-alert`` deployment's automation mails the error address.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from simulators.processes import free_port

pytestmark = [pytest.mark.prefect, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = {"a1-to-a2", "a5-to-a6", "b1-to-b2", "a2-to-a3", "a4-live-webhook", "daily-report", "test-connections",
            "check-certificate", "update-campaign-status", "reset-campaigns-to-a1", "advance-a1-to-a3", "failure-alert"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A real `prefect server start` (SQLite in tmp) and the environment of a shell pointed at it."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({"PREFECT_HOME": str(tmp_path / "prefect-home"), "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "CONTENT_SCALING_HOME": str(ROOT),
                "PREFECT_UI_URL": f"http://127.0.0.1:{port}", "NO_PROXY": "127.0.0.1,localhost",
                "PYTHONPATH": str(ROOT)})
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port",
                             str(port)], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("prefect server did not start: " + (tmp_path / "server.log").read_text()[-2000:])
    yield env
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(30)
    log.close()


def prefect(env: dict[str, str], *args: str, timeout: float = 180) -> str:
    out = subprocess.run([sys.executable, "-m", "prefect", "--no-prompt", *args], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"prefect {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}"
    return out.stdout


def api(env: dict[str, str], method: str, path: str, body: dict | None = None) -> object:
    response = httpx.request(method, env["PREFECT_API_URL"] + path, json=body, timeout=30)
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


def test_deploy_all_run_one_campaign_and_alert_on_crash(server, tmp_path: Path, otmm, box, tracking_dsn,
                                                        mail_server, pki) -> None:
    from simulators.common import ServerThread
    from simulators.webhook import WebhookReceiver

    env = server
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
        f"CS_TRACKING_DSN={tracking_dsn}", "CS_SMTP_HOST=127.0.0.1", f"CS_SMTP_PORT={mail_server.port}",
        "CS_SMTP_USERNAME=cs-mail", "CS_SMTP_PASSWORD=mail-pass", "CS_SMTP_FROM=content-scaling@example.test",
        f"CS_SMTP_CA_FILE={pki.ca_cert}", "CS_EMAIL_TO=ops@example.test", "CS_EMAIL_ERRORS_TO=errors@example.test",
        f"CS_STATUS_WEBHOOK_URL={hooks.base_url}/hooks/deploy-test",
    ]) + "\n")
    made = subprocess.run([sys.executable, "-m", "deployments.create_blocks", "--env-file", str(env_file)], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr

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
    for run in api(env, "POST", "/flow_runs/filter", {"flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}}):
        api(env, "DELETE", f"/flow_runs/{run['id']}")

    # Two A1 campaigns; the operator retries only one of them.
    sim = otmm.sim
    target = sim.add_campaign(number="C000000401", name="Retry Me", status="A1")
    other = sim.add_campaign(number="C000000402", name="Leave Me", status="A1")
    sim.add_asset(target.master_assets_id, "hero.jpg", size=200_000, mime_type="image/jpeg")
    sim.add_asset(other.master_assets_id, "other.jpg", size=200_000, mime_type="image/jpeg")
    root = box.sim.create_folder("0", "Local adaptation")

    worker_log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 - closed below
    worker = subprocess.Popen([sys.executable, "-m", "prefect", "worker", "start", "--pool", "content-scaling",
                               "--limit", "4"], env={**env, "CONTENT_SCALING_RETRY_BACKOFF_S": "0.05"}, cwd=ROOT,
                              stdout=worker_log, stderr=subprocess.STDOUT, start_new_session=True)
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
        _check_ui(env["PREFECT_UI_URL"], tmp_path)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)
        worker_log.close()
        hooks.stop()
    print(f"\nprefect deploy --all: {deploy_seconds:.1f} s; deployment run → Running {to_running:.1f} s; "
          f"→ Completed {total:.1f} s")


def _check_ui(ui_url: str, tmp_path: Path) -> None:
    import shutil

    from deployments.ui_check import check_ui

    if shutil.which("chromium") is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs Debian's chromium")
        return  # a developer machine without Chromium: everything else above was checked
    checks = check_ui(ui_url, ["a1-to-a2", "failure-alert", "daily-report"], "daily-report",
                      ["Daily report", "a1-to-a2", "runs crashed", "Errors (1)"], tmp_path / "ui")
    assert all(c.ok for c in checks), [c for c in checks if not c.ok]


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
