"""DAM metadata field IDs, loaded from ``config/dam_fields.toml`` (their one home)."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field

DEFAULT_FIELDS_FILE = Path(__file__).resolve().parent.parent / "config" / "dam_fields.toml"


class CampaignFolders(BaseModel):
    master_assets: str = "Master Assets"
    final_assets: str = "Final Assets"


class CampaignFields(BaseModel):
    number: str
    name: str
    type: str
    status: str
    folders: CampaignFolders = Field(default_factory=CampaignFolders)


class AssetFields(BaseModel):
    brand: str
    country: str
    language: str
    description: str
    state: str
    master_tracking_id: str


class RejectionFields(BaseModel):
    """The 10 fields of an A5→A6 rejection."""

    ecommerce_status: str
    approver_comments: str
    approver_certifier: str
    approver_date: str
    legal_comments: str
    legal_certifier: str
    legal_date: str
    iacc_comments: str
    iacc_certifier: str
    iacc_date: str


class CreativeXFields(BaseModel):
    table: str
    score: str
    url: str


class MvpFields(BaseModel):
    fields: list[str]


class DamFields(BaseModel):
    """Every DAM field ID the project reads or writes."""

    metadata_model_id: str
    campaign_model_id: str
    campaign_container_type_id: str
    campaign: CampaignFields
    asset: AssetFields
    rejection: RejectionFields
    creativex: CreativeXFields
    mvp: MvpFields


@lru_cache(maxsize=8)
def load_dam_fields(path: Path | str | None = None) -> DamFields:
    """Read the field mapping (default: ``config/dam_fields.toml``)."""
    with open(path or DEFAULT_FIELDS_FILE, "rb") as fh:
        return DamFields.model_validate(tomllib.load(fh))
