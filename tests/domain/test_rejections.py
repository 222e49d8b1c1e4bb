"""A5→A6: which final assets count as rejected, and their reviewers' fields as text."""

from __future__ import annotations

import pytest

from domain.campaigns import DamAsset
from domain.fields import load_dam_fields
from domain.rejections import NOT_APPROVED, REVIEWERS, is_rejected, rejection_details

pytestmark = pytest.mark.fast

R = load_dam_fields().rejection


def asset(**metadata: object) -> DamAsset:
    return DamAsset(asset_id="a1", name="hero.jpg", size=1, metadata=metadata)


@pytest.mark.parametrize(("status", "rejected"), [
    (NOT_APPROVED, True),
    ("APPROVED", False),
    ("not approved", False),  # exactly NOT APPROVED: the DAM's domain value, not free text
    ("NOT APPROVED ", False),
    ("NOT_APPROVED", False),
    ("", False),
    (None, False),
    ([NOT_APPROVED], False),
])
def test_only_exactly_not_approved_is_rejected(status: object, rejected: bool) -> None:
    assert is_rejected(asset(**{R.ecommerce_status: status}), R) is rejected


def test_an_asset_without_the_field_is_not_rejected() -> None:
    assert is_rejected(asset(), R) is False
    # The value must be in the ECOMMERCE STATUS field, not in any other.
    assert is_rejected(asset(**{R.approver_comments: NOT_APPROVED}), R) is False


def test_rejection_details_are_the_ten_fields_as_text() -> None:
    details = rejection_details(asset(**{
        R.ecommerce_status: NOT_APPROVED, R.approver_comments: ["Logo too small", "Colours off"],
        R.approver_certifier: "m.rossi@example.test", R.approver_date: "2026-02-11T10:00:00Z",
        R.legal_comments: None, R.iacc_comments: 42, "MKT.FIELD.OTHER": "ignored"}), R)
    assert details == {
        "ecommerce_status": "NOT APPROVED", "approver_comments": "Logo too small; Colours off",
        "approver_certifier": "m.rossi@example.test", "approver_date": "2026-02-11T10:00:00Z",
        "legal_comments": "", "legal_certifier": "", "legal_date": "", "iacc_comments": "42",
        "iacc_certifier": "", "iacc_date": ""}


def test_nested_and_empty_lists_become_text() -> None:
    details = rejection_details(asset(**{R.legal_comments: ["a", None, ["b", "c"]], R.iacc_comments: []}), R)
    assert (details["legal_comments"], details["iacc_comments"]) == ("a; ; b; c", "")


def test_every_reviewer_has_comments_certifier_and_date() -> None:
    """The email reads ``<reviewer>_comments/_certifier/_date`` for each reviewer it names."""
    keys = set(rejection_details(asset(), R))
    assert keys == {"ecommerce_status"} | {f"{r}_{part}" for r in REVIEWERS for part in ("comments", "certifier", "date")}
