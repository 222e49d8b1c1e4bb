from __future__ import annotations

import pytest

from domain.file_names import FileNameError, parse_returned_file_name

pytestmark = pytest.mark.fast


def test_well_formed_name() -> None:
    parsed = parse_returned_file_name("K7M2QX_Hero banner_summer_it-IT_Lazio.jpg")
    assert parsed.model_dump() == {"tracking_id": "K7M2QX", "description": "Hero banner_summer",
                                   "language": "it-IT", "state": "Lazio", "extension": "jpg"}


def test_unicode_description_and_state() -> None:
    parsed = parse_returned_file_name("K7M2QX_Bannière été_fr_Île-de-France.png")
    assert (parsed.description, parsed.language, parsed.state) == ("Bannière été", "fr", "Île-de-France")


@pytest.mark.parametrize(("name", "reason"), [
    ("", "empty"),
    ("hero.jpg", "1 part"),
    ("K7M2Q_Hero_it_Lazio.jpg", "'K7M2Q' is not a tracking ID: a tracking ID has 6 characters"),
    ("K7M2Q0_Hero_it_Lazio.jpg", "contains '0', which tracking IDs never contain"),
    ("k7m2qo_Hero_it_Lazio.jpg", "contains 'O'"),  # case does not matter, O is still not an ID letter
    ("KIL2QX_Hero_it_Lazio.jpg", "contains 'I', 'L'"),
    ("K7M2QX_Hero_it_Lazio", "no extension"),
    ("K7M2QX_Hero_it_Lazio.j p g", "extension 'j p g'"),
    ("K7M2QX_Hero_Italian_Lazio.jpg", "language part 'Italian'"),
    ("K7M2QX_Hero_it_.jpg", "state part is empty"),
    ("K7M2QX_it_Lazio.jpg", "3 part"),
    ("../../etc/K7M2QX_Hero_it_Lazio.jpg", "path"),
    ("K7M2QX_Hero\x07_it_Lazio.jpg", "control"),
    ("K7M2QX_" + "x" * 300 + "_it_Lazio.jpg", "characters long"),
    ("K7M2QX_ _it_Lazio.jpg", "description"),
])
def test_bad_names_say_why(name: str, reason: str) -> None:
    with pytest.raises(FileNameError, match=reason):
        parse_returned_file_name(name)


@pytest.mark.parametrize("typed", ["k7m2qx", "K7m2Qx", "K7M2QX"])
def test_tracking_id_matched_whatever_its_case(typed: str) -> None:
    parsed = parse_returned_file_name(f"{typed}_Hero banner_it-IT_Lazio.jpg")
    assert parsed.tracking_id == "K7M2QX"
    assert parsed.description == "Hero banner"


def test_every_reason_names_the_part_that_is_wrong() -> None:
    """No bad name falls back to the generic reason when one part can be named."""
    for name in ["hero.jpg", "K7M2QX_Hero_it", "K7M2QX__it_Lazio.jpg", "K7M2Q!_Hero_it_Lazio.jpg",
                 "K7M2QX_Hero_i_Lazio.jpg", "K7M2QX_Hero_it-ITALIA_Lazio.jpg"]:
        with pytest.raises(FileNameError) as err:
            parse_returned_file_name(name)
        assert "does not follow" not in str(err.value), (name, str(err.value))
