"""A2→A3: localised files waiting in Box, and what happened to each."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from domain.campaigns import CampaignStatus
from domain.file_names import FileNameError, ReturnedFileName, parse_returned_file_name

WORKFLOW = "a2-to-a3"


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
    EMPTY_FILE = "empty_file"  # 0 bytes: left in Box
    CAMPAIGN_NOT_OPEN = "campaign_not_open"  # its campaign is not in A2 or A6: left in Box
    DEFERRED = "deferred"  # importable, but this run's max_files was reached: the next run takes it
    FAILED = "failed"  # left in Box, retried next run
    IN_PROGRESS = "in_progress"  # an overlapping run is importing it right now; left to that run

    @property
    def left_in_box(self) -> bool:
        return self not in (ImportOutcome.IMPORTED, ImportOutcome.ALREADY_IMPORTED)

    @property
    def is_error(self) -> bool:
        return self == ImportOutcome.FAILED


# Localised files are imported while their campaign waits for them: in A2 (agencies adapt the
# masters) and A6 (rejected assets are being reworked). In any other status the file stays in
# Box with the reason, so nothing lands in a campaign under review, live, or not yet sent out.
IMPORTING_STATUSES = (CampaignStatus.A2, CampaignStatus.A6)
_STATUS_WORDS = {
    CampaignStatus.A1: "its masters have not been sent to Box yet",
    CampaignStatus.A3: "its localised assets are under review",
    CampaignStatus.A4: "its review is finished",
    CampaignStatus.A5: "its rejected assets have not been sent for rework yet",
    CampaignStatus.B1: "it is a global campaign", CampaignStatus.B2: "it is a global campaign",
}


def why_campaign_takes_no_files(number: str, status: str) -> str | None:
    """Why a file of a campaign in ``status`` is not imported (None: it is imported)."""
    if status in IMPORTING_STATUSES:
        return None
    words = _STATUS_WORDS.get(status, "that status is not a known campaign status")  # type: ignore[call-overload]
    return (f"campaign {number} is in status {status or '(none)'} ({words}); localised files are imported only "
            "while a campaign is in A2 or A6 — the file stays in Box until the campaign is moved back to A2 or A6, "
            "or delete it")


def deferred_reason(max_files: int) -> str:
    return f"deferred to the next run: this run imports at most max_files={max_files} file(s)"


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


class ImportJob(BaseModel):
    """One agency file to import: the file, its parsed name, and its master's tracking record."""

    file: AgencyFile
    name: ReturnedFileName
    master: dict[str, Any]
    final_assets: str | None = Field(None, description="DAM folder id of the campaign's Final Assets, once read.")

    def result(self, outcome: ImportOutcome, **fields: Any) -> ImportResult:
        """The file's row with ``outcome`` (and the other ``fields``)."""
        return ImportResult(box_path=self.file.box_path, box_file_id=self.file.box_file_id, outcome=outcome,
                            tracking_id=self.name.tracking_id, campaign_number=self.master["campaign_number"],
                            campaign_folder_id=self.master["campaign_folder_id"], **fields)


def triage(file: AgencyFile, master_of: Callable[[str], dict[str, Any] | None],
           imported_copy: Callable[[str, str, str], dict[str, Any] | None]) -> ImportResult | ImportJob:
    """Why a file cannot be imported (its row: it stays in Box), or the job that imports it.

    ``master_of(tracking_id)`` is the master's tracking record; ``imported_copy(tracking_id,
    sha1, box_file_id)`` an already-imported file with the same content (both from the tracking
    database). The name is parsed once, and each lookup made once.
    """
    def left(outcome: ImportOutcome, reason: str, tracking_id: str | None = None) -> ImportResult:
        return ImportResult(box_path=file.box_path, box_file_id=file.box_file_id, outcome=outcome, reason=reason,
                            tracking_id=tracking_id)

    try:
        name = parse_returned_file_name(file.name)
    except FileNameError as exc:
        return left(ImportOutcome.BAD_NAME, str(exc))
    if file.size == 0:
        return left(ImportOutcome.EMPTY_FILE, "the file is empty (0 bytes): upload the finished file again",
                    name.tracking_id)
    master = master_of(name.tracking_id)
    if master is None:
        return left(ImportOutcome.UNKNOWN_TRACKING_ID, f"no master asset has tracking ID {name.tracking_id}",
                    name.tracking_id)
    copy = imported_copy(name.tracking_id, file.sha1, file.box_file_id)
    if copy is not None:
        return left(ImportOutcome.DUPLICATE, f"the same file was already imported as DAM asset {copy['dam_asset_id']}"
                    f" (from {copy['box_file_name']})", name.tracking_id)
    return ImportJob(file=file, name=name, master=master)


def ready_for_a3(status: str, masters_waiting: int, force: bool) -> bool:
    """A2→A3 for a campaign when every master has its localised version back (``force``: in any
    status but A3)."""
    if status == CampaignStatus.A3:
        return False
    return force or (status == CampaignStatus.A2 and masters_waiting == 0)
