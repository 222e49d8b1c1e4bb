"""Faults: with about 20 % of the requests to the DAM (OTMM + OTDS) and to Box failing —
429 with Retry-After, 503, hangs longer than the client timeout, connections dropped before
the body — every campaign still completes through the retries of one run; no Box file, DAM
asset or database row exists twice; every Box file holds the DAM asset's exact bytes (SHA-1
of the stored bytes), and every imported DAM asset holds the agency file's exact bytes."""

from __future__ import annotations

import hashlib

import pytest

from flows.a1_to_a2 import a1_to_a2
from flows.a2_to_a3 import a2_to_a3
from tests.reliability.conftest import (
    assert_no_duplicates,
    box_file_sha1,
    box_files_under,
    clear_faults,
    db_counts,
    inject,
    seed_campaigns,
    sim_requests,
    twenty_percent_faults,
)

pytestmark = pytest.mark.prefect

# One in five requests failing is far beyond any real outage pattern: each request may be tried
# 8 times here (the blocks' request layer; production defaults: 5), so that one run completes.
# Retries still happen at one layer only (README "Retries"): 8 tries per request, not 8 × 4.
REQUEST_ATTEMPTS = 8


@pytest.fixture
def env(env):
    from blocks._cache import clear_cached_clients
    from blocks.box import BoxCredentials
    from blocks.dam import DamCredentials

    dam = DamCredentials.load("dam")
    dam.request_attempts = REQUEST_ATTEMPTS
    dam.save("dam", overwrite=True)
    box = BoxCredentials.load("box")
    box.max_attempts = REQUEST_ATTEMPTS
    box.save("box", overwrite=True)
    clear_cached_clients()
    return env


def test_a1_to_a2_then_a2_to_a3_complete_under_twenty_percent_faults(env):
    sim, box = env.otmm.sim, env.box.sim
    seeded = seed_campaigns(sim, count=3, assets_per_campaign=3)
    inject(env.otmm.base_url, *twenty_percent_faults(seed=11))
    inject(env.box.base_url, *twenty_percent_faults(seed=23))

    state = a1_to_a2(box_root_folder_id=env.box_root, return_state=True)

    assert state.is_completed(), state.message
    for s in seeded:
        assert sim.campaign_status(s["campaign"].folder_id) == "A2", s["number"]
    files = box_files_under(env, env.box_root)
    masters = env.db.fetch_all("SELECT * FROM master_assets")
    assert len(files) == len(masters) == 9
    by_id = {m["tracking_id"]: m for m in masters}
    for path, f in files.items():
        tracking_id = path.rsplit("/", 1)[-1][:6]
        assert box_file_sha1(env, f["id"]) == sim.content_sha1(by_id[tracking_id]["dam_asset_id"]), path
    assert_no_duplicates(env)

    # A2→A3: one localised file per master comes back, still under faults.
    agency = box.create_folder("0", "Agency uploads")
    sent = {}
    for i, m in enumerate(masters):
        body = f"localised {m['tracking_id']} {i}".encode() * 50
        name = f"{m['tracking_id']}_Version {i}_it-IT_Lazio.jpg"
        box.put_file(agency, name, body)
        sent[name] = hashlib.sha1(body).hexdigest()

    state = a2_to_a3(agency_folder_id=agency, return_state=True)

    assert state.is_completed(), state.message
    for s in seeded:
        assert sim.campaign_status(s["campaign"].folder_id) == "A3", s["number"]
    uploads = sim.uploaded_assets()
    assert sorted(u["name"] for u in uploads) == sorted(sent)
    assert {u["name"]: u["sha1"] for u in uploads} == sent
    assert box_files_under(env, agency) == {}
    assert db_counts(env) == {"master_assets": 9, "box_uploads": 9, "derivative_assets": 9}
    assert len(env.db.fetch_all("SELECT * FROM derivative_assets WHERE status = 'imported'")) == 9
    assert_no_duplicates(env)
    _assert_faults_really_happened(env)
    clear_faults(env.otmm.base_url)
    clear_faults(env.box.base_url)


def _assert_faults_really_happened(env) -> None:
    """The suite would prove nothing if the rules never fired: every kind hit, on both systems."""
    seen: set = set()
    total = hit = 0
    for base in (env.otmm.base_url, env.box.base_url):
        statuses = [r["status"] for r in sim_requests(base)]
        faulted = [s for s in statuses if s in (429, 503, "hang", "dropped")]
        print(base, len(statuses), "requests,", len(faulted), "faulted:", sorted(map(str, set(faulted))))
        assert len(faulted) >= 3, (base, statuses)
        seen |= set(faulted)
        total += len(statuses)
        hit += len(faulted)
    assert seen == {429, 503, "hang", "dropped"}, seen
    assert hit >= 0.12 * total, (hit, total)  # about 20 % of first tries; retries dilute it a little
