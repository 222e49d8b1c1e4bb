"""Every email renders for realistic and hostile data, in HTML (escaped) and plain text."""

from __future__ import annotations

import pytest

from domain.campaigns import Campaign
from domain.localised_files import ImportOutcome, ImportResult
from domain.notifications import (
    a2_to_a3_complete_notification,
    campaign_notification,
    error_notification,
    files_uploaded_notification,
    render,
)
from domain.transfers import AssetOutcome, AssetResult, CampaignOutcome, CampaignResult

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
