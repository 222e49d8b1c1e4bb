"""Signing in to OTMM: OTDS tokens (client credentials or password grant), OTMM's own
password-grant token, and OTMM's session login. One sign-in per client, shared by its threads.

What each method sends and reads, after ``shared/reference/otmm_api.md`` §2:

* OTDS token (§2.2, [C S2]): ``POST {otds}/otdsws/oauth2/token``, form ``grant_type``
  ``client_credentials`` (``client_id``, ``client_secret``) or ``password`` (``username``,
  ``password``, ``client_id``, ``client_secret`` when the OAuth client has one); the answer's
  ``access_token`` goes out as ``Authorization: Bearer``; ``expires_in`` (seconds) says when
  to sign in again.
* OTMM's own token (§2.3, [C S1]): ``POST /otmmapi/v6/sessions/oauth2/token``, form
  ``username``, ``password``, ``grant_type=password``, ``client_id``, ``client_secret``; the
  answer's ``token_info.oauth_token.accessToken`` goes out as ``Authorization: Bearer``. No
  public source shows an expiry in that answer [U], so only a 401 makes a new token.
* Session login (§2.4, [C S3, S4, S20]): ``POST /otmmapi/v6/sessions``, form ``username``,
  ``password``; the answer's ``session_resource.session`` carries ``id`` and
  ``message_digest``. The sources send these in combination, and which ones a given server
  checks is not public, so every call carries all of them: ``X-Requested-By: <id>`` [C S3, S4],
  ``otmmauthtoken: <message_digest>`` [C S4, S7, S13], ``Authorization: Bearer otmmToken
  <message_digest>`` [C S4, S15] and the cookies the login set (``JSESSIONID``) [C S5, S19].
  The session's lifetime is a server-side inactivity timeout [U] that the answer does not
  state, so only a 401 makes a new session. ``DELETE /otmmapi/v6/sessions`` [C S13] closes
  it when the client is closed.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from typing import Any, ClassVar

import httpx

from clients.errors import AuthError, InvalidData, TransientError
from clients.otmm_auth import API_PATH, SYSTEM, parse_retry_after, ssl_context, tls_trust_error

log = logging.getLogger(__name__)

SIGN_OUT_TIMEOUT_S = 5.0  # closing a session must never hold up a process that is finishing


class SignIn:
    """What every sign-in method shares: one sign-in for all threads of a client.

    The first call signs in (a lock makes racing threads wait for that one sign-in instead of
    each making their own); the result is reused until the answer's stated lifetime runs out
    (minus ``refresh_skew_seconds``, never later than half-way through a short lifetime), or
    until the DAM answers 401 to it, once. :meth:`close` signs out where the method can.
    Subclasses implement :meth:`_sign_in` (and :meth:`_sign_out` when there is one).
    """

    method: ClassVar[str] = ""  # the DAM block's auth_method
    label: ClassVar[str] = ""  # the method's name in messages

    def __init__(self, *, refresh_skew_seconds: float = 60, ca_bundle: str | None = None) -> None:
        self.refresh_skew_seconds = refresh_skew_seconds
        self.ca_bundle = ca_bundle
        self._lock = threading.Lock()
        self._headers: dict[str, str] | None = None
        self._refresh_at: float | None = None  # time.monotonic(); None: the answer gave no lifetime
        self._context: ssl.SSLContext | None = None

    def tls_context(self) -> ssl.SSLContext:
        if self._context is None:
            self._context = ssl_context(self.ca_bundle)
        return self._context

    def auth_headers(self, http: httpx.Client) -> dict[str, str]:
        """The headers of the current sign-in, signing in first when there is none or it is due."""
        with self._lock:
            due = self._refresh_at is not None and time.monotonic() >= self._refresh_at
            if self._headers is None or due:
                started = time.monotonic()
                self._headers, lifetime = self._sign_in(http)
                self._refresh_at = None if lifetime is None else started + max(
                    lifetime - self.refresh_skew_seconds, lifetime / 2)
            return dict(self._headers)

    def unauthorized(self, used_headers: dict[str, str]) -> bool:
        """The DAM refused the sign-in in ``used_headers``: forget it (unless another thread has
        already replaced it). Always worth one retry with the current or a new sign-in."""
        with self._lock:
            current = self._headers
            if current is not None and all(used_headers.get(k) == v for k, v in current.items()):
                self._headers = None
        return True

    def transport_error(self, exc: httpx.TransportError, *, ever_answered: bool) -> Exception | None:
        return tls_trust_error(exc)

    def close(self, http: httpx.Client) -> None:
        """Sign out (best effort) and forget the sign-in; the next call would sign in again."""
        with self._lock:
            headers, self._headers = self._headers, None
        if headers is not None:
            self._sign_out(http, headers)

    # -- for the methods ------------------------------------------------------------------
    def _sign_in(self, http: httpx.Client) -> tuple[dict[str, str], float | None]:
        """Sign in: the headers every call then carries, and the lifetime in seconds if known."""
        raise NotImplementedError

    def _sign_out(self, http: httpx.Client, headers: dict[str, str]) -> None:
        """End the sign-in on the server, where the method has a way to (default: none)."""

    def _post_form(self, http: httpx.Client, url: str, form: dict[str, str], *, refused: str) -> httpx.Response:
        """POST a sign-in form; the 200 answer, else a typed error that names this method.

        ``refused`` says whose credentials were refused (never a secret); it is the message of
        the :class:`AuthError` raised on 400/401/403.
        """
        where = f"{self.label} (auth_method {self.method!r})"
        try:
            response = http.post(url, data=form, headers={"Accept": "application/json"})
        except httpx.TransportError as exc:
            raise tls_trust_error(exc) or TransientError(
                f"{where}: {url} is unreachable: {type(exc).__name__}: {exc}", system=SYSTEM) from exc
        status = response.status_code
        if status == 429 or status >= 500:
            raise TransientError(f"{where}: {url} answered {status}", status=status, system=SYSTEM,
                                 retry_after=parse_retry_after(response.headers.get("Retry-After")))
        if status in (400, 401, 403):
            raise AuthError(f"{where} failed: {refused} ({status}: {_error_text(response)})", status=status,
                            system=SYSTEM)
        if status != 200:
            raise InvalidData(f"{where}: {url} answered {status} ({_error_text(response)}); check base_url "
                              f"(or otds_url) and that the DAM offers this sign-in", status=status, system=SYSTEM)
        return response

    def _answer(self, response: httpx.Response) -> dict[str, Any]:
        try:
            payload = response.json()
        except ValueError as exc:
            raise InvalidData(f"{self.label}: the sign-in answer is not JSON", system=SYSTEM) from exc
        if not isinstance(payload, dict):
            raise InvalidData(f"{self.label}: the sign-in answer is not a JSON object", system=SYSTEM)
        return payload


# -- OTDS ---------------------------------------------------------------------------------
class _OtdsToken(SignIn):
    """A token from OTDS's OAuth2 endpoint, sent as ``Authorization: Bearer``."""

    def __init__(self, token_url: str, client_id: str, client_secret: str | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret

    def _token(self, http: httpx.Client, form: dict[str, str], refused: str) -> tuple[dict[str, str], float]:
        form = {**form, "client_id": self.client_id}
        if self._client_secret:
            form["client_secret"] = self._client_secret
        payload = self._answer(self._post_form(http, self.token_url, form, refused=refused))
        token = payload.get("access_token")
        if not isinstance(token, str) or not token:
            raise InvalidData(f"{self.label}: OTDS sent no access_token", system=SYSTEM)
        try:
            expires_in = float(payload.get("expires_in") or 3600)
        except (TypeError, ValueError) as exc:
            raise InvalidData(f"{self.label}: OTDS sent an unreadable expires_in", system=SYSTEM) from exc
        return {"Authorization": f"Bearer {token}"}, expires_in


class OAuth2ClientCredentials(_OtdsToken):
    """OTDS client-credentials token (the OAuth client is the DAM user)."""

    method = "oauth2"
    label = "OTDS client credentials"

    def __init__(self, token_url: str, client_id: str, client_secret: str, *, refresh_skew_seconds: float = 60,
                 ca_bundle: str | None = None) -> None:
        super().__init__(token_url, client_id, client_secret, refresh_skew_seconds=refresh_skew_seconds,
                         ca_bundle=ca_bundle)

    def __repr__(self) -> str:  # never show the secret
        return f"OAuth2ClientCredentials(token_url={self.token_url!r}, client_id={self.client_id!r})"

    def _sign_in(self, http: httpx.Client) -> tuple[dict[str, str], float | None]:
        return self._token(http, {"grant_type": "client_credentials"},
                           refused=f"OTDS refused the client credentials of {self.client_id!r}")


class OtdsPasswordGrant(_OtdsToken):
    """OTDS password-grant token for a service user (through the OAuth client ``client_id``)."""

    method = "otds_password"
    label = "OTDS password grant"

    def __init__(self, token_url: str, client_id: str, username: str, password: str,
                 client_secret: str | None = None, *, refresh_skew_seconds: float = 60,
                 ca_bundle: str | None = None) -> None:
        super().__init__(token_url, client_id, client_secret, refresh_skew_seconds=refresh_skew_seconds,
                         ca_bundle=ca_bundle)
        self.username = username
        self._password = password

    def __repr__(self) -> str:
        return f"OtdsPasswordGrant(token_url={self.token_url!r}, client_id={self.client_id!r}, " \
               f"username={self.username!r})"

    def _sign_in(self, http: httpx.Client) -> tuple[dict[str, str], float | None]:
        return self._token(http, {"grant_type": "password", "username": self.username, "password": self._password},
                           refused=f"OTDS refused user {self.username!r} (OAuth client {self.client_id!r}): "
                                   "check the username, password, client_id and client_secret")


# -- OTMM ---------------------------------------------------------------------------------
class OtmmPasswordGrant(SignIn):
    """OTMM's own password-grant token (``/otmmapi/v6/sessions/oauth2/token``)."""

    method = "otmm_password"
    label = "OTMM password grant"

    def __init__(self, base_url: str, client_id: str, username: str, password: str,
                 client_secret: str | None = None, *, ca_bundle: str | None = None) -> None:
        super().__init__(ca_bundle=ca_bundle)
        self.token_url = base_url.rstrip("/") + API_PATH + "/sessions/oauth2/token"
        self.client_id = client_id
        self.username = username
        self._password = password
        self._client_secret = client_secret

    def __repr__(self) -> str:
        return f"OtmmPasswordGrant(token_url={self.token_url!r}, client_id={self.client_id!r}, " \
               f"username={self.username!r})"

    def _sign_in(self, http: httpx.Client) -> tuple[dict[str, str], float | None]:
        form = {"username": self.username, "password": self._password, "grant_type": "password",
                "client_id": self.client_id}
        if self._client_secret:
            form["client_secret"] = self._client_secret
        response = self._post_form(http, self.token_url, form,
                                   refused=f"the DAM refused user {self.username!r} (OAuth client "
                                           f"{self.client_id!r}): check the username, password, client_id "
                                           "and client_secret")
        token = dig(self._answer(response), "token_info", "oauth_token", "accessToken")
        if not isinstance(token, str) or not token:
            raise InvalidData(f"{self.label}: the DAM sent no token_info.oauth_token.accessToken", system=SYSTEM)
        return {"Authorization": f"Bearer {token}"}, None  # the answer states no lifetime [U]


class OtmmSession(SignIn):
    """OTMM's session login for a service user; the session is closed by :meth:`close`."""

    method = "session"
    label = "OTMM session login"

    def __init__(self, base_url: str, username: str, password: str, *, ca_bundle: str | None = None) -> None:
        super().__init__(ca_bundle=ca_bundle)
        self.sessions_url = base_url.rstrip("/") + API_PATH + "/sessions"
        self.username = username
        self._password = password

    def __repr__(self) -> str:
        return f"OtmmSession(sessions_url={self.sessions_url!r}, username={self.username!r})"

    def _sign_in(self, http: httpx.Client) -> tuple[dict[str, str], float | None]:
        response = self._post_form(http, self.sessions_url, {"username": self.username, "password": self._password},
                                   refused=f"the DAM refused user {self.username!r}: check the username and "
                                           "password")
        session = dig(self._answer(response), "session_resource", "session")
        session_id = session.get("id") if isinstance(session, dict) else None
        digest = session.get("message_digest") if isinstance(session, dict) else None
        if session_id in (None, "") or not isinstance(digest, str) or not digest:
            raise InvalidData(f"{self.label}: the DAM's session answer has no session id or message_digest",
                              system=SYSTEM)
        headers = {"X-Requested-By": str(session_id), "otmmauthtoken": digest,
                   "Authorization": f"Bearer otmmToken {digest}"}
        # Sent explicitly rather than through the client's cookie jar: the jar would keep a
        # replaced session's cookie, and the 401 check compares exactly what a call carried.
        cookies = _set_cookies(response)
        if cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
        return headers, None  # an inactivity timeout the answer does not state [U]

    def _sign_out(self, http: httpx.Client, headers: dict[str, str]) -> None:
        try:
            response = http.delete(self.sessions_url, headers=headers, timeout=SIGN_OUT_TIMEOUT_S)
        except httpx.HTTPError as exc:
            log.info("could not close the OTMM session of %r: %s", self.username, type(exc).__name__)
            return
        if response.is_error and response.status_code != 401:  # 401: it had ended already
            log.info("closing the OTMM session of %r: the DAM answered %s", self.username, response.status_code)


# -- helpers ------------------------------------------------------------------------------
def dig(payload: Any, *keys: str) -> Any:
    """``payload[k1][k2]…``, or None where the DAM's JSON has no such path (shared with ``clients.otmm``)."""
    for key in keys:
        if not isinstance(payload, dict):
            return None
        payload = payload.get(key)
    return payload


def _set_cookies(response: httpx.Response) -> dict[str, str]:
    """Name → value of every ``Set-Cookie`` of ``response`` (attributes dropped)."""
    out: dict[str, str] = {}
    for header in response.headers.get_list("set-cookie"):
        name, sep, value = header.split(";", 1)[0].partition("=")
        if sep and name.strip():
            out[name.strip()] = value.strip()
    return out


def _error_text(response: httpx.Response) -> str:
    """The reason in an OAuth error (``error_description``/``error``) or an OTMM ``exception_body``."""
    try:
        payload = response.json()
    except ValueError:
        return response.text[:200].strip() or response.reason_phrase or "no details"
    if isinstance(payload, dict):
        body = payload.get("exception_body")
        if isinstance(body, dict) and body.get("message"):
            return str(body["message"])[:200]
        return str(payload.get("error_description") or payload.get("error") or payload)[:200]
    return str(payload)[:200]
