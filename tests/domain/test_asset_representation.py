from __future__ import annotations

import pytest

from domain.asset_representation import localised_representation
from domain.dam_metadata import find_element, flatten_metadata, scalar_field, table, table_field
from domain.fields import load_dam_fields
from domain.file_names import parse_returned_file_name

pytestmark = pytest.mark.fast

F = load_dam_fields()
NAME = parse_returned_file_name("K7M2QX_Hero <b>x_it-IT_Lazio.jpg")


def master(with_creativex: bool) -> list[dict]:
    elements = [scalar_field(fid, f"value of {fid}") for fid in F.mvp.fields[:20] if fid != F.asset.country]
    elements.append(scalar_field(F.asset.country, "IT", domain=True))
    if with_creativex:
        elements.append(table("MKT.TABLE.LEGACY RATING", [table_field(F.creativex.score, [12])]))
        elements.append(scalar_field(F.creativex.url, "https://old"))
    return [{"id": "MKT.GROUP.GENERAL", "metadata_element_list": elements}]


def elements_of(rep) -> list[dict]:
    return rep.representation["asset_resource"]["asset"]["metadata"]["metadata_element_list"]


def test_creativex_is_added_when_the_master_lacks_it() -> None:
    rep = localised_representation(master(False), NAME, "K7M2QX", 85, "https://cx/r/1", F)
    flat = flatten_metadata(elements_of(rep))
    assert rep.creativex == "added"
    assert flat[F.creativex.score] == [85] and flat[F.creativex.url] == "https://cx/r/1"
    assert find_element([{"metadata_element_list": elements_of(rep)}], F.creativex.table) is not None


def test_creativex_is_updated_in_the_masters_table_when_present() -> None:
    rep = localised_representation(master(True), NAME, "K7M2QX", 90, "https://cx/r/2", F)
    flat = flatten_metadata(elements_of(rep))
    assert rep.creativex == "updated"
    assert flat[F.creativex.score] == [90] and flat[F.creativex.url] == "https://cx/r/2"
    assert any(e.get("id") == "MKT.TABLE.LEGACY RATING" for e in elements_of(rep))


def test_mvp_fields_copied_and_name_parts_override() -> None:
    rep = localised_representation(master(False), NAME, "K7M2QX", 1, "u", F)
    flat = flatten_metadata(elements_of(rep))
    assert flat[F.asset.description] == "Hero <b>x"
    assert (flat[F.asset.language], flat[F.asset.state]) == ("it-IT", "Lazio")
    assert flat[F.asset.master_tracking_id] == "K7M2QX"
    assert flat[F.asset.country] == "IT"
    assert F.mvp.fields[0] in rep.copied_fields
    assert F.mvp.fields[-1] in rep.missing_fields  # absent on the master: reported, not invented
    assert len(F.mvp.fields) == 27
