"""Every part the benchmark talks to, each in its own process, on 127.0.0.1.

A local Prefect server (``prefect server start``, SQLite), the OTMM simulator seeded with the
benchmark's campaigns (:mod:`benchmarks.otmm_server`), the Box, CreativeX and SMTP
simulators and an embedded PostgreSQL. Separate processes keep the simulators' CPU out of the
measured process and off its GIL; :meth:`BenchEnvironment.cpu_seconds` reads what each part
used, so the benchmark can say where the CPU of the two cores went.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from simulators.processes import free_port, read_base_url, spawn, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class CampaignPlan:
    """One campaign to seed in the DAM: ``assets`` master assets of ``size`` bytes each."""

    number: str
    name: str
    assets: int
    size: int
    status: str = "A1"


@dataclass
class BenchEnvironment:
    """Start with :meth:`start`, stop with :meth:`stop` (or use it as a context manager)."""

    plan: list[CampaignPlan]
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="cs-bench-")))
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    campaigns: dict[str, dict[str, Any]] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    pg_dir: Path | None = None
    pki: Any = None  # simulators.certs.Pki: the CA the Box simulator trusts for webhook receivers
    # The Box block's shared request budget: off for the throughput bench (it measures the engine
    # against a Box without limits); the limits bench (benchmarks/limits.py) switches it on.
    box_budget: bool = False
    box_sim_args: list[str] = field(default_factory=list)  # e.g. ["--rate-limits"]

    # -- lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> BenchEnvironment:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> BenchEnvironment:
        """Start every part, save the blocks; the Prefect API URL is set in ``os.environ`` too."""
        (self.workdir / "logs").mkdir(parents=True, exist_ok=True)
        self.env = self._child_env()
        prefect_port = free_port()
        prefect_url = f"http://127.0.0.1:{prefect_port}"
        self._spawn("prefect-server", [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                                       "--port", str(prefect_port)])
        otmm_id, otmm_secret = "bench-dam-client", secrets.token_urlsafe(24)
        plan_file, ids_file = self.workdir / "plan.json", self.workdir / "dam-ids.json"
        plan_file.write_text(json.dumps([p.__dict__ for p in self.plan]))
        self._spawn("otmm", [sys.executable, "-m", "benchmarks.otmm_server", "--plan", str(plan_file),
                             "--ids", str(ids_file)],
                    {"OTMM_SIM_CLIENT_ID": otmm_id, "OTMM_SIM_CLIENT_SECRET": otmm_secret})

        from simulators.certs import make_pki
        from simulators.jwt_keys import make_jwt_app_keys

        pki = self.pki = make_pki(self.workdir / "pki", client_password=secrets.token_urlsafe(12))
        keys = make_jwt_app_keys("bench-key", secrets.token_urlsafe(16))
        public_key = self.workdir / "box-public-key.pem"
        public_key.write_text(keys.public_key_pem)
        box_secret = secrets.token_urlsafe(24)
        hook_keys = (secrets.token_urlsafe(24), secrets.token_urlsafe(24))
        self._spawn("box", [sys.executable, "-m", "simulators.box", "--port", "0", "--storage",
                            str(self.workdir / "box"), "--no-persist", "--public-key",
                            f"{keys.key_id}={public_key}", "--webhook-ca", str(pki.ca_cert), "--webhook-any-port",
                            "--webhook-retry-base-s", "5", *self.box_sim_args],
                    {"BOX_SIM_CLIENT_ID": "bench-box-client", "BOX_SIM_CLIENT_SECRET": box_secret,
                     "BOX_SIM_WEBHOOK_PRIMARY_KEY": hook_keys[0], "BOX_SIM_WEBHOOK_SECONDARY_KEY": hook_keys[1]})
        cx_key = secrets.token_urlsafe(16)
        self._spawn("creativex", [sys.executable, "-m", "simulators.creativex", "--port", "0"],
                    {"CREATIVEX_SIM_API_KEY": cx_key})
        mail_password = secrets.token_urlsafe(16)
        self._spawn("smtp", [sys.executable, "-m", "simulators.mail", "--port", "0", "--directory",
                             str(self.workdir / "mail"), "--cert", str(pki.server_cert), "--key", str(pki.server_key)],
                    {"MAIL_SIM_USERNAME": "bench-mail", "MAIL_SIM_PASSWORD": mail_password})

        from clients.embedded_postgres import embedded_postgres_dsn

        self.pg_dir = self.workdir / "postgres"
        dsn = embedded_postgres_dsn(self.pg_dir, keep_running=True)
        for name in ("otmm", "box", "creativex"):
            self.urls[name] = self._read_base_url(name, ("http://",))
        self.urls["smtp"] = self._read_base_url("smtp", ("smtp://",))
        wait_healthy(prefect_url + "/api/health", "prefect-server", timeout=180)
        self.urls["prefect"] = prefect_url + "/api"
        os.environ.update({k: v for k, v in self.env.items() if k.startswith("PREFECT_")})
        os.environ["PREFECT_API_URL"] = self.urls["prefect"]  # this process too talks to the real server
        self.campaigns = json.loads(self._wait_for_file(ids_file).read_text())
        self._save_blocks(otmm_id, otmm_secret, box_secret, keys, dsn, cx_key, mail_password, pki.ca_cert.read_text())
        from blocks.box_webhook import BoxWebhookKeys

        BoxWebhookKeys(primary_key=hook_keys[0], secondary_key=hook_keys[1]).save("box-webhook", overwrite=True)
        return self

    def start_part(self, name: str, cmd: list[str], extra_env: dict[str, str] | None = None,
                   schemes: tuple[str, ...] = ("http://", "https://")) -> str:
        """Start one more part (pointed at the Prefect API), stopped with the rest; the base URL it
        prints (none read when ``schemes`` is empty)."""
        self._spawn(name, cmd, {"PREFECT_API_URL": self.urls["prefect"], **(extra_env or {})})
        return self._read_base_url(name, schemes) if schemes else ""

    def stop(self) -> None:
        """Stop what :meth:`start` started (by process group) and delete the work directory."""
        for proc in self.procs.values():
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        if self.pg_dir is not None:
            from clients.embedded_postgres import stop_embedded_postgres

            stop_embedded_postgres(self.pg_dir)
        shutil.rmtree(self.workdir, ignore_errors=True)

    # -- what the benchmark uses ----------------------------------------------------------
    def set_network(self, latency_s: float, bandwidth: int | None) -> None:
        """Every DAM and Box request waits ``latency_s``; response bodies flow at ``bandwidth`` B/s per stream."""
        for name in ("otmm", "box"):
            httpx.delete(self.urls[name] + "/_sim/faults", timeout=10).raise_for_status()
            if latency_s or bandwidth:
                rule = {"path": ".*", "kind": "latency", "seconds": latency_s, "bandwidth": bandwidth}
                httpx.post(self.urls[name] + "/_sim/faults", json=rule, timeout=10).raise_for_status()

    def requests_since(self, name: str, since: float, until: float | None = None) -> list[dict[str, Any]]:
        """The simulator's request log between two ``time.time()`` instants."""
        log = httpx.get(self.urls[name] + "/_sim/requests", timeout=30).json()
        entries = log.get("requests", log) if isinstance(log, dict) else log
        return [e for e in entries if e["time"] >= since and (until is None or e["time"] <= until)]

    def new_box_folder(self, name: str) -> str:
        """A fresh folder under the Box root (so nothing is "already in Box")."""
        response = httpx.post(self.urls["box"] + "/_sim/box/folders", json={"parent_id": "0", "path": name},
                              timeout=30)
        response.raise_for_status()
        return str(response.json()["id"])

    def cpu_seconds(self) -> dict[str, float]:
        """CPU (user+system, children included) used so far by each part's process tree."""
        usage = {name: _tree_cpu(proc.pid) for name, proc in self.procs.items()}
        pid_file = self.pg_dir / "postmaster.pid" if self.pg_dir else None
        if pid_file is not None and pid_file.exists():
            usage["postgres"] = _tree_cpu(int(pid_file.read_text().split()[0]))
        return usage

    def box_storage_bytes(self) -> int:
        """Bytes the Box simulator keeps on disk."""
        return sum(p.stat().st_size for p in (self.workdir / "box").rglob("*") if p.is_file())

    # -- helpers --------------------------------------------------------------------------
    def _child_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        env.update({
            "PREFECT_HOME": str(self.workdir / "prefect-home"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_UI_ENABLED": "false",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "PYTHONPATH": str(ROOT),
        })
        return env

    def _spawn(self, name: str, cmd: list[str], extra_env: dict[str, str] | None = None) -> None:
        self.procs[name] = spawn(cmd, self.workdir / "logs" / f"{name}.log", {**self.env, **(extra_env or {})}, ROOT)

    def _read_base_url(self, name: str, schemes: tuple[str, ...], timeout: float = 120) -> str:
        return read_base_url(self.workdir / "logs" / f"{name}.log", schemes, timeout, self.procs[name])

    @staticmethod
    def _wait_for_file(path: Path, timeout: float = 120) -> Path:
        deadline = time.monotonic() + timeout
        while not path.exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{path} was not written")
            time.sleep(0.1)
        return path

    def _save_blocks(self, otmm_id: str, otmm_secret: str, box_secret: str, keys: Any, dsn: str, cx_key: str,  # noqa: ANN401
                     mail_password: str, ca_pem: str) -> None:
        from blocks.box import BoxCredentials
        from blocks.creativex import CreativeXCredentials
        from blocks.dam import DamCredentials
        from blocks.mail_server import MailServer
        from blocks.tracking_database import TrackingDatabaseBlock

        DamCredentials(base_url=self.urls["otmm"], auth_method="oauth2", client_id=otmm_id,
                       client_secret=otmm_secret).save("dam", overwrite=True)
        BoxCredentials(client_id="bench-box-client", client_secret=box_secret, public_key_id=keys.key_id,
                       private_key=keys.private_key_pem, private_key_passphrase=keys.passphrase,
                       enterprise_id="12345", api_base_url=self.urls["box"],
                       upload_base_url=self.urls["box"] + "/api",
                       request_budget=self.box_budget).save("box", overwrite=True)
        TrackingDatabaseBlock(dsn=dsn).save("tracking-db", overwrite=True)
        CreativeXCredentials(url=self.urls["creativex"], api_key=cx_key).save("creativex", overwrite=True)
        MailServer(host="127.0.0.1", port=int(self.urls["smtp"].rsplit(":", 1)[1]), username="bench-mail",
                   password=mail_password, from_address="bench@bench.test", ca_bundle_pem=ca_pem,
                   default_recipients=["ops@bench.test"], error_recipients=["errors@bench.test"],
                   ).save("email", overwrite=True)


def _tree_cpu(root: int) -> float:
    """CPU seconds of ``root`` and its live descendants, reaped children included (``c*time``)."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        ticks[pid] = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    tree, frontier = {root}, [root]
    while frontier:
        current = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == current and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return sum(ticks.get(pid, 0) for pid in tree) / CLOCK_TICKS
