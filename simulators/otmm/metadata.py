"""OTMM metadata JSON: grouped read shape (``reference/otmm_api.md`` §5.2) and write parsing.

Read shape: ``metadata.metadata_element_list`` holds field **groups** (our group ``type``
string, ``com.artesia.metadata.MetadataFieldGroup``, is a choice: the real one was never seen
in public code). Groups, in this order, only when they hold something:

* ``MKT.GROUP.GENERAL``   every field not listed below
* ``MKT.GROUP.CAMPAIGN``  the campaign fields (number, name, type, status)
* ``MKT.GROUP.REVIEW``    ECOMMERCE STATUS and the reviewer comments/certifier/date fields
* ``MKT.GROUP.RATING``    the CreativeX URL and the platform-rating table

so a reader that looks at group ``[0]`` only misses fields. An empty field is rendered with
its ``value`` holder but no inner ``value`` (a reader sees ``None``).

Write shape (``edited_asset`` / ``edited_folder`` / ``asset_representation``): a flat or
grouped list of ``MetadataField`` (``value.value = {type, value}``; domain fields with
``domain_value`` true and the code as value, or the read shape with ``field_value``),
``MetadataTableField`` (``values`` list; its table is taken from an enclosing
``MetadataTable``, else from what seeding taught the simulator, else the field's own id),
and ``MetadataTable`` elements.
"""

from __future__ import annotations

from typing import Any

from domain.fields import DamFields
from simulators.otmm.state import FieldValue, Node, SimError, data_type_of

MODEL_TYPE = "com.artesia.metadata.MetadataModel"
GROUP_TYPE = "com.artesia.metadata.MetadataFieldGroup"
FIELD_TYPE = "com.artesia.metadata.MetadataField"
TABLE_TYPE = "com.artesia.metadata.MetadataTable"
TABLE_FIELD_TYPE = "com.artesia.metadata.MetadataTableField"

GENERAL, CAMPAIGN, REVIEW, RATING = "MKT.GROUP.GENERAL", "MKT.GROUP.CAMPAIGN", "MKT.GROUP.REVIEW", "MKT.GROUP.RATING"
GROUPS: list[tuple[str, str]] = [(GENERAL, "General"), (CAMPAIGN, "Campaign"), (REVIEW, "Review"),
                                 (RATING, "Rating")]
_VALUE_TYPES = {"CHAR": "string", "INTEGER": "integer", "DATE": "dateTime"}


def display_name(element_id: str) -> str:
    """``MKT.FIELD.CAMPAIGN STATUS`` → ``Campaign Status``."""
    return element_id.rsplit(".", 1)[-1].title()


class MetadataLayout:
    """Which group each field or table goes into (from the configured field IDs)."""

    def __init__(self, fields: DamFields) -> None:
        self.group: dict[str, str] = {}
        c = fields.campaign
        for field_id in (c.number, c.name, c.type, c.status):
            self.group[field_id] = CAMPAIGN
        for field_id in fields.rejection.model_dump().values():
            self.group[field_id] = REVIEW
        self.group[fields.creativex.url] = RATING
        self.group[fields.creativex.table] = RATING

    def group_of(self, element_id: str) -> str:
        return self.group.get(element_id, GENERAL)

    def render(self, node: Node, model_name: str | None = None) -> dict[str, Any]:
        """The ``metadata`` object of a folder or asset."""
        grouped: dict[str, list[dict[str, Any]]] = {g: [] for g, _ in GROUPS}
        for field_id, value in node.fields.items():
            grouped[self.group_of(field_id)].append(render_field(field_id, value))
        for table_id, columns in node.tables.items():
            grouped[self.group_of(table_id)].append(render_table(table_id, columns))
        groups = [{"id": gid, "name": name, "type": GROUP_TYPE, "metadata_element_list": grouped[gid]}
                  for gid, name in GROUPS if grouped[gid]]
        return {"type": MODEL_TYPE, "id": node.metadata_model_id,
                "name": model_name or display_name(node.metadata_model_id), "metadata_element_list": groups}


def _typed(value: Any, data_type: str) -> dict[str, Any]:
    return {"type": _VALUE_TYPES.get(data_type, "string"), "value": value}


def render_field(field_id: str, fv: FieldValue) -> dict[str, Any]:
    holder: dict[str, Any] = {"domain_value": fv.domain, "cascading_domain_value": False, "is_locked": False}
    if fv.value is not None:
        if fv.domain:
            holder["value"] = {"type": "string", "field_value": _typed(fv.value, fv.data_type),
                               "display_value": fv.label if fv.label is not None else str(fv.value)}
        else:
            holder["value"] = _typed(fv.value, fv.data_type)
    return {"id": field_id, "name": display_name(field_id), "type": FIELD_TYPE, "data_type": fv.data_type,
            "value": holder}


def render_table(table_id: str, columns: dict[str, list[Any]]) -> dict[str, Any]:
    elements = []
    for field_id, values in columns.items():
        data_type = next((data_type_of(v) for v in values if v is not None), "CHAR")
        elements.append({"id": field_id, "name": display_name(field_id), "type": TABLE_FIELD_TYPE,
                         "data_type": data_type, "values": [{"value": _typed(v, data_type)} for v in values]})
    return {"id": table_id, "name": display_name(table_id), "type": TABLE_TYPE, "metadata_element_list": elements}


# -- writing ------------------------------------------------------------------------------
def _bad(message: str) -> SimError:
    return SimError(400, message, "INVALID_METADATA")


def _parse_typed(inner: Any, field_id: str) -> tuple[Any, str | None, str | None, bool]:
    """``{"type","value"}`` or a domain ``{"field_value","display_value"}`` → (value, data type, label, domain)."""
    if inner is None:
        return None, None, None, False
    if isinstance(inner, bool):
        raise _bad(f"field {field_id}: boolean values are not supported")
    if isinstance(inner, str | int):  # lenient: a bare value
        return inner, data_type_of(inner), None, False
    if not isinstance(inner, dict):
        raise _bad(f"field {field_id}: the value must be an object")
    if isinstance(inner.get("field_value"), dict):
        code, data_type, _label, _ = _parse_typed(inner["field_value"], field_id)
        label = inner.get("display_value")
        return code, data_type, None if label is None else str(label), True
    kind = str(inner.get("type") or "string").lower()
    value = inner.get("value")
    if value is None:
        return None, None, None, False
    if kind in ("integer", "int", "long", "number"):
        try:
            return int(value), "INTEGER", None, False
        except (TypeError, ValueError) as exc:
            raise _bad(f"field {field_id}: {value!r} is not an integer") from exc
    if kind in ("datetime", "date"):
        return str(value), "DATE", None, False
    if isinstance(value, dict | list):
        raise _bad(f"field {field_id}: a string value must not be {type(value).__name__}")
    return str(value), "CHAR", None, False


def _truthy(flag: Any) -> bool:
    return flag is True or (isinstance(flag, str) and flag.lower() == "true")


def apply_elements(node: Node, elements: Any, table_of: dict[str, str]) -> list[str]:
    """Write a list of metadata elements onto ``node``; returns the ids written.

    Raises ``SimError(400)`` on a malformed element (nothing is written then).
    """
    if not isinstance(elements, list):
        raise _bad("metadata must be a list of elements")
    fields: dict[str, FieldValue] = {}
    tables: dict[tuple[str, str], list[Any]] = {}
    _collect(node, elements, None, table_of, fields, tables, depth=0)
    node.fields.update(fields)
    for (table_id, field_id), values in tables.items():
        node.tables.setdefault(table_id, {})[field_id] = values
    return [*fields, *(f for _, f in tables)]


def _existing_table(node: Node, field_id: str) -> str | None:
    return next((t for t, cols in node.tables.items() if field_id in cols), None)


def _collect(node: Node, elements: list[Any], table_id: str | None, table_of: dict[str, str],
             fields: dict[str, FieldValue], tables: dict[tuple[str, str], list[Any]], depth: int) -> None:
    if depth > 8:
        raise _bad("metadata nested too deeply")
    for element in elements:
        if not isinstance(element, dict):
            raise _bad("every metadata element must be an object")
        element_id = element.get("id")
        kind = str(element.get("type") or "")
        children = element.get("metadata_element_list")
        if isinstance(children, list):
            inner_table = element_id if kind.endswith("MetadataTable") and isinstance(element_id, str) else table_id
            _collect(node, children, inner_table, table_of, fields, tables, depth + 1)
            continue
        if not isinstance(element_id, str) or not element_id:
            raise _bad("a metadata element has no id")
        if "values" in element or kind.endswith("MetadataTableField"):
            raw_values = element.get("values") or []
            if not isinstance(raw_values, list):
                raise _bad(f"table field {element_id}: values must be a list")
            values = []
            for item in raw_values:
                holder = item.get("value") if isinstance(item, dict) else item
                value, *_ = _parse_typed(holder, element_id)
                values.append(value)
            table = table_id or table_of.get(element_id) or _existing_table(node, element_id) or element_id
            tables[(table, element_id)] = values
            continue
        holder = element.get("value")
        if holder is None:
            fields[element_id] = FieldValue(None, node.fields.get(element_id, FieldValue(None)).data_type)
            continue
        if not isinstance(holder, dict):
            raise _bad(f"field {element_id}: value must be an object")
        value, data_type, label, domain = _parse_typed(holder.get("value"), element_id)
        domain = domain or _truthy(holder.get("domain_value"))
        existing = node.fields.get(element_id)
        if existing is not None and existing.domain:
            domain = True
        if domain and value is not None and label is None:
            label = existing.label if existing is not None and existing.value == value else str(value)
        if data_type is None:
            data_type = existing.data_type if existing is not None else "CHAR"
        fields[element_id] = FieldValue(value, data_type, domain=domain, label=label if domain else None)
