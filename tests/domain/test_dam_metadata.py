"""Reading and writing OTMM metadata shapes (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.dam_metadata import (
    asset_representation,
    display_value,
    find_element,
    flatten_metadata,
    iter_elements,
    scalar_field,
    table,
    table_field,
    table_membership,
    table_of,
)

pytestmark = pytest.mark.fast


def scalar(field_id: str, value, kind: str = "string") -> dict:
    return {"id": field_id, "type": "com.artesia.metadata.MetadataField",
            "value": {"value": {"type": kind, "value": value}, "domain_value": False}}


def domain(field_id: str, code: str, label: str) -> dict:
    return {"id": field_id, "type": "com.artesia.metadata.MetadataField",
            "value": {"domain_value": True, "value": {"field_value": {"type": "string", "value": code},
                                                      "display_value": label}}}


ELEMENTS = [
    {"id": "MKT.GROUP.CAMPAIGN", "type": "com.artesia.metadata.MetadataFieldGroup?", "metadata_element_list": [
        scalar("MKT.FIELD.BRAND", "Nutty"),
        scalar("MKT.FIELD.YEAR", 2026, "integer"),
        scalar("MKT.FIELD.RIGHTS EXPIRATION DATE", "2027-01-01T00:00:00Z", "dateTime"),
        domain("MKT.FIELD.COUNTRY", "IT", "Italy"),
    ]},
    {"id": "MKT.GROUP.RATINGS", "metadata_element_list": [  # no type on the group at all
        {"id": "MKT.TABLE.PLATFORMRATING", "type": "com.artesia.metadata.MetadataTable", "metadata_element_list": [
            {"id": "MKT.FIELD.PLATFORMRATING.CREATIVEX", "type": "com.artesia.metadata.MetadataTableField",
             "values": [{"value": {"type": "integer", "value": 87}}, {"value": {"type": "integer", "value": "91"}}]},
            {"id": "MKT.FIELD.PLATFORMRATING.NAME", "type": "com.artesia.metadata.MetadataTableField",
             "values": [{"value": {"type": "string", "value": "Meta"}}, {"value": {"type": "string", "value": "TikTok"}}]},
        ]},
        scalar("MKT.FIELD.CREATIVEX URL", None),
    ]},
]


def test_flatten_reads_scalar_domain_and_table_fields_across_groups() -> None:
    flat = flatten_metadata(ELEMENTS)
    assert flat == {
        "MKT.FIELD.BRAND": "Nutty",
        "MKT.FIELD.YEAR": 2026,
        "MKT.FIELD.RIGHTS EXPIRATION DATE": "2027-01-01T00:00:00Z",
        "MKT.FIELD.COUNTRY": "IT",
        "MKT.FIELD.PLATFORMRATING.CREATIVEX": [87, 91],
        "MKT.FIELD.PLATFORMRATING.NAME": ["Meta", "TikTok"],
        "MKT.FIELD.CREATIVEX URL": None,
    }


def test_table_membership_and_raw_elements() -> None:
    assert table_of(ELEMENTS, "MKT.FIELD.PLATFORMRATING.CREATIVEX") == "MKT.TABLE.PLATFORMRATING"
    assert table_of(ELEMENTS, "MKT.FIELD.BRAND") is None
    assert table_of(ELEMENTS, "MKT.FIELD.NOPE") is None
    assert table_membership(ELEMENTS) == {"MKT.FIELD.PLATFORMRATING.CREATIVEX": "MKT.TABLE.PLATFORMRATING",
                                          "MKT.FIELD.PLATFORMRATING.NAME": "MKT.TABLE.PLATFORMRATING"}
    assert find_element(ELEMENTS, "MKT.TABLE.PLATFORMRATING")["type"].endswith("MetadataTable")
    assert find_element(ELEMENTS, "MKT.FIELD.COUNTRY") == domain("MKT.FIELD.COUNTRY", "IT", "Italy")
    assert find_element(ELEMENTS, "MKT.FIELD.NOPE") is None
    assert display_value(find_element(ELEMENTS, "MKT.FIELD.COUNTRY")) == "Italy"
    assert display_value(find_element(ELEMENTS, "MKT.FIELD.BRAND")) == "Nutty"
    assert len(list(iter_elements(ELEMENTS))) == 7


def test_malformed_elements_are_skipped_and_the_rest_kept() -> None:
    elements = [
        "not a dict",
        None,
        {"id": "G", "metadata_element_list": [
            {"id": "BAD.VALUE.STRING", "value": "oops"},
            {"id": "BAD.INNER", "value": {"value": ["x"]}},
            {"id": "BAD.VALUES", "values": "nope"},
            {"id": "ODD.ROWS", "values": [{"value": {"type": "string", "value": "ok"}}, "junk", {"value": 3}]},
            {"id": "NO.VALUE.AT.ALL", "type": "com.artesia.metadata.MetadataField"},
            {"value": {"value": {"type": "string", "value": "no id"}}},
            {"id": 42, "value": {"value": {"type": "string", "value": "numeric id"}}},
            {"id": "BAD.DOMAIN", "value": {"domain_value": True, "value": {"display_value": "Label only"}}},
            {"id": "DOMAIN.WRITE.SHAPE", "value": {"domain_value": "true", "value": {"type": "string", "value": "2"}}},
            {"id": "EMPTY.INNER", "value": {"value": {"type": "string"}}},
            {"id": "INT.NOT.NUMBER", "value": {"value": {"type": "integer", "value": "abc"}}},
            scalar("GOOD", "yes"),
        ]},
        {"id": "BROKEN.GROUP", "metadata_element_list": "not a list"},
        {"id": "G2", "metadata_element_list": [scalar("GOOD", "second copy ignored"), scalar("GOOD2", 1, "integer")]},
    ]
    assert flatten_metadata(elements) == {
        "ODD.ROWS": ["ok"],
        "BAD.DOMAIN": "Label only",
        "DOMAIN.WRITE.SHAPE": "2",
        "EMPTY.INNER": None,
        "INT.NOT.NUMBER": "abc",
        "GOOD": "yes",
        "GOOD2": 1,
    }
    assert flatten_metadata(None) == {} and flatten_metadata("x") == {} and flatten_metadata({}) == {}


def test_write_shapes() -> None:
    assert scalar_field("MKT.FIELD.BRAND", "Nutty") == {
        "id": "MKT.FIELD.BRAND", "type": "com.artesia.metadata.MetadataField",
        "value": {"value": {"type": "string", "value": "Nutty"}}}
    assert scalar_field("MKT.FIELD.YEAR", 2026)["value"]["value"] == {"type": "integer", "value": 2026}
    assert scalar_field("D", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))["value"]["value"] == {
        "type": "dateTime", "value": "2026-01-02T03:04:05Z"}
    assert scalar_field("C", "IT", domain=True)["value"] == {"value": {"type": "string", "value": "IT"},
                                                           "domain_value": True}
    assert scalar_field("N", None)["value"]["value"] == {"type": "string", "value": None}
    with pytest.raises(TypeError):
        scalar_field("B", True)
    score = table_field("MKT.FIELD.PLATFORMRATING.CREATIVEX", [87])
    assert score == {"id": "MKT.FIELD.PLATFORMRATING.CREATIVEX", "type": "com.artesia.metadata.MetadataTableField",
                     "values": [{"value": {"type": "integer", "value": 87}}]}
    tbl = table("MKT.TABLE.PLATFORMRATING", [score])
    assert tbl["type"] == "com.artesia.metadata.MetadataTable" and tbl["metadata_element_list"] == [score]


def test_written_shapes_read_back() -> None:
    elements = [scalar_field("A", "x"), scalar_field("B", 5), scalar_field("C", "IT", domain=True),
                table("T", [table_field("T.F", ["r1", "r2"])])]
    assert flatten_metadata(elements) == {"A": "x", "B": 5, "C": "IT", "T.F": ["r1", "r2"]}
    assert table_of(elements, "T.F") == "T"


def test_asset_representation_envelope() -> None:
    rep = asset_representation([scalar_field("A", "x")], "MKT.MODEL.CAMPAIGN ASSET")
    asset = rep["asset_resource"]["asset"]
    assert asset["metadata_model_id"] == "MKT.MODEL.CAMPAIGN ASSET"
    assert asset["security_policy_list"] == [{"id": 2}]
    assert asset["metadata"]["metadata_element_list"] == [scalar_field("A", "x")]
