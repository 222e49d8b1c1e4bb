"""The DAM→Box transfer workflows (A1→A2, A5→A6, B1→B2) as data, and their outcomes.

The three flows differ only in which campaigns, which folder, which assets and which Box
folder name; :class:`TransferWorkflow` holds exactly those differences, and one pipeline
(``flows/transfer_pipeline.py``) runs any of them.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import PurePosixPath
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from domain.box_names import campaign_folder_name
from domain.campaigns import GLOBAL_COMM, Campaign, DamAsset, InvalidCampaign
from domain.fields import AssetFields, RejectionFields
from domain.rejections import is_rejected, rejection_details
from domain.tracking_records import BoxUpload, MasterAssetRecord


class TransferWording(BaseModel):
    """How people are told about one DAM→Box workflow: its emails' header and headlines, and
    the names of its notification kinds (``<workflow>_<kind>``, e.g. ``a5_to_a6_rejections``)."""

    what: str = Field(description="What goes where, after the statuses in the email header: 'master assets to Box'.")
    asset_noun: str = Field(description="One asset in the complete headline's count: 'master asset'.")
    complete: str = Field(description="Headline when every asset is in Box: {assets} is the count with its noun "
                                      "('2 master assets'), {are} 'is' or 'are'.")
    no_assets: str = Field(description="Headline when the campaign has nothing to send.")
    complete_kind: str = "complete"
    no_assets_kind: str = "no_assets"


class TransferWorkflow(BaseModel):
    """What distinguishes one DAM→Box status transition from another."""

    name: str = Field(description="Flow and workflow name, e.g. 'a1-to-a2'.")
    from_status: str
    to_status: str
    campaign_type: str | None = Field(None, description="Only campaigns of this type (B1→B2: 'Global comm').")
    source_folder: Literal["master_assets", "final_assets"]
    box_folder_prefix: str = ""
    box_folder_suffix: str = ""
    campaign_id_column: Literal["local_campaign_id", "global_master_campaign_id"] = "local_campaign_id"
    only_rejected: bool = Field(False, description="Take only assets whose ECOMMERCE STATUS is NOT APPROVED.")
    reuse_tracking_ids: bool = Field(
        False, description="Reuse the tracking ID an asset (or its master) got in an earlier cycle."
    )
    status_webhook_block: str | None = Field(
        None, description="Default Status Webhook block announcing a status change (A1→A2: 'status-webhook')."
    )
    wording: TransferWording

    @classmethod
    def named(cls, name: str) -> TransferWorkflow:
        """The DAM→Box workflow called ``name`` (from ``DAM_TO_BOX``), or an error naming the ones there are."""
        if name not in DAM_TO_BOX:
            raise ValueError(f"{name!r} is not a DAM→Box workflow; the workflows are {', '.join(DAM_TO_BOX)}")
        return DAM_TO_BOX[name]

    def box_folder_name(self, campaign: Campaign) -> str:
        return campaign_folder_name(campaign.number, campaign.name, self.box_folder_suffix, self.box_folder_prefix)

    @property
    def title(self) -> str:
        """The email header's workflow, e.g. 'A1 → A2 · master assets to Box'."""
        return f"{self.from_status} → {self.to_status} · {self.wording.what}"

    @property
    def short_name(self) -> str:
        """The daily report's column header, e.g. 'A1→A2' (narrow: the table fits a mail window)."""
        return f"{self.from_status}→{self.to_status}"

    def notification_kind(self, outcome: CampaignOutcome) -> str:
        """The kind of a campaign's email after a run, e.g. 'a1_to_a2_partial' (an error is a partial)."""
        suffix = {CampaignOutcome.COMPLETE: self.wording.complete_kind, CampaignOutcome.PARTIAL: "partial",
                  CampaignOutcome.ERROR: "partial", CampaignOutcome.NO_ASSETS: self.wording.no_assets_kind}.get(outcome)
        if suffix is None:
            raise ValueError(f"{self.name}: a campaign {outcome} gets no email (another run tells about it)")
        return f"{self.name.replace('-', '_')}_{suffix}"


A1_TO_A2 = TransferWorkflow(
    name="a1-to-a2", from_status="A1", to_status="A2", source_folder="master_assets",
    status_webhook_block="status-webhook",
    wording=TransferWording(what="master assets to Box", asset_noun="master asset",
                            complete="{assets} {are} in Box for adaptation",
                            no_assets="No master assets to send: the Master Assets folder is empty"))
A5_TO_A6 = TransferWorkflow(
    name="a5-to-a6", from_status="A5", to_status="A6", source_folder="final_assets",
    box_folder_suffix="-Revisions", only_rejected=True, reuse_tracking_ids=True,
    wording=TransferWording(what="rejected assets to Box for rework", asset_noun="rejected asset",
                            complete="Rework: {assets} sent to Box",
                            no_assets="No rejected assets: nothing to send for rework",
                            complete_kind="rejections", no_assets_kind="no_rejections"))
B1_TO_B2 = TransferWorkflow(
    name="b1-to-b2", from_status="B1", to_status="B2", source_folder="final_assets",
    campaign_type=GLOBAL_COMM, box_folder_prefix="MASTERS_", campaign_id_column="global_master_campaign_id",
    wording=TransferWording(what="global masters to Box", asset_noun="global master asset",
                            complete="{assets} {are} in Box",
                            no_assets="No final assets to send: the Final Assets folder is empty"))


DAM_TO_BOX: dict[str, TransferWorkflow] = {w.name: w for w in (A1_TO_A2, A5_TO_A6, B1_TO_B2)}


def once_per_asset(assets: list[DamAsset]) -> tuple[list[DamAsset], list[DamAsset]]:
    """``(kept, repeated)``: each DAM asset once, at the first place the listing gave it.

    A DAM listing can name one asset twice (paging that shifts while an editor works, an asset
    linked in two sub-folders); it is still one asset and becomes one Box file.
    """
    seen: set[str] = set()
    kept, repeated = [], []
    for asset in assets:
        (repeated if asset.asset_id in seen else kept).append(asset)
        seen.add(asset.asset_id)
    return kept, repeated


class AssetOutcome(StrEnum):
    """What happened to one asset in one run."""

    UPLOADED = "uploaded"  # streamed to Box in this run
    ALREADY_IN_BOX = "already_in_box"  # an identical copy was there already (re-run)
    FAILED = "failed"
    SKIPPED = "skipped"  # filtered out by the workflow (e.g. not NOT APPROVED)


class CampaignOutcome(StrEnum):
    COMPLETE = "complete"  # every asset succeeded, status moved on
    PARTIAL = "partial"  # some assets failed, status unchanged
    NO_ASSETS = "no_assets"  # nothing to transfer, status unchanged
    ERROR = "error"  # the campaign could not be processed at all
    IN_PROGRESS = "in_progress"  # another run of the workflow is working on it right now


class AssetJob(BaseModel):
    """One asset to copy: everything the copy needs, as plain data."""

    workflow: TransferWorkflow
    campaign: Campaign
    asset: DamAsset
    box_folder_id: str = Field(description="Box folder of the campaign (root of the sub-path).")
    box_folder_path: str = Field(description="Path of that folder below the workflow's Box root, for people.")
    details: dict[str, str] = Field(default_factory=dict, description="Workflow details (A5→A6: rejection fields).")

    @property
    def what(self) -> str:
        return f"{self.campaign.number} {self.asset.dam_path}"


def master_asset_record(job: AssetJob, fields: AssetFields) -> MasterAssetRecord:
    """The tracking-database row of a DAM asset in a campaign (full metadata kept as JSONB)."""
    asset, campaign, meta = job.asset, job.campaign, job.asset.metadata

    def text(field_id: str) -> str | None:
        value = meta.get(field_id)
        return None if value in (None, "") else str(value)

    return MasterAssetRecord(
        dam_asset_id=asset.asset_id, campaign_folder_id=campaign.folder_id, campaign_number=campaign.number,
        campaign_name=campaign.name, **{job.workflow.campaign_id_column: campaign.number}, dam_path=asset.dam_path,
        file_name=asset.name, extension=PurePosixPath(asset.name).suffix.lstrip(".").lower(), size=asset.size,
        mime_type=asset.mime_type, brand=text(fields.brand), country=text(fields.country),
        language=text(fields.language), metadata={"fields": meta, "metadata_element_list": asset.raw_metadata},
    )


class StoredFile(Protocol):
    """What the copy decision needs to know of a file in Box."""

    id: str
    sha1: str
    size: int


class CopyAction(StrEnum):
    """What to do with an asset, given what was recorded and what Box holds."""

    KEEP = "keep"  # Box holds what was recorded, and it has the asset's size: nothing to send
    UPLOAD = "upload"  # nothing of it in Box: send it
    COMPARE = "compare"  # Box holds a file that may differ: compare SHA-1s, send a new version if so


def copy_action(previous: BoxUpload | None, existing: StoredFile | None, size: int) -> CopyAction:
    """The one copy decision of every DAM→Box workflow (``existing``: the recorded Box file, if
    still there). The common case (never sent) costs two requests: download and upload."""
    if existing is None:
        return CopyAction.UPLOAD
    if previous is not None and previous.sha1 == existing.sha1 and existing.size == size and size > 0:
        return CopyAction.KEEP
    return CopyAction.COMPARE


def upload_event(outcome: AssetOutcome, replaced: bool, previous: BoxUpload | None, stored_id: str,
                 moved: bool) -> str | None:
    """The audit event of a copy (None: Box and the record already agree, nothing to write)."""
    if replaced:
        return "updated_in_box"
    if outcome == AssetOutcome.UPLOADED:
        return "uploaded_to_box"
    if previous is not None and previous.box_file_id == stored_id:
        return "moved_in_box" if moved else None  # renamed or moved in the DAM since: the file followed
    return "found_in_box"  # a copy left by a run that stopped before recording it


class AssetResult(BaseModel):
    """The outcome of one asset, as shown in the run's table artifact."""

    campaign_number: str
    dam_path: str
    dam_asset_id: str
    tracking_id: str | None = None
    outcome: AssetOutcome
    box_file_id: str | None = None
    box_path: str | None = None
    size: int = 0
    error: str | None = None
    details: dict[str, str] = Field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.outcome in (AssetOutcome.UPLOADED, AssetOutcome.ALREADY_IN_BOX)

    @classmethod
    def failed(cls, job: AssetJob, error: str) -> AssetResult:
        return cls(campaign_number=job.campaign.number, dam_path=job.asset.dam_path, dam_asset_id=job.asset.asset_id,
                   outcome=AssetOutcome.FAILED, size=job.asset.size, error=error, details=job.details)


def transfer_order(jobs: list[AssetJob]) -> list[AssetJob]:
    """The order in which a run's lanes take its assets: largest first (so one big video does
    not start last and hold up the end of the run), campaign order among equal sizes."""
    return sorted(jobs, key=lambda j: j.asset.size, reverse=True)


class CampaignResult(BaseModel):
    """The outcome of one campaign in one run."""

    campaign: Campaign
    outcome: CampaignOutcome
    box_folder_id: str | None = None
    assets: list[AssetResult] = Field(default_factory=list)
    status_before: str
    status_after: str
    error: str | None = None

    @property
    def failed_assets(self) -> list[AssetResult]:
        return [a for a in self.assets if a.outcome == AssetOutcome.FAILED]


def campaign_outcome(results: list[AssetResult]) -> CampaignOutcome:
    """complete when every selected asset succeeded; no_assets when there were none."""
    selected = [r for r in results if r.outcome != AssetOutcome.SKIPPED]
    if not selected:
        return CampaignOutcome.NO_ASSETS
    if all(r.succeeded for r in selected):
        return CampaignOutcome.COMPLETE
    return CampaignOutcome.PARTIAL


class RunSummary(BaseModel):
    """What a transfer flow run returns (and what its final state message says)."""

    workflow: str
    campaigns_found: int
    campaigns_completed: int
    campaigns_partial: int
    campaigns_no_assets: int
    campaigns_error: int
    campaigns_in_progress: int = 0
    assets_succeeded: int
    assets_failed: int
    assets_skipped: int
    bytes_transferred: int

    @classmethod
    def of(cls, workflow: str, campaigns: list[CampaignResult]) -> RunSummary:
        assets = [a for c in campaigns for a in c.assets]
        count = lambda o: sum(1 for c in campaigns if c.outcome == o)  # noqa: E731
        return cls(
            workflow=workflow,
            campaigns_found=len(campaigns),
            campaigns_completed=count(CampaignOutcome.COMPLETE),
            campaigns_partial=count(CampaignOutcome.PARTIAL),
            campaigns_no_assets=count(CampaignOutcome.NO_ASSETS),
            campaigns_error=count(CampaignOutcome.ERROR),
            campaigns_in_progress=count(CampaignOutcome.IN_PROGRESS),
            assets_succeeded=sum(1 for a in assets if a.succeeded),
            assets_failed=sum(1 for a in assets if a.outcome == AssetOutcome.FAILED),
            assets_skipped=sum(1 for a in assets if a.outcome == AssetOutcome.SKIPPED),
            bytes_transferred=sum(a.size for a in assets if a.outcome == AssetOutcome.UPLOADED),
        )

    @property
    def ok(self) -> bool:
        return self.campaigns_partial == 0 and self.campaigns_error == 0

    def message(self) -> str:
        return (
            f"{self.workflow}: {self.campaigns_found} campaign(s) found, {self.campaigns_completed} completed, "
            f"{self.campaigns_partial} partial, {self.campaigns_no_assets} without assets, "
            f"{self.campaigns_error} in error"
            + (f", {self.campaigns_in_progress} left to another run" if self.campaigns_in_progress else "")
            + f"; assets: {self.assets_succeeded} succeeded, "
            f"{self.assets_failed} failed, {self.assets_skipped} skipped"
        )


class CampaignPlan(BaseModel):
    """What a run does with one campaign: the assets it copies (as jobs, once its Box folder is
    known) and the ones the workflow leaves out; or why the campaign cannot be processed."""

    campaign: Campaign
    chosen: list[DamAsset] = Field(default_factory=list)
    skipped: list[AssetResult] = Field(default_factory=list)
    repeated: list[DamAsset] = Field(default_factory=list, description="Listed twice by the DAM: copied once.")
    details: dict[str, dict[str, str]] = Field(default_factory=dict, description="Per asset id (A5→A6).")
    box_folder_id: str | None = None
    box_folder_path: str = ""
    error: str | None = None

    def jobs(self, workflow: TransferWorkflow) -> list[AssetJob]:
        if self.error or self.box_folder_id is None:
            return []
        return [AssetJob(workflow=workflow, campaign=self.campaign, asset=a, box_folder_id=self.box_folder_id,
                         box_folder_path=self.box_folder_path, details=self.details.get(a.asset_id, {}))
                for a in self.chosen]


def plan_campaign(workflow: TransferWorkflow, campaign: Campaign, listing: list[DamAsset],
                  rejection: RejectionFields) -> CampaignPlan:
    """Which of the campaign's listed assets the workflow copies (each asset once; A5→A6: only
    the rejected ones, with the reviewers' fields) and which it skips."""
    assets, repeated = once_per_asset(listing)
    details = {a.asset_id: rejection_details(a, rejection) for a in assets} if workflow.only_rejected else {}
    chosen = [a for a in assets if not workflow.only_rejected or is_rejected(a, rejection)]
    taken = {a.asset_id for a in chosen}
    skipped = [AssetResult(campaign_number=campaign.number, dam_path=a.dam_path, dam_asset_id=a.asset_id,
                           outcome=AssetOutcome.SKIPPED, size=a.size, details=details.get(a.asset_id, {}))
               for a in assets if a.asset_id not in taken]
    return CampaignPlan(campaign=campaign, chosen=chosen, skipped=skipped, repeated=repeated, details=details,
                        box_folder_path=workflow.box_folder_name(campaign))


def settle_campaign(plan: CampaignPlan, copied: list[AssetResult]) -> CampaignResult:
    """The campaign's result once its assets were copied (status not moved yet): complete only
    when every selected asset succeeded."""
    campaign = plan.campaign
    if plan.error is not None:
        return CampaignResult(campaign=campaign, outcome=CampaignOutcome.ERROR, status_before=campaign.status,
                              status_after=campaign.status, error=plan.error)
    assets = [r for r in copied if r.campaign_number == campaign.number] + plan.skipped
    return CampaignResult(campaign=campaign, outcome=campaign_outcome(assets), box_folder_id=plan.box_folder_id,
                          assets=assets, status_before=campaign.status, status_after=campaign.status)


def unusable_campaign(invalid: InvalidCampaign, workflow: TransferWorkflow) -> CampaignResult:
    """A campaign folder the DAM describes unusably, as an error row of the run."""
    campaign = Campaign(folder_id=invalid.folder_id, number=invalid.number, name="", status=workflow.from_status)
    return CampaignResult(campaign=campaign, outcome=CampaignOutcome.ERROR, status_before=campaign.status,
                          status_after=campaign.status, error=invalid.problem)


def left_to_other_run(campaign: Campaign) -> CampaignResult:
    """A campaign another run of the workflow is working on right now."""
    return CampaignResult(campaign=campaign, outcome=CampaignOutcome.IN_PROGRESS, status_before=campaign.status,
                          status_after=campaign.status)
