"""Crash and resume: the flow process is SIGKILLed at seeded random points of A1→A2 and of
A2→A3 (20 in all, plus 3 named points of A2→A3), then the flow is run again until it completes.

Each kill point is the k-th request the flow process makes to the DAM or Box (k and the
moment — before the simulator handles that request, or right after it answered — drawn from
a seeded generator); the simulators stay up in the test process, only the flow dies.

Proven for every kill point:
- re-running converges to exactly the state of a clean run (normalised so that random
  tracking IDs and simulator IDs compare): the Box files (paths, stored bytes' SHA-1), the
  Box folders, the DAM assets created (names, folders, bytes), the campaign statuses and the
  tracking-database rows (master_assets, box_uploads, derivative_assets);
- no Box file is ever deleted before the DAM holds its asset: checked live, at the moment
  Box receives each DELETE, across the killed run and the re-runs.
"""

from __future__ import annotations

import hashlib
import random
import signal

import pytest

from tests.reliability.worlds import (
    Child,
    FlowForks,
    World,
    arm_kill,
    close_world,
    disarm,
    make_world,
    run_in_process,
    seed_a1,
    seed_a2,
    snapshot,
)

pytestmark = [pytest.mark.prefect, pytest.mark.slow]

KILL_POINTS_PER_FLOW = 10
SEED = 20260601


@pytest.mark.parametrize("flow,seed", [("a1_to_a2", SEED), ("a2_to_a3", SEED + 1)])
def test_sigkill_at_seeded_points_then_rerun_converges_to_a_clean_run(shared, flow, seed, tmp_path):
    seed_world = seed_a1 if flow == "a1_to_a2" else seed_a2
    folder = (lambda w: w.box_root) if flow == "a1_to_a2" else (lambda w: w.agency)
    rng = random.Random(seed)

    # The clean run: the reference state, and how many requests a whole run makes.
    clean = make_world(shared, "clean")
    try:
        seed_world(clean)
        counted = arm_kill(clean, None, k=-1, phase="never")  # type: ignore[arg-type]
        state = run_in_process(flow, clean)
        assert state.is_completed(), state.message
        reference, total = snapshot(clean), counted["count"]
        assert clean.violations == []
    finally:
        close_world(shared, clean)
    assert total >= 15, total
    expected_status = "A2" if flow == "a1_to_a2" else "A3"
    assert set(reference["statuses"].values()) == {expected_status}

    points = sorted(rng.sample(range(1, total), KILL_POINTS_PER_FLOW))
    phases = [rng.choice(("request", "response")) for _ in points]
    killed, reruns = 0, []
    forks = FlowForks(tmp_path / "flow-processes.log")
    for i, (k, phase) in enumerate(zip(points, phases, strict=True)):
        world = make_world(shared, f"kill-{i}")
        try:
            seed_world(world)
            armed = arm_kill(world, forks, k, phase)
            forks.go(flow, folder(world))
            code = forks.wait()
            assert armed["killed"] and code == -signal.SIGKILL, (k, phase, code, forks.log.name)
            killed += 1
            disarm(world, armed)
            runs = [run_in_process(flow, world)]
            while not runs[-1].is_completed() and len(runs) < 3:
                runs.append(run_in_process(flow, world))
            assert runs[-1].is_completed(), (k, phase, [r.message for r in runs])
            reruns.append(len(runs))
            assert snapshot(world) == reference, (k, phase)
            assert world.violations == [], (k, phase, world.violations)
        finally:
            close_world(shared, world)
    forks.close()
    print(f"{flow}: {killed} kill points {list(zip(points, phases, strict=True))}, reruns needed {reruns}")
    assert killed == KILL_POINTS_PER_FLOW


# Named points: the moments a crash hurts most in A2→A3, each checked on its own.
NAMED_POINTS = {
    # the DAM created the asset, the flow died before recording it or deleting the Box file
    "after the first DAM upload answered": dict(k=1, phase="response", method="POST", path=r"/otmmapi/v6/assets$"),
    # a Box file is being deleted: the flow dies before Box handles it
    "before the first Box delete": dict(k=1, phase="request", method="DELETE", path=r"^/2\.0/files/"),
    # every file imported and deleted, the flow dies before any campaign moved to A3
    "after the last Box delete answered": dict(k=4, phase="response", method="DELETE", path=r"^/2\.0/files/"),
}


@pytest.mark.parametrize("point", list(NAMED_POINTS))
def test_a2_to_a3_sigkill_at_named_points_then_rerun_converges(shared, point, tmp_path):
    child = Child(tmp_path / "child.log")
    world = make_world(shared, "named")
    try:
        seed_a2(world)
        armed = arm_kill(world, child, **NAMED_POINTS[point])
        child.go("a2_to_a3", world.agency)
        assert child.wait() == -signal.SIGKILL and armed["killed"], child.log.name
        disarm(world, armed)
        state = run_in_process("a2_to_a3", world)
        assert state.is_completed(), state.message
        after = snapshot(world)
        assert after["statuses"] == {"C000000501": "A3", "C000000502": "A3"}
        assert [f for f in after["box_files"] if "Agency uploads" in f[0]] == []
        assert sorted(n for n, _, _ in after["dam_assets_created"]) == sorted(
            _label(world, n) for n in world.agency_bytes)
        assert {sha for _, _, sha in after["dam_assets_created"]} == {
            hashlib.sha1(b).hexdigest() for b in world.agency_bytes.values()}
        assert [d[2] for d in after["derivative_assets"]] == ["imported"] * 4
        assert world.violations == []
    finally:
        child.kill()
        close_world(shared, world)


def _label(world: World, name: str) -> str:
    for m in world.db.fetch_all("SELECT * FROM master_assets"):
        name = name.replace(m["tracking_id"], f"<{m['campaign_number']}/{m['dam_path']}>")
    return name
