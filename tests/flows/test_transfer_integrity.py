"""DAM→Box integrity and placement: what the DAM declares is what Box gets, once per asset.

Each case is one a real DAM, agency or Box produces and the happy-path suites never tried: an
answer shorter or longer than the asset declares, an empty master, a campaign renamed or an
asset moved between runs, a Box commit that stays "processing", a changed master above Box's
direct-upload ceiling.
"""

from __future__ import annotations

import httpx
import pytest

from domain.fields import load_dam_fields
from flows.a1_to_a2 import a1_to_a2
from flows.a5_to_a6 import a5_to_a6
from tests.flows.test_a1_to_a2 import artifact_rows, box_files, clear_faults, inject

pytestmark = [pytest.mark.prefect, pytest.mark.slow]  # minutes of flow runs: make test-slow
NUMBER = "C000000301"
MiB = 1024 * 1024


def seed(sim, name: str = "Summer Sale"):
    c = sim.add_campaign(number=NUMBER, name=name, status="A1", created="2026-01-05T10:00:00Z")
    social = sim.add_folder(c.master_assets_id, "Social")
    ids = {"hero.jpg": sim.add_asset(c.master_assets_id, "hero.jpg", size=300_000, mime_type="image/jpeg"),
           "Social/post.png": sim.add_asset(social, "post.png", size=120_000, mime_type="image/png"),
           "Social/film.mp4": sim.add_asset(social, "film.mp4", size=2 * MiB + 5, mime_type="video/mp4")}
    return c, social, ids


def run(env, **kwargs):
    return a1_to_a2(box_root_folder_id=env.box_root, return_state=True, **kwargs)


def campaign_folders(env) -> list[str]:
    return sorted(f["name"] for f in env.box.sim.folders() if f["parent_id"] == env.box_root)


def assert_one_tracked_file_per_asset(env, ids: dict[str, str]) -> None:
    """Every asset has exactly one Box file, and the tracking database describes exactly it."""
    files = {f["id"]: f for f in env.box.sim.files()}
    uploads = env.db.fetch_all("SELECT * FROM box_uploads WHERE workflow='a1-to-a2'")
    assert sorted(u["dam_asset_id"] for u in uploads) == sorted(ids.values())
    assert len(files) == len(ids), sorted(f["path"] for f in files.values())
    for u in uploads:
        f = files[u["box_file_id"]]
        assert (f["name"], f["parent_id"], f["sha1"], f["size"]) == (u["box_file_name"], u["box_folder_id"],
                                                                     u["sha1"], u["size"])


@pytest.mark.parametrize("delta", [-1000, 1000, -1], ids=["short", "long", "one byte short"])
def test_an_answer_that_disagrees_with_the_declared_size_never_reaches_box(flow_env, delta: int):
    sim = flow_env.otmm.sim
    c, _, ids = seed(sim)
    inject(flow_env.otmm.base_url, path=f"/assets/{ids['hero.jpg']}/contents", kind="resize", size_delta=delta)

    state = run(flow_env)

    assert state.is_failed() and sim.campaign_status(c.folder_id) == "A1"
    row = next(r for r in artifact_rows(state) if r["path"] == "hero.jpg")
    assert row["outcome"] == "failed" and "declares content_size 300000" in row["error"], row
    assert not any("hero" in f["name"] for f in flow_env.box.sim.files())
    assert flow_env.db.fetch_all("SELECT 1 FROM box_uploads WHERE dam_asset_id=%s", (ids["hero.jpg"],)) == []

    clear_faults(flow_env.otmm.base_url)
    assert run(flow_env).is_completed() and sim.campaign_status(c.folder_id) == "A2"
    assert_one_tracked_file_per_asset(flow_env, ids)


def test_a_long_body_in_parts_is_refused_and_its_session_aborted(flow_env):
    sim = flow_env.otmm.sim
    c, _, ids = seed(sim)
    inject(flow_env.otmm.base_url, path=f"/assets/{ids['Social/film.mp4']}/contents", kind="resize",
           size_delta=-MiB)
    state = run(flow_env)
    assert state.is_failed() and sim.campaign_status(c.folder_id) == "A1"
    assert httpx.get(flow_env.box.base_url + "/_sim/box/stats").json()["open_upload_sessions"] == 0
    assert not any("film" in f["name"] for f in flow_env.box.sim.files())


def test_an_empty_master_is_an_error_not_an_upload(flow_env):
    sim = flow_env.otmm.sim
    c, social, ids = seed(sim)
    empty = sim.add_asset(social, "blank.psd", size=0)

    state = run(flow_env)

    assert state.is_failed() and sim.campaign_status(c.folder_id) == "A1"
    row = next(r for r in artifact_rows(state) if r["path"] == "Social/blank.psd")
    assert row["outcome"] == "failed" and "declares no content" in row["error"]
    assert not any(f["size"] == 0 for f in flow_env.box.sim.files())
    assert flow_env.db.fetch_all("SELECT 1 FROM box_uploads WHERE dam_asset_id=%s", (empty,)) == []
    assert {r["outcome"] for r in artifact_rows(state) if r["path"] != "Social/blank.psd"} == {"uploaded"}


def test_a_campaign_renamed_between_a_partial_run_and_its_retry_keeps_one_box_folder(flow_env):
    sim = flow_env.otmm.sim
    c, _, ids = seed(sim)
    inject(flow_env.otmm.base_url, path=f"/assets/{ids['Social/post.png']}/contents", status=403)
    assert run(flow_env).is_failed()
    assert campaign_folders(flow_env) == [f"{NUMBER}-Summer Sale"]
    first = {u["dam_asset_id"]: u["box_file_id"] for u in flow_env.db.fetch_all("SELECT * FROM box_uploads")}

    clear_faults(flow_env.otmm.base_url)
    sim.rename_campaign(c.folder_id, "Summer Sale 2027")
    state = run(flow_env)

    assert state.is_completed(), state.message
    assert campaign_folders(flow_env) == [f"{NUMBER}-Summer Sale 2027"]  # the folder followed the rename
    assert_one_tracked_file_per_asset(flow_env, ids)
    after = {u["dam_asset_id"]: u["box_file_id"] for u in flow_env.db.fetch_all("SELECT * FROM box_uploads")}
    assert all(after[a] == f for a, f in first.items())  # nothing sent twice
    assert {r["box_path"].split("/")[0] for r in artifact_rows(state)} == {f"{NUMBER}-Summer Sale 2027"}


def test_an_asset_moved_and_renamed_in_the_dam_moves_its_one_box_file(flow_env):
    sim = flow_env.otmm.sim
    c, social, ids = seed(sim)
    assert run(flow_env).is_completed()
    before = {u["dam_asset_id"]: u for u in flow_env.db.fetch_all("SELECT * FROM box_uploads")}

    sim.move_asset(ids["hero.jpg"], folder_id=social, name="hero-final.jpg")
    sim.set_campaign_status(c.folder_id, "A1")
    state = run(flow_env)

    assert state.is_completed(), state.message
    assert_one_tracked_file_per_asset(flow_env, ids)
    hero = flow_env.db.fetch_all("SELECT * FROM box_uploads WHERE dam_asset_id=%s", (ids["hero.jpg"],))[0]
    tid = before[ids["hero.jpg"]]["tracking_id"]
    assert hero["box_file_id"] == before[ids["hero.jpg"]]["box_file_id"]
    assert hero["box_file_name"] == f"{tid}_hero-final.jpg"
    assert f"{NUMBER}-Summer Sale/Social/{tid}_hero-final.jpg" in box_files(flow_env)
    assert len(flow_env.db.events(event="moved_in_box")) == 1


def test_an_asset_listed_twice_is_one_box_file(flow_env):
    sim = flow_env.otmm.sim
    c, social, ids = seed(sim)
    twin = sim.add_folder(c.master_assets_id, "Twin")
    sim.link_asset(ids["hero.jpg"], twin)  # the listing names it under two folders
    state = run(flow_env)
    assert state.is_completed(), state.message
    assert_one_tracked_file_per_asset(flow_env, ids)
    assert len([r for r in artifact_rows(state) if r["tracking_id"]]) == 3


def test_a_campaign_renamed_between_cycles_keeps_its_folders_and_tracking_ids(flow_env):
    sim = flow_env.otmm.sim
    c, _, ids = seed(sim)
    assert run(flow_env).is_completed()
    tid = flow_env.db.fetch_all("SELECT tracking_id FROM master_assets WHERE dam_asset_id=%s",
                                (ids["hero.jpg"],))[0]["tracking_id"]
    r = load_dam_fields().rejection
    revision = sim.add_asset(c.final_assets_id, f"{tid}_hero_it-IT_Lazio.jpg", 40_000, "image/jpeg",
                             fields={r.ecommerce_status: "NOT APPROVED",
                                     load_dam_fields().asset.master_tracking_id: tid})
    sim.rename_campaign(c.folder_id, "Autumn Sale")
    sim.set_campaign_status(c.folder_id, "A5")

    state = a5_to_a6(box_root_folder_id=flow_env.box_root, return_state=True)

    assert state.is_completed(), state.message
    assert campaign_folders(flow_env) == [f"{NUMBER}-Autumn Sale", f"{NUMBER}-Autumn Sale-Revisions"]
    [rework] = flow_env.db.fetch_all("SELECT * FROM box_uploads WHERE workflow='a5-to-a6'")
    assert rework["dam_asset_id"] == revision and rework["tracking_id"] == tid
    assert rework["box_file_name"] == f"{tid}_hero_it-IT_Lazio.jpg"  # the ID carried once


def test_a_commit_that_stays_202_fails_the_asset_clearly_and_leaves_no_session(flow_env):
    from blocks.box import BoxCredentials

    box = BoxCredentials.load("box")
    box.commit_wait_s = 1.0
    box.save("box", overwrite=True)
    httpx.post(flow_env.box.base_url + "/_sim/box/upload-processing",
               json={"commit_processing_s": 600, "retry_after_s": 1}).raise_for_status()
    sim = flow_env.otmm.sim
    c, _, ids = seed(sim)

    state = run(flow_env)

    assert state.is_failed() and sim.campaign_status(c.folder_id) == "A1"
    row = next(r for r in artifact_rows(state) if r["path"] == "Social/film.mp4")
    assert "still assembling" in row["error"] and "AttributeError" not in row["error"]
    assert httpx.get(flow_env.box.base_url + "/_sim/box/stats").json()["open_upload_sessions"] == 0

    httpx.post(flow_env.box.base_url + "/_sim/box/upload-processing", json={"commit_processing_s": 0})
    assert run(flow_env).is_completed()
    assert_one_tracked_file_per_asset(flow_env, ids)


def test_a_changed_master_above_the_direct_upload_ceiling_becomes_a_new_version(flow_env):
    sim = flow_env.otmm.sim
    c, _, ids = seed(sim)
    assert run(flow_env).is_completed()
    film = ids["Social/film.mp4"]
    before = flow_env.db.fetch_all("SELECT * FROM box_uploads WHERE dam_asset_id=%s", (film,))[0]
    flow_env.box.sim.direct_upload_max = 2 * MiB  # Box's 50 MB ceiling, scaled like the threshold
    sim.replace_content(film, size=3 * MiB)
    sim.set_campaign_status(c.folder_id, "A1")

    state = run(flow_env)

    assert state.is_completed(), state.message
    after = flow_env.db.fetch_all("SELECT * FROM box_uploads WHERE dam_asset_id=%s", (film,))[0]
    assert after["box_file_id"] == before["box_file_id"] and after["size"] == 3 * MiB
    assert after["sha1"] == sim.content_sha1(film)
    assert_one_tracked_file_per_asset(flow_env, ids)
