"""``search/text`` conditions: parsing ``search_condition_list`` and matching folders and assets.

Supported (``reference/otmm_api.md`` §4):

* ``com.artesia.search.SearchScalarCondition`` on any field id (scalar, domain or table field);
* ``com.artesia.search.SearchTabularCondition`` (``metadata_table_id`` + ``tabular_field_list``);
* operators ``ARTESIA.OPERATOR.CHAR.IS`` (exact, case-sensitive; a domain field compares its
  code), ``ARTESIA.OPERATOR.CHAR.CONTAINS`` (case-insensitive substring of the value, or of a
  domain field's code or label) and ``ARTESIA.OPERATOR.NUMBER.IS`` (numeric equality); any
  other operator is a 400 (our choice: the real server's answer is unknown);
* ``relational_operator`` ``and``/``or`` between conditions (the first condition's is
  ignored), ``left_paren``/``right_paren`` (each may hold several parentheses); ``and`` binds
  tighter than ``or``; unbalanced parentheses are a 400.

A table field matches when any of its values matches. ``ARTESIA.FIELD.ASSET NAME`` and
``ARTESIA.FIELD.ASSET ID`` compare the item's name and id.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from simulators.otmm.state import Asset, Folder, Node, SimError

OP_IS = "ARTESIA.OPERATOR.CHAR.IS"
OP_CONTAINS = "ARTESIA.OPERATOR.CHAR.CONTAINS"
OP_NUMBER_IS = "ARTESIA.OPERATOR.NUMBER.IS"
TABULAR = "SearchTabularCondition"

Predicate = Callable[[Node], bool]


def _bad(message: str) -> SimError:
    return SimError(400, message, "INVALID_SEARCH_CONDITION")


def parse_condition_list(raw: str | None) -> list[dict[str, Any]]:
    """The conditions of a ``search_condition_list`` JSON string (``[]`` when absent)."""
    if raw is None or not raw.strip():
        return []
    try:
        payload = json.loads(raw)
    except ValueError as exc:
        raise _bad(f"search_condition_list is not JSON: {exc}") from exc
    if isinstance(payload, dict):
        payload = payload.get("search_condition_list", payload)
    if isinstance(payload, dict):
        payload = payload.get("search_condition", [])
    if isinstance(payload, dict):
        payload = [payload]
    if not isinstance(payload, list) or not all(isinstance(c, dict) for c in payload):
        raise _bad("search_condition_list.search_condition must be a list of conditions")
    return payload


def values_of(node: Node, field_id: str) -> list[tuple[str, str | None]]:
    """(value as text, domain label) for every value ``field_id`` has on ``node``."""
    if field_id == "ARTESIA.FIELD.ASSET NAME":
        return [(node.name, None)]
    if field_id == "ARTESIA.FIELD.ASSET ID":
        return [(node.id, None)]
    out: list[tuple[str, str | None]] = []
    fv = node.fields.get(field_id)
    if fv is not None and fv.value is not None:
        out.append((str(fv.value), fv.label if fv.domain else None))
    for columns in node.tables.values():
        for value in columns.get(field_id, []):
            if value is not None:
                out.append((str(value), None))
    return out


def _matches(values: list[tuple[str, str | None]], operator: str, wanted: str) -> bool:
    if operator == OP_IS:
        return any(v == wanted for v, _ in values)
    if operator == OP_CONTAINS:
        needle = wanted.casefold()
        return any(needle in v.casefold() or (label is not None and needle in label.casefold())
                   for v, label in values)
    if operator == OP_NUMBER_IS:
        try:
            target = float(wanted)
        except ValueError as exc:
            raise _bad(f"{wanted!r} is not a number") from exc
        for v, _ in values:
            try:
                if float(v) == target:
                    return True
            except ValueError:
                continue
        return False
    raise _bad(f"unsupported relational_operator_id {operator!r}")


def _leaf(condition: dict[str, Any], table_id: str | None = None) -> Predicate:
    if TABULAR in str(condition.get("type") or ""):
        table = condition.get("metadata_table_id")
        inner = condition.get("tabular_field_list")
        if not isinstance(table, str) or not isinstance(inner, list) or not inner:
            raise _bad("a tabular condition needs metadata_table_id and tabular_field_list")
        return compile_conditions(inner, table_id=table)
    field_id = condition.get("metadata_field_id")
    operator = condition.get("relational_operator_id") or OP_IS
    wanted = condition.get("value")
    if not isinstance(field_id, str) or not field_id:
        raise _bad("a search condition has no metadata_field_id")
    if operator not in (OP_IS, OP_CONTAINS, OP_NUMBER_IS):
        raise _bad(f"unsupported relational_operator_id {operator!r}")
    wanted_text = "" if wanted is None else str(wanted)

    def predicate(node: Node) -> bool:
        if table_id is not None:
            values = [(str(v), None) for v in node.tables.get(table_id, {}).get(field_id, []) if v is not None]
        else:
            values = values_of(node, field_id)
        return _matches(values, operator, wanted_text)

    return predicate


def compile_conditions(conditions: list[dict[str, Any]], table_id: str | None = None) -> Predicate:
    """One predicate for a condition list with and/or and parentheses (empty list: match all)."""
    if not conditions:
        return lambda node: True
    tokens: list[Any] = []
    for index, condition in enumerate(conditions):
        if index > 0:
            op = str(condition.get("relational_operator") or "and").strip().lower()
            if op not in ("and", "or"):
                raise _bad(f"relational_operator must be and/or, not {op!r}")
            tokens.append(op)
        tokens.extend("(" * str(condition.get("left_paren") or "").count("("))
        tokens.append(_leaf(condition, table_id))
        tokens.extend(")" * str(condition.get("right_paren") or "").count(")"))
    parser = _Parser(tokens)
    tree = parser.expression()
    if parser.position != len(tokens):
        raise _bad("unbalanced parentheses in search_condition_list")
    return tree


class _Parser:
    """Recursive descent: expression := term ('or' term)* ; term := factor ('and' factor)* ;
    factor := '(' expression ')' | condition."""

    def __init__(self, tokens: list[Any]) -> None:
        self.tokens = tokens
        self.position = 0

    def _peek(self) -> Any:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def expression(self) -> Predicate:
        parts = [self.term()]
        while self._peek() == "or":
            self.position += 1
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else (lambda node, ps=tuple(parts): any(p(node) for p in ps))

    def term(self) -> Predicate:
        parts = [self.factor()]
        while self._peek() == "and":
            self.position += 1
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else (lambda node, ps=tuple(parts): all(p(node) for p in ps))

    def factor(self) -> Predicate:
        token = self._peek()
        if token == "(":
            self.position += 1
            inner = self.expression()
            if self._peek() != ")":
                raise _bad("unbalanced parentheses in search_condition_list")
            self.position += 1
            return inner
        if callable(token):
            self.position += 1
            return token
        raise _bad("malformed search_condition_list (unbalanced parentheses or operators)")


def keyword_predicate(keyword_query: str | None) -> Predicate:
    """Every term of ``keyword_query`` (``*`` or empty: everything) must occur, case-insensitively,
    in the item's name or one of its values."""
    terms = [t.casefold() for t in (keyword_query or "").split() if t.strip("*")]
    if not terms:
        return lambda node: True

    def predicate(node: Node) -> bool:
        texts = [node.name.casefold()]
        texts += [str(fv.value).casefold() for fv in node.fields.values() if fv.value is not None]
        texts += [str(fv.label).casefold() for fv in node.fields.values() if fv.label]
        texts += [str(v).casefold() for cols in node.tables.values() for vs in cols.values() for v in vs
                  if v is not None]
        return all(any(t.strip("*") in text for text in texts) for t in terms)

    return predicate


def sort_key(sort: str | None) -> tuple[Callable[[Folder | Asset], Any], bool]:
    """``asc_NAME`` / ``desc_NAME`` sort by name; anything else (default): date_imported, then id."""
    spec = (sort or "").strip()
    descending = spec.lower().startswith("desc_")
    field = spec.split("_", 1)[1] if "_" in spec else ""
    if field.upper() == "NAME":
        return (lambda n: (n.name.casefold(), n.name, n.id)), descending
    return (lambda n: (n.date_imported, n.id)), descending
