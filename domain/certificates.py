"""What the ``check-certificate`` flow says about a client certificate (pure)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

WARN_DAYS = 30


class CertificateCheck(BaseModel):
    subject: str
    issuer: str
    not_valid_after: datetime
    days_to_expiry: float
    chain_length: int
    key_present: bool
    pem_valid: bool
    verdict: str  # ok | expires soon | expired

    @property
    def ok(self) -> bool:
        return self.key_present and self.pem_valid and self.verdict != "expired"


def verdict_for(days_to_expiry: float) -> str:
    if days_to_expiry <= 0:
        return "expired"
    return "expires soon" if days_to_expiry < WARN_DAYS else "ok"
