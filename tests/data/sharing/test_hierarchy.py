"""CIM-10 and geography ladders."""

from __future__ import annotations

import pytest

from hopia.data.sharing.hierarchy import (
    area,
    cim10_category,
    cim10_chapter,
    cim10_chapter_number,
    french_department,
    region,
)


@pytest.mark.parametrize(
    ("code", "category", "chapter", "number"),
    [
        ("E11.9", "E11", "E00-E90", "IV"),
        ("e119", "E11", "E00-E90", "IV"),
        ("D50", "D50", "D50-D89", "III"),
        ("D48.9", "D48", "C00-D48", "II"),
        ("H60.0", "H60", "H60-H95", "VIII"),
        ("T14.9", "T14", "S00-T98", "XIX"),
        ("U07.1", "U07", "U00-U99", "XXII"),
    ],
)
def test_cim10_ladder(code: str, category: str, chapter: str, number: str) -> None:
    assert cim10_category(code) == category
    assert cim10_chapter(code) == chapter
    assert cim10_chapter_number(code) == number


def test_not_cim10() -> None:
    assert cim10_category("65363002") is None
    assert cim10_chapter("diabetes") is None


@pytest.mark.parametrize(
    ("zip_code", "department", "region_code"),
    [
        ("75013", "75", "11"),
        ("69003", "69", "84"),
        ("20090", "2A", "94"),
        ("20200", "2B", "94"),
        ("97400", "974", "04"),
        ("98800", "988", "OM"),
    ],
)
def test_french_postcodes(zip_code: str, department: str, region_code: str) -> None:
    assert french_department(zip_code) == department
    assert area(zip_code, None, None) == department
    assert region(zip_code, None, "FR") == region_code


def test_us_postcodes_use_zip3_and_state() -> None:
    assert area("07901", "NJ", None) == "079"
    assert region("07901", "NJ", None) == "NJ"
    assert area("07901", None, "US") == "079"
