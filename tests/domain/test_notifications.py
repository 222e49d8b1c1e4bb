"""Every email renders for realistic and hostile data, in HTML (escaped) and plain text."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from domain.campaigns import Campaign
from domain.localised_files import ImportOutcome, ImportResult
from domain.notification_rules import Outage
from domain.notifications import (
    a2_to_a3_complete_notification,
    breakable,
    campaign_notification,
    chat_message,
    error_notification,
    files_uploaded_notification,
    render,
    resolved_notification,
)
from domain.transfers import AssetOutcome, AssetResult, CampaignOutcome, CampaignResult

pytestmark = pytest.mark.fast

HOSTILE = '<script>alert("x")</script> & Co'


def visible(html: str) -> str:
    """The HTML without the line-break opportunities (<wbr>) table cells carry."""
    return html.replace("<wbr>", "")


def campaign_result(outcome: CampaignOutcome, n_assets: int, name: str = "Spring Launch") -> CampaignResult:
    assets = [AssetResult(campaign_number="C000000078", dam_path=f"Social/{name}-{i}.jpg", dam_asset_id=str(i),
                          tracking_id="K7M2QX", outcome=AssetOutcome.FAILED if i == 0 and outcome ==
                          CampaignOutcome.PARTIAL else AssetOutcome.UPLOADED, box_path=f"C1/{i}.jpg",
                          error="403 forbidden" if i == 0 else None,
                          details={"ecommerce_status": "NOT APPROVED", "approver_comments": HOSTILE,
                                   "legal_comments": "Claim <b>not</b> ok", "iacc_comments": ""})
              for i in range(n_assets)]
    return CampaignResult(campaign=Campaign(folder_id="f", number="C000000078", name=name, status="A1"),
                          outcome=outcome, box_folder_id="123", assets=assets, status_before="A1",
                          status_after="A2" if outcome == CampaignOutcome.COMPLETE else "A1")


ALL_TRANSFER_KINDS = [(w, o) for w in ("a1-to-a2", "a5-to-a6", "b1-to-b2")
                      for o in (CampaignOutcome.COMPLETE, CampaignOutcome.PARTIAL, CampaignOutcome.NO_ASSETS)]


@pytest.mark.parametrize(("workflow", "outcome"), ALL_TRANSFER_KINDS)
@pytest.mark.parametrize("n_assets", [0, 3, 100])
def test_transfer_emails_render_and_escape(workflow: str, outcome: CampaignOutcome, n_assets: int) -> None:
    result = campaign_result(outcome, 0 if outcome == CampaignOutcome.NO_ASSETS else n_assets, name=HOSTILE)
    email = render(campaign_notification(workflow, result, "run-1"))
    assert "<script>" not in email.html and "&lt;script&gt;" in email.html
    assert HOSTILE in email.text and "C000000078" in email.text
    assert email.subject.startswith(f"[{workflow}] C000000078")


def test_the_twelve_kinds_exist_with_their_colours() -> None:
    kinds = {campaign_notification(w, campaign_result(o, 2), None).kind for w, o in ALL_TRANSFER_KINDS}
    kinds |= {files_uploaded_notification([]).kind, a2_to_a3_complete_notification("C1", "N").kind,
              error_notification("a1-to-a2", "Crashed", "boom").kind}
    assert kinds == {"a1_to_a2_complete", "a1_to_a2_partial", "a1_to_a2_no_assets", "a5_to_a6_rejections",
                     "a5_to_a6_partial", "a5_to_a6_no_rejections", "b1_to_b2_complete", "b1_to_b2_partial",
                     "b1_to_b2_no_assets", "a2_to_a3_file_uploaded", "a2_to_a3_complete", "error"}
    assert "#c62828" in render(error_notification("a1-to-a2", "Failed", HOSTILE)).html  # red
    assert "#b35c00" in render(campaign_notification("a1-to-a2", campaign_result(CampaignOutcome.PARTIAL, 2))).html


def test_rejection_comments_per_reviewer() -> None:
    email = render(campaign_notification("a5-to-a6", campaign_result(CampaignOutcome.COMPLETE, 1)))
    assert "Claim &lt;b&gt;not&lt;/b&gt; ok" in visible(email.html) and "#fdecea" in email.html  # Legal's colour
    assert "Approver" in email.text and "Legal" in email.text


def test_files_uploaded_lists_what_stays_in_box() -> None:
    results = [ImportResult(box_path="K7M2QX_a_it_L.jpg", box_file_id="1", outcome=ImportOutcome.IMPORTED,
                            tracking_id="K7M2QX", dam_asset_id="d1", creativex="added"),
               ImportResult(box_path=HOSTILE, box_file_id="2", outcome=ImportOutcome.BAD_NAME,
                            reason="the name does not follow the convention")]
    email = render(files_uploaded_notification(results))
    assert "&lt;script&gt;" in email.html and "does not follow" in email.text and "#b35c00" in email.html


# -- headers in words, links to the run, chat channels ---------------------------------------
def every_kind():
    yield from (campaign_notification(w, campaign_result(o, 2), "run-1") for w, o in ALL_TRANSFER_KINDS)
    yield files_uploaded_notification([], "run-1")
    yield a2_to_a3_complete_notification("C1", "N", "run-1")
    yield error_notification("a1-to-a2", "Crashed", "boom", "run-1")
    yield resolved_notification(OUTAGE, "run-9")


OUTAGE = Outage(workflow="a1-to-a2", started_at=datetime(2026, 3, 2, 9, 5, tzinfo=UTC), first_flow_run_id="run-1",
                first_state="Failed", first_message="TransientError: DAM 503", failed_runs=6, crashed_runs=1,
                last_flow_run_id="run-8", last_at=datetime(2026, 3, 2, 9, 40, tzinfo=UTC))


@pytest.mark.parametrize("notification", list(every_kind()), ids=lambda n: n.kind)
def test_the_header_says_what_happened_in_words(notification):
    html, text = render(notification).html, render(notification).text
    header = re.search(r'data-role="header".*?</td>', html, re.S).group(0)
    body = html.split("<body", 1)[1]
    assert notification.kind not in body and notification.kind.upper() not in body  # no internal kind shown
    assert notification.label in header and notification.label.split(" · ")[0] in {
        "Done", "Needs attention", "Failing", "Report", "Resolved"}
    assert text.startswith(notification.label + "\n" + notification.headline)


def test_headlines_count_what_happened():
    rework = campaign_notification("a5-to-a6", campaign_result(CampaignOutcome.COMPLETE, 3), "r")
    assert rework.headline == "Rework: 3 rejected assets sent to Box"
    one = campaign_notification("a1-to-a2", campaign_result(CampaignOutcome.COMPLETE, 1), "r")
    assert one.headline == "1 master asset is in Box for adaptation"
    partial = campaign_notification("b1-to-b2", campaign_result(CampaignOutcome.PARTIAL, 4), "r")
    assert partial.headline == "Some assets could not be copied (1 of 4); the status stays A1"


@pytest.mark.parametrize("notification", list(every_kind()), ids=lambda n: n.kind)
def test_every_email_links_to_its_run_when_the_ui_is_known(notification):
    linked = render(notification.with_run_link("https://prefect.example.corp/"))
    assert 'href="https://prefect.example.corp/runs/flow-run/' + notification.flow_run + '"' in linked.html
    assert "https://prefect.example.corp/runs/flow-run/" + notification.flow_run in linked.text
    bare = render(notification.with_run_link(None))
    assert "/runs/flow-run/" not in bare.html + bare.text and notification.flow_run in bare.text


def test_resolved_names_the_outage():
    n = resolved_notification(OUTAGE, "run-9", "http://ui")
    text = render(n).text
    assert n.kind == "resolved" and n.to_error_recipients and n.tone == "green"
    assert "a1-to-a2 works again after 7 failed runs" in text and "Failed runs: 6" in text and "Crashed runs: 1" in text
    assert "Open the first failed run: http://ui/runs/flow-run/run-1" in text and "DAM 503" in text
    assert "Failing since: 2026-03-02 09:05 UTC" in text


def test_the_first_alert_promises_one_more_email():
    assert "You get one more email" in render(error_notification("a1-to-a2", "Failed", "x")).text
    unremembered = render(error_notification("a1-to-a2", "Failed", "x", remembered=False)).text
    assert "every failed run sends this email" in unremembered


def test_chat_message_is_short_plain_and_linked():
    n = error_notification("a1-to-a2", "Failed", HOSTILE + " " + "x" * 2000, "run-3").with_run_link("http://ui")
    subject, body = chat_message(n)
    assert subject == "[a1-to-a2] ERROR: run Failed"
    assert body.splitlines()[0] == "Failing · A1 → A2 · master assets to Box: a1-to-a2 is failing: the run ended Failed"
    assert body.endswith("Flow run: http://ui/runs/flow-run/run-3") and len(body) < 800
    assert "<" not in chat_message(campaign_notification("a1-to-a2", campaign_result(
        CampaignOutcome.COMPLETE, 100), "r"))[1]  # no table, no markup


def test_long_tables_show_fifty_rows_and_say_where_the_rest_is():
    email = render(campaign_notification("a1-to-a2", campaign_result(CampaignOutcome.COMPLETE, 120), "r"))
    assert "Assets in Box (120)" in email.text and "… and 70 more" in email.text and "… and 70 more" in email.html
    assert email.text.count("K7M2QX |") == 50 and len(email.html) < 100_000  # Gmail clips past ~100 KB


def test_breakable_keeps_everything_escaped_and_words_whole():
    assert str(breakable("Social/Stories/story.mp4")) == "Social/<wbr>Stories/<wbr>story.<wbr>mp4"
    assert str(breakable("a" * 40)).count("<wbr>") == 2 and str(breakable("Claim not ok")) == "Claim not ok"
    assert str(breakable(HOSTILE)).replace("<wbr>", "") == "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co"


# -- each workflow's words -----------------------------------------------------------------------
@pytest.mark.parametrize(("workflow", "outcome", "n", "headline"), [
    ("a1-to-a2", CampaignOutcome.COMPLETE, 2, "2 master assets are in Box for adaptation"),
    ("a5-to-a6", CampaignOutcome.COMPLETE, 1, "Rework: 1 rejected asset sent to Box"),
    ("b1-to-b2", CampaignOutcome.COMPLETE, 1, "1 global master asset is in Box"),
    ("b1-to-b2", CampaignOutcome.COMPLETE, 5, "5 global master assets are in Box"),
    ("a1-to-a2", CampaignOutcome.NO_ASSETS, 0, "No master assets to send: the Master Assets folder is empty"),
    ("a5-to-a6", CampaignOutcome.NO_ASSETS, 0, "No rejected assets: nothing to send for rework"),
    ("b1-to-b2", CampaignOutcome.NO_ASSETS, 0, "No final assets to send: the Final Assets folder is empty"),
    ("a1-to-a2", CampaignOutcome.PARTIAL, 3, "Some assets could not be copied (1 of 3); the status stays A1"),
    ("a5-to-a6", CampaignOutcome.ERROR, 0, "The campaign could not be processed; the status stays A1"),
])
def test_each_workflow_says_what_happened_in_its_words(workflow, outcome, n, headline):
    email = campaign_notification(workflow, campaign_result(outcome, n), "r")
    assert email.headline == headline
    assert email.subject == f"[{workflow}] C000000078 Spring Launch: {headline}"
    assert email.tone == ("green" if outcome == CampaignOutcome.COMPLETE else "orange")


def test_an_unprocessed_campaign_says_why_and_how_to_retry():
    result = campaign_result(CampaignOutcome.ERROR, 0).model_copy(update={"error": "DAM answered 503"})
    n = campaign_notification("b1-to-b2", result, "r")
    assert n.kind == "b1_to_b2_partial"
    [failed] = [s for s in n.sections if s.title == "What failed"]
    assert failed.rows == [["(campaign)", "DAM answered 503"]]
    assert "prefect deployment run b1-to-b2/b1-to-b2 -p campaign_number=C000000078" in n.next_steps[-1]


def test_skipped_assets_are_neither_sent_nor_failed():
    result = campaign_result(CampaignOutcome.COMPLETE, 3)
    result.assets[2] = result.assets[2].model_copy(update={"outcome": AssetOutcome.SKIPPED})
    n = campaign_notification("a1-to-a2", result, "r")
    assert dict(n.facts)["Assets in Box"] == "2" and dict(n.facts)["Failed"] == "0"
    assert n.headline == "2 master assets are in Box for adaptation"
    [sent] = n.sections
    assert [row[1] for row in sent.rows] == ["Social/Spring Launch-0.jpg", "Social/Spring Launch-1.jpg"]


def test_rework_rows_name_each_reviewer_who_commented_and_always_the_approver():
    result = campaign_result(CampaignOutcome.COMPLETE, 2)
    result.assets[1] = result.assets[1].model_copy(update={"details": {"iacc_comments": "Claim missing",
                                                                       "iacc_certifier": "c@example.test"}})
    [section] = campaign_notification("a5-to-a6", result, "r").sections
    assert [(row[1], row[2], row[3]) for row in section.rows] == [
        ("Social/Spring Launch-0.jpg", "Approver", HOSTILE), ("Social/Spring Launch-0.jpg", "Legal", "Claim <b>not</b> ok"),
        ("Social/Spring Launch-1.jpg", "Approver", ""), ("Social/Spring Launch-1.jpg", "IA&CC", "Claim missing")]
    assert section.row_tags == ["Approver", "Legal", "Approver", "IA&CC"] and section.rows[3][4] == "c@example.test"
