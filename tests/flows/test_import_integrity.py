"""A2→A3 integrity: every agency file gets one row every run, imports are verified against what
Box declares, IDs are matched as people type them, and a campaign's status decides."""

from __future__ import annotations

import pytest

from flows.a2_to_a3 import a2_to_a3
from tests.flows import test_a2_to_a3
from tests.flows.test_a1_to_a2 import clear_faults, inject
from tests.flows.test_a2_to_a3 import agency_files, results, run

pytestmark = [pytest.mark.prefect, pytest.mark.slow]  # minutes of flow runs: make test-slow
env = test_a2_to_a3.env  # the same world: masters sent to Box by a real A1→A2 run, an agency folder


def test_files_past_max_files_are_deferred_with_a_row_each(env):
    flow_env, c, masters, ids, agency, italy, server, cx = env
    box = flow_env.box.sim
    for i, lang in enumerate(["it-IT", "fr-FR", "de-DE", "es-ES", "pt-PT"]):
        box.put_file(italy, f"{ids['hero.jpg']}_Hero_{lang}_Region{i}.jpg", b"hero %d" % i)
    box.put_file(italy, "no tracking id.jpg", b"?")

    state = a2_to_a3(agency_folder_id=agency, max_files=2, return_state=True)

    assert state.is_completed(), state.message
    rows = results(state)
    assert len(rows) == 6  # every file, one row
    outcomes = sorted(r["outcome"] for r in rows.values())
    assert outcomes == ["bad_name", "deferred", "deferred", "deferred", "imported", "imported"]
    assert all("max_files=2" in r["reason"] for r in rows.values() if r["outcome"] == "deferred")
    assert "3 deferred" in state.message and "1 bad_name" in state.message
    assert len(agency_files(env)) == 4

    assert run(env).is_completed()
    assert agency_files(env) == {"Italy/no tracking id.jpg"}


def test_a_lower_case_tracking_id_is_matched(env):
    flow_env, c, masters, ids, agency, italy, server, cx = env
    flow_env.box.sim.put_file(italy, f"{ids['hero.jpg'].lower()}_Hero_it-IT_Lazio.jpg", b"hero")
    state = run(env)
    assert state.is_completed(), state.message
    [row] = results(state).values()
    assert row["outcome"] == "imported" and row["tracking_id"] == ids["hero.jpg"]


@pytest.mark.parametrize("status,imported", [("A4", False), ("A1", False), ("A3", False), ("A6", True)])
def test_the_campaign_status_decides_whether_a_file_is_imported(env, status: str, imported: bool):
    flow_env, c, masters, ids, agency, italy, server, cx = env
    flow_env.otmm.sim.set_campaign_status(c.folder_id, status)
    flow_env.box.sim.put_file(italy, f"{ids['hero.jpg']}_Hero_it-IT_Lazio.jpg", b"hero")

    state = run(env)

    assert state.is_completed(), state.message
    [row] = results(state).values()
    if imported:
        assert row["outcome"] == "imported" and agency_files(env) == set()
        return
    assert row["outcome"] == "campaign_not_open" and f"status {status}" in row["reason"]
    assert agency_files(env) == {f"Italy/{ids['hero.jpg']}_Hero_it-IT_Lazio.jpg"}
    assert flow_env.otmm.sim.uploaded_assets() == []
    [mail] = [m for m in flow_env.mail.messages if "a2-to-a3" in m["Subject"]]
    assert f"status {status}" in mail.get_body(("plain",)).get_content()


@pytest.mark.parametrize("delta", [-3, 5], ids=["short", "long"])
def test_a_box_download_that_disagrees_with_box_declaration_imports_nothing(env, delta: int):
    flow_env, c, masters, ids, agency, italy, server, cx = env
    name = f"{ids['hero.jpg']}_Hero_it-IT_Lazio.jpg"
    flow_env.box.sim.put_file(italy, name, b"localised hero, forty bytes of content..")
    inject(flow_env.box.base_url, path="^/dl/", kind="resize", size_delta=delta)

    state = run(env)

    assert state.is_failed()
    [row] = results(state).values()
    assert row["outcome"] == "failed" and "declared" in row["reason"], row
    assert flow_env.otmm.sim.uploaded_assets() == []
    assert agency_files(env) == {f"Italy/{name}"}

    clear_faults(flow_env.box.base_url)
    assert run(env).is_completed()
    assert [u["name"] for u in flow_env.otmm.sim.uploaded_assets()] == [name]
    assert agency_files(env) == set()


def test_empty_agency_file_is_named_as_such(env):
    flow_env, c, masters, ids, agency, italy, server, cx = env
    flow_env.box.sim.put_file(italy, f"{ids['hero.jpg']}_Hero_it-IT_Lazio.jpg", b"")
    state = run(env)
    [row] = results(state).values()
    assert row["outcome"] == "empty_file" and "empty (0 bytes)" in row["reason"]
