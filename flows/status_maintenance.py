"""Maintenance flows that change campaign statuses: update one, reset to A1, advance A1 to A3.

Each lists what it would change first (a ``<flow>-plan`` table artifact and the run message)
and changes nothing unless confirmed: ``confirm=true`` as a parameter, or, with
``wait_for_confirmation=true``, the run pauses and the UI shows a form to confirm. Every
change is recorded in the tracking database's audit log.
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from prefect.states import Completed, Failed, State

from blocks.dam import DamCredentials
from blocks.tracking_database import TrackingDatabaseBlock
from domain.status_changes import (
    RESETTABLE,
    StatusChangePlan,
    parse_status,
    plan_advance,
    plan_reset,
    plan_update,
)
from tasks.dam import find_campaigns, find_campaigns_by_number_or_name, set_campaign_status
from tasks.tracking import record_status_change

# How long a paused run waits for the operator before it fails (nothing changed).
CONFIRMATION_TIMEOUT_S = 3600


class StatusChangeConfirmation(RunInput):
    """The form a paused maintenance run shows in the UI."""

    confirm: bool = False
    note: str = ""


_CONFIRM_DOC = """
        confirm: Apply the changes; when false the run only lists them.
        wait_for_confirmation: When not confirmed, pause and wait (up to one hour) for the
            operator to confirm in the UI instead of ending as a dry listing.
        dam_block: Name of the ``DAM Credentials`` block.
        tracking_db_block: Name of the ``Tracking Database`` block (audit log).
"""


def _with_confirm_doc(fn):  # noqa: ANN001, ANN202 - decorator for the flows below
    fn.__doc__ = fn.__doc__.rstrip() + "\n" + _CONFIRM_DOC
    return fn


@flow(name="update-campaign-status", log_prints=True)
@_with_confirm_doc
def update_campaign_status(campaign: str, new_status: str, confirm: bool = False,
                           wait_for_confirmation: bool = False, dam_block: str = "dam",
                           tracking_db_block: str = "tracking-db") -> State:
    """Set one campaign's status. The campaign is found by its number or by part of its name;
    when several campaigns match they are listed and nothing changes.

    Args:
        campaign: Campaign number (``C000000078``) or part of the campaign name.
        new_status: The status to set (A1–A6, B1, B2)."""
    parse_status(new_status)  # a typo fails before anything is asked of the DAM
    dam = DamCredentials.load(dam_block)
    matches = find_campaigns_by_number_or_name(dam, campaign)
    return _apply(plan_update(campaign, matches, new_status), dam, TrackingDatabaseBlock.load(tracking_db_block),
                  confirm=confirm, wait_for_confirmation=wait_for_confirmation)


@flow(name="reset-campaigns-to-a1", log_prints=True)
@_with_confirm_doc
def reset_campaigns_to_a1(status: str | None = None, confirm: bool = False, wait_for_confirmation: bool = False,
                          dam_block: str = "dam", tracking_db_block: str = "tracking-db") -> State:
    """Put campaigns in A2–A6 back to A1 (so A1→A2 sends their masters again).

    Args:
        status: Only campaigns in this status (one of A2–A6); all of A2–A6 when empty."""
    statuses = [parse_status(status, RESETTABLE)] if status else list(RESETTABLE)
    dam = DamCredentials.load(dam_block)
    found = [find_campaigns.submit(dam, s) for s in statuses]
    campaigns = [c for future in found for c in future.result()]
    return _apply(plan_reset(campaigns), dam, TrackingDatabaseBlock.load(tracking_db_block),
                  confirm=confirm, wait_for_confirmation=wait_for_confirmation)


@flow(name="advance-a1-to-a3", log_prints=True)
@_with_confirm_doc
def advance_a1_to_a3(campaign_number: str | None = None, confirm: bool = False, wait_for_confirmation: bool = False,
                     dam_block: str = "dam", tracking_db_block: str = "tracking-db") -> State:
    """Move A1 campaigns straight to A3, skipping the transfer to Box (for campaigns whose
    localisation was handled outside this system).

    Args:
        campaign_number: Only this campaign; every A1 campaign when empty."""
    dam = DamCredentials.load(dam_block)
    campaigns = find_campaigns(dam, "A1", campaign_number=campaign_number)
    return _apply(plan_advance(campaigns), dam, TrackingDatabaseBlock.load(tracking_db_block),
                  confirm=confirm, wait_for_confirmation=wait_for_confirmation)


def _apply(plan: StatusChangePlan, dam: DamCredentials, tracking: TrackingDatabaseBlock, *, confirm: bool,
           wait_for_confirmation: bool) -> State:
    """List the plan; apply it when confirmed; one row per campaign in the ``<operation>`` artifact."""
    logger = get_run_logger()
    tracking.get_client().ping()  # the audit log must be reachable before anything changes
    logger.info(plan.describe())
    if plan.refused:
        _publish(plan, [{**_candidate_row(c), "result": "not changed (several or no matches)"}
                        for c in plan.candidates])
        return Failed(message=plan.refusal, data=_data(plan, applied=False))
    if not plan.changes:
        _publish(plan, [])
        return Completed(message=plan.describe(), data=_data(plan, applied=False))
    if not confirm and wait_for_confirmation:
        _publish(plan, [{**c.row(), "result": "waiting for confirmation"} for c in plan.changes])
        logger.info("Waiting up to %d s for an operator to confirm in the UI", CONFIRMATION_TIMEOUT_S)
        answer = pause_flow_run(wait_for_input=StatusChangeConfirmation, timeout=CONFIRMATION_TIMEOUT_S)
        confirm = answer.confirm
        logger.info("Operator answered confirm=%s%s", confirm, f" ({answer.note})" if answer.note else "")
    if not confirm:
        _publish(plan, [{**c.row(), "result": "would change (dry run)"} for c in plan.changes])
        return Completed(message=f"Dry run, nothing changed. {plan.describe()}. Run again with confirm=true "
                                 f"to apply.", data=_data(plan, applied=False))

    rows, failed = [], 0
    for change in plan.changes:
        moved = set_campaign_status(dam, change.campaign, change.to_status, return_state=True)
        if moved.is_completed():
            audit = record_status_change(tracking, plan.operation, change.campaign.number, change.from_status,
                                         change.to_status, return_state=True)
            rows.append({**change.row(), "result": "changed" if audit.is_completed()
                         else f"changed, but not recorded in the audit log: {audit.message}"})
        else:
            failed += 1
            rows.append({**change.row(), "result": f"failed: {moved.message}"})
    _publish(plan, rows)
    message = f"{plan.describe()}; {len(rows) - failed} changed, {failed} failed"
    data = {**_data(plan, applied=True), "results": rows}
    return Failed(message=message, data=data) if failed else Completed(message=message, data=data)


def _candidate_row(campaign) -> dict[str, str]:  # noqa: ANN001 - domain.campaigns.Campaign
    return {"campaign": campaign.number, "campaign_name": campaign.name, "status_before": campaign.status,
            "status_after": campaign.status}


def _publish(plan: StatusChangePlan, rows: list[dict[str, str]]) -> None:
    create_table_artifact(
        table=rows or [{"campaign": "", "campaign_name": "", "status_before": "", "status_after": "",
                        "result": "no campaign to change"}],
        key=f"{plan.operation}-plan",
        description=f"{plan.operation}: one row per campaign (what would change, or what changed)")


def _data(plan: StatusChangePlan, *, applied: bool) -> dict[str, object]:
    return {"operation": plan.operation, "applied": applied, "refusal": plan.refusal,
            "changes": [c.row() for c in plan.changes], "candidates": [_candidate_row(c) for c in plan.candidates]}
