"""OTMM metadata shapes: reading the nested ``metadata_element_list`` and building write shapes.

Pure functions, no I/O. OTMM returns metadata as field *groups*, each holding fields, tables
and table fields (see ``reference/otmm_api.md`` §5.2):

* scalar field (``MetadataField``): value at ``value.value.value``;
* domain (lookup) field: ``value.domain_value`` true, the code at ``value.value.field_value.value``
  and the label at ``value.value.display_value``;
* table (``MetadataTable``) holding table fields (``MetadataTableField``) with a ``values`` list.

Reading never depends on a group's ``type`` string (it was never seen in public code): any
element with a ``metadata_element_list`` is walked, and fields are recognised by their shape.
One malformed field is skipped, never fatal: the rest of an asset's metadata stays usable.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

FIELD_TYPE = "com.artesia.metadata.MetadataField"
TABLE_TYPE = "com.artesia.metadata.MetadataTable"
TABLE_FIELD_TYPE = "com.artesia.metadata.MetadataTableField"

_MISSING = object()


# -- reading ------------------------------------------------------------------------------
def iter_elements(element_list: Any) -> Iterator[tuple[dict[str, Any], str | None]]:
    """Every field element below ``element_list`` (groups walked recursively), with the id of
    the table holding it (``None`` outside tables). Non-dict entries are skipped."""
    yield from _walk(element_list, None, depth=0)


def _walk(element_list: Any, table_id: str | None, depth: int) -> Iterator[tuple[dict[str, Any], str | None]]:
    if not isinstance(element_list, list) or depth > 32:  # depth: defend against absurd nesting
        return
    for element in element_list:
        if not isinstance(element, dict):
            continue
        children = element.get("metadata_element_list")
        if isinstance(children, list):
            # A table's children belong to it; a group's children keep the enclosing table (none).
            is_table = _is_table(element)
            yield from _walk(children, _str_or_none(element.get("id")) if is_table else table_id, depth + 1)
            continue
        yield element, table_id


def _is_table(element: Mapping[str, Any]) -> bool:
    kind = element.get("type")
    if isinstance(kind, str) and kind.endswith("MetadataTable"):
        return True
    # Shape-based: a container whose children are table fields (a ``values`` list) is a table.
    children = element.get("metadata_element_list") or []
    return bool(children) and all(isinstance(c, dict) and isinstance(c.get("values"), list) for c in children)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def flatten_metadata(element_list: Any) -> dict[str, Any]:
    """Field id → value for every field below ``element_list``.

    Scalar fields give their value (``None`` when empty), domain fields their code, table
    fields the list of their values. A field whose shape is not understood is left out.
    When the same id appears twice (e.g. in two groups) the first readable one wins.
    """
    flat: dict[str, Any] = {}
    for element, _table in iter_elements(element_list):
        field_id = _str_or_none(element.get("id"))
        if field_id is None or field_id in flat:
            continue
        value = field_value(element)
        if value is not _MISSING:
            flat[field_id] = value
    return flat


def field_value(element: Mapping[str, Any]) -> Any:
    """The value of one field element (see :func:`flatten_metadata`); a sentinel when malformed.

    Use :func:`flatten_metadata` unless you hold a single raw element.
    """
    if "values" in element:  # table field
        values = element["values"]
        if not isinstance(values, list):
            return _MISSING
        out = []
        for item in values:
            if not isinstance(item, dict):
                continue
            parsed = _typed_value(item.get("value"))
            if parsed is not _MISSING:
                out.append(parsed)
        return out
    holder = element.get("value", _MISSING)
    if holder is _MISSING or holder is None:
        return None if "value" in element else _MISSING
    if not isinstance(holder, dict):
        return _MISSING
    return _typed_value(holder.get("value"), domain=_truthy(holder.get("domain_value")))


def display_value(element: Mapping[str, Any]) -> Any:
    """The label of a domain field (``value.value.display_value``), else its plain value."""
    holder = element.get("value")
    if isinstance(holder, dict) and isinstance(holder.get("value"), dict):
        label = holder["value"].get("display_value")
        if label is not None:
            return label
    value = field_value(element)
    return None if value is _MISSING else value


def _truthy(flag: Any) -> bool:
    return flag is True or (isinstance(flag, str) and flag.lower() == "true")


def _typed_value(inner: Any, *, domain: bool = False) -> Any:
    """``{"type": .., "value": ..}`` (or a domain ``{"field_value": {...}, "display_value": ..}``) → value."""
    if inner is None:
        return None
    if not isinstance(inner, dict):
        return _MISSING
    if domain or "field_value" in inner:
        code = inner.get("field_value")
        if isinstance(code, dict):
            return _coerce(code.get("type"), code.get("value"))
        if "value" in inner:  # some servers echo the write shape for domain fields
            return _coerce(inner.get("type"), inner.get("value"))
        return inner.get("display_value") if "display_value" in inner else _MISSING
    if "value" not in inner:
        return None
    return _coerce(inner.get("type"), inner["value"])


def _coerce(kind: Any, value: Any) -> Any:
    if isinstance(kind, str) and kind.lower() in ("integer", "int", "long") and isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return value
    return value


def find_element(element_list: Any, field_id: str) -> dict[str, Any] | None:
    """The raw element of ``field_id`` anywhere below ``element_list`` (a table too), or ``None``."""
    for element, _table in _walk_all(element_list, None, 0):
        if element.get("id") == field_id:
            return element
    return None


def _walk_all(element_list: Any, table_id: str | None, depth: int) -> Iterator[tuple[dict[str, Any], str | None]]:
    """Like :func:`iter_elements` but yields containers (groups, tables) too."""
    if not isinstance(element_list, list) or depth > 32:
        return
    for element in element_list:
        if not isinstance(element, dict):
            continue
        yield element, table_id
        children = element.get("metadata_element_list")
        if isinstance(children, list):
            is_table = _is_table(element)
            yield from _walk_all(children, _str_or_none(element.get("id")) if is_table else table_id, depth + 1)


def table_of(element_list: Any, field_id: str) -> str | None:
    """The id of the table that holds table field ``field_id``, or ``None`` (absent or not tabular)."""
    for element, table in iter_elements(element_list):
        if element.get("id") == field_id:
            return table
    return None


def table_membership(element_list: Any) -> dict[str, str]:
    """Table field id → id of its table, for every table field below ``element_list``."""
    return {e["id"]: t for e, t in iter_elements(element_list) if t is not None and isinstance(e.get("id"), str)}


# -- writing ------------------------------------------------------------------------------
def _value_type(value: Any) -> str:
    if isinstance(value, bool):
        raise TypeError("OTMM has no boolean field values; send a string or integer")
    if isinstance(value, int):
        return "integer"
    if isinstance(value, datetime):
        return "dateTime"
    if isinstance(value, str):
        return "string"
    raise TypeError(f"cannot write a {type(value).__name__} into an OTMM field")


def _typed(value: Any, value_type: str | None) -> dict[str, Any]:
    if value is None:
        return {"type": value_type or "string", "value": None}
    kind = value_type or _value_type(value)
    if isinstance(value, datetime):
        stamp = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        value = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"type": kind, "value": value}


def scalar_field(field_id: str, value: Any, *, value_type: str | None = None, domain: bool = False) -> dict[str, Any]:
    """The OTMM write shape of a scalar field (``MetadataField``).

    ``value_type`` defaults from the Python type: ``str`` → ``"string"``, ``int`` →
    ``"integer"``, ``datetime`` → ``"dateTime"`` (ISO-8601 UTC). ``domain=True`` marks a
    lookup-domain field (``value`` is then the domain code).
    """
    holder: dict[str, Any] = {"value": _typed(value, value_type)}
    if domain:
        holder["domain_value"] = True
    return {"id": field_id, "type": FIELD_TYPE, "value": holder}


def table_field(field_id: str, values: Iterable[Any], *, value_type: str | None = None) -> dict[str, Any]:
    """The OTMM write shape of a table field (``MetadataTableField``): one entry per row."""
    return {"id": field_id, "type": TABLE_FIELD_TYPE,
            "values": [{"value": _typed(v, value_type)} for v in values]}


def table(table_id: str, fields: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A ``MetadataTable`` element holding table fields built with :func:`table_field`."""
    return {"id": table_id, "type": TABLE_TYPE, "metadata_element_list": [dict(f) for f in fields]}


def asset_representation(metadata_elements: Sequence[Mapping[str, Any]], metadata_model_id: str,
                         security_policy_ids: Sequence[int] = (2,)) -> dict[str, Any]:
    """The ``asset_representation`` part of ``POST /assets`` (a flat element list is accepted)."""
    return {"asset_resource": {"asset": {
        "metadata": {"metadata_element_list": [dict(e) for e in metadata_elements]},
        "metadata_model_id": metadata_model_id,
        "security_policy_list": [{"id": i} for i in security_policy_ids],
    }}}
