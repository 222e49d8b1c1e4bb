"""Typed errors every client raises. Tasks decide retries by these types, never by strings.

A client never returns ``None`` on failure: it raises one of these, with a message an
operator can act on. ``TransientError`` is the only family worth retrying.
"""

from __future__ import annotations


class ClientError(Exception):
    """Base of every error raised by a client in ``clients/``."""

    def __init__(self, message: str, *, status: int | None = None, system: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.system = system


class TransientError(ClientError):
    """A failure that may pass on its own: 429, 5xx, timeouts, dropped connections."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class BudgetUnavailable(TransientError):
    """No slot of a shared request budget came in time: the budget is used up by other runs, or
    the service that keeps it (the Prefect API) is slow or down. Nothing was sent; retry later."""


class AuthError(ClientError):
    """Credentials were refused (bad secret, expired certificate, wrong client certificate)."""


class NotFound(ClientError):
    """The object does not exist (or the service account may not see it)."""


class Conflict(ClientError):
    """The object exists already or is locked by someone else."""


class AlreadyExists(Conflict):
    """A file of that name is already in the folder; ``existing_id`` is its id."""

    def __init__(self, message: str, *, existing_id: str, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.existing_id = existing_id


class InvalidData(ClientError):
    """The other system answered, but with data we cannot use (missing fields, wrong types)."""


class IntegrityError(ClientError):
    """Bytes arrived changed: a checksum or size does not match what was sent."""


def mark_exhausted(exc: BaseException, attempts: int) -> BaseException:
    """Mark ``exc`` as already tried ``attempts`` times by the layer that raises it: no layer
    above tries again (see :mod:`clients.retry`)."""
    exc.attempts_made = attempts  # type: ignore[attr-defined]
    return exc


def is_retryable(exc: BaseException) -> bool:
    """True for errors worth another attempt at the layer that catches them (:mod:`clients.retry`).

    An error a lower layer already retried until it gave up (:func:`mark_exhausted`) is not.

    Besides ``TransientError``: a connection broken while an SDK reads a response body
    (``requests``' ``ChunkedEncodingError``/``ConnectionError``/``Timeout``, which the Box SDK
    lets through untyped) is a network failure too.
    """
    if getattr(exc, "attempts_made", None):
        return False
    if isinstance(exc, TransientError):
        return True
    import requests

    if isinstance(exc, requests.exceptions.SSLError):
        return False  # a certificate refused (or not trusted) stays refused
    return isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError,
                            requests.exceptions.Timeout))
