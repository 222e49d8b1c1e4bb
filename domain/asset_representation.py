"""A2→A3: the metadata of a localised asset, built from its master's (no I/O).

The MVP field set (``config/dam_fields.toml``) is copied from the master's stored metadata;
Description, Language and State come from the agency's file name; the master tracking ID is
set; and the CreativeX score (INTEGER field inside the platform-rating table) and report URL
(CHAR field) are **added when the master lacks them and updated when it has them** — never
dropped.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from domain.dam_metadata import (
    asset_representation,
    find_element,
    flatten_metadata,
    scalar_field,
    table,
    table_field,
    table_of,
)
from domain.fields import DamFields
from domain.file_names import ReturnedFileName


class LocalisedRepresentation(BaseModel):
    """The ``asset_representation`` JSON for ``POST /assets``, and what was done to CreativeX."""

    representation: dict[str, Any]
    creativex: Literal["added", "updated"]
    copied_fields: list[str]
    missing_fields: list[str]


def localised_representation(master_elements: list[dict[str, Any]], name: ReturnedFileName, tracking_id: str,
                             creativex_score: int, creativex_url: str, fields: DamFields) -> LocalisedRepresentation:
    flat = flatten_metadata(master_elements)
    overrides: dict[str, Any] = {
        fields.asset.description: name.description,
        fields.asset.language: name.language,
        fields.asset.state: name.state,
        fields.asset.master_tracking_id: tracking_id,
    }
    elements: list[dict[str, Any]] = []
    copied, missing = [], []
    for field_id in fields.mvp.fields:
        if field_id in overrides:
            elements.append(scalar_field(field_id, overrides.pop(field_id)))
            continue
        element = find_element(master_elements, field_id)
        value = flat.get(field_id)
        if element is None or value is None or isinstance(value, list | dict):
            missing.append(field_id)
            continue
        is_domain = bool((element.get("value") or {}).get("domain_value"))
        elements.append(scalar_field(field_id, value, domain=is_domain))
        copied.append(field_id)
    elements += [scalar_field(field_id, value) for field_id, value in overrides.items()]

    cx = fields.creativex
    had_creativex = find_element(master_elements, cx.score) is not None or find_element(
        master_elements, cx.url) is not None
    table_id = table_of(master_elements, cx.score) or cx.table
    elements.append(table(table_id, [table_field(cx.score, [int(creativex_score)], value_type="integer")]))
    elements.append(scalar_field(cx.url, creativex_url))
    return LocalisedRepresentation(
        representation=asset_representation(elements, fields.metadata_model_id),
        creativex="updated" if had_creativex else "added",
        copied_fields=copied,
        missing_fields=missing,
    )
