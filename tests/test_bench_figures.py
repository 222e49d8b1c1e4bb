"""``make bench``'s raw Box→DAM limit and its figures: the raw loop really imports (and only then
deletes), and the summary derives the new keys from what the workers measured."""

from __future__ import annotations

import argparse
import hashlib
import os

import pytest

from benchmarks.run import print_table, summarise
from benchmarks.worker import import_box_file, import_folder
from clients.box import BoxFile, BoxStore
from clients.errors import IntegrityError


@pytest.fixture
def store(box) -> BoxStore:
    return box.store()


def test_raw_import_lands_every_file_in_final_assets_byte_for_byte_then_empties_the_folder(otmm, box, store):
    campaign = otmm.sim.add_campaign(number="C000000300", name="Raw", status="A2")
    agency = box.sim.create_folder("0", "Agency uploads")
    italy = box.sim.create_folder(agency, "Italy")
    sent = {f"AB23C{c}_Hero {c}_it-IT_Lazio.jpg": os.urandom(150_000 + i) for i, c in enumerate("DEFG")}
    for i, (name, data) in enumerate(sent.items()):
        box.sim.put_file(italy if i % 2 else agency, name, data)

    files = import_folder(otmm.dam_block().get_client(), store, agency, campaign.folder_id, concurrency=3)

    assert sorted(f.name for f in files) == sorted(sent)
    uploads = otmm.sim.uploaded_assets()
    assert {u["parent_folder_id"] for u in uploads} == {campaign.final_assets_id}
    assert {u["name"]: u["sha1"] for u in uploads} == {n: hashlib.sha1(d).hexdigest() for n, d in sent.items()}
    assert box.sim.files() == []


def test_raw_import_leaves_a_file_in_box_when_its_bytes_differ_from_what_box_declared(otmm, box, store):
    campaign = otmm.sim.add_campaign(number="C000000301", name="Raw bad", status="A2")
    file_id = box.sim.put_file("0", "AB23CD_Hero_it-IT_Lazio.jpg", b"localised" * 1000)
    declared = store.get_file(file_id)
    wrong = BoxFile(**{**declared.model_dump(), "sha1": hashlib.sha1(b"other bytes").hexdigest()})
    dam = otmm.dam_block().get_client()

    with pytest.raises(IntegrityError):
        import_box_file(dam, store, wrong, dam.find_subfolder(campaign.folder_id, "Final Assets"))

    assert [f["id"] for f in box.sim.files()] == [file_id]


def _measured(wall: float, cpu: float, parts: dict[str, float], **extra: object) -> dict:
    return {"wall_s": wall, "cpu_s": cpu, "cpu_parts_s": parts, "peak_rss_mb": 100.0,
            "requests": {"otmm": {}, "box": {}}, **extra}


@pytest.mark.fast
def test_summary_carries_the_ratios_cpu_by_process_and_time_outside_the_transfers(capsys):
    parts = {"prefect-server": 2.0, "postgres": 1.0, "otmm": 3.0, "box": 4.0, "creativex": 0.5, "smtp": 0.5}
    span = {"asset.body": {"calls": 200, "wall_s": 1.0, "cpu_s": 1.0, "first_start_s": 1.5, "last_end_s": 8.0}}
    small_span = {"asset.body": {"calls": 50, "wall_s": 1.0, "cpu_s": 1.0, "first_start_s": 1.25, "last_end_s": 2.5}}
    results = {
        "raw": _measured(5.0, 2.0, parts), "flow": _measured(9.0, 4.0, parts, timers=span),
        "small_raw": _measured(1.5, 0.5, parts), "small_flow": _measured(4.5, 1.0, parts, timers=small_span),
        "a2_to_a3_raw": _measured(10.0, 3.0, parts, files=200), "a2_to_a3": _measured(20.0, 6.0, parts),
    }
    args = argparse.Namespace(assets=200, size_mb=2.0, latency_ms=100.0, bandwidth=None, concurrency=16,
                              small_assets=50, small_size_mb=0.5, big_gb=2.0)

    out = summarise(results, args, 2_000_000)

    assert out["ratio_to_raw_limit"] == 1.8
    assert (out["a2_to_a3_raw_s"], out["a2_to_a3_ratio_to_raw_limit"]) == (10.0, 2.0)
    assert (out["small_campaign_raw_s"], out["small_campaign_flow_s"], out["small_campaign_ratio_to_raw_limit"]) \
        == (1.5, 4.5, 3.0)
    assert (out["a1_to_a2_before_transfers_s"], out["a1_to_a2_after_transfers_s"]) == (1.5, 1.0)
    assert (out["small_campaign_before_transfers_s"], out["small_campaign_after_transfers_s"]) == (1.25, 2.0)
    # per item: the measured process, the Prefect server, PostgreSQL, the four simulators together
    assert {k: out[f"a2_to_a3_cpu_ms_per_file_{k}"] for k in ("flow", "prefect_server", "postgres", "simulators",
                                                                "total")} \
        == {"flow": 30.0, "prefect_server": 10.0, "postgres": 5.0, "simulators": 40.0, "total": 85.0}
    assert out["a1_to_a2_cpu_ms_per_asset_flow"] == 20.0 and out["a1_to_a2_cpu_ms_per_asset_simulators"] == 40.0
    assert out["targets_met"]["small_campaign_ratio_le_2.0"] is False
    assert out["targets_met"]["a2_to_a3_ratio_le_1.3"] is False
    print_table(results, out, args)
    table = capsys.readouterr().out
    assert "flow / raw limit: a1-to-a2 1.8×, small campaign 3.0×, a2-to-a3 2.0×" in table
    assert "campaign before 1.5 after 1.0, small campaign before 1.25 after 2.0" in table
