"""Sending the workflows' notifications: email (once per situation), chat channels, run links.

* :func:`send_email` / :func:`send_emails`: an email to the workflow's recipients. Given the
  tracking database, a notification about a situation (a campaign with no assets, the same
  failures again) is sent only when the situation is new or changed
  (``domain/notification_rules.py``); what was sent is remembered there.
* :func:`post_to_channels`: the short version to the Prefect notification blocks (Slack,
  Microsoft Teams, webhooks) the ``Mail Server`` block names.
* Every notification links to its flow run in the Prefect UI when ``PREFECT_UI_URL`` (or an
  API URL it is inferred from) is set, and names the run's id otherwise.

The failure and recovery alerts are in ``tasks/alerts.py``.
"""

from __future__ import annotations

import logging
from typing import Any

from prefect import get_run_logger
from prefect.exceptions import MissingContextError
from prefect.settings import PREFECT_UI_URL
from pydantic import ValidationError

from blocks.mail_server import MailServer
from blocks.tracking_database import TrackingDatabaseBlock
from domain.notification_rules import decide
from domain.notifications import Notification, chat_message, render
from tasks.retry import io_task


def ui_url() -> str | None:
    """The Prefect UI's address people open (``PREFECT_UI_URL``, else inferred from the API URL)."""
    return PREFECT_UI_URL.value() or None


def logger() -> Any:
    """The run logger inside a run; a plain logger in hooks and outside runs."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("content_scaling.notify")


@io_task(name="send-email", task_run_name="email-{notification.kind}")
def send_email(mail: MailServer, notification: Notification, tracking: TrackingDatabaseBlock | None = None) -> bool:
    """Render one notification (HTML + plain text, linked to its flow run) and send it to its
    recipients. With ``tracking``, a notification about a situation is sent only when the
    situation is new or changed; returns False when it was held back (counted in the database).

    The memory is written in the same transaction as the decision and only after the send: a
    send that fails leaves it untouched (the retry or the next run sends it), and an
    overlapping run waits for the decision, then holds the same notification back.
    """
    situation = notification.situation
    if tracking is None or situation is None:
        deliver_email(mail, notification)
        return True
    with tracking.get_client().notification_memory(situation.subject) as memory:
        decision = decide(situation, memory.last)
        if not decision.send:
            memory.repeated()
            logger().info("Not sent: %s about %s, %s", notification.kind,
                          situation.campaign_number or situation.subject, decision.reason)
            return False
        deliver_email(mail, notification)
        memory.sent(situation, notification.flow_run)
    logger().info("%s: %s", notification.kind, decision.reason)
    return True


def send_emails(mail: MailServer, notifications: list[Notification],
                tracking: TrackingDatabaseBlock | None = None) -> int:
    """Send each notification (once per situation with ``tracking``); returns how many could not
    be sent (logged, never raised)."""
    futures = [send_email.submit(mail, n, tracking) for n in notifications]
    failed = held = 0
    for future in futures:
        future.wait()
        if not future.state.is_completed():
            failed += 1
            logger().error("Email not sent: %s", future.state.message)
        elif future.result() is False:
            held += 1
    if held:
        logger().info("%d email(s) not sent again: same situation as already told", held)
    return failed


def deliver_email(mail: MailServer, notification: Notification) -> None:
    """Render (linked to its flow run) and send now (error and resolved alerts to the error recipients)."""
    email = render(notification.with_run_link(ui_url()))
    to = mail.error_recipients if notification.to_error_recipients else mail.recipients_for(notification.workflow)
    mail.get_client().send(to, email.subject, email.html, email.text)
    logger().info("Sent %s to %d recipient(s)", notification.kind, len(to))


def post_to_channels(mail: MailServer, notification: Notification) -> int:
    """Post the short version of ``notification`` to each notification block of the ``Mail
    Server`` block; returns how many received it (one failing is logged, the others still get it)."""
    subject, body = chat_message(notification.with_run_link(ui_url()))
    delivered = 0
    for ref in mail.notification_blocks:
        try:
            block = mail.notification_channel(ref)
        except Exception as exc:  # noqa: BLE001 - a missing block must not keep the message from the others
            # (a block failing validation would echo its field values, secrets included: its type only)
            detail = type(exc).__name__ if isinstance(exc, ValidationError) else f"{type(exc).__name__}: {exc}"
            logger().error("Notification block %s not loaded: %s", ref, detail[:300])
            continue
        try:
            with block.raise_on_failure():
                block.notify(body, subject)
            delivered += 1
        except Exception as exc:  # noqa: BLE001 - reported, the other channels still tried
            logger().error("Notification block %s did not take the %s message: %s", ref, notification.kind,
                           _reason(exc))
    return delivered


def _reason(exc: Exception) -> str:
    """Why a channel failed, without its message: an HTTP error's text carries the webhook URL,
    and a webhook URL (Slack, Teams) is a secret."""
    status = getattr(getattr(exc, "response", None), "status_code", None)
    return type(exc).__name__ + (f" (HTTP {status})" if status else "")
