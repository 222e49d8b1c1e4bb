"""The daily report from a Prefect API holding known flow runs (incl. failed, crashed, >200)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from prefect import flow, get_client
from prefect.client.schemas.actions import ArtifactCreate
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.logging import disable_run_logger
from prefect.states import Completed, Crashed, Failed, Running

from domain.daily_report import compute_report
from flows.daily_report import daily_report
from tasks.report import read_flow_run_history

pytestmark = pytest.mark.prefect


def fake_flow(name: str):
    @flow(name=name)
    def _f() -> None: ...
    return _f


def make_run(client, name: str, final, campaigns: list[dict] | None = None):
    run = client.create_flow_run(fake_flow(name), state=Running())
    client.set_flow_run_state(run.id, final, force=True)
    if campaigns is not None:
        client.create_artifact(ArtifactCreate(flow_run_id=run.id, key=f"{name}-campaigns", type="table",
                                              data=json.dumps(campaigns)))
    return run.id


def campaign(number: str, outcome: str, ok: int, failed: int = 0, skipped: int = 0, error: str = "") -> dict:
    return {"campaign": number, "campaign_name": f"Name {number}", "outcome": outcome, "assets_succeeded": ok,
            "assets_failed": failed, "assets_skipped": skipped, "error": error}


def test_report_numbers_from_known_runs(flow_env):
    since = datetime.now(UTC) - timedelta(seconds=1)
    with get_client(sync_client=True) as client:
        for i in range(205):  # more than one page of 200
            make_run(client, "a1-to-a2", Completed(message="ok"), [campaign(f"C{i:09d}", "complete", 2)])
        make_run(client, "a1-to-a2", Failed(message="a1-to-a2: 1 partial"), [campaign("CX", "partial", 1, 1, 0, "x.jpg: 403")])
        make_run(client, "a1-to-a2", Completed(message="ok"), [campaign("CX", "complete", 2)])
        make_run(client, "a5-to-a6", Completed(message="ok"), [campaign("C5", "complete", 3, 0, 2)])
        make_run(client, "b1-to-b2", Failed(message="b1 partial"), [campaign("C7", "partial", 1, 1, 0, "film: 500")])
        make_run(client, "b1-to-b2", Crashed(message="process killed"))
    until = datetime.now(UTC) + timedelta(seconds=1)

    with disable_run_logger():
        records = read_flow_run_history.fn(["a1-to-a2", "a5-to-a6", "b1-to-b2", "a2-to-a3", "a4-live-webhook"],
                                           since, until)
    report = compute_report(records, since, until)

    per = {r["workflow"]: r for r in report.per_workflow}
    a1 = per["a1-to-a2"]
    assert (a1["runs"], a1["runs_failed"], a1["runs_crashed"]) == (207, 1, 0)
    assert (a1["campaigns_found"], a1["campaigns_processed"], a1["campaigns_completed"], a1["campaigns_partial"]) \
        == (206, 206, 206, 0)
    assert (a1["assets_succeeded"], a1["assets_failed"], a1["errors"]) == (413, 1, 2)
    assert a1["success_rate"] == round(100 * 413 / 414, 1)
    assert (per["a5-to-a6"]["not_approved"], per["a5-to-a6"]["assets_skipped"]) == (3, 2)
    b1 = per["b1-to-b2"]
    assert (b1["runs"], b1["runs_failed"], b1["runs_crashed"], b1["campaigns_partial"], b1["errors"]) == (2, 1, 1, 1, 3)
    assert report.total["runs"] == 210 and report.total["assets_succeeded"] == 417
    assert report.total["errors"] == 5
    assert {e["error"] for e in report.errors} >= {"process killed", "film: 500", "x.jpg: 403"}


def test_daily_report_flow_publishes_the_artifact_and_the_blue_email(flow_env):
    state = daily_report(hours=24, return_state=True)
    assert state.is_completed(), state.message
    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["daily-report"])))
    assert arts and "# Daily report" in arts[0].data and "| **total** |" in arts[0].data
    [mail] = [m for m in flow_env.mail.messages if "Daily report" in m["Subject"]]
    assert "#1565c0" in mail.get_body(("html",)).get_content()  # blue
    assert "Per workflow" in mail.get_body(("plain",)).get_content()


def test_the_report_links_each_failed_run_and_can_go_to_a_chat_channel(flow_env):
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    from blocks.mail_server import MailServer
    from blocks.status_webhook import StatusWebhook

    base = StatusWebhook.load("status-webhook").url.get_secret_value().split("/hooks/")[0]
    CustomWebhookNotificationBlock(name="report-chat", url=base + "/hooks/report-room",
                                   json_data={"text": "{{subject}}\n{{body}}"}).save("report-chat", overwrite=True)
    mail = MailServer.load("email")
    mail.notification_blocks, mail.daily_report_to_notification_blocks = ["custom-webhook/report-chat"], True
    mail.save("email", overwrite=True)
    with get_client(sync_client=True) as client:
        failed = make_run(client, "b1-to-b2", Failed(message="b1 partial, film.mov: 500"),
                          [campaign("C8", "partial", 1, 1)])

    state = daily_report(hours=1, return_state=True)

    assert state.is_completed(), state.message
    [mail_] = [m for m in flow_env.mail.messages if "Daily report" in m["Subject"]]
    html = mail_.get_body(("html",)).get_content()
    assert f'/runs/flow-run/{failed}"' in html  # the failed run, linked
    assert f"/runs/flow-run/{state.state_details.flow_run_id}" in html  # and the report's own run
    [posted] = [r["body"]["text"] for r in flow_env.webhook.received if r["hook"] == "report-room"]
    assert posted.startswith("[content-scaling] Daily report") and "Runs failed / crashed:" in posted
