"""A2→A3: localised files waiting in Box, and what happened to each."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class AgencyFile(BaseModel):
    """A file an agency put in the Box agency-upload folder."""

    box_file_id: str
    name: str
    sub_path: list[str] = Field(default_factory=list)
    size: int
    sha1: str

    @property
    def box_path(self) -> str:
        return "/".join([*self.sub_path, self.name])


class ImportOutcome(StrEnum):
    IMPORTED = "imported"  # new DAM asset created (and the Box file deleted unless keep_files)
    ALREADY_IMPORTED = "already_imported"  # an earlier run imported it; only the Box clean-up was left
    DRY_RUN = "dry_run"  # representation built, nothing uploaded or deleted
    BAD_NAME = "bad_name"  # left in Box
    UNKNOWN_TRACKING_ID = "unknown_tracking_id"  # left in Box
    DUPLICATE = "duplicate"  # same content already imported; left in Box
    FAILED = "failed"  # left in Box, retried next run
    IN_PROGRESS = "in_progress"  # an overlapping run is importing it right now; left to that run

    @property
    def left_in_box(self) -> bool:
        return self not in (ImportOutcome.IMPORTED, ImportOutcome.ALREADY_IMPORTED)

    @property
    def is_error(self) -> bool:
        return self == ImportOutcome.FAILED


class ImportResult(BaseModel):
    """One row of the A2→A3 run artifact."""

    box_path: str
    box_file_id: str
    outcome: ImportOutcome
    reason: str = ""
    tracking_id: str | None = None
    campaign_number: str | None = None
    campaign_folder_id: str | None = None
    dam_asset_id: str | None = None
    creativex: str | None = None
    deleted_from_box: bool = False
    representation: dict[str, Any] | None = None
