"""Every email as a reader sees it: a headless Chromium at 600 px, light, dark and auto-dark.

Each kind of email, with realistic and hostile data (long unbroken paths, 100 assets, 300
characters of campaign name, a report of 200 campaigns and errors), must fit the 600 px window
(nothing scrolls sideways, every table fits its box), keep its text readable (WCAG contrast)
in light and dark mode, and keep its colour coding (the header's tone) in dark mode. The
screenshots are kept in ``.test-artifacts/email-screenshots/`` (CI keeps that folder as the
check's artifact; open a few PNGs to see what people see).
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.campaigns import Campaign
from domain.daily_report import RunRecord, compute_report, report_notification
from domain.localised_files import ImportOutcome, ImportResult
from domain.notification_rules import Outage
from domain.notifications import (
    a2_to_a3_complete_notification,
    campaign_notification,
    error_notification,
    files_uploaded_notification,
    render,
    resolved_notification,
)
from domain.transfers import AssetOutcome, AssetResult, CampaignOutcome, CampaignResult

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / ".test-artifacts" / "email-screenshots"
UI = "https://prefect.example.corp"
RUN = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
LONG = "Social/" + "VeryLongFolderNameWithoutAnySpaces" * 4 + "/hero_banner_final_final_v12_approved.jpg"
HOSTILE = '<script>alert("x")</script> & Co'
TONES = {"green": "rgb(30, 125, 50)", "orange": "rgb(179, 92, 0)", "red": "rgb(198, 40, 40)",
         "blue": "rgb(21, 101, 192)"}


def _campaign(outcome: CampaignOutcome, n: int, name: str) -> CampaignResult:
    assets = [AssetResult(campaign_number="C000000078", dam_path=LONG if i == 0 else f"Social/asset-{i}.jpg",
                          dam_asset_id=str(i), tracking_id="K7M2QX",
                          outcome=AssetOutcome.FAILED if outcome == CampaignOutcome.PARTIAL and i < 2
                          else AssetOutcome.UPLOADED, box_path=f"C000000078-{name[:20]}/{LONG if i == 0 else i}",
                          error="TransientError: " + "DAM answered 503 " * 12 if i < 2 else None,
                          details={"approver_comments": "Logo too small; " * 8, "legal_comments": HOSTILE,
                                   "legal_certifier": "l.bianchi@example.test", "legal_date": "2026-02-11T10:00:00Z"})
              for i in range(n)]
    return CampaignResult(campaign=Campaign(folder_id="f", number="C000000078", name=name, status="A1"),
                          outcome=outcome, box_folder_id="123", assets=assets, status_before="A1",
                          status_after="A2" if outcome == CampaignOutcome.COMPLETE else "A1")


def _report():
    now = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)
    runs = [RunRecord(flow_run_id=f"{RUN[:-3]}{i:03d}", workflow=w, state_type="FAILED" if i % 7 == 0 else
                      "COMPLETED", state_name="Failed" if i % 7 == 0 else "Completed",
                      message="a1-to-a2: 1 partial. Errors: " + LONG if i % 7 == 0 else "", end_time=now,
                      campaigns=[{"campaign": f"C{i:09d}", "campaign_name": "Campaign with a long name " * 3,
                                  "outcome": "partial" if i % 7 == 0 else "complete", "assets_succeeded": 12345,
                                  "assets_failed": i % 7, "assets_skipped": 0, "error": LONG if i % 7 == 0 else ""}])
            for i, w in enumerate(["a1-to-a2", "a2-to-a3", "a5-to-a6", "b1-to-b2", "a4-live-webhook"] * 40)]
    return compute_report(runs, now - timedelta(hours=24), now)


def every_email() -> dict[str, tuple[str, str]]:
    """name → (tone, HTML) for every kind, with the data that makes layouts break."""
    name = "Spring Launch " + HOSTILE + " " + "X" * 250
    out = {}
    for workflow in ("a1-to-a2", "a5-to-a6", "b1-to-b2"):
        for outcome, n in ((CampaignOutcome.COMPLETE, 100), (CampaignOutcome.PARTIAL, 6), (CampaignOutcome.NO_ASSETS, 0)):
            out[f"{workflow}-{outcome.value}"] = campaign_notification(workflow, _campaign(outcome, n, name), RUN)
    left = [ImportResult(box_path=LONG, box_file_id=str(i), outcome=o, reason="the name does not follow the "
                         "convention <tracking ID>_<description>_<language>_<state>.<extension>", tracking_id="K7M2QX",
                         campaign_number="C000000078", dam_asset_id="d" * 40, creativex="added")
            for i, o in enumerate([ImportOutcome.IMPORTED] * 3 + [ImportOutcome.BAD_NAME] * 3)]
    out["a2-to-a3-file-uploaded"] = files_uploaded_notification(left, RUN)
    out["a2-to-a3-complete"] = a2_to_a3_complete_notification("C000000078", name, RUN)
    out["error"] = error_notification("a1-to-a2", "Failed", "Flow run encountered an exception: " + LONG * 3, RUN)
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    out["resolved"] = resolved_notification(Outage(
        workflow="a1-to-a2", started_at=now, first_flow_run_id=RUN, first_state="Failed", first_message=LONG,
        failed_runs=11, crashed_runs=1, last_flow_run_id=RUN, last_at=now), RUN, UI)
    out["daily-report"] = report_notification(_report(), RUN, UI)
    return {k: (n.tone, render(n.with_run_link(UI)).html) for k, n in out.items()}


@pytest.fixture(scope="module")
def checks():
    from deployments.email_check import check_emails
    from deployments.ui_check import chromium

    if chromium() is None:
        message = "Chromium is missing: apt-get install chromium (.ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    emails = every_email()
    results = check_emails({k: html for k, (_, html) in emails.items()}, SCREENSHOTS, width=600)
    return {(c.name, c.mode): c for c in results}, {k: tone for k, (tone, _) in emails.items()}


def test_every_email_fits_600_px_in_every_mode(checks):
    results, tones = checks
    assert len(results) == 3 * len(tones) == 3 * 14
    bad = {key: c.problems() for key, c in results.items() if not c.fits}
    assert bad == {}


def test_text_is_readable_and_the_colour_coding_stays_in_dark_mode(checks):
    results, tones = checks
    for (name, mode), check in results.items():
        assert check.low_contrast == [], (name, mode, check.low_contrast)
        assert check.header_background == TONES[tones[name]], (name, mode)  # dark mode keeps the tone
        if mode != "auto-dark":
            assert check.min_contrast >= 4.5, (name, mode)


def test_screenshots_are_kept(checks):
    results, _ = checks
    for check in results.values():
        shot = Path(check.screenshot)
        assert shot.parent == SCREENSHOTS and shot.stat().st_size > 5_000
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_check_can_fail():
    """A layout that does not fit (a fixed 900 px table, grey on white) is caught."""
    from deployments.email_check import check_emails
    from deployments.ui_check import chromium

    if chromium() is None:
        pytest.skip("Chromium is missing")
    bad = ('<html><body><table data-section="x" style="width:900px"><tr><td style="color:#bbbbbb">'
           'faint</td></tr></table></body></html>')
    [light] = check_emails({"bad": bad}, SCREENSHOTS / "negative", modes=("light",))
    assert not light.fits and light.scroll_width > 600
    assert light.low_contrast and light.low_contrast[0]["text"] == "faint"
