"""The transfer engine through a real Prefect API: bounded, one result per item, retries per
item, and no dependence on the task runner (it runs in a process pool too)."""

from __future__ import annotations

import threading
import time
from functools import partial

import pytest
from prefect import flow
from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

from clients.errors import InvalidData, TransientError
from tasks.engine import transfer_items

pytestmark = pytest.mark.prefect


class Gauge:
    """How many items run at once (the most seen)."""

    def __init__(self) -> None:
        self.now = self.most = 0
        self.lock = threading.Lock()
        self.tries: dict[int, int] = {}

    def work(self, item: int) -> str:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
            self.tries[item] = self.tries.get(item, 0) + 1
            tries = self.tries[item]
        try:
            time.sleep(0.05)
            if item == 3:
                raise InvalidData(f"item {item} is bad")  # not retryable: fails alone, at once
            if item == 5 and tries == 1:
                raise TransientError("dropped mid-body", retry_after=0.1)  # retried, then passes
            return f"done {item}"
        finally:
            with self.lock:
                self.now -= 1


def failed(item: int, reason: str) -> str:
    return f"failed {item}: {reason}"


def double(item: int) -> int:
    return item * 2


def test_bounded_one_result_each_in_order_and_a_failure_stays_its_own(prefect_api) -> None:
    gauge = Gauge()

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=4))
    def batch() -> list[str]:
        return transfer_items(list(range(12)), gauge.work, failed, str, limit=3, label="engine-test")

    results = batch()
    assert results[3] == "failed 3: InvalidData: item 3 is bad" and gauge.tries[3] == 1
    assert results[5] == "done 5" and gauge.tries[5] == 2
    assert [r for i, r in enumerate(results) if i != 3] == [f"done {i}" for i in range(12) if i != 3]
    assert gauge.most == 3


def test_runs_under_a_process_pool_runner_too(prefect_api) -> None:
    @flow(task_runner=ProcessPoolTaskRunner(max_workers=1))
    def batch() -> list[int]:
        return transfer_items.submit([1, 2, 3], double, partial(failed), str, limit=2, label="engine-process").result()

    assert batch() == [2, 4, 6]


def test_a_limit_out_of_range_is_refused(prefect_api) -> None:
    @flow
    def batch() -> list[int]:
        return transfer_items([1], double, failed, str, limit=0, label="engine-limit")

    with pytest.raises(ValueError, match="between 1 and 64"):
        batch()
