"""Sending the workflows' emails, and the error email of a failed or crashed run."""

from __future__ import annotations

import logging
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from blocks.mail_server import MailServer
from domain.notifications import Notification, error_notification, render
from tasks.retry import IO_RETRIES


@task(name="send-email", task_run_name="email-{notification.kind}", cache_policy=NO_CACHE, **IO_RETRIES)
def send_email(mail: MailServer, notification: Notification) -> None:
    """Render one notification (HTML + plain text) and send it to the workflow's recipients."""
    email = render(notification)
    to = mail.error_recipients if notification.kind == "error" else mail.recipients_for(notification.workflow)
    mail.get_client().send(to, email.subject, email.html, email.text)
    get_run_logger().info("Sent %s to %d recipient(s)", notification.kind, len(to))


def send_emails(mail: MailServer, notifications: list[Notification]) -> int:
    """Send each notification; returns how many could not be sent (logged, never raised)."""
    futures = [send_email.submit(mail, n) for n in notifications]
    failed = 0
    for future in futures:
        future.wait()
        if not future.state.is_completed():
            failed += 1
            get_run_logger().error("Email not sent: %s", future.state.message)
    return failed


def email_on_failure(flow: Any, flow_run: Any, state: Any) -> None:
    """Flow hook on Failed: the red error email to the error address. Best effort.

    Crashed runs run no hooks (the process may be gone); the failure-alert deployment's
    automation mails those (flows/failure_alert.py).
    """
    log = logging.getLogger("content_scaling.notify")
    try:
        mail = MailServer.load((flow_run.parameters or {}).get("email_block", "email"))
        notification = error_notification(flow.name, state.name, state.message or "", flow_run=str(flow_run.id))
        email = render(notification)
        mail.get_client().send(mail.error_recipients, email.subject, email.html, email.text)
    except Exception as exc:  # noqa: BLE001 - a hook must not hide the run's own failure
        log.error("could not send the error email for %s: %s", getattr(flow_run, "name", "?"), exc)
