"""The SMTP server and recipients as a Prefect block.

(Not named ``email.py``: Prefect puts an entrypoint's folder first on ``sys.path`` and that
name would shadow the standard library's ``email``.)
"""

from __future__ import annotations

from prefect.blocks.abstract import NotificationBlock
from prefect.blocks.core import Block
from pydantic import Field, SecretStr, field_validator

from blocks._cache import ca_bundle_file, cached_client
from clients.mail import Mailer


class MailServer(Block):
    """SMTP (STARTTLS, port 587), who receives which email, and the chat channels of the alerts.

    ``notification_blocks`` names Prefect notification blocks (Slack, Microsoft Teams, a custom
    webhook…, made in the UI or with ``prefect block create``) that also receive the failure and
    recovery alerts (and, with ``daily_report_to_notification_blocks``, the daily report's
    summary). Their URLs and tokens stay in those blocks.

    Example:
        ```python
        from blocks.mail_server import MailServer

        mail = MailServer.load("email")
        mail.get_client().send(mail.recipients_for("a1-to-a2"), "subject", "<p>html</p>", "text")
        ```
    """

    _block_type_name = "Mail Server"
    _block_type_slug = "content-scaling-mail-server"
    _description = "SMTP server with STARTTLS, sender address and recipients per workflow."

    host: str = Field(description="SMTP server host name.")
    port: int = Field(default=587, description="SMTP port (STARTTLS).")
    username: str | None = Field(default=None, description="SMTP login; no login when empty.")
    password: SecretStr | None = Field(default=None, description="SMTP password.")
    from_address: str = Field(description="Sender address of every email.")
    ca_bundle_pem: str | None = Field(default=None, description="PEM CA certificates of the SMTP server; system store if empty.")
    recipients: dict[str, list[str]] = Field(
        default_factory=dict, description="Workflow name (e.g. a1-to-a2, daily-report) → recipient addresses.")
    default_recipients: list[str] = Field(default_factory=list, description="Recipients of workflows not listed above.")
    error_recipients: list[str] = Field(default_factory=list, description="Recipients of error emails.")
    notification_blocks: list[str] = Field(
        default_factory=list,
        description="Prefect notification blocks that also get the failure and recovery alerts, as "
                    "'<block type slug>/<block name>', e.g. slack-webhook/marketing-ops, ms-teams-webhook/ops, "
                    "custom-webhook/ops.")
    daily_report_to_notification_blocks: bool = Field(
        default=False, description="Also post the daily report's summary to the notification blocks.")

    @field_validator("notification_blocks")
    @classmethod
    def _slug_slash_name(cls, value: list[str]) -> list[str]:
        for ref in value:
            slug, _, name = ref.partition("/")
            if not slug or not name or "/" in name:
                raise ValueError(f"notification block {ref!r}: write '<block type slug>/<block name>', e.g. "
                                 "'slack-webhook/ops' (`prefect block ls` lists them)")
        return value

    @staticmethod
    def notification_channel(ref: str) -> NotificationBlock:
        """One of the ``notification_blocks``, loaded (a clear error when it is another kind of block)."""
        block = Block.load(ref)
        if not isinstance(block, NotificationBlock):
            raise TypeError(f"{ref!r} is a {type(block).__name__} block, not a notification block "
                            "(Slack Webhook, Microsoft Teams Webhook, Custom Webhook…)")
        return block

    def recipients_for(self, workflow: str) -> list[str]:
        return self.recipients.get(workflow) or self.default_recipients

    def get_client(self) -> Mailer:
        """The SMTP sender (one per process)."""
        return cached_client(self, lambda: Mailer(
            self.host, self.port, self.from_address, username=self.username,
            password=self.password.get_secret_value() if self.password else None,
            ca_bundle=ca_bundle_file(self.ca_bundle_pem)))
