"""Worlds for the reliability suites that run flows in child processes: fresh simulators and
database per scenario (the Prefect API and block names are shared), seeding, a flow process
started ahead of time, kill points driven by the simulators' request observers, and a
snapshot of everything a run changes with random IDs normalised away."""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import pytest

from clients.tracking_db import BoxUpload, MasterAssetRecord, TrackingDatabase
from simulators.common import ServerThread

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import json, sys
from flows.a1_to_a2 import a1_to_a2
from flows.a2_to_a3 import a2_to_a3
from flows.a2_to_a3_webhook import a2_to_a3_webhook
print("ready", flush=True)
job = json.loads(sys.stdin.readline())
if job["flow"] == "a1_to_a2":
    a1_to_a2(box_root_folder_id=job["folder"], return_state=True)
elif job["flow"] == "a2_to_a3_webhook":
    a2_to_a3_webhook(agency_folder_id=job["folder"], return_state=True)
else:
    a2_to_a3(agency_folder_id=job["folder"], return_state=True)
print("done", flush=True)
"""


class Child:
    """A flow process, started ahead of time (importing Prefect takes seconds) and told to go."""

    def __init__(self, log: Path) -> None:
        import prefect.settings

        env = {**os.environ, "PREFECT_API_URL": prefect.settings.PREFECT_API_URL.value(),
               "PYTHONPATH": str(ROOT), "PREFECT_LOGGING_LEVEL": "WARNING"}
        self.log = log.open("w")
        self._ready = False
        self.proc = subprocess.Popen([sys.executable, "-c", CHILD], cwd=ROOT, env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)

    def ready(self) -> None:
        """Wait until the process has imported the flows."""
        if not self._ready:
            assert self.proc.stdout.readline().strip() == "ready", self.log.name
            self._ready = True

    def go(self, flow: str, folder: str) -> None:
        self.ready()
        self.proc.stdin.write(json.dumps({"flow": flow, "folder": folder}) + "\n")
        self.proc.stdin.flush()

    def wait(self, timeout: float = 120) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            self.log.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


    def sigkill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)


FORK_SERVER = r"""
import json, os, sys, threading
from flows.a1_to_a2 import a1_to_a2
from flows.a2_to_a3 import a2_to_a3
print("ready", flush=True)
for line in sys.stdin:
    job = json.loads(line)
    assert threading.active_count() == 1, threading.enumerate()  # fork only a thread-free process
    pid = os.fork()
    if pid == 0:
        try:
            if job["flow"] == "a1_to_a2":
                a1_to_a2(box_root_folder_id=job["folder"], return_state=True)
            else:
                a2_to_a3(agency_folder_id=job["folder"], return_state=True)
        finally:
            os._exit(0)
    print(f"pid {pid}", flush=True)
    _, status = os.waitpid(pid, 0)
    print(f"exit {status}", flush=True)
"""


class FlowForks:
    """One process imports Prefect and the flows once, then forks a fresh flow process per run
    (a fork costs milliseconds where an import costs seconds); each run can be SIGKILLed."""

    def __init__(self, log: Path) -> None:
        import prefect.settings

        env = {**os.environ, "PREFECT_API_URL": prefect.settings.PREFECT_API_URL.value(),
               "PYTHONPATH": str(ROOT), "PREFECT_LOGGING_LEVEL": "WARNING"}
        self.log = log.open("w")
        self.server = subprocess.Popen([sys.executable, "-c", FORK_SERVER], cwd=ROOT, env=env, stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.pid: int | None = None
        self._pid_known = threading.Event()
        self._ready = False

    def go(self, flow: str, folder: str) -> None:
        if not self._ready:
            assert self.server.stdout.readline().strip() == "ready", self.log.name
            self._ready = True
        self.pid = None
        self._pid_known.clear()
        self.server.stdin.write(json.dumps({"flow": flow, "folder": folder}) + "\n")
        self.server.stdin.flush()
        line = self.server.stdout.readline().split()
        assert line and line[0] == "pid", (line, self.log.name)
        self.pid = int(line[1])
        self._pid_known.set()

    def wait(self, timeout: float = 120) -> int:
        """The run's exit: ``-signal`` when it was killed (like ``Popen.returncode``)."""
        line = self.server.stdout.readline().split()
        assert line and line[0] == "exit", (line, self.log.name)
        status = int(line[1])
        return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)

    def sigkill(self) -> None:
        # a request can arrive before the test has read the pid: wait for it (milliseconds)
        assert self._pid_known.wait(10), "the fork server never reported the run's pid"
        os.kill(self.pid, signal.SIGKILL)

    def close(self) -> None:
        if self.server.poll() is None:
            self.server.stdin.close()
            try:
                self.server.wait(10)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
        self.log.close()


@dataclass
class World:
    """Fresh simulators and database for one kill point (the Prefect API and blocks' names are shared)."""

    otmm: object
    box: object
    servers: list[ServerThread]
    dsn: str
    db: TrackingDatabase
    box_root: str = ""
    agency: str = ""
    campaigns: dict[str, str] = field(default_factory=dict)  # number → folder id
    agency_bytes: dict[str, bytes] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)

    @property
    def otmm_url(self) -> str:
        return self.servers[0].base_url

    @property
    def box_url(self) -> str:
        return self.servers[1].base_url


@pytest.fixture
def shared(prefect_api, postgres_server, mail_server, pki, box_keys, tmp_path) -> Iterator[dict]:
    """Blocks that stay the same for every world: email, status webhook, CreativeX."""
    from blocks.creativex import CreativeXCredentials
    from blocks.mail_server import MailServer
    from blocks.status_webhook import StatusWebhook
    from simulators.creativex import CreativeXSimulator
    from simulators.webhook import WebhookReceiver

    MailServer(host="127.0.0.1", port=mail_server.port, username="cs-mail", password="mail-pass",
               from_address="content-scaling@example.test", ca_bundle_pem=pki.ca_cert.read_text(),
               default_recipients=["ops@example.test"], error_recipients=["errors@example.test"],
               ).save("email", overwrite=True)
    hook = ServerThread(WebhookReceiver().app).start()
    StatusWebhook(url=f"{hook.base_url}/hooks/t").save("status-webhook", overwrite=True)
    cx = ServerThread(CreativeXSimulator(api_key="cx-key").app).start()
    CreativeXCredentials(url=cx.base_url, api_key="cx-key").save("creativex", overwrite=True)
    yield {"admin_dsn": postgres_server, "box_keys": box_keys, "tmp": tmp_path}
    hook.stop()
    cx.stop()


def make_world(shared: dict, name: str) -> World:
    from blocks._cache import clear_cached_clients
    from blocks.box import BoxCredentials
    from blocks.dam import DamCredentials
    from blocks.tracking_database import TrackingDatabaseBlock
    from simulators.box import BoxSimulator
    from simulators.otmm import OtmmSimulator

    clear_cached_clients()
    secret = secrets.token_urlsafe(12)
    otmm = OtmmSimulator(client_id="cs-test", client_secret=secret)
    keys = shared["box_keys"]
    box = BoxSimulator(storage_dir=shared["tmp"] / name, client_id="cs-box", client_secret=secret,
                       public_keys={keys.key_id: keys.public_key_pem}, enterprise_id="4242")
    servers = [ServerThread(otmm.app).start(), ServerThread(box.app).start()]
    db_name = f"t_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(shared["admin_dsn"])
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{db_name}"')
    admin.close()
    dsn = shared["admin_dsn"].replace("/postgres?", f"/{db_name}?")
    db = TrackingDatabase(dsn)
    db.migrate()
    DamCredentials(base_url=servers[0].base_url, client_id="cs-test", client_secret=secret, page_size=3,
                   timeout_s=10).save("dam", overwrite=True)
    BoxCredentials(client_id="cs-box", client_secret=secret, public_key_id=keys.key_id,
                   private_key=keys.private_key_pem, private_key_passphrase=keys.passphrase, enterprise_id="4242",
                   api_base_url=servers[1].base_url, upload_base_url=servers[1].base_url + "/api",
                   max_attempts=3, retry_base_interval=0.01, request_budget=False).save("box", overwrite=True)
    TrackingDatabaseBlock(dsn=dsn).save("tracking-db", overwrite=True)
    world = World(otmm, box, servers, dsn, db)
    box.injector.observers.append(lambda entry, phase: _no_delete_before_dam_asset(world, entry, phase))
    return world


def close_world(shared: dict, world: World) -> None:
    from blocks._cache import clear_cached_clients

    clear_cached_clients()
    world.db.close()
    for server in world.servers:
        server.stop()
    admin = psycopg2.connect(shared["admin_dsn"])
    admin.autocommit = True
    admin.cursor().execute(f'DROP DATABASE IF EXISTS "{world.dsn.split("/")[-1].split("?")[0]}" WITH (FORCE)')
    admin.close()


def _no_delete_before_dam_asset(world: World, entry: dict, phase: str) -> None:
    """Live invariant: when Box is asked to delete a file, the DAM already holds its asset."""
    match = re.fullmatch(r"/2\.0/files/(\d+)", entry["path"])
    if phase != "request" or entry["method"] != "DELETE" or not match:
        return
    names = {f["id"]: f["name"] for f in world.box.files()}
    name = names.get(match.group(1))
    if name is None:
        return  # already gone: deleting again deletes nothing
    in_dam = {u["name"]: u["sha1"] for u in world.otmm.uploaded_assets()}
    expected = hashlib.sha1(world.agency_bytes.get(name, b"?")).hexdigest()
    if in_dam.get(name) != expected:
        world.violations.append(f"Box file {name!r} deleted while the DAM has {in_dam.get(name)!r}")


# -- seeding --------------------------------------------------------------------------------
def seed_a1(world: World) -> None:
    sim = world.otmm
    for i, number in enumerate(("C000000401", "C000000402")):
        c = sim.add_campaign(number=number, name=f"Crash {i}", status="A1", created=f"2026-02-0{i + 1}T10:00:00Z")
        social = sim.add_folder(c.master_assets_id, "Social")
        sim.add_asset(c.master_assets_id, "hero.jpg", size=4_000 + i, mime_type="image/jpeg")
        sim.add_asset(social, "post.png", size=3_000 + i, mime_type="image/png")
        world.campaigns[number] = c.folder_id
    world.box_root = world.box.create_folder("0", "Local adaptation")


def seed_a2(world: World) -> None:
    """Two A2 campaigns whose masters went to Box (as A1→A2 records them); one localised file per
    master waiting in the agency folder, so each campaign reaches A3 within the run."""
    sim, box = world.otmm, world.box
    world.agency = box.create_folder("0", "Agency uploads")
    italy = box.create_folder(world.agency, "Italy")
    for i, number in enumerate(("C000000501", "C000000502")):
        c = sim.add_campaign(number=number, name=f"Back {i}", status="A2", created=f"2026-03-0{i + 1}T10:00:00Z")
        world.campaigns[number] = c.folder_id
        for j, asset_name in enumerate(("hero.jpg", "post.png")):
            asset_id = sim.add_asset(c.master_assets_id, asset_name, size=2_000 + j)
            tid = world.db.register_master_asset(MasterAssetRecord(
                dam_asset_id=asset_id, campaign_folder_id=c.folder_id, campaign_number=number,
                campaign_name=f"Back {i}", local_campaign_id=number, dam_path=asset_name, file_name=asset_name,
                extension=asset_name.rsplit(".", 1)[1], size=2_000 + j, metadata={"metadata_element_list": []}))
            world.db.record_box_upload(BoxUpload(  # as A1→A2 left it: the master went to Box
                workflow="a1-to-a2", tracking_id=tid, dam_asset_id=asset_id, box_folder_id="0",
                box_file_id=f"master-{tid}", box_file_name=f"{tid}_{asset_name}", sha1="0" * 40, size=2_000 + j),
                campaign_number=number, flow_run_id=None)
            name = f"{tid}_Local {asset_name.split('.')[0]}_it-IT_Lazio.{asset_name.rsplit('.', 1)[1]}"
            body = f"localised {number} {asset_name}".encode() * 40
            world.agency_bytes[name] = body
            box.put_file(italy if j else world.agency, name, body)


# -- the state a run leaves, without random IDs ---------------------------------------------
def snapshot(world: World) -> dict:
    masters = world.db.fetch_all("SELECT * FROM master_assets")
    label = {m["tracking_id"]: f"<{m['campaign_number']}/{m['dam_path']}>" for m in masters}
    by_asset = {m["dam_asset_id"]: label[m["tracking_id"]] for m in masters}

    def norm(text: str) -> str:
        for tid, lab in label.items():
            text = text.replace(tid, lab)
        return text

    files = sorted((norm(f["path"]), hashlib.sha1(world.box.file_path(f["id"]).read_bytes()).hexdigest())
                   for f in world.box.files())
    folders = sorted(f["path"] for f in world.box.folders())
    dam = sorted((norm(u["name"]), world.otmm.state.folder(u["parent_folder_id"]).name, u["sha1"])
                 for u in world.otmm.uploaded_assets())
    uploads = sorted((u["workflow"], by_asset[u["dam_asset_id"]], norm(u["box_file_name"]), u["sha1"])
                     for u in world.db.fetch_all("SELECT * FROM box_uploads"))
    derivatives = sorted((label[d["tracking_id"]], norm(d["box_file_name"]), d["status"], d["dam_asset_id"] is not None)
                         for d in world.db.fetch_all("SELECT * FROM derivative_assets"))
    return {
        "statuses": {n: world.otmm.campaign_status(f) for n, f in world.campaigns.items()},
        "box_files": files,
        "box_folders": folders,
        "dam_assets_created": dam,
        "master_assets": sorted(label.values()),
        "box_uploads": uploads,
        "derivative_assets": derivatives,
    }


# -- the suite ------------------------------------------------------------------------------
def run_in_process(flow: str, world: World):
    from flows.a1_to_a2 import a1_to_a2
    from flows.a2_to_a3 import a2_to_a3

    if flow == "a1_to_a2":
        return a1_to_a2(box_root_folder_id=world.box_root, return_state=True)
    return a2_to_a3(agency_folder_id=world.agency, return_state=True)


def arm_kill(world: World, child: Child, k: int, phase: str, method: str = "", path: str = "") -> dict:
    """SIGKILL the child at its k-th request to the DAM or Box (``phase``: before it is handled,
    or once it has been answered); with ``method``/``path`` (a regex) only such requests count."""
    state = {"count": 0, "killed": False}
    lock = threading.Lock()

    def observer(entry: dict, when: str) -> None:
        if method and entry["method"] != method or not re.search(path, entry["path"]):
            return
        with lock:
            if state["killed"]:
                return
            if when == "request":
                state["count"] += 1
                entry["_n"] = state["count"]
            if entry.get("_n") != k or when != phase:
                return
            child.sigkill()
            state["killed"] = True
        if when == "request":
            raise ConnectionAbortedError("the flow process was killed before this request was handled")

    for sim in (world.otmm, world.box):
        sim.injector.observers.append(observer)
    state["observer"] = observer
    return state


def disarm(world: World, armed: dict) -> None:
    for sim in (world.otmm, world.box):
        sim.injector.observers.remove(armed["observer"])
