from __future__ import annotations

import pytest

from domain.file_names import FileNameError, parse_returned_file_name


def test_well_formed_name() -> None:
    parsed = parse_returned_file_name("K7M2QX_Hero banner_summer_it-IT_Lazio.jpg")
    assert parsed.model_dump() == {"tracking_id": "K7M2QX", "description": "Hero banner_summer",
                                   "language": "it-IT", "state": "Lazio", "extension": "jpg"}


def test_unicode_description_and_state() -> None:
    parsed = parse_returned_file_name("K7M2QX_Bannière été_fr_Île-de-France.png")
    assert (parsed.description, parsed.language, parsed.state) == ("Bannière été", "fr", "Île-de-France")


@pytest.mark.parametrize(("name", "reason"), [
    ("", "empty"),
    ("hero.jpg", "does not follow"),
    ("K7M2Q_Hero_it_Lazio.jpg", "does not follow"),  # 5 characters
    ("k7m2qx_Hero_it_Lazio.jpg", "does not follow"),  # lower case is not a tracking ID
    ("K7M2Q0_Hero_it_Lazio.jpg", "does not follow"),  # 0 is not in the alphabet
    ("K7M2QX_Hero_it_Lazio", "does not follow"),  # no extension
    ("../../etc/K7M2QX_Hero_it_Lazio.jpg", "path"),
    ("K7M2QX_Hero\x07_it_Lazio.jpg", "control"),
    ("K7M2QX_" + "x" * 300 + "_it_Lazio.jpg", "characters long"),
    ("K7M2QX_ _it_Lazio.jpg", "description"),
])
def test_bad_names_say_why(name: str, reason: str) -> None:
    with pytest.raises(FileNameError, match=reason):
        parse_returned_file_name(name)
