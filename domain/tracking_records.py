"""What the tracking database keeps about masters, Box uploads and campaign folders (plain data).

The records the transfer decisions read and write; ``clients/tracking_db.py`` stores them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class MasterAssetRecord(BaseModel):
    """What the A1→A2 / B1→B2 flows register for one DAM asset in one campaign."""

    dam_asset_id: str
    campaign_folder_id: str
    campaign_number: str
    campaign_name: str
    local_campaign_id: str | None = None
    global_master_campaign_id: str | None = None
    dam_path: str
    file_name: str
    extension: str = ""
    size: int
    mime_type: str | None = None
    brand: str | None = None
    country: str | None = None
    language: str | None = None
    metadata: dict[str, Any] = {}


class BoxUpload(BaseModel):
    """A file a workflow put in Box."""

    workflow: str
    tracking_id: str
    dam_asset_id: str
    box_folder_id: str
    box_file_id: str
    box_file_name: str
    sha1: str
    size: int


class CampaignBoxFolder(BaseModel):
    """The Box folder a DAM→Box workflow keeps for a campaign (found by id, whatever its name)."""

    workflow: str
    campaign_folder_id: str
    box_root_folder_id: str
    box_folder_id: str
    box_folder_name: str
