"""The campaign status webhook: a JSON POST to a configured (secret) URL."""

from __future__ import annotations

import httpx
from pydantic import BaseModel, ConfigDict, Field

from clients.errors import ClientError, InvalidData, TransientError


class StatusMessage(BaseModel):
    """What the webhook says about a campaign."""

    model_config = ConfigDict(populate_by_name=True)

    campaign_number: str
    campaign_name: str
    status: str
    live_campaign: str = Field(alias="Live Campaign")


class StatusWebhookClient:
    """Posts :class:`StatusMessage` JSON. The URL is a secret: it never appears in errors."""

    def __init__(self, url: str, timeout_s: float = 15.0, headers: dict[str, str] | None = None) -> None:
        self._url = url
        self._http = httpx.Client(timeout=timeout_s, headers=headers or {})

    def send(self, message: StatusMessage) -> None:
        try:
            response = self._http.post(self._url, json=message.model_dump(by_alias=True))
        except httpx.HTTPError as exc:
            raise TransientError(f"status webhook unreachable: {type(exc).__name__}", system="webhook") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientError(f"status webhook answered {response.status_code}", status=response.status_code,
                                 system="webhook")
        if response.status_code >= 400:
            raise InvalidData(f"status webhook refused the message: {response.status_code}",
                              status=response.status_code, system="webhook")

    def close(self) -> None:
        self._http.close()


__all__ = ["ClientError", "StatusMessage", "StatusWebhookClient"]
