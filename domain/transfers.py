"""The DAM→Box transfer workflows (A1→A2, A5→A6, B1→B2) as data, and their outcomes.

The three flows differ only in which campaigns, which folder, which assets and which Box
folder name; :class:`TransferWorkflow` holds exactly those differences, and one pipeline
(``flows/transfer_pipeline.py``) runs any of them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from domain.box_names import campaign_folder_name
from domain.campaigns import GLOBAL_COMM, Campaign, DamAsset


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

    def box_folder_name(self, campaign: Campaign) -> str:
        return campaign_folder_name(campaign.number, campaign.name, self.box_folder_suffix, self.box_folder_prefix)


A1_TO_A2 = TransferWorkflow(name="a1-to-a2", from_status="A1", to_status="A2", source_folder="master_assets",
                            status_webhook_block="status-webhook")
A5_TO_A6 = TransferWorkflow(name="a5-to-a6", from_status="A5", to_status="A6", source_folder="final_assets",
                            box_folder_suffix="-Revisions", only_rejected=True, reuse_tracking_ids=True)
B1_TO_B2 = TransferWorkflow(name="b1-to-b2", from_status="B1", to_status="B2", source_folder="final_assets",
                            campaign_type=GLOBAL_COMM, box_folder_prefix="MASTERS_",
                            campaign_id_column="global_master_campaign_id")


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
    """One asset to copy: everything a transfer task needs, as plain data."""

    workflow: str
    campaign: Campaign
    asset: DamAsset
    box_folder_id: str = Field(description="Box folder of the campaign (root of the sub-path).")
    box_folder_path: str = Field(description="Path of that folder below the workflow's Box root, for people.")
    campaign_id_column: str = "local_campaign_id"
    reuse_tracking_ids: bool = False
    details: dict[str, str] = Field(default_factory=dict, description="Workflow details (A5→A6: rejection fields).")


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
