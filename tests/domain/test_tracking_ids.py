from __future__ import annotations

import pytest

from domain.tracking_ids import ALPHABET, LENGTH, is_tracking_id, new_tracking_id

pytestmark = pytest.mark.fast


def test_new_ids_are_six_unambiguous_characters() -> None:
    ids = {new_tracking_id() for _ in range(2000)}
    assert len(ids) > 1990  # random, not a counter
    for tid in ids:
        assert len(tid) == LENGTH and is_tracking_id(tid)
    assert not set("01OIL") & set(ALPHABET)


def test_is_tracking_id_rejects_other_shapes() -> None:
    assert not is_tracking_id("ABC12")
    assert not is_tracking_id("abc234")
    assert not is_tracking_id("ABCD0O")
