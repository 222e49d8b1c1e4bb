"""The maintenance CLI: dry listing and question by default, --yes applies, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL

pytestmark = pytest.mark.prefect

ROOT = Path(__file__).resolve().parents[2]


class Result:
    def __init__(self, proc: subprocess.CompletedProcess) -> None:
        self.exit_code, self.output = proc.returncode, proc.stdout + proc.stderr


def cli(*args: str, answer: str = "") -> Result:
    """The CLI as an operator runs it: its own process, pointed at the test's Prefect API."""
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "PYTHONPATH": str(ROOT)}
    return Result(subprocess.run([sys.executable, "-m", "deployments.cli", *args], input=answer, env=env,
                                 cwd=ROOT, capture_output=True, text=True, timeout=120))


def test_update_status_asks_and_yes_applies(flow_env):
    sim = flow_env.otmm.sim
    folder = sim.add_campaign(number="C000000301", name="Festival Teaser", status="A4").folder_id
    sim.add_campaign(number="C000000302", name="Festival Main", status="A2")

    answered_no = cli("update-status", "Teaser", "A1", answer="n\n")
    assert answered_no.exit_code == 0, answered_no.output
    assert "Dry run, nothing changed" in answered_no.output
    assert "C000000301  'Festival Teaser'  A4 → A1\n" in answered_no.output
    assert "Nothing changed." in answered_no.output
    assert sim.campaign_status(folder) == "A4"

    answered_yes = cli("update-status", "Teaser", "A1", answer="y\n")
    assert answered_yes.exit_code == 0, answered_yes.output
    assert "A4 → A1  changed" in answered_yes.output
    assert sim.campaign_status(folder) == "A1"

    ambiguous = cli("update-status", "Festival", "A3", "--yes")
    assert ambiguous.exit_code == 1
    assert "2 campaigns match 'Festival'" in ambiguous.output
    assert sim.campaign_status(folder) == "A1"

    advanced = cli("advance-a1-to-a3", "--yes")
    assert advanced.exit_code == 0, advanced.output
    assert sim.campaign_status(folder) == "A3"


def test_test_connections_exit_code(flow_env):
    result = cli("test-connections")
    assert result.exit_code == 0, result.output
    assert ("DAM (dam): ok – signed in with OTDS client credentials of 'cs-test'; Box (box): ok; "
            "Tracking database (tracking-db): ok; SMTP (email): ok") in result.output
    flow_env.otmm.dam_block(auth_method="session").save("dam-session", overwrite=True)
    session = cli("test-connections", "--dam-block", "dam-session")
    assert session.exit_code == 0, session.output
    assert "DAM (dam-session): ok – signed in with OTMM session login as 'cs-user'" in session.output
    no_certificate = cli("check-certificate", "--dam-block", "dam-session")
    assert no_certificate.exit_code == 0 and "nothing to check" in no_certificate.output
    broken = cli("test-connections", "--email-block", "no-such-block")
    assert broken.exit_code == 1
    assert "SMTP (no-such-block): failed" in broken.output
