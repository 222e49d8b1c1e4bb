"""The one retry policy: tries per layer, never multiplied, Retry-After honoured and capped."""

from __future__ import annotations

import pytest

from clients.errors import BudgetUnavailable, NotFound, TransientError, is_retryable
from clients.retry import REQUEST_RETRIES, UNIT_RETRIES, RetryPolicy

pytestmark = pytest.mark.fast

QUICK = RetryPolicy(attempts=4, base_delay_s=0.0, jitter=0.0, retry_after_cap_s=0.0)


class Failing:
    """Raises ``errors`` in turn, then returns "ok"; counts its calls."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors, self.calls = list(errors), 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def test_a_transient_failure_is_tried_again_until_it_passes() -> None:
    fn = Failing(TransientError("503"), TransientError("503"))
    lines: list[str] = []
    assert QUICK.run(fn, "read folder", lines.append) == "ok"
    assert fn.calls == 3 and lines[0].startswith("read folder: 503; try 2 of 4")


def test_the_last_error_is_raised_marked_exhausted_so_no_layer_above_retries_it() -> None:
    request = Failing(*(TransientError("429") for _ in range(10)))
    unit = Failing()

    def unit_of_work() -> str:
        unit()
        return QUICK.run(request, "request")

    with pytest.raises(TransientError) as raised:
        QUICK.run(unit_of_work, "unit")
    assert request.calls == 4 and unit.calls == 1  # 4 tries in all, not 4 × 4
    assert raised.value.attempts_made == 4 and not is_retryable(raised.value)


def test_what_the_lower_layer_could_not_replay_is_retried_by_the_unit() -> None:
    stream = Failing(TransientError("connection dropped mid-body"))  # raised unmarked by its layer
    assert QUICK.run(stream, "unit") == "ok" and stream.calls == 2


def test_not_retryable_and_left_errors_are_raised_at_once() -> None:
    for error in (NotFound("gone"), BudgetUnavailable("no slot")):
        fn = Failing(error)
        with pytest.raises(type(error)) as raised:
            QUICK.run(fn, "x", leave=(BudgetUnavailable,))
        assert fn.calls == 1 and not hasattr(raised.value, "attempts_made")
    assert is_retryable(BudgetUnavailable("no slot"))  # left to the unit above, which may retry it


@pytest.mark.parametrize(("attempt", "retry_after", "low", "high"), [
    (1, None, 0.5, 1.5),  # base 1 s × U(0.5, 1.5)
    (3, None, 2.0, 6.0),  # doubling
    (10, None, 15.0, 45.0),  # capped at max_delay_s (30) before jitter
    (1, 20.0, 20.0, 20.0),  # at least what the service asked
    (1, 3600.0, 60.0, 60.0),  # but an hour is capped at a minute
    (1, 0.0, 0.5, 1.5),  # Retry-After 0 does not hammer
])
def test_waits(attempt: int, retry_after: float | None, low: float, high: float) -> None:
    for _ in range(50):
        assert low <= UNIT_RETRIES.delay(attempt, retry_after) <= high


def test_the_two_layers() -> None:
    assert (REQUEST_RETRIES.attempts, UNIT_RETRIES.attempts) == (5, 4)
    assert REQUEST_RETRIES.base_delay_s < UNIT_RETRIES.base_delay_s
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)
