"""A5→A6: which final assets were rejected, and what the reviewers said."""

from __future__ import annotations

from domain.campaigns import DamAsset
from domain.fields import RejectionFields

NOT_APPROVED = "NOT APPROVED"
REVIEWERS = {"approver": "Approver", "legal": "Legal", "iacc": "IA&CC"}


def is_rejected(asset: DamAsset, fields: RejectionFields) -> bool:
    """Only ECOMMERCE STATUS exactly ``NOT APPROVED`` counts; every other value (or none) is skipped."""
    return asset.metadata.get(fields.ecommerce_status) == NOT_APPROVED


def rejection_details(asset: DamAsset, fields: RejectionFields) -> dict[str, str]:
    """The 10 rejection fields (ecommerce status; comments, certifier, date per reviewer) as text."""
    return {name: _text(asset.metadata.get(field_id)) for name, field_id in fields.model_dump().items()}


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(_text(v) for v in value)
    return str(value)
