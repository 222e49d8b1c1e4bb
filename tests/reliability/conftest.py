"""Reliability suites: the flow fixtures of ``tests/flows`` plus helpers to seed campaigns,
inject faults over HTTP and take snapshots of everything a run can change (Box, DAM, DB)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import httpx
import pytest

from tests.flows.conftest import FlowEnv, flow_env  # noqa: F401 - fixture reused by the suites
from tests.reliability.worlds import shared  # noqa: F401 - fixture for the child-process suites

pytestmark = pytest.mark.prefect

# Client timeouts used when a simulator "hangs": short, so a hang costs about a second.
DAM_TIMEOUT_S = 1.0
BOX_READ_TIMEOUT_S = 1.0


def inject(base_url: str, *rules: dict) -> None:
    httpx.post(base_url + "/_sim/faults", json=list(rules)).raise_for_status()


def clear_faults(base_url: str) -> None:
    httpx.delete(base_url + "/_sim/faults").raise_for_status()


def sim_requests(base_url: str) -> list[dict]:
    return httpx.get(base_url + "/_sim/requests").json()["requests"]


def twenty_percent_faults(seed: int, path: str = "^/(otmmapi|otdsws|2\\.0|api|oauth2)/") -> list[dict]:
    """Rules that together make about 20 % of requests fail: 429 with Retry-After, 5xx,
    a hang longer than the client timeout, a connection dropped before the body."""
    each = 1 - 0.8 ** 0.25  # four independent rules, 20 % in all
    return [
        {"path": path, "kind": "status", "status": 429, "retry_after": 1, "probability": each, "seed": seed},
        {"path": path, "kind": "status", "status": 503, "probability": each, "seed": seed + 1},
        {"path": path, "kind": "hang", "seconds": 1.2, "probability": each, "seed": seed + 2},
        {"path": path, "kind": "drop", "after_bytes": 0, "probability": each, "seed": seed + 3},
    ]


@pytest.fixture
def env(flow_env: FlowEnv) -> Iterator[FlowEnv]:  # noqa: F811 - the imported fixture is the base
    """``flow_env`` with short client timeouts (so "hang" faults are real timeouts) and CreativeX."""
    from blocks._cache import clear_cached_clients
    from blocks.box import BoxCredentials
    from blocks.creativex import CreativeXCredentials
    from blocks.dam import DamCredentials
    from simulators.common import ServerThread
    from simulators.creativex import CreativeXSimulator

    dam = DamCredentials.load("dam")
    dam.timeout_s = DAM_TIMEOUT_S
    dam.save("dam", overwrite=True)
    box = BoxCredentials.load("box")
    box.read_timeout_s = BOX_READ_TIMEOUT_S
    box.connect_timeout_s = BOX_READ_TIMEOUT_S
    box.save("box", overwrite=True)
    clear_cached_clients()
    cx = CreativeXSimulator(api_key="cx-test-key")
    with ServerThread(cx.app) as server:
        CreativeXCredentials(url=server.base_url, api_key="cx-test-key").save("creativex", overwrite=True)
        flow_env.creativex = server  # type: ignore[attr-defined]
        yield flow_env


def seed_campaigns(sim, count: int, assets_per_campaign: int = 3, status: str = "A1",
                   first: int = 300) -> list[dict]:
    """``count`` campaigns, each with assets at the root of Master Assets and in a sub-folder."""
    out = []
    for i in range(count):
        number = f"C{first + i:09d}"
        c = sim.add_campaign(number=number, name=f"Reliable {i}", status=status,
                             created=f"2026-01-{i + 1:02d}T10:00:00Z")
        sub = sim.add_folder(c.master_assets_id, "Social")
        assets = {}
        for j in range(assets_per_campaign):
            folder = c.master_assets_id if j % 2 == 0 else sub
            assets[f"asset{j}.jpg"] = sim.add_asset(folder, f"asset{j}.jpg", size=3_000 + 997 * j,
                                                    mime_type="image/jpeg")
        out.append({"campaign": c, "number": number, "assets": assets})
    return out


def box_files_under(env: FlowEnv, folder_id: str) -> dict[str, dict]:
    """Box files below a folder, keyed by their path relative to it."""
    root_path = next(f["path"] for f in env.box.sim.folders() if f["id"] == folder_id)
    return {f["path"][len(root_path) + 1:]: f for f in env.box.sim.files() if f["path"].startswith(root_path + "/")}


def box_file_sha1(env: FlowEnv, file_id: str) -> str:
    """SHA-1 of the bytes Box really stores (not the SHA-1 it reports)."""
    return hashlib.sha1(env.box.sim.file_path(file_id).read_bytes()).hexdigest()


def db_counts(env: FlowEnv) -> dict[str, int]:
    return {t: env.db.fetch_all(f"SELECT count(*) AS n FROM {t}")[0]["n"]
            for t in ("master_assets", "box_uploads", "derivative_assets")}


def assert_no_duplicates(env: FlowEnv) -> None:
    """No DB row twice for one DAM asset / Box file; no DAM asset imported twice."""
    dup = env.db.fetch_all("SELECT campaign_folder_id, dam_asset_id, count(*) AS n FROM master_assets "
                           "GROUP BY 1, 2 HAVING count(*) > 1")
    assert dup == [], dup
    dup = env.db.fetch_all("SELECT workflow, dam_asset_id, count(*) AS n FROM box_uploads GROUP BY 1, 2 "
                           "HAVING count(*) > 1")
    assert dup == [], dup
    dup = env.db.fetch_all("SELECT box_file_id, count(*) AS n FROM derivative_assets GROUP BY 1 HAVING count(*) > 1")
    assert dup == [], dup
    names = [u["name"] for u in env.otmm.sim.uploaded_assets()]
    assert len(names) == len(set(names)), sorted(names)
    paths = [f["path"].casefold() for f in env.box.sim.files()]
    assert len(paths) == len(set(paths)), sorted(paths)
