"""When a notification is sent: once per situation, and outage alerts once per outage.

Flows run every 5 minutes, so what a run finds (a campaign with no assets, the same assets
failing, a DAM outage) is usually what the previous run found. People are told when a
situation **starts or changes**, never again on every run:

* **Campaign situations** (the DAM→Box workflows). A campaign's notification carries a
  :class:`Situation`: *what* it is about (``subject``: the workflow and the campaign's folder)
  and a *fingerprint* of what matters about it (see :func:`campaign_situation`). It is sent
  when nothing was sent about that subject yet, or when the fingerprint differs from the one
  last sent; otherwise it is held back (counted). A status change (``complete``) is an event,
  always sent; it also replaces what was remembered, so a campaign sent round again starts
  afresh.
* **Files left in the agency folder** (A2→A3). Files the flow cannot import (their campaign is
  not open for import, a bad name…) stay in Box and are found again by every run: the email
  listing them is sent when that set of files (and their reasons) changes; a run that imports
  something always sends its email.
* **Outages** (every scheduled flow). The first failed run after a success (or the first run
  ever) alerts; further failed runs are counted, not mailed; the first run that completes
  after them sends one "resolved" alert with the count. A crashed run (reported by the
  ``failure-alert`` automation, since a crashed process runs no hooks) counts as a failed run
  of the same outage: to the people on call both mean "this flow is not doing its job".

Pure functions only: the tracking database keeps the state (``clients/tracking_db.py``), the
tasks apply these rules (``tasks/notify.py``, ``tasks/alerts.py``).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from domain.localised_files import ImportOutcome, ImportResult
from domain.transfers import AssetOutcome, CampaignOutcome, CampaignResult


class Situation(BaseModel):
    """What a notification is about, to decide whether it was said already."""

    subject: str  # e.g. "a1-to-a2:campaign:<folder id>": one memory per subject
    workflow: str
    campaign_number: str | None = None
    kind: str
    fingerprint: str  # same fingerprint, same situation: not sent again
    summary: str = ""  # the fingerprint's content for people (kept in the tracking database)
    always: bool = False  # an event (a status moved): always sent


class LastSent(BaseModel):
    """What the tracking database remembers about the last notification of a subject."""

    kind: str
    fingerprint: str
    sent_at: datetime
    flow_run_id: str | None = None
    repeats: int = 0  # runs since then that found the same situation (nothing sent)


class Decision(BaseModel):
    send: bool
    reason: str


def decide(situation: Situation, last: LastSent | None) -> Decision:
    """Send when the situation is new or changed (or is an event); hold it back when it is the
    situation last sent about the same subject."""
    if situation.always:
        return Decision(send=True, reason="an event (status change): always sent")
    if last is None:
        return Decision(send=True, reason="new situation")
    if last.fingerprint != situation.fingerprint:
        return Decision(send=True, reason=f"the situation changed (was {last.kind} since {last.sent_at:%Y-%m-%d %H:%M})")
    return Decision(send=False, reason=f"same situation as the email of {last.sent_at:%Y-%m-%d %H:%M} UTC "
                                       f"(run {last.flow_run_id or '-'}), held back {last.repeats + 1} time(s)")


# -- campaign situations -------------------------------------------------------------------
def campaign_situation(workflow: str, result: CampaignResult, kind: str) -> Situation:
    """The situation of one campaign after a DAM→Box run.

    Fingerprint, by outcome:

    * ``complete``: an event (the status moved), always sent.
    * ``no_assets``: the kind alone (the folder is empty or has no rejected asset).
    * ``partial`` / ``error``: the failed assets (DAM asset id and :func:`error_class` of the
      error) and the campaign's own error class. Counts and wording of a message that change
      from run to run (a request id, a retry count, a byte offset) do not make it new; an asset
      that fails or recovers, or fails differently (``TransientError`` → ``AuthError``), does.
    * A5→A6 (rework) also fingerprints the set of rejected (NOT APPROVED) assets awaiting
      rework: a newly rejected asset is news even when the failures are the same.
    """
    campaign = result.campaign
    subject = f"{workflow}:campaign:{campaign.folder_id}"
    failed = sorted({(a.dam_asset_id, error_class(a.error)) for a in result.assets if a.outcome == AssetOutcome.FAILED})
    content: dict[str, object] = {"kind": kind}
    summary = kind
    if result.outcome == CampaignOutcome.COMPLETE:
        content["status"] = result.status_after
    elif result.outcome in (CampaignOutcome.PARTIAL, CampaignOutcome.ERROR):
        content["failed"] = failed
        content["campaign_error"] = error_class(result.error)
        summary = "; ".join([f"{asset_id}: {cls}" for asset_id, cls in failed]
                            + ([f"campaign: {content['campaign_error']}"] if result.error else []))
    if workflow == "a5-to-a6" and result.outcome != CampaignOutcome.COMPLETE:
        content["rejected"] = sorted(a.dam_asset_id for a in result.assets if a.outcome != AssetOutcome.SKIPPED)
    return Situation(subject=subject, workflow=workflow, campaign_number=campaign.number or None, kind=kind,
                     fingerprint=digest(content), summary=summary[:1000],
                     always=result.outcome == CampaignOutcome.COMPLETE)


# Exception names: ``…Error``, ``…Exception``, ``…Timeout`` and the clients' other typed errors.
# Files people must act on (rename, re-upload, open the campaign); not the ones a later run
# handles by itself (deferred, failed and retried, another run's) nor a dry run's.
_WAITING = {ImportOutcome.BAD_NAME, ImportOutcome.UNKNOWN_TRACKING_ID, ImportOutcome.DUPLICATE,
            ImportOutcome.EMPTY_FILE, ImportOutcome.CAMPAIGN_NOT_OPEN}


def files_left_situation(results: list[ImportResult], kind: str) -> Situation:
    """The A2→A3 agency folder's situation: the files left in Box for people to act on (Box file
    id and outcome). An import is an event (always told)."""
    waiting = sorted({(r.box_file_id, r.outcome.value) for r in results if r.outcome in _WAITING})
    return Situation(subject="a2-to-a3:files-left-in-box", workflow="a2-to-a3", kind=kind,
                     fingerprint=digest({"kind": kind, "waiting": waiting}),
                     summary="; ".join(f"{file_id}: {outcome}" for file_id, outcome in waiting)[:1000],
                     always=any(r.outcome == ImportOutcome.IMPORTED for r in results))


_EXCEPTION_NAME = re.compile(r"\b([A-Z]\w*(?:Error|Exception|Timeout)|NotFound|Conflict|AlreadyExists|InvalidData)\b")


def error_class(message: str | None) -> str:
    """What kind of error a message reports, without what changes from run to run.

    ``"TransientError: DAM answered 503 (request 8f2c…)"`` → ``"TransientError"``; a message
    without an exception name keeps its first clause, digits masked (``"403 forbidden"`` →
    ``"# forbidden"``).
    """
    if not message:
        return ""
    found = _EXCEPTION_NAME.search(message)
    if found:
        return found.group(1)
    head = re.split(r"[:(\n]", message, maxsplit=1)[0]
    return re.sub(r"\d+", "#", head).strip().lower()[:80]


def digest(content: object) -> str:
    """A stable digest of JSON-able content (key order and set order do not matter)."""
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()[:32]


# -- outages -------------------------------------------------------------------------------
KEEP_RUN_IDS = 500  # an outage remembers this many of its runs (a day of 5-minute runs is 288)


class RunEnd(BaseModel):
    """How one run of a flow ended, as the outage rules see it."""

    workflow: str
    flow_run_id: str
    state_name: str  # Completed, Failed, TimedOut, Crashed…
    ok: bool  # Completed
    crashed: bool = False
    message: str = ""
    at: datetime


class Outage(BaseModel):
    """A flow failing since its first failed (or crashed) run, until a run completes."""

    workflow: str
    started_at: datetime
    first_flow_run_id: str
    first_state: str
    first_message: str = ""
    failed_runs: int = 0
    crashed_runs: int = 0
    last_flow_run_id: str
    last_at: datetime
    flow_run_ids: list[str] = []  # the runs counted (the most recent KEEP_RUN_IDS): each counts once

    @property
    def runs(self) -> int:
        return self.failed_runs + self.crashed_runs


class OutageStep(BaseModel):
    """What one ended run does to a flow's outage."""

    outage: Outage | None  # the state to keep (None: the flow works)
    alert: Literal["failing", "resolved"] | None = None
    ended: Outage | None = None  # the outage a "resolved" alert is about


def after_run(outage: Outage | None, run: RunEnd) -> OutageStep:
    """Apply one ended run to the flow's outage: alert on the first failure, count the next
    ones, and say "resolved" (with the counts) on the first completed run after them."""
    if run.ok:
        if outage is None:
            return OutageStep(outage=None)
        return OutageStep(outage=None, alert="resolved", ended=outage)
    if outage is not None and run.flow_run_id in outage.flow_run_ids:
        return OutageStep(outage=outage)  # a run reported twice (a retried alert) counts once
    if outage is None:
        started = Outage(workflow=run.workflow, started_at=run.at, first_flow_run_id=run.flow_run_id,
                         first_state=run.state_name, first_message=run.message[:1000],
                         last_flow_run_id=run.flow_run_id, last_at=run.at)
        return OutageStep(outage=_counted(started, run), alert="failing")
    return OutageStep(outage=_counted(outage, run))


def _counted(outage: Outage, run: RunEnd) -> Outage:
    return outage.model_copy(update={
        "failed_runs": outage.failed_runs + (not run.crashed), "crashed_runs": outage.crashed_runs + run.crashed,
        "last_flow_run_id": run.flow_run_id, "last_at": run.at,
        "flow_run_ids": [*outage.flow_run_ids, run.flow_run_id][-KEEP_RUN_IDS:]})
