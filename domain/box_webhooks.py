"""Box webhook (V2) deliveries: is this one really from Box, and which uploaded file does it name?

Box's rules (developer.box.com guides/webhooks/v2/signatures-v2 and v2/index, summarised in
shared/reference/box_limits_and_webhooks.md §4):

* headers ``BOX-DELIVERY-ID``, ``BOX-DELIVERY-TIMESTAMP`` (RFC 3339), ``BOX-SIGNATURE-PRIMARY``,
  ``BOX-SIGNATURE-SECONDARY``, ``BOX-SIGNATURE-VERSION`` (always ``1``) and
  ``BOX-SIGNATURE-ALGORITHM`` (always ``HmacSHA256``); header names are case-insensitive;
* signature = base64(HMAC-SHA256(key, raw body bytes followed by the timestamp header's bytes)),
  once with the primary and once with the secondary key (two keys, so either can be rotated);
* a delivery whose timestamp is more than 10 minutes old is refused (a replay);
* the body's ``id`` stays the same when Box retries a delivery (``BOX-DELIVERY-ID`` changes):
  that is what deliveries are de-duplicated on.

The signature is computed over the raw body, never a re-encoded one: box/box-python-sdk-gen#596
shows the SDK's own ``validate_message`` failing on bodies with non-ASCII characters because it
re-escaped them first. A timestamp in the future is refused too, as the SDK does, with a minute
of tolerance for clocks that disagree.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

MAX_AGE = timedelta(minutes=10)
CLOCK_SKEW = timedelta(minutes=1)
ALGORITHM = "HmacSHA256"
SIGNATURE_VERSION = "1"
UPLOADED = "FILE.UPLOADED"


class DeliveryRefused(Exception):
    """A delivery that must not be acted on; ``reason`` is safe to log (no body, no signature)."""

    def __init__(self, reason: str, *, status: int = 401) -> None:
        super().__init__(reason)
        self.reason, self.status = reason, status


def signature(key: str, body: bytes, timestamp: str) -> str:
    """Box's signature of a delivery with one key."""
    digest = hmac.new(key.encode("utf-8"), body + timestamp.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True)
class DeliveryVerifier:
    """Checks deliveries against the app's primary and (optional) secondary signature keys."""

    primary_key: str
    secondary_key: str | None = None

    def __post_init__(self) -> None:
        if not self.primary_key:
            raise ValueError("the Box webhook primary signature key is empty: copy it from the app's "
                             "Webhooks tab in the Box Developer Console")

    def verify(self, body: bytes, headers: Mapping[str, str], now: datetime | None = None) -> None:
        """Return quietly for a genuine, fresh delivery; raise :class:`DeliveryRefused` otherwise."""
        h = {k.lower(): v for k, v in headers.items()}
        algorithm, version = h.get("box-signature-algorithm"), h.get("box-signature-version")
        if algorithm != ALGORITHM:
            raise DeliveryRefused(f"signature algorithm {_shown(algorithm)} is not {ALGORITHM}", status=400)
        if version != SIGNATURE_VERSION:
            raise DeliveryRefused(f"signature version {_shown(version)} is not {SIGNATURE_VERSION}", status=400)
        stamp = h.get("box-delivery-timestamp")
        if not stamp:
            raise DeliveryRefused("no BOX-DELIVERY-TIMESTAMP header", status=400)
        sent = parse_timestamp(stamp)
        now = now or datetime.now(UTC)
        if sent < now - MAX_AGE:
            raise DeliveryRefused(f"stale delivery: sent {stamp}, more than 10 minutes ago")
        if sent > now + CLOCK_SKEW:
            raise DeliveryRefused(f"delivery timestamp {stamp} is in the future")
        candidates = [(self.primary_key, h.get("box-signature-primary")),
                      (self.secondary_key, h.get("box-signature-secondary"))]
        if not any(sig for _, sig in candidates):
            raise DeliveryRefused("no BOX-SIGNATURE-PRIMARY or BOX-SIGNATURE-SECONDARY header")
        for key, received in candidates:
            if key and received and hmac.compare_digest(signature(key, body, stamp).encode("ascii"),
                                                        received.encode("utf-8", "replace")):
                return
        raise DeliveryRefused("signature does not match the primary or the secondary key")


def parse_timestamp(stamp: str) -> datetime:
    """An RFC 3339 timestamp (``Z`` or an offset) as an aware datetime; 400 when unreadable."""
    try:
        parsed = datetime.fromisoformat(stamp.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise DeliveryRefused(f"BOX-DELIVERY-TIMESTAMP {_shown(stamp)} is not an RFC 3339 timestamp",
                              status=400) from exc
    if parsed.tzinfo is None:
        raise DeliveryRefused(f"BOX-DELIVERY-TIMESTAMP {_shown(stamp)} has no time zone", status=400)
    return parsed


@dataclass(frozen=True)
class WebhookEvent:
    """The parts of a (verified) webhook payload the project uses.

    Box's payload (reference/resources/webhook-invocation): ``type`` ``webhook_event``, ``id``,
    ``created_at``, ``trigger``, ``webhook`` (id), ``created_by`` and ``source`` — the file or
    folder the event is about (for ``FILE.UPLOADED`` on a folder: the uploaded file, with its
    ``parent``).
    """

    id: str
    trigger: str
    source_type: str
    source_id: str
    source_name: str
    parent_id: str | None
    webhook_id: str | None
    created_at: str | None

    @property
    def is_upload(self) -> bool:
        return self.trigger == UPLOADED and self.source_type == "file"


def parse_event(body: bytes) -> WebhookEvent:
    """The payload of a delivery; :class:`DeliveryRefused` (400) when it is not Box's shape."""
    try:
        data: Any = json.loads(body)
    except ValueError as exc:
        raise DeliveryRefused("the body is not JSON", status=400) from exc
    if not isinstance(data, dict) or data.get("type") != "webhook_event":
        raise DeliveryRefused("the body is not a webhook_event", status=400)
    source = data.get("source")
    if not isinstance(data.get("id"), str) or not data["id"] or not isinstance(data.get("trigger"), str):
        raise DeliveryRefused("the webhook_event has no id or trigger", status=400)
    if not isinstance(source, dict) or not source.get("id") or not source.get("type"):
        raise DeliveryRefused("the webhook_event has no source item", status=400)
    parent = source.get("parent") if isinstance(source.get("parent"), dict) else {}
    webhook = data.get("webhook") if isinstance(data.get("webhook"), dict) else {}
    return WebhookEvent(id=data["id"], trigger=data["trigger"], source_type=str(source["type"]),
                        source_id=str(source["id"]), source_name=str(source.get("name") or ""),
                        parent_id=str(parent["id"]) if parent.get("id") else None,
                        webhook_id=str(webhook["id"]) if webhook.get("id") else None,
                        created_at=data.get("created_at") if isinstance(data.get("created_at"), str) else None)


def _shown(value: str | None) -> str:
    """A header value fit for a log line: printable, at most 40 characters."""
    if value is None:
        return "(missing)"
    clean = "".join(ch if ch.isprintable() else "?" for ch in value)[:40]
    return repr(clean)
