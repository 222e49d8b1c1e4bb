from __future__ import annotations

import pytest

from domain.box_names import MAX_NAME_LENGTH, box_safe_name, campaign_folder_name, tracked_file_name

pytestmark = pytest.mark.fast


@pytest.mark.parametrize(("raw", "safe"), [
    ("Spring Launch", "Spring Launch"),
    ("Summer/Winter \\ Launch", "Summer_Winter _ Launch"),
    ("  padded  ", "padded"),
    ("tab\there\x00\x1f", "tabhere"),
    (".", "unnamed"),
    ("..", "unnamed"),
    ("", "unnamed"),
    ("Caf\u0065\u0301 日本", "Café 日本"),  # NFC-normalised, Unicode kept
])
def test_box_safe_name(raw: str, safe: str) -> None:
    assert box_safe_name(raw) == safe


def test_long_names_keep_their_extension() -> None:
    name = box_safe_name("x" * 400 + ".jpg")
    assert len(name) == MAX_NAME_LENGTH and name.endswith(".jpg")
    assert len(box_safe_name("y" * 400)) == MAX_NAME_LENGTH


def test_campaign_and_file_names() -> None:
    assert campaign_folder_name("C000000078", "Spring/Launch") == "C000000078-Spring_Launch"
    assert campaign_folder_name("C1", "N", suffix="-Revisions") == "C1-N-Revisions"
    assert campaign_folder_name("C1", "N", prefix="MASTERS_") == "MASTERS_C1-N"
    assert tracked_file_name("AB23CD", "hero.jpg") == "AB23CD_hero.jpg"


@pytest.mark.parametrize("dam_name", ["AB23CD_hero.jpg", "ab23cd_hero.jpg", "AB23CD_AB23CD_hero.jpg"])
def test_a_file_name_carries_its_tracking_id_once(dam_name: str) -> None:
    assert tracked_file_name("AB23CD", dam_name) == "AB23CD_hero.jpg"


def test_another_ids_prefix_is_part_of_the_name() -> None:
    assert tracked_file_name("AB23CD", "ZZ99ZZ_hero.jpg") == "AB23CD_ZZ99ZZ_hero.jpg"
