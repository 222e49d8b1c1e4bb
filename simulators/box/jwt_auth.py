"""``POST /oauth2/token``: Box's JWT bearer grant (verified for real) and client credentials (CCG).

The JWT assertion the SDK signs (``box_sdk_gen/box/jwt_auth.py``) is checked as Box does:
RS256 signature with the app public key named by the header ``kid``; ``aud`` equal to Box's
token URL (hard-coded in the SDK, never the simulator's own URL); ``iss`` the client ID;
``exp`` in the future and at most 60 s ahead; a ``jti`` not seen before; ``sub`` the
enterprise ID when ``box_sub_type`` is ``enterprise`` (any user ID for ``user``).

Errors use the OAuth shape Box uses on this endpoint, ``{"error", "error_description"}``, with
status 400 (``invalid_client`` for wrong client credentials, ``invalid_grant`` for a bad
assertion, ``invalid_request`` for a missing or unknown grant type).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import jwt

JWT_AUDIENCE = "https://api.box.com/oauth2/token"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CCG_GRANT = "client_credentials"
MAX_ASSERTION_LIFETIME_S = 60


class GrantError(Exception):
    """A refused token request (OAuth error body)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass
class TokenStore:
    """Issued access tokens with their expiry, the app's public keys, and counters. Thread-safe."""

    client_id: str
    client_secret: str
    enterprise_id: str
    token_ttl: float = 3600.0
    public_keys: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, float] = field(default_factory=dict)
    # Who each token acts as (``enterprise:<id>`` or ``user:<id>``): Box's rate limits are per user.
    subjects: dict[str, str] = field(default_factory=dict)
    seen_jti: dict[str, float] = field(default_factory=dict)
    requests: int = 0
    issued: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    # -- keys and tokens ------------------------------------------------------------------
    def add_public_key(self, kid: str, pem: str) -> None:
        with self.lock:
            self.public_keys[kid] = pem

    def issue(self, subject: str | None = None) -> dict[str, Any]:
        token = secrets.token_urlsafe(24)
        now = time.time()
        with self.lock:
            self.tokens = {t: exp for t, exp in self.tokens.items() if exp > now}  # forget expired ones
            self.subjects = {t: s for t, s in self.subjects.items() if t in self.tokens}
            self.tokens[token] = now + self.token_ttl
            self.subjects[token] = subject or f"enterprise:{self.enterprise_id}"
            self.issued += 1
        return {"access_token": token, "expires_in": int(self.token_ttl), "token_type": "bearer",
                "restricted_to": [], "issued_token_type": "urn:ietf:params:oauth:token-type:access_token"}

    def valid(self, token: str) -> bool:
        with self.lock:
            return self.tokens.get(token, 0.0) > time.time()

    def subject(self, token: str) -> str | None:
        """The user a valid token acts as (``enterprise:<id>`` or ``user:<id>``); ``None`` otherwise."""
        with self.lock:
            if self.tokens.get(token, 0.0) <= time.time():
                return None
            return self.subjects.get(token)

    def expire_all(self) -> None:
        """Every issued token becomes invalid (clients get 401 and must fetch a new one)."""
        with self.lock:
            self.tokens.clear()

    # -- the grant ------------------------------------------------------------------------
    def grant(self, form: dict[str, str]) -> dict[str, Any]:
        """Handle one token request's form fields; the token response, or :class:`GrantError`."""
        with self.lock:
            self.requests += 1
        grant_type = form.get("grant_type", "")
        if grant_type not in (JWT_GRANT, CCG_GRANT):
            raise GrantError("invalid_request", "Invalid grant_type parameter or parameter missing")
        if form.get("client_id") != self.client_id or not secrets.compare_digest(
                form.get("client_secret", ""), self.client_secret):
            raise GrantError("invalid_client", "The client credentials are invalid")
        if grant_type == JWT_GRANT:
            subject = self._verify_assertion(form.get("assertion", ""))
        else:
            sub_type, sub = form.get("box_subject_type") or "enterprise", form.get("box_subject_id", "")
            self._check_subject(sub_type, sub)
            subject = f"{sub_type}:{sub}"
        return self.issue(subject)

    def _check_subject(self, sub_type: str, sub: str) -> None:
        if sub_type == "enterprise":
            if str(sub) != self.enterprise_id:
                raise GrantError("invalid_grant", "Please check the 'sub' claim. The enterprise is unknown")
        elif sub_type != "user" or not str(sub):
            raise GrantError("invalid_grant", "Please check the 'box_sub_type' claim (enterprise or user)")

    def _verify_assertion(self, assertion: str) -> str:
        """Check the JWT assertion; the subject it asks a token for (``<box_sub_type>:<sub>``)."""
        if not assertion:
            raise GrantError("invalid_request", "The 'assertion' parameter is required for the JWT grant")
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.InvalidTokenError as exc:
            raise GrantError("invalid_grant", f"The assertion is not a JWT: {exc}") from exc
        kid = str(header.get("kid") or "")
        with self.lock:
            key = self.public_keys.get(kid)
        if key is None:
            raise GrantError("invalid_grant", f"'kid' invalid, unable to lookup correct key ({kid!r})")
        try:
            claims = jwt.decode(assertion, key, algorithms=["RS256"], audience=JWT_AUDIENCE,
                                issuer=self.client_id, options={"require": ["exp", "iss", "sub", "aud", "jti"]})
        except jwt.ExpiredSignatureError as exc:
            raise GrantError("invalid_grant", "Current date time must be before the expiration date time "
                                              "listed in the 'exp' claim") from exc
        except jwt.InvalidSignatureError as exc:
            raise GrantError("invalid_grant", "Signature verification error. The public key identified by "
                                              "'kid' must correspond to the private key used for signing") from exc
        except jwt.InvalidAudienceError as exc:
            raise GrantError("invalid_grant", f"Please check the 'aud' claim (must be {JWT_AUDIENCE})") from exc
        except jwt.InvalidIssuerError as exc:
            raise GrantError("invalid_grant", "Please check the 'iss' claim (must be the client ID)") from exc
        except jwt.InvalidTokenError as exc:
            raise GrantError("invalid_grant", f"Invalid assertion: {exc}") from exc
        now = time.time()
        if float(claims["exp"]) - now > MAX_ASSERTION_LIFETIME_S:
            raise GrantError("invalid_grant", "Please check the 'exp' claim: at most 60 seconds in the future")
        jti = str(claims["jti"])
        with self.lock:
            self.seen_jti = {j: exp for j, exp in self.seen_jti.items() if exp > now}
            if jti in self.seen_jti:
                raise GrantError("invalid_grant", "Please check the 'jti' claim. A unique 'jti' value is required")
            self.seen_jti[jti] = float(claims["exp"])
        self._check_subject(str(claims.get("box_sub_type") or ""), str(claims["sub"]))
        return f"{claims.get('box_sub_type')}:{claims['sub']}"
