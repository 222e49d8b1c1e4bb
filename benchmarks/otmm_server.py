"""``python -m benchmarks.otmm_server --plan PLAN.json --ids IDS.json``: the OTMM simulator, seeded for a benchmark.

The plain ``python -m simulators.otmm`` has no HTTP route to add assets, so the benchmark
seeds the simulator in the simulator's own process: ``PLAN.json`` lists campaigns
(``number``, ``name``, ``status``, ``assets``, ``size``), and the folder and asset IDs made are
written to ``IDS.json`` before the base URL is printed. Asset content is generated while it
is streamed, so a 2 GB asset costs no memory or disk here.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from simulators.common import serve_forever
from simulators.otmm import OtmmSimulator


def seed(sim: OtmmSimulator, plan: list[dict]) -> dict[str, dict]:
    """Create the planned campaigns; returns ``{number: {folder_id, master_assets_id, assets: [...]}}``."""
    seeded: dict[str, dict] = {}
    for i, spec in enumerate(plan):
        campaign = sim.add_campaign(spec["number"], spec["name"], spec["status"],
                                    created=f"2020-01-{1 + i % 28:02d}T00:00:00Z")
        assets = [sim.add_asset(campaign.master_assets_id, f"asset-{n:05d}.jpg", size=int(spec["size"]),
                                mime_type="image/jpeg")
                  for n in range(int(spec["assets"]))]
        seeded[spec["number"]] = {"folder_id": campaign.folder_id, "master_assets_id": campaign.master_assets_id,
                                  "name": spec["name"], "assets": assets}
    return seeded


def main(argv: list[str] | None = None) -> None:
    """Seed from the plan, write the IDs, print the base URL, serve until killed."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.otmm_server")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--plan", type=Path, required=True)
    parser.add_argument("--ids", type=Path, required=True)
    args = parser.parse_args(argv)
    sim = OtmmSimulator(client_id=os.environ["OTMM_SIM_CLIENT_ID"], client_secret=os.environ["OTMM_SIM_CLIENT_SECRET"])
    ids = seed(sim, json.loads(args.plan.read_text()))
    tmp = args.ids.with_suffix(".tmp")
    tmp.write_text(json.dumps(ids))
    tmp.replace(args.ids)
    try:
        serve_forever(sim.app, args.port, None, "OTMM simulator at")
    finally:
        sim.close()


if __name__ == "__main__":
    main()
