"""How the OTMM client proves who it is: what every method offers, and the mTLS client certificate.

The methods that sign in (OTDS tokens, OTMM's own token and session) live in
:mod:`clients.otmm_signin`. Every method is handed to :class:`clients.otmm.OtmmClient` and also
carries the TLS trust for the DAM's server certificate (``ca_bundle``: a PEM file path, the
system store when empty). They are thread-safe: one client (and one auth object) serves every
worker thread.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import ssl
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from clients.errors import AuthError

SYSTEM = "otmm"
API_PATH = "/otmmapi/v6"

HANDSHAKE_REJECTED = ("the DAM closed the connection during the TLS handshake: "
                      "check the client certificate and IP allow-list")
BAD_PFX = "could not open the client certificate: wrong password or not a PKCS#12 file"


def ssl_context(ca_bundle: str | None) -> ssl.SSLContext:
    """A client TLS context trusting ``ca_bundle`` (PEM path), or the system store when ``None``."""
    try:
        return ssl.create_default_context(cafile=ca_bundle) if ca_bundle else ssl.create_default_context()
    except (OSError, ssl.SSLError) as exc:
        raise AuthError(f"could not read the CA bundle {ca_bundle!r}: {exc}", system=SYSTEM) from exc


class OtmmAuth(Protocol):
    """What :class:`clients.otmm.OtmmClient` needs from an authentication method.

    ``method`` is the DAM block's ``auth_method`` value, ``label`` its name for people; both
    appear in errors and connection tests (never a secret).
    """

    method: str
    label: str

    def tls_context(self) -> ssl.SSLContext: ...

    def auth_headers(self, http: httpx.Client) -> dict[str, str]: ...

    def unauthorized(self, used_headers: dict[str, str]) -> bool: ...

    def transport_error(self, exc: httpx.TransportError, *, ever_answered: bool) -> Exception | None: ...

    def close(self, http: httpx.Client) -> None: ...


# -- mTLS ---------------------------------------------------------------------------------
class MutualTLS:
    """A PFX/P12 client certificate presented in the TLS handshake (no token).

    The PFX is opened with ``cryptography`` (so modern PKCS#12 encryption works), written as
    PEM to a 0600 temporary file only long enough for ``ssl`` to load it, then deleted: the
    key stays in the SSL context's memory only.
    """

    method = "mtls"
    label = "mTLS client certificate"

    def __init__(self, pfx_bytes: bytes, password: str | None, ca_bundle: str | None = None) -> None:
        self.ca_bundle = ca_bundle
        self.certificate = load_pfx(pfx_bytes, password)
        self._context = ssl_context(ca_bundle)
        _load_client_chain(self._context, self.certificate)

    def __repr__(self) -> str:
        return f"MutualTLS(subject={self.certificate.subject!r})"

    def tls_context(self) -> ssl.SSLContext:
        return self._context

    def auth_headers(self, http: httpx.Client) -> dict[str, str]:
        return {}

    def unauthorized(self, used_headers: dict[str, str]) -> bool:
        return False  # the certificate will not change on a retry

    def close(self, http: httpx.Client) -> None:
        pass  # nothing to sign out of: the certificate is the credential

    def transport_error(self, exc: httpx.TransportError, *, ever_answered: bool) -> Exception | None:
        """Handshake rejections are not transient. Under TLS 1.3 a rejected client certificate
        looks like "Server disconnected without sending a response"; once the DAM has answered
        this client, the certificate is proven, and such a disconnect is a network hiccup."""
        trust = tls_trust_error(exc)
        if trust is not None:
            return trust
        text = _chain_text(exc).lower()
        if any(alert in text for alert in _CLIENT_CERT_ALERTS):
            return AuthError(f"{HANDSHAKE_REJECTED} ({exc})", system=SYSTEM)
        if ever_answered:
            return None
        # Before any answer: a disconnect, a reset or an SSL failure is the handshake being refused.
        # (A refused TCP connection or a DNS failure is not: those stay transient.)
        if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError) or (
                isinstance(exc, httpx.ConnectError) and "ssl" in text):
            return AuthError(f"{HANDSHAKE_REJECTED} ({type(exc).__name__}: {exc})", system=SYSTEM)
        return None


_CLIENT_CERT_ALERTS = ("certificate required", "certificate_required", "bad certificate", "bad_certificate",
                       "unknown ca", "unknown_ca", "certificate unknown", "certificate_unknown",
                       "certificate expired", "certificate_expired", "certificate revoked",
                       "certificate_revoked", "access denied", "access_denied")


def _chain_text(exc: BaseException) -> str:
    parts, seen = [], set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts.append(f"{type(current).__name__}: {current}")
        current = current.__cause__ or current.__context__
    return " | ".join(parts)


def tls_trust_error(exc: httpx.TransportError) -> AuthError | None:
    """The DAM's server certificate is not trusted: configuration, not worth retrying."""
    if "certificate_verify_failed" in _chain_text(exc).lower() or "certificate verify failed" in str(exc).lower():
        return AuthError(f"the DAM's server certificate is not trusted: check the CA bundle ({exc})", system=SYSTEM)
    return None


@dataclass(frozen=True)
class ClientCertificate:
    """A PFX opened in memory (what the maintenance "check certificate" flow reports)."""

    private_key: pkcs12.PKCS12PrivateKeyTypes
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]

    @property
    def subject(self) -> str:
        return self.certificate.subject.rfc4514_string()

    @property
    def not_valid_after(self) -> datetime:
        return self.certificate.not_valid_after_utc

    def expires_in_days(self, now: datetime | None = None) -> float:
        now = now or datetime.now(UTC)
        return (self.not_valid_after - now).total_seconds() / 86400

    def pem(self, key_password: bytes | None = None) -> bytes:
        """Key + certificate + chain as PEM; the key encrypted with ``key_password`` when given
        (handle with care without one: it holds the key in clear)."""
        encryption = (serialization.BestAvailableEncryption(key_password) if key_password
                      else serialization.NoEncryption())
        key = self.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
        certs = [self.certificate, *self.chain]
        return key + b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def load_pfx(pfx_bytes: bytes, password: str | None) -> ClientCertificate:
    """Open a PFX/P12; :class:`AuthError` when the password is wrong or the bytes are no PKCS#12."""
    try:
        key, cert, chain = pkcs12.load_key_and_certificates(pfx_bytes, password.encode() if password else None)
    except (ValueError, TypeError) as exc:
        raise AuthError(BAD_PFX, system=SYSTEM) from exc
    if key is None or cert is None:
        raise AuthError("the client certificate file holds no private key or no certificate", system=SYSTEM)
    return ClientCertificate(key, cert, tuple(chain or ()))


def _load_client_chain(context: ssl.SSLContext, cert: ClientCertificate) -> None:
    # ssl reads the chain from a file only. The key goes there encrypted with a one-time
    # password that lives only in this process, so a file left behind by a killed process
    # (no chance to delete it) holds no usable key.
    password = secrets.token_bytes(32).hex().encode()
    fd, path = tempfile.mkstemp(prefix="otmm-client-", suffix=".pem")  # mkstemp creates it 0600
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(cert.pem(key_password=password))
        context.load_cert_chain(path, password=password)
    except ssl.SSLError as exc:
        raise AuthError(f"the client certificate could not be used for TLS: {exc}", system=SYSTEM) from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date), ``None`` when absent/unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
