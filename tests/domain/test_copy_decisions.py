"""The DAM→Box copy decision and the A2→A3 triage, with in-memory records (no servers)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from domain.campaigns import Campaign, DamAsset, InvalidCampaign
from domain.fields import load_dam_fields
from domain.localised_files import AgencyFile, ImportJob, ImportOutcome, ImportResult, ready_for_a3, triage
from domain.tracking_records import BoxUpload
from domain.transfers import (
    A1_TO_A2,
    A5_TO_A6,
    AssetOutcome,
    AssetResult,
    CampaignOutcome,
    CopyAction,
    copy_action,
    plan_campaign,
    settle_campaign,
    unusable_campaign,
    upload_event,
)

pytestmark = pytest.mark.fast

CAMPAIGN = Campaign(folder_id="f1", number="C000000001", name="Spring", status="A1")


@dataclass
class Stored:
    id: str
    sha1: str
    size: int


def upload(sha1: str = "a" * 40, file_id: str = "9", folder: str = "5", name: str = "K7M2QX_hero.jpg") -> BoxUpload:
    return BoxUpload(workflow="a1-to-a2", tracking_id="K7M2QX", dam_asset_id="1", box_folder_id=folder,
                     box_file_id=file_id, box_file_name=name, sha1=sha1, size=10)


@pytest.mark.parametrize(("previous", "existing", "size", "action"), [
    (None, None, 10, CopyAction.UPLOAD),  # never sent
    (upload(), None, 10, CopyAction.UPLOAD),  # recorded, but deleted from Box since
    (upload(), Stored("9", "a" * 40, 10), 10, CopyAction.KEEP),  # Box holds what was recorded
    (upload(), Stored("9", "b" * 40, 10), 10, CopyAction.COMPARE),  # changed in Box (or the record is stale)
    (upload(), Stored("9", "a" * 40, 10), 11, CopyAction.COMPARE),  # the DAM asset changed size
    (upload(), Stored("9", "a" * 40, 0), 0, CopyAction.COMPARE),  # an empty file is never "the same"
    (None, Stored("9", "a" * 40, 10), 10, CopyAction.COMPARE),  # a copy nobody recorded
])
def test_copy_action(previous, existing, size, action) -> None:
    assert copy_action(previous, existing, size) == action


@pytest.mark.parametrize(("outcome", "replaced", "previous", "stored_id", "moved", "event"), [
    (AssetOutcome.UPLOADED, False, None, "9", False, "uploaded_to_box"),
    (AssetOutcome.UPLOADED, True, upload(), "9", False, "updated_in_box"),
    (AssetOutcome.ALREADY_IN_BOX, False, upload(), "9", False, None),  # nothing to write
    (AssetOutcome.ALREADY_IN_BOX, False, upload(), "9", True, "moved_in_box"),
    (AssetOutcome.ALREADY_IN_BOX, False, None, "9", False, "found_in_box"),  # left by a run that stopped
    (AssetOutcome.ALREADY_IN_BOX, False, upload(file_id="8"), "9", False, "found_in_box"),
])
def test_upload_event(outcome, replaced, previous, stored_id, moved, event) -> None:
    assert upload_event(outcome, replaced, previous, stored_id, moved) == event


def asset(asset_id: str, status: str | None = None) -> DamAsset:
    fields = load_dam_fields().rejection
    meta = {fields.ecommerce_status: status} if status else {}
    return DamAsset(asset_id=asset_id, name=f"{asset_id}.jpg", size=5, metadata=meta)


def test_plan_takes_each_asset_once_and_a5_to_a6_only_the_rejected() -> None:
    rejection = load_dam_fields().rejection
    listing = [asset("1", "NOT APPROVED"), asset("2", "APPROVED"), asset("1", "NOT APPROVED"), asset("3")]
    a1 = plan_campaign(A1_TO_A2, CAMPAIGN, listing, rejection)
    assert [a.asset_id for a in a1.chosen] == ["1", "2", "3"] and not a1.skipped
    assert [a.asset_id for a in a1.repeated] == ["1"] and a1.details == {}
    a5 = plan_campaign(A5_TO_A6, CAMPAIGN, listing, rejection)
    assert [a.asset_id for a in a5.chosen] == ["1"]
    assert [(r.dam_asset_id, r.outcome) for r in a5.skipped] == [("2", AssetOutcome.SKIPPED), ("3", AssetOutcome.SKIPPED)]
    assert a5.details["1"]["ecommerce_status"] == "NOT APPROVED"
    assert a5.box_folder_path.endswith("-Revisions")
    assert a5.jobs(A5_TO_A6) == []  # no Box folder yet: nothing to copy
    a5.box_folder_id = "77"
    [job] = a5.jobs(A5_TO_A6)
    assert (job.box_folder_id, job.workflow, job.details["ecommerce_status"]) == ("77", A5_TO_A6, "NOT APPROVED")


def result(asset_id: str, outcome: AssetOutcome, number: str = CAMPAIGN.number) -> AssetResult:
    return AssetResult(campaign_number=number, dam_path=asset_id, dam_asset_id=asset_id, outcome=outcome)


def test_settle_complete_only_when_every_chosen_asset_succeeded() -> None:
    plan = plan_campaign(A1_TO_A2, CAMPAIGN, [asset("1"), asset("2")], load_dam_fields().rejection)
    plan.box_folder_id = "5"
    ok = [result("1", AssetOutcome.UPLOADED), result("2", AssetOutcome.ALREADY_IN_BOX),
          result("9", AssetOutcome.FAILED, number="C000000002")]  # another campaign's failure is not this one's
    assert settle_campaign(plan, ok).outcome == CampaignOutcome.COMPLETE
    partial = settle_campaign(plan, [result("1", AssetOutcome.UPLOADED), result("2", AssetOutcome.FAILED)])
    assert (partial.outcome, partial.status_after) == (CampaignOutcome.PARTIAL, "A1")
    assert settle_campaign(plan_campaign(A1_TO_A2, CAMPAIGN, [], load_dam_fields().rejection), []).outcome \
        == CampaignOutcome.NO_ASSETS
    plan.error = "listing failed"
    assert (settle_campaign(plan, ok).outcome, settle_campaign(plan, ok).assets) == (CampaignOutcome.ERROR, [])
    bad = unusable_campaign(InvalidCampaign(folder_id="x", number="C000000009", problem="no name"), A1_TO_A2)
    assert (bad.outcome, bad.error, bad.campaign.status) == (CampaignOutcome.ERROR, "no name", "A1")


FILE = AgencyFile(box_file_id="b1", name="K7M2QX_fr-FR_FR_hero.jpg", size=10, sha1="c" * 40)
MASTER = {"tracking_id": "K7M2QX", "campaign_number": CAMPAIGN.number, "campaign_folder_id": "f1",
          "dam_asset_id": "1"}


@pytest.mark.parametrize(("file", "masters", "copies", "outcome"), [
    (FILE.model_copy(update={"name": "hero.jpg"}), {"K7M2QX": MASTER}, {}, ImportOutcome.BAD_NAME),
    (FILE.model_copy(update={"size": 0}), {"K7M2QX": MASTER}, {}, ImportOutcome.EMPTY_FILE),
    (FILE, {}, {}, ImportOutcome.UNKNOWN_TRACKING_ID),
    (FILE, {"K7M2QX": MASTER}, {"K7M2QX": {"dam_asset_id": "d9", "box_file_name": "x.jpg"}}, ImportOutcome.DUPLICATE),
])
def test_triage_leaves_in_box_with_a_reason(file, masters, copies, outcome) -> None:
    row = triage(file, masters.get, lambda tid, sha1, box_id: copies.get(tid))
    assert isinstance(row, ImportResult) and row.outcome == outcome and row.reason and row.outcome.left_in_box


def test_triage_gives_the_job_with_the_name_parsed_once() -> None:
    seen = []
    job = triage(FILE.model_copy(update={"name": "k7m2qx_fr-FR_FR_hero.jpg"}),
                 lambda tid: seen.append(tid) or MASTER, lambda *args: None)
    assert isinstance(job, ImportJob) and seen == ["K7M2QX"]
    assert (job.name.tracking_id, job.result(ImportOutcome.IMPORTED).campaign_folder_id) == ("K7M2QX", "f1")


@pytest.mark.parametrize(("status", "waiting", "force", "ready"), [
    ("A2", 0, False, True), ("A2", 1, False, False), ("A2", 1, True, True), ("A6", 0, False, False),
    ("A6", 3, True, True), ("A3", 0, False, False), ("A3", 0, True, False),
])
def test_ready_for_a3(status, waiting, force, ready) -> None:
    assert ready_for_a3(status, waiting, force) is ready
