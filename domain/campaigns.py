"""Campaigns and DAM assets as the flows see them (pydantic models, no I/O)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class CampaignStatus(StrEnum):
    """The campaign status field in the DAM (see SPEC "Campaign statuses")."""

    A1 = "A1"  # local campaign ready: master assets must go to Box
    A2 = "A2"  # masters are in Box; agencies upload localised versions
    A3 = "A3"  # localised assets are back in the DAM, under review
    A4 = "A4"  # review finished, campaign not live
    A5 = "A5"  # some final assets were rejected
    A6 = "A6"  # rejected assets are in Box for rework
    B1 = "B1"  # global campaign ready
    B2 = "B2"  # global masters are in Box


GLOBAL_COMM = "Global comm"


class Campaign(BaseModel):
    """A campaign folder in the DAM."""

    folder_id: str = Field(description="DAM folder id of the campaign folder.")
    number: str = Field(description="Campaign number, e.g. C000000078.")
    name: str
    type: str = ""
    status: str
    created: datetime | None = None

    @property
    def label(self) -> str:
        return f"{self.number}-{self.name}"


class InvalidCampaign(BaseModel):
    """A campaign folder the DAM describes unusably (no name, no status…): reported, not processed."""

    folder_id: str
    number: str
    problem: str


class CampaignSearch(BaseModel):
    """The campaigns a search found, and the campaign folders it had to leave out."""

    campaigns: list[Campaign] = Field(default_factory=list)
    invalid: list[InvalidCampaign] = Field(default_factory=list)


# A flattened metadata value: str / int / None for scalar and domain fields (domain → code),
# a list for table fields.
MetadataValue = Any


class DamAsset(BaseModel):
    """One asset found while walking a campaign folder."""

    asset_id: str
    name: str
    size: int = Field(ge=0)
    mime_type: str = "application/octet-stream"
    sub_path: list[str] = Field(default_factory=list, description="Folder names below the walked root.")
    metadata: dict[str, MetadataValue] = Field(
        default_factory=dict, description="Field id → value, flattened from the OTMM field groups."
    )
    raw_metadata: list[dict[str, Any]] = Field(
        default_factory=list, description="The OTMM metadata_element_list exactly as the DAM returned it."
    )

    @property
    def dam_path(self) -> str:
        return "/".join([*self.sub_path, self.name])
