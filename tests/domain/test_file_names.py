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


# -- edges: lengths, paths, hidden characters, Unicode forms, the convention file -----------------
def test_length_limit_is_inclusive() -> None:
    head, tail = "K7M2QX_", "_it_Lazio.jpg"
    longest = head + "x" * (255 - len(head) - len(tail)) + tail
    assert len(longest) == 255 and parse_returned_file_name(longest).tracking_id == "K7M2QX"
    with pytest.raises(FileNameError, match="256 characters long"):
        parse_returned_file_name(head + "x" + longest[len(head):])


@pytest.mark.parametrize(("name", "reason"), [
    ("   ", "empty"),
    ("C:\\Uploads\\K7M2QX_Hero_it_Lazio.jpg", "path"),
    (".K7M2QX_Hero_it_Lazio.jpg", "path"),  # hidden file (e.g. a Mac's ._ resource fork)
    ("K7M2QX_Hero_it_Lazio.jpg\n", "control"),  # a regex's $ would accept the newline
    ("K7M2QX_Hero\tbanner_it_Lazio.jpg", "control"),
    ("K7M2QX\u200b_Hero_it_Lazio.jpg", "control"),  # zero-width space: invisible, still not the ID
    ("K7M2QXA_Hero_it_Lazio.jpg", "'K7M2QXA' is not a tracking ID"),
    ("K7M2QX_Hero_it-IT_Lazio_Roma.jpg", "language part 'Lazio'"),  # a state cannot contain '_'
    ("K7M2QX_Hero_it_Lazio.", "extension ''"),
])
def test_more_bad_names_say_why(name: str, reason: str) -> None:
    with pytest.raises(FileNameError, match=reason):
        parse_returned_file_name(name)


def test_parts_are_trimmed_and_dots_stay_in_the_description() -> None:
    parsed = parse_returned_file_name("K7M2QX_ Hero v1.2 _fil-PH_ Metro Manila .JPG")
    assert parsed.model_dump() == {"tracking_id": "K7M2QX", "description": "Hero v1.2", "language": "fil-PH",
                                   "state": "Metro Manila", "extension": "JPG"}


def test_decomposed_unicode_is_read_composed() -> None:
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "K7M2QX_Bannière été_fr_Île-de-France.png")
    parsed = parse_returned_file_name(decomposed)
    assert (parsed.description, parsed.state) == ("Bannière été", "Île-de-France")
    assert unicodedata.is_normalized("NFC", parsed.description)


def test_the_convention_comes_from_its_file(tmp_path) -> None:
    dashes = tmp_path / "dashes.toml"
    dashes.write_text("pattern = '^(?P<tracking_id>[2-9A-HJKMNP-Z]{6})-(?P<description>.+)-(?P<language>[a-z]{2})"
                      "-(?P<state>[^-]+)\\.(?P<extension>[a-z]+)$'\n")
    assert parse_returned_file_name("K7M2QX-Hero-it-Lazio.jpg", dashes).state == "Lazio"
    with pytest.raises(FileNameError):
        parse_returned_file_name("K7M2QX_Hero_it_Lazio.jpg", dashes)
    partial = tmp_path / "partial.toml"
    partial.write_text("pattern = '^(?P<tracking_id>.{6})_(?P<description>.+)$'\n")
    with pytest.raises(ValueError, match=r"lacks the groups \['extension', 'language', 'state'\]"):
        parse_returned_file_name("K7M2QX_Hero.jpg", partial)
