"""A2→A3 end to end: agency files in Box → DAM assets, against the simulators and Prefect."""

from __future__ import annotations

import secrets

import httpx
import pytest

from blocks._cache import clear_cached_clients
from domain.dam_metadata import flatten_metadata
from domain.fields import load_dam_fields
from flows.a1_to_a2 import a1_to_a2
from flows.a2_to_a3 import a2_to_a3
from simulators.common import ServerThread
from simulators.creativex import CreativeXSimulator
from tests.conftest import DAM_AUTH_METHODS

pytestmark = pytest.mark.prefect
F = load_dam_fields()


@pytest.fixture
def env(flow_env):
    """Masters sent to Box by a real A1→A2 run; an agency folder; CreativeX."""
    from blocks.creativex import CreativeXCredentials

    key = secrets.token_urlsafe(12)
    cx = CreativeXSimulator(api_key=key)
    with ServerThread(cx.app) as server:
        CreativeXCredentials(url=server.base_url, api_key=key).save("creativex", overwrite=True)
        sim = flow_env.otmm.sim
        c = sim.add_campaign(number="C000000200", name="Localise Me", status="A1")
        social = sim.add_folder(c.master_assets_id, "Social")
        masters = {
            "hero.jpg": sim.add_asset(c.master_assets_id, "hero.jpg", 40_000, "image/jpeg",
                                      fields={fid: f"master {fid}" for fid in F.mvp.fields[:10]}),
            "post.png": sim.add_asset(social, "post.png", 30_000, "image/png",
                                      fields={F.creativex.url: "https://old-report"},
                                      tables={F.creativex.table: {F.creativex.score: [11]}}),
            "story.mp4": sim.add_asset(social, "story.mp4", 50_000, "video/mp4"),
        }
        assert a1_to_a2(box_root_folder_id=flow_env.box_root, return_state=True).is_completed()
        ids = {r["file_name"]: r["tracking_id"] for r in flow_env.db.fetch_all("SELECT * FROM master_assets")}
        agency = flow_env.box.sim.create_folder("0", "Agency uploads")
        italy = flow_env.box.sim.create_folder(agency, "Italy")
        yield flow_env, c, masters, ids, agency, italy, server, cx


def run(env_, **kw):
    flow_env, c, masters, ids, agency, italy, server, cx = env_
    return a2_to_a3(agency_folder_id=agency, return_state=True, **kw)


def agency_files(env_) -> set[str]:
    return {f["path"].split("Agency uploads/", 1)[1] for f in env_[0].box.sim.files()
            if f["path"].startswith("Agency uploads/")}


def results(state) -> dict[str, dict]:
    return {f["box_path"]: f for f in state.result(raise_on_failure=False)["files"]}


@pytest.mark.parametrize("dam_auth", DAM_AUTH_METHODS, indirect=True)
def test_import_creativex_and_a3_only_when_the_last_master_is_back(env, dam_auth):
    """Every DAM sign-in end to end (A1→A2 in the fixture, then A2→A3), the sign-in having
    ended between the runs: one new sign-in, no duplicate DAM asset."""
    flow_env, c, masters, ids, agency, italy, server, cx = env
    box, sim = flow_env.box.sim, flow_env.otmm.sim
    assert sim.sign_ins(dam_auth) == sim.sign_ins() == (0 if dam_auth == "mtls" else 1)  # one for all A1→A2
    assert len(box.files()) == len(masters)
    box.put_file(italy, f"{ids['hero.jpg']}_Hero summer_it-IT_Lazio.jpg", b"localised hero")
    box.put_file(agency, f"{ids['post.png']}_Post_it-IT_Lazio.png", b"localised post")
    signed_in = sim.sign_ins()
    sim.expire_tokens()  # the token or session of the A1→A2 run (same process, same client) ends
    logged = len(sim.injector.log)

    state = run(env)

    assert state.is_completed(), state.message
    assert sim.sign_ins(dam_auth) == sim.sign_ins() == (0 if dam_auth == "mtls" else signed_in + 1)
    # The campaign is read once whatever its number of files (and again before its status move),
    # and its Final Assets folder found once.
    reads = [e for e in sim.injector.log[logged:] if e["method"] == "GET" and e["status"] == 200]
    assert sum(1 for e in reads if e["path"].endswith(f"/folders/{c.folder_id}")) == 2
    assert sum(1 for e in reads if e["path"].endswith(f"/folders/{c.folder_id}/children")) == 1
    assert len(sim.uploaded_assets()) == 2  # the refused first call was not an import
    assert sim.campaign_status(c.folder_id) == "A2"  # story.mp4 has no localised version yet
    assert agency_files(env) == set()  # imported files are deleted from Box
    uploads = {u["name"]: u for u in sim.uploaded_assets()}
    assert set(uploads) == {f"{ids['hero.jpg']}_Hero summer_it-IT_Lazio.jpg", f"{ids['post.png']}_Post_it-IT_Lazio.png"}
    hero = flatten_metadata(uploads[f"{ids['hero.jpg']}_Hero summer_it-IT_Lazio.jpg"]["asset_representation"]
                            ["asset_resource"]["asset"]["metadata"]["metadata_element_list"])
    assert hero[F.asset.description] == "Hero summer" and hero[F.asset.language] == "it-IT"
    assert hero[F.mvp.fields[0]] == f"master {F.mvp.fields[0]}"
    assert isinstance(hero[F.creativex.score], list) and hero[F.creativex.url].startswith("https://app.creativex")
    by_file = results(state)
    assert by_file[f"Italy/{ids['hero.jpg']}_Hero summer_it-IT_Lazio.jpg"]["creativex"] == "added"
    assert by_file[f"{ids['post.png']}_Post_it-IT_Lazio.png"]["creativex"] == "updated"
    assert len(flow_env.db.fetch_all("SELECT * FROM derivative_assets WHERE status='imported'")) == 2

    box.put_file(agency, f"{ids['story.mp4']}_Story_it-IT_Lazio.mp4", b"localised story")
    state = run(env)
    assert state.is_completed(), state.message
    assert sim.campaign_status(c.folder_id) == "A3"
    if dam_auth == "session":
        clear_cached_clients()  # what process exit does: the live session is closed on the DAM
        assert [(s["revoked"], s["closed"]) for s in sim.sessions()] == [(True, False), (False, True)]


def test_files_that_cannot_be_imported_stay_in_box_with_a_reason(env):
    flow_env, c, masters, ids, agency, italy, server, cx = env
    box = flow_env.box.sim
    box.put_file(agency, "no tracking id.jpg", b"x")
    box.put_file(agency, "ZZZZZZ_Hero_it-IT_Lazio.jpg", b"x")
    box.put_file(agency, f"{ids['hero.jpg']}_Empty_it-IT_Lazio.jpg", b"")
    box.put_file(agency, f"{ids['hero.jpg']}_Hero_it-IT_Lazio.jpg", b"same bytes")
    assert run(env).is_completed()
    box.put_file(italy, f"{ids['hero.jpg']}_Hero again_it-IT_Lazio.jpg", b"same bytes")

    state = run(env)

    assert state.is_completed(), state.message
    by_file = results(state)
    assert by_file["no tracking id.jpg"]["outcome"] == "bad_name"
    assert by_file["ZZZZZZ_Hero_it-IT_Lazio.jpg"]["outcome"] == "unknown_tracking_id"
    assert "no master asset" in by_file["ZZZZZZ_Hero_it-IT_Lazio.jpg"]["reason"]
    assert "empty" in by_file[f"{ids['hero.jpg']}_Empty_it-IT_Lazio.jpg"]["reason"]
    assert by_file[f"Italy/{ids['hero.jpg']}_Hero again_it-IT_Lazio.jpg"]["outcome"] == "duplicate"
    assert agency_files(env) == {"no tracking id.jpg", "ZZZZZZ_Hero_it-IT_Lazio.jpg",
                                 f"{ids['hero.jpg']}_Empty_it-IT_Lazio.jpg",
                                 f"Italy/{ids['hero.jpg']}_Hero again_it-IT_Lazio.jpg"}
    assert len(flow_env.otmm.sim.uploaded_assets()) == 1


def test_dry_run_changes_nothing(env):
    flow_env, c, masters, ids, agency, italy, server, cx = env
    flow_env.box.sim.put_file(agency, f"{ids['hero.jpg']}_Hero_it-IT_Lazio.jpg", b"x")

    state = run(env, dry_run=True)

    assert state.is_completed(), state.message
    assert results(state)[f"{ids['hero.jpg']}_Hero_it-IT_Lazio.jpg"]["outcome"] == "dry_run"
    assert flow_env.otmm.sim.uploaded_assets() == []
    assert agency_files(env) == {f"{ids['hero.jpg']}_Hero_it-IT_Lazio.jpg"}
    assert flow_env.db.fetch_all("SELECT * FROM derivative_assets") == []


def test_crash_between_dam_upload_and_box_delete_gives_one_dam_asset(env):
    flow_env, c, masters, ids, agency, italy, server, cx = env
    name = f"{ids['hero.jpg']}_Hero_it-IT_Lazio.jpg"
    flow_env.box.sim.put_file(agency, name, b"localised")
    httpx.post(flow_env.box.base_url + "/_sim/faults",
               json={"path": "^/2.0/files/[0-9]+$", "method": "DELETE", "kind": "status", "status": 500}).raise_for_status()

    state = run(env)

    assert state.is_failed()
    assert len(flow_env.otmm.sim.uploaded_assets()) == 1 and agency_files(env) == {name}
    assert flow_env.otmm.sim.campaign_status(c.folder_id) == "A2"
    httpx.delete(flow_env.box.base_url + "/_sim/faults").raise_for_status()

    state = run(env)

    assert state.is_completed(), state.message
    assert results(state)[name]["outcome"] == "already_imported"
    assert len(flow_env.otmm.sim.uploaded_assets()) == 1  # exactly one DAM asset
    assert agency_files(env) == set()
    again = run(env)  # nothing left: an idempotent no-op
    assert again.is_completed() and results(again) == {}
    assert len(flow_env.otmm.sim.uploaded_assets()) == 1


def test_creativex_unreachable_leaves_the_file_for_the_next_run(env):
    flow_env, c, masters, ids, agency, italy, server, cx = env
    name = f"{ids['hero.jpg']}_Hero_it-IT_Lazio.jpg"
    flow_env.box.sim.put_file(agency, name, b"localised")
    httpx.post(server.base_url + "/_sim/faults", json={"path": "/v1/scores", "kind": "status", "status": 503}
               ).raise_for_status()

    state = run(env)

    assert state.is_failed() and "CreativeX" in state.message
    assert flow_env.otmm.sim.uploaded_assets() == [] and agency_files(env) == {name}
    httpx.delete(server.base_url + "/_sim/faults").raise_for_status()
    assert run(env).is_completed()
    assert len(flow_env.otmm.sim.uploaded_assets()) == 1
