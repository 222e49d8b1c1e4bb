"""The Prefect API's credentials: checked once before a command uses the API, one clear line when
they are missing or wrong.

In production the Prefect server runs with Prefect's own API authentication:
``PREFECT_SERVER_API_AUTH_STRING`` (``user:password``) on the server, and every client (workers,
the ``prefect`` CLI, this project's ``create_blocks``, ``serve``, ``cli`` and ``ui_check``) sends
``PREFECT_API_AUTH_STRING`` as HTTP basic auth. The server answers any other request
``401 {"exception_message": "Unauthorized"}`` (only ``GET /api/health`` and ``/api/ready`` stay
open), which Prefect's client raises as a traceback; the project's commands check first and
name the setting to fix instead. Nothing here ever prints the auth string.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

CLIENT_SETTING = "PREFECT_API_AUTH_STRING"
SERVER_SETTING = "PREFECT_SERVER_API_AUTH_STRING"


class ApiAccessError(Exception):
    """The Prefect API cannot be used: unreachable, untrusted TLS, or it refused the credentials."""


def api_url() -> str | None:
    """``PREFECT_API_URL`` as Prefect resolves it (environment, profile, ``.env``)."""
    from prefect.settings import get_current_settings

    return get_current_settings().api.url


def auth_string() -> str | None:
    """``PREFECT_API_AUTH_STRING`` as Prefect resolves it, or None."""
    from prefect.settings import get_current_settings

    secret = get_current_settings().api.auth_string
    return secret.get_secret_value() if secret is not None else None


def auth_headers() -> dict[str, str]:
    """The header Prefect's own client sends (for plain HTTP callers); empty without an auth string."""
    value = auth_string()
    if not value:
        return {}
    return {"Authorization": "Basic " + base64.b64encode(value.encode()).decode()}


def refusal_message(url: str | None) -> str:
    """What to do about a 401 from the API at ``url``."""
    where = f"the Prefect API at {url}" if url else "the Prefect API"
    if not auth_string():
        return (f"{where} requires authentication: set {CLIENT_SETTING} to the server's {SERVER_SETTING} "
                "(user:password)")
    return (f"{where} refused {CLIENT_SETTING} (401 Unauthorized): it must equal the server's "
            f"{SERVER_SETTING}")


def check_api_access(url: str | None = None) -> None:
    """One authenticated request (``GET /admin/version``, what the UI's login checks) before the
    real work; raises :class:`ApiAccessError` with the fix. ``url``: the API at another address
    than ``PREFECT_API_URL`` (the UI's). Without either, Prefect runs a temporary local server of
    its own, so there is nothing to check."""
    from prefect.client.orchestration import get_client

    target = url or api_url()
    if not target:
        return
    try:
        if url:
            httpx.get(url.rstrip("/") + "/admin/version", headers=auth_headers(), timeout=30).raise_for_status()
        else:
            with get_client(sync_client=True) as client:
                client.api_version()
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code == 401:
            raise ApiAccessError(refusal_message(target)) from None
        raise
    except httpx.TransportError as exc:
        raise ApiAccessError(_transport_message(target, exc)) from None


def _transport_message(url: str, exc: httpx.TransportError) -> str:
    if "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return (f"the TLS certificate of the Prefect API at {url} is not trusted: set PREFECT_API_SSL_CERT_FILE "
                "to the CA bundle that signed it")
    return f"cannot reach the Prefect API at {url} ({type(exc).__name__}: {exc}): check PREFECT_API_URL"


def is_unauthorized(exc: BaseException | None) -> bool:
    """True when ``exc`` is, or was caused by, a 401 answer from the Prefect API."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code == 401:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


@contextmanager
def api_errors_as_messages() -> Iterator[None]:
    """Around a command's ``main``: a refused or unreachable API becomes one line on stderr
    (``error: …``) and exit code 1, not a traceback; anything else propagates unchanged."""
    try:
        yield
    except ApiAccessError as exc:
        raise SystemExit(f"error: {exc}") from None
    except Exception as exc:
        if is_unauthorized(exc):
            raise SystemExit(f"error: {refusal_message(api_url())}") from None
        raise
