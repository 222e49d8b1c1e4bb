"""A5→A6 and B1→B2 through the shared transfer pipeline, against the simulators."""

from __future__ import annotations

import json

import httpx
import pytest
from prefect import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

from domain.fields import load_dam_fields
from flows.a5_to_a6 import a5_to_a6
from flows.b1_to_b2 import b1_to_b2

pytestmark = pytest.mark.prefect
F = load_dam_fields()


def rows(state, key: str) -> list[dict]:
    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id]),
            key=ArtifactFilterKey(any_=[key])))
    data = arts[0].data
    return json.loads(data) if isinstance(data, str) else data


def files_under(env, folder_name: str) -> dict[str, dict]:
    return {f["path"].split(folder_name + "/", 1)[1]: f for f in env.box.sim.files() if folder_name + "/" in f["path"]}


def seed_rework(sim):
    c = sim.add_campaign(number="C000000070", name="Easter", status="A5", created="2026-01-01T00:00:00Z")
    italy = sim.add_folder(c.final_assets_id, "Italy")
    r = F.rejection

    def final(folder, name, status, **extra):
        return sim.add_asset(folder, name, 50_000, "image/jpeg",
                             fields={r.ecommerce_status: status, r.approver_comments: extra.get("approver", ""),
                                     r.legal_comments: extra.get("legal", ""), r.legal_certifier: "l.bianchi",
                                     r.legal_date: "2026-02-11T10:00:00Z"})

    ids = {
        "rejected": final(italy, "hero_it.jpg", "NOT APPROVED", approver="Logo too small", legal="Claim <b>no</b>"),
        "rejected2": final(c.final_assets_id, "story_fr.jpg", "NOT APPROVED"),
        "approved": final(italy, "post_it.jpg", "APPROVED"),
        "lowercase": final(italy, "odd.jpg", "not approved"),
        "empty": final(c.final_assets_id, "banner.jpg", ""),
    }
    return c, ids


def test_a5_to_a6_takes_only_not_approved_with_their_rejection_details(flow_env):
    sim = flow_env.otmm.sim
    c, ids = seed_rework(sim)

    state = a5_to_a6(box_root_folder_id=flow_env.box_root, return_state=True)

    assert state.is_completed(), state.message
    assert "2 succeeded, 0 failed, 3 skipped" in state.message
    assert sim.campaign_status(c.folder_id) == "A6"
    files = files_under(flow_env, "C000000070-Easter-Revisions")
    assert sorted(p.split("/")[0] if "/" in p else "" for p in files) == ["", "Italy"]
    table = {r["path"]: r for r in rows(state, "a5-to-a6-assets")}
    assert table["Italy/hero_it.jpg"]["outcome"] == "uploaded"
    assert table["Italy/hero_it.jpg"]["approver_comments"] == "Logo too small"
    assert table["Italy/hero_it.jpg"]["legal_certifier"] == "l.bianchi"
    assert {table[p]["outcome"] for p in ("Italy/post_it.jpg", "Italy/odd.jpg", "banner.jpg")} == {"skipped"}
    event = [e for e in flow_env.db.events(event="uploaded_to_box") if e["dam_asset_id"] == ids["rejected"]][0]
    assert event["detail"]["ecommerce_status"] == "NOT APPROVED"
    assert event["detail"]["legal_comments"] == "Claim <b>no</b>"


def test_a5_to_a6_rerun_is_idempotent(flow_env):
    sim = flow_env.otmm.sim
    c, ids = seed_rework(sim)
    assert a5_to_a6(box_root_folder_id=flow_env.box_root, return_state=True).is_completed()
    before = (len(flow_env.box.sim.files()), flow_env.db.fetch_all("SELECT tracking_id FROM master_assets ORDER BY 1"))
    sim.set_campaign_status(c.folder_id, "A5")

    state = a5_to_a6(box_root_folder_id=flow_env.box_root, return_state=True)

    assert state.is_completed(), state.message
    assert (len(flow_env.box.sim.files()), flow_env.db.fetch_all(
        "SELECT tracking_id FROM master_assets ORDER BY 1")) == before
    assert {r["outcome"] for r in rows(state, "a5-to-a6-assets")} == {"already_in_box", "skipped"}


def test_a5_to_a6_reuses_an_existing_tracking_id(flow_env):
    sim = flow_env.otmm.sim
    c, ids = seed_rework(sim)
    flow_env.db.fetch_all(
        "INSERT INTO derivative_assets (tracking_id, master_dam_asset_id, dam_asset_id, campaign_number, box_file_id,"
        " box_file_name, status) VALUES ('K7M2QX', 'master-1', %s, 'C000000070', 'box-1', 'x.jpg', 'imported')"
        " RETURNING id", (ids["rejected"],))

    state = a5_to_a6(box_root_folder_id=flow_env.box_root, return_state=True)

    assert state.is_completed(), state.message
    table = {r["path"]: r for r in rows(state, "a5-to-a6-assets")}
    assert table["Italy/hero_it.jpg"]["tracking_id"] == "K7M2QX"
    assert "Italy/K7M2QX_hero_it.jpg" in files_under(flow_env, "C000000070-Easter-Revisions")
    assert table["story_fr.jpg"]["tracking_id"] not in ("", "K7M2QX")  # a new one


def test_a5_to_a6_partial_failure_keeps_status(flow_env):
    sim = flow_env.otmm.sim
    c, ids = seed_rework(sim)
    httpx.post(flow_env.otmm.base_url + "/_sim/faults", json={
        "path": f"/assets/{ids['rejected2']}/contents$", "kind": "status", "status": 404}).raise_for_status()

    state = a5_to_a6(box_root_folder_id=flow_env.box_root, return_state=True)

    assert state.is_failed() and "story_fr.jpg" in state.message
    assert sim.campaign_status(c.folder_id) == "A5"


def test_b1_to_b2_only_global_comm_campaigns(flow_env):
    sim = flow_env.otmm.sim
    glob = sim.add_campaign(number="C000000090", name="Brand Film", status="B1", campaign_type="Global comm")
    local = sim.add_campaign(number="C000000092", name="Local Oddity", status="B1", campaign_type="Local comm")
    films = sim.add_folder(glob.final_assets_id, "Films")
    sim.add_asset(glob.final_assets_id, "packshot.png", 70_000, "image/png")
    sim.add_asset(films, "film_30s.mp4", 1_500_000, "video/mp4")
    sim.add_asset(local.final_assets_id, "local.png", 10_000, "image/png")

    state = b1_to_b2(box_root_folder_id=flow_env.box_root, return_state=True)

    assert state.is_completed(), state.message
    assert (sim.campaign_status(glob.folder_id), sim.campaign_status(local.folder_id)) == ("B2", "B1")
    files = files_under(flow_env, "MASTERS_C000000090-Brand Film")
    assert len(files) == 2 and any(p.startswith("Films/") for p in files)
    recorded = flow_env.db.fetch_all("SELECT global_master_campaign_id, local_campaign_id FROM master_assets")
    assert recorded == [{"global_master_campaign_id": "C000000090", "local_campaign_id": None}] * 2

    sim.set_campaign_status(glob.folder_id, "B1")  # re-run: nothing duplicated
    assert b1_to_b2(box_root_folder_id=flow_env.box_root, return_state=True).is_completed()
    assert len(files_under(flow_env, "MASTERS_C000000090-Brand Film")) == 2
    assert len(flow_env.db.fetch_all("SELECT * FROM box_uploads")) == 2
