"""CreativeX: the creative-quality score and report URL of a localised asset (A2→A3)."""

from __future__ import annotations

import httpx
from pydantic import BaseModel, Field

from clients.errors import AuthError, InvalidData, TransientError


class CreativeXScore(BaseModel):
    score: int = Field(ge=0, le=100)
    report_url: str


class CreativeXClient:
    """Scores a file by its tracking ID, name and SHA-1. Thread-safe."""

    def __init__(self, base_url: str, api_key: str, timeout_s: float = 30.0) -> None:
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s,
                                  headers={"Authorization": f"Bearer {api_key}"})

    def score(self, *, tracking_id: str, file_name: str, sha1: str) -> CreativeXScore:
        try:
            response = self._http.post("/v1/scores", json={"tracking_id": tracking_id, "file_name": file_name,
                                                           "sha1": sha1})
        except httpx.HTTPError as exc:
            raise TransientError(f"CreativeX unreachable: {type(exc).__name__}: {exc}", system="creativex") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientError(f"CreativeX answered {response.status_code}", status=response.status_code,
                                 system="creativex")
        if response.status_code in (401, 403):
            raise AuthError("CreativeX refused the API key", status=response.status_code, system="creativex")
        if response.status_code != 200:
            raise InvalidData(f"CreativeX answered {response.status_code}: {response.text[:200]}",
                              status=response.status_code, system="creativex")
        try:
            return CreativeXScore.model_validate(response.json())
        except ValueError as exc:
            raise InvalidData(f"CreativeX sent an unusable answer: {exc}", system="creativex") from exc

    def close(self) -> None:
        self._http.close()
