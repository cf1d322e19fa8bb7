"""The account requests' own checks, before any warehouse is touched."""

from __future__ import annotations

import pytest

from hopia.platform.exceptions import InvalidRequestError
from hopia.services.accounts import CreateAccountRequest


@pytest.mark.parametrize("name", ["dr.martin", "810000000001", "a_b-c.d", "x" * 100])
def test_a_user_name_of_the_allowed_characters_is_taken(name: str) -> None:
    assert CreateAccountRequest.of(username=name, roles=["researcher"]).username == name


@pytest.mark.parametrize(
    "name", ["Dr Martin!", "dr martin", "é.dupont", "-abc", "a", "x" * 101, "dr.martin\n"]
)
def test_a_user_name_is_checked_whole_not_for_an_allowed_part(name: str) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        CreateAccountRequest.of(username=name, roles=["researcher"])
    assert refused.value.fields == ("username",)
