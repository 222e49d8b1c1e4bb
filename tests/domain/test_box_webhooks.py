"""Box webhook signatures: only a fresh delivery signed with one of the app's keys is accepted."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime, timedelta

import pytest

from domain.box_webhooks import DeliveryRefused, DeliveryVerifier, parse_event

pytestmark = pytest.mark.fast

PRIMARY, SECONDARY = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
BODY = json.dumps({"type": "webhook_event", "id": "evt-1", "trigger": "FILE.UPLOADED", "created_at": "x",
                   "webhook": {"id": "77", "type": "webhook"},
                   "source": {"type": "file", "id": "123", "name": "ABC123_Città_it-IT_Lazio.jpg",
                              "parent": {"type": "folder", "id": "9"}}}, ensure_ascii=False).encode("utf-8")


def box_sign(key: str, body: bytes, stamp: str) -> str:
    """Written from Box's guide (signatures-v2), independently of the code under test."""
    return base64.b64encode(hmac.new(key.encode(), body + stamp.encode(), hashlib.sha256).digest()).decode()


def headers(body: bytes = BODY, sent: datetime = NOW, primary: str | None = PRIMARY,
            secondary: str | None = SECONDARY, **override: str) -> dict[str, str]:
    stamp = sent.isoformat().replace("+00:00", "Z")
    out = {"BOX-DELIVERY-ID": "d-1", "BOX-DELIVERY-TIMESTAMP": stamp, "BOX-SIGNATURE-VERSION": "1",
           "BOX-SIGNATURE-ALGORITHM": "HmacSHA256"}
    if primary:
        out["BOX-SIGNATURE-PRIMARY"] = box_sign(primary, body, stamp)
    if secondary:
        out["BOX-SIGNATURE-SECONDARY"] = box_sign(secondary, body, stamp)
    out.update(override)
    return out


VERIFIER = DeliveryVerifier(PRIMARY, SECONDARY)


def refused(body: bytes, hdrs: dict[str, str], verifier: DeliveryVerifier = VERIFIER) -> DeliveryRefused:
    with pytest.raises(DeliveryRefused) as caught:
        verifier.verify(body, hdrs, now=NOW)
    return caught.value


def test_a_genuine_delivery_with_non_ascii_names_is_accepted_case_insensitively() -> None:
    VERIFIER.verify(BODY, headers(), now=NOW)
    VERIFIER.verify(BODY, {k.lower(): v for k, v in headers().items()}, now=NOW)
    VERIFIER.verify(BODY, headers(sent=NOW - timedelta(minutes=9, seconds=59)), now=NOW)


def test_either_key_verifies_so_keys_can_be_rotated() -> None:
    rotated = secrets.token_urlsafe(24)
    # Box signs the primary with a key we no longer have; the secondary still matches.
    VERIFIER.verify(BODY, headers(primary=rotated), now=NOW)
    VERIFIER.verify(BODY, headers(primary=None), now=NOW)
    # Only a primary key configured: the primary signature is enough.
    DeliveryVerifier(PRIMARY).verify(BODY, headers(secondary=rotated), now=NOW)


def test_forged_deliveries_are_refused() -> None:
    forger = secrets.token_urlsafe(24)
    assert "does not match" in refused(BODY, headers(primary=forger, secondary=forger)).reason
    tampered = BODY.replace(b'"123"', b'"124"')
    assert refused(tampered, headers()).status == 401  # signed body, one byte changed
    # a signature made for another timestamp: the timestamp is part of what is signed
    moved = headers()
    moved["BOX-DELIVERY-TIMESTAMP"] = (NOW - timedelta(seconds=1)).isoformat()
    assert "does not match" in refused(BODY, moved).reason
    # a secondary signature checked against the primary key does not count
    swapped = headers(primary=None, secondary=None, **{"BOX-SIGNATURE-SECONDARY": box_sign(PRIMARY, BODY, headers()[
        "BOX-DELIVERY-TIMESTAMP"])})
    assert "does not match" in refused(BODY, swapped, DeliveryVerifier(PRIMARY, SECONDARY)).reason
    assert "no BOX-SIGNATURE" in refused(BODY, headers(primary=None, secondary=None)).reason
    non_ascii = headers(secondary=None, **{"BOX-SIGNATURE-PRIMARY": "é" * 44})
    assert refused(BODY, non_ascii).status == 401  # refused, not a crash


def test_stale_future_and_unreadable_timestamps_are_refused() -> None:
    stale = refused(BODY, headers(sent=NOW - timedelta(minutes=10, seconds=1)))
    assert stale.status == 401 and "stale" in stale.reason
    assert "future" in refused(BODY, headers(sent=NOW + timedelta(minutes=2))).reason
    VERIFIER.verify(BODY, headers(sent=NOW + timedelta(seconds=30)), now=NOW)  # a little clock skew is fine
    assert refused(BODY, headers(**{"BOX-DELIVERY-TIMESTAMP": "yesterday"})).status == 400
    assert refused(BODY, headers(**{"BOX-DELIVERY-TIMESTAMP": "2025-06-01T12:00:00"})).status == 400
    no_stamp = headers()
    del no_stamp["BOX-DELIVERY-TIMESTAMP"]
    assert refused(BODY, no_stamp).status == 400


def test_wrong_algorithm_or_version_is_refused_even_when_signed() -> None:
    assert refused(BODY, headers(**{"BOX-SIGNATURE-ALGORITHM": "HmacSHA1"})).status == 400
    missing = headers()
    del missing["BOX-SIGNATURE-ALGORITHM"]
    assert "algorithm" in refused(BODY, missing).reason
    assert refused(BODY, headers(**{"BOX-SIGNATURE-VERSION": "2"})).status == 400


def test_reasons_never_carry_the_body_or_a_signature() -> None:
    forged = headers(primary="x", secondary="y")
    reason = refused(BODY, forged).reason
    assert forged["BOX-SIGNATURE-PRIMARY"] not in reason and "ABC123" not in reason and PRIMARY not in reason
    long_header = refused(BODY, headers(**{"BOX-SIGNATURE-ALGORITHM": "\x1b[31m" + "A" * 500})).reason
    assert "\x1b" not in long_header and len(long_header) < 120


def test_an_empty_primary_key_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="primary signature key"):
        DeliveryVerifier("")


def test_the_payload_names_the_uploaded_file() -> None:
    event = parse_event(BODY)
    assert (event.id, event.source_id, event.parent_id, event.webhook_id) == ("evt-1", "123", "9", "77")
    assert event.is_upload and event.source_name == "ABC123_Città_it-IT_Lazio.jpg"
    folder = json.loads(BODY)
    folder["source"]["type"] = "folder"
    assert not parse_event(json.dumps(folder).encode()).is_upload
    for bad in (b"not json", b"[]", b'{"type": "event"}', b'{"type": "webhook_event", "id": "1"}',
                b'{"type": "webhook_event", "id": "1", "trigger": "FILE.UPLOADED", "source": {"id": "1"}}'):
        with pytest.raises(DeliveryRefused) as caught:
            parse_event(bad)
        assert caught.value.status == 400
