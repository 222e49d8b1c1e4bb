"""Failure and recovery alerts: one when a flow starts failing, one when it works again.

Every scheduled flow reports how each run ended: its hooks (``on_failure=[alert_on_failure],
on_completion=[alert_on_recovery]``) for failed and completed runs, the ``failure-alert`` flow
for crashed ones (a crashed process runs no hooks; an automation starts that flow). The outage
rules (``domain/notification_rules.py``) decide; the tracking database keeps each flow's outage
across processes and machines. An alert goes to the ``Mail Server`` block's error recipients
and to its notification blocks (Slack, Teams, webhooks).

Failure modes, chosen so an outage is never silent: an alert delivered nowhere is not
remembered (the next failed run tries again); when the tracking database cannot be reached, a
failed run alerts anyway (saying so) and a completed run sends nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from blocks.mail_server import MailServer
from blocks.tracking_database import TrackingDatabaseBlock
from domain.notification_rules import OutageStep, RunEnd, after_run
from domain.notifications import error_notification, resolved_notification
from tasks.notify import deliver_email, logger, post_to_channels, ui_url


class AlertNotDelivered(Exception):
    """Neither the email nor any notification block took the alert."""


def alert_on_failure(flow: Any, flow_run: Any, state: Any) -> None:
    """Flow hook on Failed: the red alert if this run starts an outage; counted otherwise."""
    _hook(flow, flow_run, state)


def alert_on_recovery(flow: Any, flow_run: Any, state: Any) -> None:
    """Flow hook on Completed: the "resolved" alert if the flow was failing; nothing otherwise."""
    _hook(flow, flow_run, state)


def _hook(flow: Any, flow_run: Any, state: Any) -> None:
    parameters = flow_run.parameters or {}
    try:
        outcome = report_run_end(run_end(flow.name, str(flow_run.id), state),
                                 email_block=parameters.get("email_block", "email"),
                                 tracking_db_block=parameters.get("tracking_db_block", "tracking-db"))
        logger().info("Outage alerts: %s", outcome)
    except Exception as exc:  # noqa: BLE001 - a hook must not hide or change the run's own outcome
        logger().error("Outage alert for %s run %s not handled: %s", flow.name, getattr(flow_run, "name", "?"), exc)


def run_end(workflow: str, flow_run_id: str, state: Any) -> RunEnd:
    """How a run ended, from its final Prefect state."""
    return RunEnd(workflow=workflow, flow_run_id=flow_run_id, state_name=state.name if state else "Unknown",
                  ok=bool(state and state.is_completed()), crashed=bool(state is None or state.is_crashed()),
                  message=(state.message or "") if state else "", at=getattr(state, "timestamp", None)
                  or datetime.now(UTC))


def report_run_end(run: RunEnd, *, email_block: str, tracking_db_block: str) -> str:
    """Apply the outage rules to one ended run and send the alert they call for.

    Returns what happened (for the logs); raises :class:`AlertNotDelivered` when an alert
    reached no one (then nothing is remembered: the next failed run alerts).
    """
    sent = False
    try:
        database = TrackingDatabaseBlock.load(tracking_db_block).get_client()
        with database.outage(run.workflow) as record:
            step = after_run(record.current, run)
            if step.alert:
                _send(step, run, email_block, remembered=True)
                sent = True
            record.save(step.outage)
    except AlertNotDelivered:
        raise
    except Exception as exc:  # noqa: BLE001 - the outage memory is out of reach
        if sent or run.ok:
            return f"tracking database not reachable, outage state unknown ({type(exc).__name__}: {exc})"
        _send(OutageStep(outage=None, alert="failing"), run, email_block, remembered=False)
        return f"alert sent without memory: the tracking database is not reachable ({type(exc).__name__})"
    if step.alert == "failing":
        return f"{run.workflow} started failing: alert sent"
    if step.alert == "resolved" and step.ended is not None:
        return f"{run.workflow} works again after {step.ended.runs} failed run(s): resolved alert sent"
    if step.outage is not None:
        return f"{run.workflow} still failing: {step.outage.runs} run(s) since {step.outage.started_at:%H:%M} UTC, " \
               "no alert (counted)"
    return "no outage"


def _send(step: OutageStep, run: RunEnd, email_block: str, remembered: bool) -> None:
    """The alert to the error recipients and every notification block; raises if none took it."""
    mail = MailServer.load(email_block)
    if step.alert == "resolved" and step.ended is not None:
        notification = resolved_notification(step.ended, flow_run=run.flow_run_id, ui_url=ui_url())
    else:
        notification = error_notification(run.workflow, run.state_name, run.message or "no message",
                                          flow_run=run.flow_run_id, remembered=remembered)
    problems = []
    try:
        deliver_email(mail, notification)
        delivered = 1
    except Exception as exc:  # noqa: BLE001 - the chat channels may still get it
        delivered = 0
        problems.append(f"email: {type(exc).__name__}: {exc}")
        logger().error("Alert email not sent: %s", exc)
    delivered += post_to_channels(mail, notification)
    if not delivered:
        raise AlertNotDelivered("; ".join(problems) or "no channel took the alert")
