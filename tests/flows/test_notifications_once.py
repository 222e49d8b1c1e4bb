"""Notifications people can live with, over sequences of real runs: a situation is told once
(when it starts or changes), an outage alerts once and once more when it is resolved, every
email links to its run, and the alerts also reach a chat channel (a Prefect notification block
posting to a local receiver)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from prefect import flow, get_client
from prefect.logging import disable_run_logger
from prefect.settings import PREFECT_UI_URL, temporary_settings
from prefect.states import Crashed, Running

from domain.fields import load_dam_fields
from flows.a1_to_a2 import a1_to_a2
from flows.a5_to_a6 import a5_to_a6
from flows.b1_to_b2 import b1_to_b2
from flows.failure_alert import failure_alert
from tasks.report import read_flow_run_history

pytestmark = [pytest.mark.prefect, pytest.mark.slow]  # minutes of flow runs: make test-slow
F = load_dam_fields()
RUN_LINK = re.compile(r"https?://[^\s\"<]+/runs/flow-run/([0-9a-f-]{36})")


def about(env, text: str) -> list:
    """The emails whose subject mentions ``text``."""
    return [m for m in env.mail.messages if text in m["Subject"]]


def to(env, address: str) -> list:
    return [m for m in env.mail.messages if m["To"] == address]


def plain(message) -> str:
    return message.get_body(("plain",)).get_content()


def inject(base_url: str, **rule) -> None:
    httpx.post(base_url + "/_sim/faults", json=rule).raise_for_status()


def clear_faults(base_url: str) -> None:
    httpx.delete(base_url + "/_sim/faults").raise_for_status()


@pytest.fixture
def chat(flow_env):
    """A Custom Webhook notification block (its token a block secret) named in the Mail Server
    block; yields what the receiver got on that hook."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    from blocks.mail_server import MailServer
    from blocks.status_webhook import StatusWebhook

    base = StatusWebhook.load("status-webhook").url.get_secret_value().split("/hooks/")[0]
    CustomWebhookNotificationBlock(name="ops-chat", url=base + "/hooks/{{token}}", secrets={"token": "chat-room-7"},
                                   json_data={"text": "{{subject}}\n{{body}}"}).save("ops-chat", overwrite=True)
    mail = MailServer.load("email")
    mail.notification_blocks = ["custom-webhook/ops-chat"]
    mail.save("email", overwrite=True)

    def received() -> list[str]:
        return [r["body"]["text"] for r in flow_env.webhook.received if r["hook"] == "chat-room-7"]
    return received


@pytest.mark.parametrize(("workflow", "status", "kind"), [
    (a1_to_a2, "A1", "No master assets"), (a5_to_a6, "A5", "No rejected assets"), (b1_to_b2, "B1", "No final assets")])
def test_a_campaign_with_nothing_to_send_is_told_once(flow_env, workflow, status, kind):
    sim = flow_env.otmm.sim
    sim.add_campaign(number="C000000102", name="Nothing Yet", status=status, campaign_type="Global comm")

    states = [workflow(box_root_folder_id=flow_env.box_root, return_state=True) for _ in range(4)]

    assert all(s.is_completed() for s in states), [s.message for s in states]
    assert all("1 without assets" in s.message for s in states)  # every run still reports it
    [told] = about(flow_env, "C000000102")
    assert kind in told["Subject"]
    [memory] = flow_env.db.fetch_all("SELECT * FROM notifications_sent")
    assert memory["campaign_number"] == "C000000102" and memory["repeats"] == 3


def test_empty_campaign_one_email_then_its_complete_email_and_the_report_counts_every_run(flow_env):
    sim = flow_env.otmm.sim
    since = datetime.now(UTC) - timedelta(seconds=1)
    c = sim.add_campaign(number="C000000102", name="Nothing Yet", status="A1")
    for _ in range(6):
        assert a1_to_a2(box_root_folder_id=flow_env.box_root, return_state=True).is_completed()
    assert len(about(flow_env, "C000000102")) == 1  # before: 6, one per run

    sim.add_asset(c.master_assets_id, "hero.jpg", size=2_000, mime_type="image/jpeg")
    state = a1_to_a2(box_root_folder_id=flow_env.box_root, return_state=True)

    assert state.is_completed(), state.message
    first, complete = about(flow_env, "C000000102")
    assert "No master assets" in first["Subject"] and "1 master asset is in Box" in complete["Subject"]
    with disable_run_logger():
        runs = read_flow_run_history.fn(["a1-to-a2"], since, datetime.now(UTC) + timedelta(seconds=1))
    outcomes = sorted(c.outcome for r in runs for c in r.campaigns if c.campaign == "C000000102")
    assert outcomes == ["complete"] + ["no_assets"] * 6  # the daily report still sees every run

    # Sent round again: the status change is an event, told every time.
    sim.set_campaign_status(c.folder_id, "A1")
    assert a1_to_a2(box_root_folder_id=flow_env.box_root, return_state=True).is_completed()
    assert len(about(flow_env, "C000000102")) == 3


def test_an_operator_status_change_starts_a_new_cycle(flow_env):
    from flows.status_maintenance import update_campaign_status

    flow_env.otmm.sim.add_campaign(number="C000000107", name="Still Empty", status="A1")
    assert a1_to_a2(box_root_folder_id=flow_env.box_root, return_state=True).is_completed()
    assert a1_to_a2(box_root_folder_id=flow_env.box_root, return_state=True).is_completed()
    for status in ("A3", "A1"):  # moved on by hand, then sent back, still empty: told again
        assert update_campaign_status(campaign="C000000107", new_status=status, confirm=True,
                                      return_state=True).is_completed()
    assert a1_to_a2(box_root_folder_id=flow_env.box_root, return_state=True).is_completed()

    assert len(about(flow_env, "C000000107")) == 2


def test_partial_campaign_told_again_only_when_its_failures_change(flow_env):
    sim = flow_env.otmm.sim
    c = sim.add_campaign(number="C000000103", name="Half There", status="A1")
    broken = sim.add_asset(c.master_assets_id, "broken.jpg", size=1_000, mime_type="image/jpeg")
    for i in range(2):
        sim.add_asset(c.master_assets_id, f"fine-{i}.jpg", size=1_000, mime_type="image/jpeg")
    inject(flow_env.otmm.base_url, path=f"/assets/{broken}/contents$", kind="status", status=403, count=-1)

    states = [a1_to_a2(box_root_folder_id=flow_env.box_root, return_state=True) for _ in range(3)]
    assert all(s.is_failed() for s in states)
    [partial] = about(flow_env, "C000000103")
    assert "(1 of 3)" in partial["Subject"] and "broken.jpg" in plain(partial)
    [alert] = to(flow_env, "errors@example.test")  # the flow started failing: one alert, not three
    assert "[a1-to-a2] ERROR: run Failed" in alert["Subject"]

    clear_faults(flow_env.otmm.base_url)  # the same asset now fails differently: news
    inject(flow_env.otmm.base_url, path=f"/assets/{broken}/contents$", kind="status", status=404, count=-1)
    assert a1_to_a2(box_root_folder_id=flow_env.box_root, return_state=True).is_failed()
    assert a1_to_a2(box_root_folder_id=flow_env.box_root, return_state=True).is_failed()
    assert len(about(flow_env, "C000000103")) == 2

    clear_faults(flow_env.otmm.base_url)
    assert a1_to_a2(box_root_folder_id=flow_env.box_root, return_state=True).is_completed()
    subjects = [m["Subject"] for m in about(flow_env, "C000000103")]
    assert len(subjects) == 3 and "in Box for adaptation" in subjects[-1]
    alert, resolved = to(flow_env, "errors@example.test")  # 6 runs: before 6 campaign + 5 error emails
    assert "RESOLVED: a run completed after 5 failed and 0 crashed run(s)" in resolved["Subject"]
    assert flow_env.db.fetch_all("SELECT * FROM flow_outages") == []


def test_outage_of_n_runs_one_alert_one_recovery_by_email_and_chat_each_linked_to_its_run(flow_env, chat):
    sim = flow_env.otmm.sim
    c = sim.add_campaign(number="C000000104", name="Outage", status="A1")
    sim.add_asset(c.master_assets_id, "hero.jpg", size=1_000, mime_type="image/jpeg")
    inject(flow_env.otmm.base_url, path=".*", kind="status", status=503, count=-1)  # the DAM is down

    failed = [a1_to_a2(box_root_folder_id=flow_env.box_root, return_state=True) for _ in range(4)]
    assert all(s.is_failed() for s in failed)
    [alert] = to(flow_env, "errors@example.test")
    assert "[a1-to-a2] ERROR: run Failed" in alert["Subject"]
    [outage] = flow_env.db.fetch_all("SELECT * FROM flow_outages")
    assert (outage["failed_runs"], outage["crashed_runs"]) == (4, 0)
    assert len(chat()) == 1 and "ERROR: run Failed" in chat()[0]

    clear_faults(flow_env.otmm.base_url)
    done = a1_to_a2(box_root_folder_id=flow_env.box_root, return_state=True)

    assert done.is_completed(), done.message
    alert, resolved = to(flow_env, "errors@example.test")
    assert "RESOLVED: a run completed after 4 failed and 0 crashed run(s)" in resolved["Subject"]
    text = plain(resolved)
    assert "Failed runs: 4" in text and "works again after 4 failed runs" in text
    first_failed = str(failed[0].state_details.flow_run_id)
    assert RUN_LINK.findall(plain(alert)) == [first_failed]  # the alert links to its run
    assert set(RUN_LINK.findall(text)) == {first_failed, str(done.state_details.flow_run_id)}
    [complete] = about(flow_env, "C000000104")
    assert RUN_LINK.findall(complete.get_body(("html",)).get_content())[0] == str(done.state_details.flow_run_id)
    assert len(chat()) == 2 and "RESOLVED" in chat()[1] and str(done.state_details.flow_run_id) in chat()[1]
    assert flow_env.db.fetch_all("SELECT * FROM flow_outages") == []


def _crashed_run(flow_name: str) -> str:
    @flow(name=flow_name)
    def _f() -> None: ...

    with get_client(sync_client=True) as client:
        run = client.create_flow_run(_f, state=Running())
        client.set_flow_run_state(run.id, Crashed(message="process killed"), force=True)
    return str(run.id)


def test_crashes_count_toward_the_same_outage(flow_env):
    sim = flow_env.otmm.sim
    c = sim.add_campaign(number="C000000105", name="Crashy", status="A1")
    sim.add_asset(c.master_assets_id, "hero.jpg", size=1_000, mime_type="image/jpeg")

    crash = _crashed_run("a1-to-a2")
    assert "alert sent" in failure_alert(flow_run_id=f"prefect.flow-run.{crash}")
    inject(flow_env.otmm.base_url, path=".*", kind="status", status=503, count=-1)
    assert a1_to_a2(box_root_folder_id=flow_env.box_root, return_state=True).is_failed()
    assert "no alert (counted)" in failure_alert(flow_run_id=_crashed_run("a1-to-a2"))
    assert "no alert (counted)" in failure_alert(flow_run_id=crash)  # the same crash reported twice counts once
    [alert] = to(flow_env, "errors@example.test")
    assert "[a1-to-a2] ERROR: run Crashed" in alert["Subject"] and "process killed" in plain(alert)

    clear_faults(flow_env.otmm.base_url)
    assert a1_to_a2(box_root_folder_id=flow_env.box_root, return_state=True).is_completed()
    alert, resolved = to(flow_env, "errors@example.test")
    assert "after 1 failed and 2 crashed run(s)" in resolved["Subject"]


def test_without_a_ui_address_emails_name_the_run(flow_env):
    flow_env.otmm.sim.add_campaign(number="C000000106", name="No UI", status="A1")
    with temporary_settings(updates={PREFECT_UI_URL: ""}):
        state = a1_to_a2(box_root_folder_id=flow_env.box_root, return_state=True)
    [mail] = about(flow_env, "C000000106")
    run_id = str(state.state_details.flow_run_id)
    assert run_id in plain(mail) and not RUN_LINK.search(mail.get_body(("html",)).get_content())


def test_a_broken_or_wrong_channel_does_not_stop_the_others(flow_env, chat, caplog):
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    from blocks.mail_server import MailServer

    CustomWebhookNotificationBlock(name="gone", url="http://127.0.0.1:9/hooks/gone-token").save("gone", overwrite=True)
    mail = MailServer.load("email")
    mail.notification_blocks = ["custom-webhook/gone", "content-scaling-mail-server/email", "custom-webhook/missing",
                                "custom-webhook/ops-chat"]
    mail.save("email", overwrite=True)
    inject(flow_env.otmm.base_url, path=".*", kind="status", status=503, count=-1)

    assert a1_to_a2(box_root_folder_id=flow_env.box_root, return_state=True).is_failed()

    assert len(to(flow_env, "errors@example.test")) == 1 and len(chat()) == 1
    assert "'content-scaling-mail-server/email' is a MailServer block, not a notification block" in caplog.text
    assert "custom-webhook/gone did not take the error message: ConnectError" in caplog.text
    assert "gone-token" not in caplog.text  # a webhook URL is a secret: never in the logs


def test_files_waiting_in_the_agency_folder_are_told_once(flow_env):
    from blocks.creativex import CreativeXCredentials
    from flows.a2_to_a3 import a2_to_a3

    CreativeXCredentials(url="http://127.0.0.1:9", api_key="never-asked").save("creativex", overwrite=True)
    sim = flow_env.otmm.sim
    c = sim.add_campaign(number="C000000108", name="Live Already", status="A1")
    sim.add_asset(c.master_assets_id, "hero.jpg", size=1_000, mime_type="image/jpeg")
    assert a1_to_a2(box_root_folder_id=flow_env.box_root, return_state=True).is_completed()
    [tracking_id] = [r["tracking_id"] for r in flow_env.db.fetch_all("SELECT tracking_id FROM master_assets")]
    sim.set_campaign_status(c.folder_id, "A4")  # not open for import: the file waits in Box
    agency = flow_env.box.sim.create_folder("0", "Agency uploads")
    flow_env.box.sim.put_file(agency, f"{tracking_id}_Hero_it-IT_Lazio.jpg", b"localised hero")

    for _ in range(3):
        assert a2_to_a3(agency_folder_id=agency, return_state=True).is_completed()
    [told] = about(flow_env, "[a2-to-a3]")
    assert "1 localised file(s) left in Box, none imported" in told["Subject"] and "status A4" in plain(told)

    flow_env.box.sim.put_file(agency, "no tracking id.jpg", b"stray")  # one more file to act on: news
    assert a2_to_a3(agency_folder_id=agency, return_state=True).is_completed()
    assert a2_to_a3(agency_folder_id=agency, return_state=True).is_completed()
    assert len(about(flow_env, "[a2-to-a3]")) == 2
