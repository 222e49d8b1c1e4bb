"""The rows of the table artifacts a run publishes, and that the daily report reads back.

Three tables are a contract between the flows (which write them) and the daily report (which
reads ``<workflow>-campaigns`` from the Prefect API, possibly written by an older version):

- ``<workflow>-campaigns``: one :class:`CampaignRow` per campaign a run touched;
- ``<workflow>-assets``: one :class:`AssetRow` per DAM asset (DAM→Box workflows), plus one per
  campaign that had no asset to show (error, nothing to send, left to another run);
- ``a2-to-a3-files``: one :class:`FileRow` per file found in the agency-upload folder;
- ``<workflow>-requests``: one :class:`RequestRow` per system (DAM, Box): calls, uploads, 429s.

Every field has a default, so a row written before a column existed still reads back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from domain.localised_files import ImportResult
from domain.transfers import AssetOutcome, CampaignOutcome, CampaignResult

# The campaign-level rows of an assets table: a campaign with no asset row of its own to say
# what happened to it.
_CAMPAIGN_ONLY = (CampaignOutcome.ERROR, CampaignOutcome.NO_ASSETS, CampaignOutcome.IN_PROGRESS)
ERROR_CHARS = 500  # a campaign row's error column: the start of the story (the assets table has the rest)


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _missing_when_empty(cls, data: Any) -> Any:
        """A null or empty cell of a known column reads as its default (0 for a count)."""
        if isinstance(data, Mapping):
            return {k: v for k, v in data.items() if k not in cls.model_fields or v not in (None, "")}
        return data


class CampaignRow(_Row):
    """One campaign in one run: its outcome and asset counts (``<workflow>-campaigns``)."""

    campaign: str = ""
    campaign_name: str = ""
    outcome: str = ""  # a CampaignOutcome value, or "no campaigns" in the placeholder row
    status_before: str = ""
    status_after: str = ""
    assets_succeeded: int = 0
    assets_failed: int = 0
    assets_skipped: int = 0
    error: str = ""


class AssetRow(_Row):
    """One asset (or one campaign without assets) in one run (``<workflow>-assets``).

    The workflow's detail columns (A5→A6: ECOMMERCE STATUS and the reviewers' comments) are
    extra fields, after the fixed ones: :attr:`details`.
    """

    model_config = ConfigDict(extra="allow")

    campaign: str = ""
    campaign_name: str = ""
    path: str = ""
    tracking_id: str = ""
    outcome: str = ""  # an AssetOutcome value, a CampaignOutcome value (campaign rows) or "no campaigns"
    box_path: str = ""
    error: str = ""
    dam_asset_id: str = ""

    @property
    def details(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class FileRow(_Row):
    """One file of the agency-upload folder in an A2→A3 run (``a2-to-a3-files``)."""

    box_path: str = ""
    outcome: str = ""  # an ImportOutcome value, or "no files" in the placeholder row
    reason: str = ""
    tracking_id: str = ""
    campaign: str = ""
    dam_asset_id: str = ""
    creativex: str = ""
    left_in_box: bool = False


# What a table shows when a run had nothing to list (a table artifact needs one row).
class RequestRow(_Row):
    """What one run asked of one system (``<workflow>-requests``): the requests sent (retries
    included), Box's uploads among them, the 429 answers, and the seconds spent waiting for
    the shared request budget. Counted by the run's process."""

    system: str = ""
    calls: int = 0
    uploads: int = 0
    rate_limited: int = 0
    budget_wait_s: float = 0.0


NO_CAMPAIGNS = CampaignRow(outcome="no campaigns")
NO_ASSETS = AssetRow(outcome="no campaigns")
NO_FILES = FileRow(outcome="no files")
NO_REQUESTS = RequestRow(system="none")


def campaign_rows(results: list[CampaignResult]) -> list[CampaignRow]:
    """The ``<workflow>-campaigns`` rows of a DAM→Box run."""
    return [CampaignRow(campaign=r.campaign.number, campaign_name=r.campaign.name, outcome=r.outcome.value,
                        status_before=r.status_before, status_after=r.status_after,
                        assets_succeeded=sum(1 for a in r.assets if a.succeeded),
                        assets_failed=len(r.failed_assets),
                        assets_skipped=sum(1 for a in r.assets if a.outcome == AssetOutcome.SKIPPED),
                        error=r.error or "; ".join(f"{a.dam_path}: {a.error}" for a in r.failed_assets)[:ERROR_CHARS])
            for r in results]


def asset_rows(results: list[CampaignResult]) -> list[AssetRow]:
    """The ``<workflow>-assets`` rows of a DAM→Box run: every asset, then every campaign that
    ended in error, had nothing to send or was left to another run."""
    rows = [AssetRow.model_validate({
        **a.details,  # detail columns never overwrite the fixed ones
        "campaign": r.campaign.number, "campaign_name": r.campaign.name, "path": a.dam_path,
        "tracking_id": a.tracking_id or "", "outcome": a.outcome.value, "box_path": a.box_path or "",
        "error": a.error or "",
        "dam_asset_id": a.dam_asset_id})
        for r in results for a in r.assets]
    rows += [AssetRow(campaign=r.campaign.number, campaign_name=r.campaign.name, outcome=r.outcome.value,
                      error=r.error or "")
             for r in results if r.outcome in _CAMPAIGN_ONLY]
    return rows


def file_rows(results: list[ImportResult]) -> list[FileRow]:
    """The ``a2-to-a3-files`` rows: one per file, imported or left in Box with the reason."""
    return [FileRow(box_path=r.box_path, outcome=r.outcome.value, reason=r.reason, tracking_id=r.tracking_id or "",
                    campaign=r.campaign_number or "", dam_asset_id=r.dam_asset_id or "",
                    creativex=r.creativex or "", left_in_box=r.outcome.left_in_box)
            for r in results]


def import_campaign_rows(results: list[ImportResult], moved: list[tuple[str, str]],
                         not_moved: Mapping[str, str] | None = None) -> list[CampaignRow]:
    """The ``a2-to-a3-campaigns`` rows: each campaign a file belongs to, complete when the run set
    it to A3 (``moved``: its ``(number, name)`` pairs), error when its status move failed
    (``not_moved``: the error per campaign number), partial otherwise. Succeeded counts the
    files now in the DAM, failed the files that failed (the others wait in Box for a reason)."""
    names, errors = dict(moved), dict(not_moved or {})
    touched = sorted({r.campaign_number for r in results if r.campaign_number} | set(errors))

    def outcome(number: str) -> CampaignOutcome:
        if number in names:
            return CampaignOutcome.COMPLETE
        return CampaignOutcome.ERROR if number in errors else CampaignOutcome.PARTIAL

    return [CampaignRow(campaign=n, campaign_name=names.get(n, ""), outcome=outcome(n).value,
                        assets_succeeded=sum(1 for r in results if r.campaign_number == n and not r.outcome.left_in_box),
                        assets_failed=sum(1 for r in results if r.campaign_number == n and r.outcome.is_error),
                        error=errors.get(n, "")[:ERROR_CHARS])
            for n in touched]


def table(rows: Sequence[BaseModel | Mapping[str, Any]],
          placeholder_row: BaseModel | Mapping[str, Any]) -> list[dict[str, Any]]:
    """``rows`` as the list of dicts a table artifact takes; ``[placeholder_row]`` when there are
    none, so the run's table says so (e.g. ``NO_CAMPAIGNS``) rather than being empty."""
    return [r.model_dump(mode="json") if isinstance(r, BaseModel) else dict(r) for r in rows or [placeholder_row]]

