"""The campaign status webhook as a Prefect block."""

from __future__ import annotations

from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from blocks._cache import cached_client
from clients.webhook import StatusWebhookClient


class StatusWebhook(Block):
    """Where campaign status changes are announced (JSON POST with the campaign number, name,
    status and ``Live Campaign``). The URL usually carries a token, so it is a secret.

    Example:
        ```python
        from blocks.status_webhook import StatusWebhook

        StatusWebhook.load("status-webhook").get_client()
        ```
    """

    _block_type_name = "Status Webhook"
    _block_type_slug = "content-scaling-status-webhook"
    _description = "URL (secret) that receives campaign status JSON."

    url: SecretStr = Field(description="The webhook URL, including any token it carries.")
    timeout_s: float = Field(default=15.0, description="Request timeout in seconds.")

    def get_client(self) -> StatusWebhookClient:
        """The webhook client (one per process)."""
        return cached_client(self, lambda: StatusWebhookClient(self.url.get_secret_value(), self.timeout_s))
