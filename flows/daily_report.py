"""Daily report (19:00): the last 24 hours of every transition flow, from Prefect's history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from blocks.mail_server import MailServer
from domain.daily_report import (
    TRANSITION_FLOWS,
    DailyReport,
    compute_report,
    report_notification,
    to_markdown,
)
from tasks.alerts import alert_on_failure, alert_on_recovery
from tasks.notify import post_to_channels, send_email, ui_url
from tasks.report import read_flow_run_history
from tasks.runs import current_run_id


@flow(name="daily-report", log_prints=True, on_failure=[alert_on_failure], on_completion=[alert_on_recovery])
def daily_report(hours: int = 24, email_block: str = "email", send: bool = True) -> DailyReport:
    """Add up the last ``hours`` of flow runs of every transition flow and publish the report.

    Reads flow runs (states, messages) and their per-run table artifacts from the Prefect API,
    computes per workflow and in total: campaigns found / processed / completed / partial,
    assets succeeded / failed / skipped, NOT APPROVED count, success rate, errors, runs failed
    or crashed; publishes it as the ``daily-report`` markdown artifact and sends the blue
    dashboard email (each failed run linked to the Prefect UI); with the ``Mail Server`` block's
    ``daily_report_to_notification_blocks``, its summary also goes to the notification blocks.

    Args:
        hours: How far back to look (runs that ended in the window).
        email_block: Name of the ``Mail Server`` block (recipients under ``daily-report``).
        send: Send the email (the artifact is always published).
    """
    until = datetime.now(UTC)
    since = until - timedelta(hours=hours)
    report = compute_report(read_flow_run_history(TRANSITION_FLOWS, since, until), since, until)
    create_markdown_artifact(markdown=to_markdown(report), key="daily-report",
                             description=f"Transition flows, {hours} h up to {until:%Y-%m-%d %H:%M} UTC")
    if send:
        mail = MailServer.load(email_block)
        notification = report_notification(report, current_run_id(), ui_url())
        send_email(mail, notification)
        if mail.daily_report_to_notification_blocks:
            post_to_channels(mail, notification)
    print(f"Daily report: {report.total}")
    return report
