"""Which failures are worth another attempt: ``is_retryable``'s truth table, by type only."""

from __future__ import annotations

import copy

import pytest
import requests

from clients.errors import (
    AlreadyExists,
    AuthError,
    BudgetUnavailable,
    ClientError,
    Conflict,
    IntegrityError,
    InvalidData,
    NotFound,
    TransientError,
    is_retryable,
    mark_exhausted,
)

pytestmark = pytest.mark.fast

RETRYABLE = [
    TransientError("DAM answered 503", status=503, system="otmm"),
    TransientError("Box answered 429", status=429, retry_after=3.0),
    TransientError("read timed out"),  # no status: a timeout or a dropped connection
    BudgetUnavailable("no slot of the Box request budget in 30 s"),
    # What the Box SDK lets through untyped when a connection breaks (it uses requests).
    requests.exceptions.ConnectionError("connection reset by peer"),
    requests.exceptions.ChunkedEncodingError("connection broken: IncompleteRead"),
    requests.exceptions.Timeout("timed out"),
    requests.exceptions.ConnectTimeout("connect timed out"),
    requests.exceptions.ReadTimeout("read timed out"),
]

NOT_RETRYABLE = [
    # The same answer again: another attempt cannot help.
    ClientError("unexpected answer", status=400),
    AuthError("client secret refused", status=401),
    NotFound("no such folder", status=404),
    Conflict("locked by someone else", status=409),
    AlreadyExists("hero.jpg exists", existing_id="123", status=409),
    InvalidData("no campaign number"),
    IntegrityError("SHA-1 differs"),  # bytes changed on the way: a human must look
    # requests errors that are not network failures.
    requests.exceptions.HTTPError("400 Client Error"),
    requests.exceptions.InvalidURL("no host"),
    requests.exceptions.SSLError("certificate verify failed"),  # a refused certificate stays refused
    requests.exceptions.RequestException("generic"),
    # Not from a client: a bug in our code, never retried.
    ValueError("bad value"),
    KeyError("id"),
    RuntimeError("boom"),
    # Built-in network errors: the clients turn them into TransientError; a raw one is a bug to see.
    TimeoutError("timed out"),
    ConnectionResetError("reset"),
    KeyboardInterrupt(),
]


@pytest.mark.parametrize("exc", RETRYABLE, ids=lambda e: type(e).__name__)
def test_retryable(exc: BaseException) -> None:
    assert is_retryable(exc) is True


@pytest.mark.parametrize("exc", NOT_RETRYABLE, ids=lambda e: type(e).__name__)
def test_not_retryable(exc: BaseException) -> None:
    assert is_retryable(exc) is False


def test_the_type_decides_not_the_status_or_the_cause() -> None:
    """A 503 wrapped in a permanent type stays permanent, and a permanent error raised from a
    network failure stays permanent: retries are decided by the type the client chose."""
    assert is_retryable(ClientError("DAM answered 503", status=503)) is False
    try:
        try:
            raise requests.exceptions.ConnectionError("reset")
        except requests.exceptions.ConnectionError as network:
            raise AuthError("token endpoint unreachable") from network
    except AuthError as exc:
        assert is_retryable(exc) is False


@pytest.mark.parametrize("exc", RETRYABLE, ids=lambda e: type(e).__name__)
def test_an_error_a_lower_layer_gave_up_on_is_not_retried_again(exc: BaseException) -> None:
    """Attempts never multiply: what the client already retried to the end stops there."""
    tried = copy.copy(exc)  # the table's instance stays unmarked for the other tests
    assert is_retryable(mark_exhausted(tried, 3)) is False and is_retryable(exc) is True


def test_every_client_error_type_is_classified() -> None:
    """A new error type in clients/errors.py must be placed in one of the tables above."""
    import clients.errors as errors

    types = {obj for obj in vars(errors).values() if isinstance(obj, type) and issubclass(obj, ClientError)}
    covered = {type(e) for e in RETRYABLE + NOT_RETRYABLE}
    assert types - covered == set()


def test_transient_errors_keep_what_the_retry_needs() -> None:
    err = TransientError("Box answered 429", status=429, system="box", retry_after=2.5)
    assert (err.status, err.system, err.retry_after, str(err)) == (429, "box", 2.5, "Box answered 429")
    assert TransientError("x").retry_after is None
    assert AlreadyExists("exists", existing_id="42").existing_id == "42"
