"""The SMTP server and recipients as a Prefect block.

(Not named ``email.py``: Prefect puts an entrypoint's folder first on ``sys.path`` and that
name would shadow the standard library's ``email``.)
"""

from __future__ import annotations

from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from blocks._cache import ca_bundle_file, cached_client
from clients.mail import Mailer


class MailServer(Block):
    """SMTP (STARTTLS, port 587) and who receives which email.

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

    def recipients_for(self, workflow: str) -> list[str]:
        return self.recipients.get(workflow) or self.default_recipients

    def get_client(self) -> Mailer:
        """The SMTP sender (one per process)."""
        return cached_client(self, lambda: Mailer(
            self.host, self.port, self.from_address, username=self.username,
            password=self.password.get_secret_value() if self.password else None,
            ca_bundle=ca_bundle_file(self.ca_bundle_pem)))
