"""``make demo``: the whole system on this machine, on embedded defaults.

Starts a local Prefect server (with its UI), the OTMM, Box and CreativeX simulators (seeded
with campaigns in every status), an SMTP server, a status-webhook receiver, the Box webhook
receiver (``deployments.box_webhook_receiver``, HTTPS with the demo CA) and an embedded
PostgreSQL; saves the blocks pointing at them; serves every deployment of ``prefect.yaml``
(``deployments.serve``); runs ``a1-to-a2``, ``a2-to-a3`` (with agency uploads waiting in Box),
then registers the Box webhook (``box-webhook``) and uploads one more agency file, which the
``a2-to-a3-webhook`` trigger imports (the upload→DAM latency is printed); then ``a5-to-a6``,
``b1-to-b2``, ``a4-live-webhook`` and ``daily-report`` as deployment runs; then turns the
schedules on, checks the UI with a headless Chromium when one is installed, and prints what
happened.

The demo's Prefect server listens on 127.0.0.1 only and runs without API authentication (it
says so): it is for this machine. Production servers require it (README, "Securing the Prefect
server"). Everything it starts keeps running so you can look around in the UI; ``make demo-stop``
(``python -m deployments.demo stop``) stops all of it. State lives in ``.demo/``.
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

import httpx

from simulators.processes import free_port, port_free, read_base_url, spawn, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = ROOT / ".demo"
PIDS_FILE = DEMO_DIR / "pids.json"
PG_DIR = DEMO_DIR / "postgres"
PREFECT_PORT = 4200


def main(argv: list[str]) -> int:
    if argv[:1] == ["stop"]:
        stop()
        return 0
    return start()


# -- stopping -----------------------------------------------------------------------------
def stop(quiet: bool = False) -> None:
    """Stop every process a previous demo started, and its PostgreSQL."""
    from clients.embedded_postgres import stop_embedded_postgres

    pids = json.loads(PIDS_FILE.read_text()) if PIDS_FILE.exists() else {}
    for name, pid in pids.items():
        try:
            os.killpg(pid, signal.SIGTERM)
            if not quiet:
                print(f"stopped {name} (pid {pid})")
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    for pid in pids.values():
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.1)
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
    PIDS_FILE.unlink(missing_ok=True)
    if stop_embedded_postgres(PG_DIR) and not quiet:
        print("stopped the embedded PostgreSQL")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# -- starting -----------------------------------------------------------------------------
def start() -> int:
    started = time.monotonic()
    stop(quiet=True)
    _reset_demo_dir()
    env = _base_env()
    pids: dict[str, int] = {}

    def remember(name: str, proc: subprocess.Popen) -> None:
        pids[name] = proc.pid
        PIDS_FILE.write_text(json.dumps(pids))

    print("Starting the local Prefect server, the simulators and PostgreSQL…")
    prefect_port = PREFECT_PORT if port_free(PREFECT_PORT) else free_port()
    prefect_url = f"http://127.0.0.1:{prefect_port}"
    env["PREFECT_UI_URL"] = prefect_url  # every email links to its flow run in this UI
    remember("prefect-server", _spawn(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(prefect_port)],
        "prefect-server", env))

    otmm_secret, box_secret = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    otmm_proc = _spawn([sys.executable, "-m", "simulators.otmm", "--port", "0", "--seed", "demo"], "otmm",
                       {**env, "OTMM_SIM_CLIENT_ID": "demo-dam-client", "OTMM_SIM_CLIENT_SECRET": otmm_secret})
    remember("otmm-simulator", otmm_proc)

    from simulators.certs import make_pki
    from simulators.jwt_keys import make_jwt_app_keys

    pki = make_pki(DEMO_DIR / "pki", client_password=secrets.token_urlsafe(12))
    keys = make_jwt_app_keys("demo-key", secrets.token_urlsafe(16))
    public_key = DEMO_DIR / "box-app-public-key.pem"
    public_key.write_text(keys.public_key_pem)
    hook_keys = (secrets.token_urlsafe(24), secrets.token_urlsafe(24))  # the app's webhook signature keys
    # Box delivers webhooks to HTTPS on port 443 with a public certificate; the demo's receiver is
    # on 127.0.0.1 with the demo CA's certificate (the simulator's one relaxation, README "Simulators").
    box_proc = _spawn([sys.executable, "-m", "simulators.box", "--port", "0", "--storage", str(DEMO_DIR / "box"),
                       "--public-key", f"{keys.key_id}={public_key}", "--webhook-ca", str(pki.ca_cert),
                       "--webhook-any-port", "--webhook-retry-base-s", "5"], "box",
                      {**env, "BOX_SIM_CLIENT_ID": "demo-box-client", "BOX_SIM_CLIENT_SECRET": box_secret,
                       "BOX_SIM_WEBHOOK_PRIMARY_KEY": hook_keys[0], "BOX_SIM_WEBHOOK_SECONDARY_KEY": hook_keys[1]})
    remember("box-simulator", box_proc)

    from clients.embedded_postgres import embedded_postgres_dsn

    embedded_postgres_dsn(PG_DIR, keep_running=True)
    otmm_url = _read_base_url("otmm")
    box_url = _read_base_url("box")
    wait_healthy(prefect_url + "/api/health", "prefect-server", timeout=120)
    os.environ["PREFECT_API_URL"] = prefect_url + "/api"
    print(f"  Prefect API {prefect_url}/api · DAM {otmm_url} · Box {box_url} · PostgreSQL in {PG_DIR}")
    print("  The demo's Prefect server runs WITHOUT API authentication, listening on 127.0.0.1 only: anyone on\n"
          "  this machine can read its blocks. A production server requires it (README, 'Securing the Prefect server').")

    cx_key = secrets.token_urlsafe(16)
    remember("creativex-simulator", _spawn([sys.executable, "-m", "simulators.creativex", "--port", "0"], "creativex",
                                           {**env, "CREATIVEX_SIM_API_KEY": cx_key}))
    creativex_url = _read_base_url("creativex")
    mail_password = secrets.token_urlsafe(16)
    remember("smtp-server", _spawn([sys.executable, "-m", "simulators.mail", "--port", "0", "--directory",
                                    str(DEMO_DIR / "mail"), "--cert", str(pki.server_cert), "--key",
                                    str(pki.server_key)], "smtp",
                                   {**env, "MAIL_SIM_USERNAME": "demo-mail", "MAIL_SIM_PASSWORD": mail_password}))
    remember("webhook-receiver", _spawn([sys.executable, "-m", "simulators.webhook", "--port", "0"], "webhook", env))
    smtp_port = int(_read_base_url("smtp", schemes=("smtp://",)).rsplit(":", 1)[1])
    webhook_url = _read_base_url("webhook")
    roots = _save_blocks(otmm_url, otmm_secret, box_url, box_secret, keys, creativex_url, cx_key)
    _save_notification_blocks(smtp_port, mail_password, pki.ca_cert.read_text(), webhook_url)
    from blocks.box_webhook import BoxWebhookKeys

    BoxWebhookKeys(primary_key=hook_keys[0], secondary_key=hook_keys[1]).save("box-webhook", overwrite=True)
    remember("box-webhook-receiver", _spawn(
        [sys.executable, "-m", "deployments.box_webhook_receiver", "--port", "0", "--tls-cert", str(pki.server_cert),
         "--tls-key", str(pki.server_key)], "box-webhook-receiver", {**env, "PREFECT_API_URL": prefect_url + "/api"}))
    receiver_url = _read_base_url("box-webhook-receiver")
    print(f"  Saved block: box-webhook; Box webhook receiver {receiver_url}")
    campaigns_before = _campaigns(otmm_url)

    print("\nServing every deployment of prefect.yaml (schedules paused until the demo's own runs are done)…")
    parameters = DEMO_DIR / "parameters.json"
    parameters.write_text(json.dumps({
        "a1-to-a2": {"box_root_folder_id": roots["a1-to-a2"]}, "a5-to-a6": {"box_root_folder_id": roots["a5-to-a6"]},
        "b1-to-b2": {"box_root_folder_id": roots["b1-to-b2"]}, "a2-to-a3": {"agency_folder_id": roots["agency"]},
        "a2-to-a3-webhook": {"agency_folder_id": roots["agency"]}}))
    # The serving process looks for runs to start every 2 s (Prefect's default is 10 s): a run the
    # webhook trigger creates starts that much sooner.
    remember("deployments-served", _spawn([sys.executable, "-m", "deployments.serve", "--parameters",
                                           str(parameters), "--paused"], "serve", {**env, **_PREFECT_CLIENT_ENV,
                                                                                    "PREFECT_API_URL": prefect_url + "/api",
                                                                                    "PREFECT_RUNNER_POLL_FREQUENCY": "2"}))
    _wait_for_deployments(timeout=120)

    states = {}
    print("\nRunning a1-to-a2 (deployment run, executed by the serving process)…")
    states["a1-to-a2"], seconds = _run("a1-to-a2")
    _report(states["a1-to-a2"], seconds)

    print("\nAgencies return localised files for C000000078, all but one (plus two files that cannot be matched)…")
    last_master = _seed_agency_uploads(roots["agency"])
    print("Running a2-to-a3 (the poll)…")
    states["a2-to-a3"], _ = _run("a2-to-a3")
    _report(states["a2-to-a3"])

    print("\nRegistering the Box webhook on the agency folder (box-webhook create), then the agency uploads the "
          "last file: no waiting for the schedule…")
    states["box-webhook"], _ = _run("box-webhook", {"action": "create", "address": receiver_url + "/box/webhook",
                                                    "agency_folder_id": roots["agency"]})
    print(f"  {states['box-webhook'].message}")
    states["a2-to-a3-webhook"] = _webhook_import(roots["agency"], last_master, otmm_url, prefect_url)

    for name in ("a5-to-a6", "b1-to-b2"):
        print(f"\nRunning {name}…")
        states[name], seconds = _run(name)
        _report(states[name], seconds)

    print("\nRunning a4-live-webhook…")
    states["a4-live-webhook"], _ = _run("a4-live-webhook")
    _report(states["a4-live-webhook"])
    received = httpx.get(webhook_url + "/_sim/webhook/received", timeout=10).json()["received"]
    print(f"  the status webhook received {len(received)} message(s), e.g. {received[0]['body'] if received else '-'}")

    print("\nRunning daily-report (from the flow-run history above)…")
    states["daily-report"], _ = _run("daily-report")
    report = states["daily-report"].result(raise_on_failure=False)
    if hasattr(report, "total"):
        print(f"  {states['daily-report'].name}: total {report.total}")
    else:
        print(f"  {states['daily-report'].name}: {states['daily-report'].message}")
    resumed = _resume_schedules()
    print(f"\nSchedules now active ({resumed} of them): transitions every 5 minutes, daily-report at 19:00 "
          "Europe/Rome; the serving process runs them while the demo is up.")

    after = _campaigns(otmm_url)
    changed = [n for n in after if campaigns_before.get(n, {}).get("status") != after[n].get("status")]
    moves = ", ".join(f"{n} {campaigns_before[n]['status']}→{after[n]['status']}" for n in sorted(changed))
    print(f"\nDAM status changes: {moves or 'none'}")
    files = httpx.get(box_url + "/_sim/box/files", timeout=10).json()
    files = files.get("files", files) if isinstance(files, dict) else files
    print(f"Box now holds {len(files)} file(s), e.g.:")
    for f in sorted(files, key=lambda f: f["path"])[:6]:
        print(f"  /{f['path']}  ({f['size']} bytes, sha1 {f['sha1'][:10]}…)")
    ui_ok = _check_ui(prefect_url, list(states))
    print(f"\nPrefect UI:  {prefect_url}  (Runs: one flow run per flow with its table artifacts; Artifacts: "
          "'daily-report')")
    mails = sorted((DEMO_DIR / "mail").glob("*.eml"))
    print(f"Mails:       {len(mails)} sent, kept as .eml files in {DEMO_DIR / 'mail'} (open them in any mail program)")
    for subject, link in _run_links(mails)[:3]:
        print(f"             {subject[:70]} → {link}")
    print(f"Logs:        {DEMO_DIR / 'logs'}")
    print("Stop it all: make demo-stop")
    print(f"Demo wall time: {time.monotonic() - started:.1f} s")
    return 0 if ui_ok and all(s.is_completed() for s in states.values()) else 1


def _run_links(mails: list[Path]) -> list[tuple[str, str]]:
    """(subject, link to the flow run) of the emails that link to their run."""
    import email
    import email.policy
    import re

    found = []
    for path in mails:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        link = re.search(r"https?://\S+/runs/flow-run/[0-9a-f-]{36}", message.get_body(("plain",)).get_content())
        if link:
            found.append((str(message["Subject"]), link.group(0)))
    return found


def _check_ui(prefect_url: str, flows: list[str]) -> bool:
    """The UI as a person sees it (headless Chromium); True when it shows the runs and the report."""
    from deployments.ui_check import check_ui, chromium

    print("\nChecking the UI with a headless Chromium…")
    if chromium() is None:
        print("  skipped: Chromium is not installed (apt-get install chromium)")
        return True
    checks = check_ui(prefect_url, flows, "daily-report", ["Daily report", "total", "Campaigns"], DEMO_DIR / "ui")
    for c in checks:
        print(f"  {'ok' if c.ok else 'FAILED'}: {c.page} {c.url}" + (f" (missing {c.missing})" if c.missing else "")
              + (f"  screenshot {c.screenshot}" if c.screenshot else ""))
    return all(c.ok for c in checks)


# Flows return their summary as the run's result; persisted so this process can read what the
# serving process's runs returned (demo only: both share .demo/prefect-home).
_PREFECT_CLIENT_ENV = {"PREFECT_RESULTS_PERSIST_BY_DEFAULT": "true"}


def _run(deployment: str, parameters: dict | None = None) -> tuple:
    """Run ``<deployment>/<deployment>``, wait; its final state and how long the flow ran (s)."""
    from prefect.deployments import run_deployment

    run = run_deployment(f"{deployment}/{deployment}", parameters=parameters, timeout=900, poll_interval=1)
    seconds = (run.end_time - run.start_time).total_seconds() if run.start_time and run.end_time else None
    return run.state, seconds


def _wait_for_deployments(timeout: float) -> None:
    from prefect import get_client

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            if len(client.read_deployments()) >= len(_deployment_names()):
                return
            time.sleep(0.5)
    raise RuntimeError(f"the deployments were not served; see {DEMO_DIR / 'logs' / 'serve.log'}")


def _deployment_names() -> list[str]:
    import yaml

    return [d["name"] for d in yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]]


def _resume_schedules() -> int:
    """Activate every served schedule (they were served paused); returns how many."""
    from prefect import get_client

    resumed = 0
    with get_client(sync_client=True) as client:
        for deployment in client.read_deployments():
            for schedule in deployment.schedules:
                client.update_deployment_schedule(deployment.id, schedule.id, active=True)
                resumed += 1
    return resumed


def _reset_demo_dir() -> None:
    import shutil

    if DEMO_DIR.exists():
        shutil.rmtree(DEMO_DIR)
    (DEMO_DIR / "logs").mkdir(parents=True)
    (DEMO_DIR / "box").mkdir()


def _base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({
        "PREFECT_HOME": str(DEMO_DIR / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_UI_URL": "",  # set to the demo server's address once its port is known
        "NO_PROXY": "127.0.0.1,localhost",
        "PYTHONPATH": str(ROOT),
    })
    os.environ.update({k: env[k] for k in ("PREFECT_HOME", "PREFECT_SERVER_ANALYTICS_ENABLED", "DO_NOT_TRACK")})
    os.environ.update(_PREFECT_CLIENT_ENV)
    return env


def _spawn(cmd: list[str], name: str, env: dict[str, str]) -> subprocess.Popen:
    return spawn(cmd, DEMO_DIR / "logs" / f"{name}.log", env, ROOT)


def _read_base_url(name: str, schemes: tuple[str, ...] = ("http://", "https://")) -> str:
    return read_base_url(DEMO_DIR / "logs" / f"{name}.log", schemes)


def _save_blocks(otmm_url: str, otmm_secret: str, box_url: str, box_secret: str, keys, creativex_url: str,  # noqa: ANN001
                 creativex_key: str) -> dict[str, str]:
    """Save the blocks (secrets only there) and return the Box folders of each workflow."""
    from blocks.box import BoxCredentials
    from blocks.creativex import CreativeXCredentials
    from blocks.dam import DamCredentials
    from blocks.tracking_database import TrackingDatabaseBlock

    DamCredentials(base_url=otmm_url, auth_method="oauth2", client_id="demo-dam-client",
                   client_secret=otmm_secret).save("dam", overwrite=True)
    box = BoxCredentials(client_id="demo-box-client", client_secret=box_secret, public_key_id=keys.key_id,
                         private_key=keys.private_key_pem, private_key_passphrase=keys.passphrase,
                         enterprise_id="12345", api_base_url=box_url, upload_base_url=box_url + "/api")
    box.save("box", overwrite=True)
    TrackingDatabaseBlock(embedded_data_dir=str(PG_DIR)).save("tracking-db", overwrite=True)
    CreativeXCredentials(url=creativex_url, api_key=creativex_key).save("creativex", overwrite=True)
    print("  Saved blocks: dam, box, tracking-db, creativex")
    store = box.get_client()
    return {"a1-to-a2": store.ensure_folder_path("0", ["Local adaptation"]),
            "agency": store.ensure_folder_path("0", ["Agency uploads"]),
            "a5-to-a6": store.ensure_folder_path("0", ["Revisions"]),
            "b1-to-b2": store.ensure_folder_path("0", ["Global masters"])}


def _save_notification_blocks(smtp_port: int, mail_password: str, ca_pem: str, webhook_url: str) -> None:
    from blocks.mail_server import MailServer
    from blocks.status_webhook import StatusWebhook

    MailServer(host="127.0.0.1", port=smtp_port, username="demo-mail", password=mail_password,
               from_address="content-scaling@demo.test", ca_bundle_pem=ca_pem,
               default_recipients=["marketing-ops@demo.test"], error_recipients=["content-scaling-errors@demo.test"],
               ).save("email", overwrite=True)
    StatusWebhook(url=f"{webhook_url}/hooks/{secrets.token_urlsafe(12)}").save("status-webhook", overwrite=True)
    print("  Saved blocks: email, status-webhook")


def _seed_agency_uploads(agency_folder_id: str) -> dict:
    """What agencies would upload: a localised file per master of C000000078 but the last, and two
    strays; returns the last master (its file arrives later, through the webhook)."""
    from blocks.box import BoxCredentials
    from blocks.tracking_database import TrackingDatabaseBlock

    store = BoxCredentials.load("box").get_client()
    masters = TrackingDatabaseBlock.load("tracking-db").get_client().fetch_all(
        "SELECT tracking_id, file_name FROM master_assets WHERE campaign_number='C000000078' ORDER BY tracking_id")
    italy = store.ensure_folder_path(agency_folder_id, ["Italy"])
    for row in masters[:-1]:
        stem, _, ext = row["file_name"].rpartition(".")
        data = f"localised {row['file_name']} for Lazio".encode() * 2000
        store.upload_stream(italy, f"{row['tracking_id']}_{stem} IT_it-IT_Lazio.{ext}", iter([data]), len(data))
    for stray in ("hero_final_v2.jpg", "ZZZZZZ_Banner_de-DE_Bayern.png"):
        store.upload_stream(agency_folder_id, stray, iter([b"stray"]), 5)
    return masters[-1]


def _webhook_import(agency_folder_id: str, master: dict, otmm_url: str, prefect_url: str):  # noqa: ANN202
    """Upload the last localised file into Box and time it until the DAM holds it (the webhook
    delivery, the receiver, the box.file.uploaded event, the trigger, the a2-to-a3-webhook run).
    Returns the triggered run's state."""
    from prefect import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    from blocks.box import BoxCredentials

    stem, _, ext = master["file_name"].rpartition(".")
    name = f"{master['tracking_id']}_{stem} IT_it-IT_Lazio.{ext}"
    data = f"localised {master['file_name']} for Lazio".encode() * 2000
    store = BoxCredentials.load("box").get_client()
    uploaded = time.monotonic()
    store.upload_stream(store.ensure_folder_path(agency_folder_id, ["Italy"]), name, iter([data]), len(data))
    deadline = uploaded + 120
    while time.monotonic() < deadline:
        if any(u["name"] == name for u in httpx.get(otmm_url + "/_sim/otmm/uploads", timeout=10).json()["uploads"]):
            break
        time.sleep(0.2)
    else:
        print(f"  not in the DAM after 120 s: see {DEMO_DIR / 'logs' / 'box-webhook-receiver.log'} and serve.log")
    latency = time.monotonic() - uploaded
    with get_client(sync_client=True) as client:
        deadline = time.monotonic() + 60
        while True:
            runs = [r for r in client.read_flow_runs(
                deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=["a2-to-a3-webhook"])),
                sort=FlowRunSort.EXPECTED_START_TIME_DESC) if r.state and not r.state.is_cancelled()]
            if (runs and runs[0].state.is_final()) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    if not runs:
        print("  no a2-to-a3-webhook run was triggered")
        from prefect.states import Failed

        return Failed(message="no triggered run")
    run = runs[0]
    print(f"  {name}: upload → DAM asset in {latency:.1f} s, by the triggered run {run.name!r} "
          f"({prefect_url}/runs/flow-run/{run.id})")
    print(f"  {run.state.name}: {run.state.message}")
    return run.state


def _campaigns(otmm_url: str) -> dict[str, dict]:
    response = httpx.get(otmm_url + "/_sim/otmm/campaigns", timeout=10)
    response.raise_for_status()
    payload = response.json()
    items = payload.get("campaigns", payload) if isinstance(payload, dict) else payload
    return {c["number"]: c for c in items}


def _report(state, seconds: float | None = None) -> None:  # noqa: ANN001
    """Print a flow run's outcome from its returned summary."""
    try:
        data = state.result(raise_on_failure=False)
    except Exception:  # noqa: BLE001 - the report prints what it can
        data = None
    print(f"  {state.name}: {state.message}")
    if not isinstance(data, dict):
        return
    for c in data.get("campaigns", []):
        print(f"    {c['number']} {c['name']!r}: {c['outcome']}, status {c['status_before']} → {c['status_after']},"
              f" {c['assets']} asset(s), {c['failed']} failed")
    for f in data.get("files", []):
        print(f"    {f['box_path']}: {f['outcome']}{' — ' + f['reason'] if f['reason'] else ''}")
    if "summary" in data and seconds:
        moved = data["summary"]["bytes_transferred"]
        print(f"    moved {moved / 1e6:.1f} MB in {seconds:.1f} s ({moved / 1e6 / seconds:.1f} MB/s including Prefect"
              " and database overhead)")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
