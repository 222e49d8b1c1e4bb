"""Bad input: hostile names and metadata never lose a file and never stop the others.

A1→A2 (DAM → Box): campaign names with characters Box forbids, asset names with path
traversal, 300 characters, control characters, mixed Unicode with a right-to-left override,
a name that is only dots and spaces, a zero-byte asset, metadata with missing fields and wrong
types. Each asset gets a row in the run artifact; each is either in Box under a Box-safe name
with the DAM's exact bytes or reported with a clear error; the other assets are still copied.

A2→A3 (Box → DAM): agency files with no tracking ID, an unknown ID, zero bytes, path traversal
and mixed Unicode in the description, a name of 255 characters, a missing extension, and a
master whose stored metadata has wrong types. Each gets a row in the run artifact with a clear
reason; whatever cannot be imported stays in Box (nothing lost); the good file is imported.
"""

from __future__ import annotations

import hashlib
import json
import time

import pytest
from prefect import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

from domain.fields import load_dam_fields
from flows.a1_to_a2 import a1_to_a2
from flows.a2_to_a3 import a2_to_a3
from tests.reliability.conftest import box_file_sha1, box_files_under

pytestmark = pytest.mark.prefect
F = load_dam_fields()

HOSTILE_DAM_NAMES = {
    "traversal": "../../etc/passwd.jpg",
    "backslash traversal": "..\\..\\windows\\win.ini",
    "300 characters": "L" * 296 + ".jpg",
    "control characters": "bell\x07tab\tnew\r\nline\x00nul.jpg",
    "mixed unicode": "Ünïcödé 日本語 עברית \u202egpj.exe",
    "dots and spaces": " . ",
    "no extension": "README",
}


def run_logs(state, wanted=lambda messages: True) -> list[str]:
    """The run's log lines, once ``wanted`` holds for them (Prefect ships logs in the background
    in batches: a line logged just before the run ended may arrive a moment later)."""
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    deadline = time.monotonic() + 15
    while True:
        with get_client(sync_client=True) as client:
            logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(
                any_=[state.state_details.flow_run_id])), limit=200)
        messages = [log.message for log in logs]
        if wanted(messages) or time.monotonic() > deadline:
            return messages
        time.sleep(0.5)


def artifact(state, key: str) -> list[dict]:
    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id]),
            key=ArtifactFilterKey(any_=[key])))
    assert len(arts) == 1, key
    data = arts[0].data
    return json.loads(data) if isinstance(data, str) else data


def test_a1_to_a2_hostile_campaign_and_asset_names_and_metadata(env):
    sim = env.otmm.sim
    forbidden = sim.add_campaign(number="C000000601", name=' Spring/Summer\\ "Launch"\x07 ', status="A1",
                                 created="2026-04-01T10:00:00Z")
    nameless = sim.add_campaign(number="C000000602", name="", status="A1", created="2026-04-02T10:00:00Z")
    sim.add_asset(nameless.master_assets_id, "kept.jpg", size=600)
    other = sim.add_campaign(number="C000000603", name="Plain", status="A1", created="2026-04-03T10:00:00Z")
    sub = sim.add_folder(forbidden.master_assets_id, "../Sub/..")
    assets = {label: sim.add_asset(forbidden.master_assets_id if i % 2 else sub, name, size=1_000 + i)
              for i, (label, name) in enumerate(HOSTILE_DAM_NAMES.items())}
    assets["zero bytes"] = sim.add_asset(forbidden.master_assets_id, "empty.jpg", size=0)
    assets["wrong types"] = sim.add_asset(forbidden.master_assets_id, "typed.jpg", size=900, fields={
        F.asset.brand: 12345, F.asset.country: None, F.asset.language: "2026-01-01T00:00:00Z"})
    assets["no metadata"] = sim.add_asset(other.master_assets_id, "bare.jpg", size=800)
    good = sim.add_asset(other.master_assets_id, "good.jpg", size=700)

    state = a1_to_a2(box_root_folder_id=env.box_root, return_state=True)

    rows = artifact(state, "a1-to-a2-assets")
    by_asset = {r["dam_asset_id"]: r for r in rows if r.get("dam_asset_id")}
    files = box_files_under(env, env.box_root)
    for label, asset_id in {**assets, "good": good}.items():
        row = by_asset.get(asset_id)
        assert row is not None, f"{label}: no row in the run artifact"
        if row["outcome"] == "failed":
            assert len(row["error"]) > 10, (label, row)  # a sentence, not an exception class
            continue
        assert row["outcome"] == "uploaded", (label, row)
        path = row["box_path"]
        assert path in files, (label, path, sorted(files))
        assert box_file_sha1(env, files[path]["id"]) == sim.content_sha1(asset_id), label
        name = path.rsplit("/", 1)[-1]
        assert "/" not in name and "\\" not in name and len(name) <= 255 and name == name.strip(), (label, name)
        assert not any(ord(c) < 32 for c in name), (label, name)
    assert by_asset[good]["outcome"] == "uploaded"
    assert "declares no content" in by_asset[assets["zero bytes"]]["error"]  # never an empty master in Box
    assert len(files) == sum(1 for r in by_asset.values() if r["outcome"] == "uploaded")
    campaign_folders = {f["path"] for f in env.box.sim.folders()}
    assert any(p.startswith("Local adaptation/C000000601-") for p in campaign_folders), campaign_folders
    if all(r["outcome"] == "uploaded" for r in by_asset.values()):
        assert sim.campaign_status(forbidden.folder_id) == "A2"
    # the run says it needs attention (the nameless campaign), the others went through
    assert state.is_failed() and "1 in error" in state.message and "C000000602" in state.message
    assert sim.campaign_status(other.folder_id) == "A2"
    # the campaign without a name: skipped with a clear error, left in A1, nothing of it in Box
    assert sim.campaign_status(nameless.folder_id) == "A1"
    assert not any("C000000602" in p for p in campaign_folders)
    skipped = lambda messages: any("C000000602" in m and "has no campaign name" in m for m in messages)  # noqa: E731
    errors = [m for m in run_logs(state, skipped) if "C000000602" in m]
    assert any("has no campaign name" in m and "Skipped" in m for m in errors), errors
    wrong = env.db.fetch_all("SELECT * FROM master_assets WHERE dam_asset_id=%s", (assets["wrong types"],))[0]
    assert wrong["brand"] == "12345" and wrong["country"] is None


def test_a2_to_a3_hostile_agency_file_names(env):
    sim, box = env.otmm.sim, env.box.sim
    c = sim.add_campaign(number="C000000701", name="Hostile", status="A1")
    masters = {n: sim.add_asset(c.master_assets_id, n, size=1_000 + i) for i, n in enumerate(("a.jpg", "b.jpg"))}
    assert a1_to_a2(box_root_folder_id=env.box_root, return_state=True).is_completed()
    tid = {r["dam_asset_id"]: r["tracking_id"] for r in env.db.fetch_all("SELECT * FROM master_assets")}
    ta, tb = tid[masters["a.jpg"]], tid[masters["b.jpg"]]
    # b's stored master metadata is garbage: wrong types everywhere
    env.db.fetch_all("UPDATE master_assets SET metadata=%s WHERE tracking_id=%s RETURNING 1", (json.dumps(
        {"metadata_element_list": [42, "text", None, {"id": F.asset.brand, "value": "not an object"},
                                   {"id": F.mvp.fields[0], "value": {"value": {"value": ["a", "list"]}}}]}), tb))
    agency = box.create_folder("0", "Agency uploads")
    bad = {
        "no tracking id.jpg": b"x" * 10,
        "ZZZZZZ_Unknown_it-IT_Lazio.jpg": b"x" * 11,
        f"{ta}_Empty_it-IT_Lazio.jpg": b"",
        f"{ta}_No extension_it-IT_Lazio": b"x" * 12,
        f"{ta}_Right-to-left \u202egpj.exe_it-IT_Lazio.jpg": b"x" * 14,
        f"{ta}_Zero\u200bwidth_it-IT_Lazio.jpg": b"x" * 15,
        "..": None,
    }
    good = {
        f"{ta}_..%2F..%2Fetc%2Fpasswd_it-IT_Lazio.jpg": b"traversal" * 20,
        f"{ta}_Ünïcödé 日本語 עברית Ελληνικά_it-IT_Lazio.jpg": b"unicode" * 20,
        f"{ta}_{'D' * 220}_it-IT_Lazio.jpg": b"long" * 20,
        f"{tb}_Garbage master metadata_it-IT_Lazio.jpg": b"garbage" * 20,
        f"{ta.lower()}_Lower case id_it-IT_Lazio.jpg": b"x" * 13,  # IDs are matched whatever their case
    }
    bad.pop("..")  # Box itself refuses that name
    assert all(len(n) <= 255 for n in [*bad, *good])
    for name, body in {**bad, **good}.items():
        box.put_file(agency, name, body)

    state = a2_to_a3(agency_folder_id=agency, return_state=True)

    rows = {r["box_path"]: r for r in artifact(state, "a2-to-a3-files")}
    assert set(rows) == set(bad) | set(good), sorted(rows)
    for name in bad:
        assert rows[name]["outcome"] in ("bad_name", "unknown_tracking_id", "empty_file"), rows[name]
        assert rows[name]["left_in_box"] is True and len(rows[name]["reason"]) > 10, rows[name]
    assert "no master asset" in rows["ZZZZZZ_Unknown_it-IT_Lazio.jpg"]["reason"]
    assert "empty" in rows[f"{ta}_Empty_it-IT_Lazio.jpg"]["reason"]
    left = {f["name"] for f in box.files() if f["path"].startswith("Agency uploads/")}
    imported = {u["name"]: u for u in sim.uploaded_assets()}
    for name, body in good.items():
        row = rows[name]
        if row["outcome"] == "imported":
            assert imported[name]["sha1"] == hashlib.sha1(body).hexdigest() and name not in left
        else:  # refused: said why, and kept
            assert row["outcome"] == "failed" and len(row["reason"]) > 10 and name in left, row
    assert left >= set(bad), "a file that could not be imported was deleted from Box"
    assert rows[f"{ta}_..%2F..%2Fetc%2Fpasswd_it-IT_Lazio.jpg"]["outcome"] == "imported"
    assert all(u["parent_folder_id"] == c.final_assets_id for u in imported.values())


def test_a1_to_a2_campaign_without_a_name_has_an_error_row_in_the_artifact(env):
    sim = env.otmm.sim
    nameless = sim.add_campaign(number="C000000611", name="", status="A1")
    sim.add_asset(nameless.master_assets_id, "kept.jpg", size=600)

    state = a1_to_a2(box_root_folder_id=env.box_root, return_state=True)

    rows = artifact(state, "a1-to-a2-campaigns")
    assert any(r["campaign"] == "C000000611" and "no campaign name" in r["error"] for r in rows), rows
