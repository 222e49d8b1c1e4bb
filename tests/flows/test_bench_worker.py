"""``make bench``'s worker still reaches into the flow it times: a refactor of the pipeline that
renames what the bench wraps must fail here, not five minutes into ``make bench``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.prefect
ROOT = Path(__file__).resolve().parents[2]


def test_worker_times_a1_to_a2_transfer_phase_and_each_asset_within_the_run(flow_env, tmp_path):
    from prefect.settings import PREFECT_API_URL

    sim = flow_env.otmm.sim
    campaign = sim.add_campaign("C000000400", "Bench hooks", "A1")
    for i in range(3):
        sim.add_asset(campaign.master_assets_id, f"asset-{i}.jpg", 60_000 + i, "image/jpeg")
    args = {"campaign_number": "C000000400", "concurrency": 2, "box_root_folder_id": flow_env.box_root}
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "PREFECT_HOME": str(tmp_path)}

    proc = subprocess.run([sys.executable, "-m", "benchmarks.worker", "a1-to-a2", json.dumps(args)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)

    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.splitlines()[-1])
    assert (result["state"], result["assets"]) == ("Completed", 3), result["message"]
    timers = result["timers"]
    assert {k: timers[k]["calls"] for k in ("flow.transfer_phase", "asset.body", "stream.stream_dam_to_box")} \
        == {"flow.transfer_phase": 1, "asset.body": 3, "stream.stream_dam_to_box": 3}
    body, phase = timers["asset.body"], timers["flow.transfer_phase"]
    assert 0 < phase["first_start_s"] <= body["first_start_s"] <= body["last_end_s"] <= phase["last_end_s"] \
        < result["wall_s"]
    assert len(flow_env.box.sim.files()) == 3
