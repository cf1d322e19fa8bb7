"""The one reason rule and the access-policy hook."""

from __future__ import annotations

import pytest

from hopia.platform.access import (
    MIN_REASON_CHARS,
    LocalOperatorPolicy,
    Principal,
    Purpose,
    RolePolicy,
    check_reason,
)
from hopia.platform.exceptions import AccessDeniedError, ReasonRequiredError


@pytest.mark.parametrize("reason", [None, "", "   ", "curiosité", "a\n b \t c d"])
@pytest.mark.parametrize("purpose", list(Purpose))
def test_short_or_missing_reasons_are_refused(reason: str | None, purpose: Purpose) -> None:
    with pytest.raises(ReasonRequiredError, match=f"au moins {MIN_REASON_CHARS} caractères") as e:
        check_reason(reason, purpose)
    assert e.value.fields == ("reason",) and e.value.http_status == 422
    assert "--" not in e.value.message  # the front end names its own option


def test_a_reason_is_normalised() -> None:
    assert check_reason("  Demande   du DIM\n n° 12 ", Purpose.SHARE) == "Demande du DIM n° 12"


def test_the_actor_is_the_requester_named_by_the_operator() -> None:
    local = Principal.local()
    assert local.actor == local.user and "operator" in local.roles
    assert Principal.local("Dr Martin (DIM)").actor == "Dr Martin (DIM)"
    assert Principal.local("   ").actor == local.user


def test_local_policy_lets_the_operator_do_everything() -> None:
    policy = LocalOperatorPolicy()
    policy.check(Principal.local(), "reidentify", "note:1")
    with pytest.raises(AccessDeniedError, match="rôle opérateur requis"):
        policy.check(Principal("web", frozenset({"researcher"})), "reidentify", "note:1")


def test_role_policy_by_action_prefix() -> None:
    policy = RolePolicy({"researcher": ["cohort.run", "quality."], "dim": ["*"]})
    researcher = Principal("alice", frozenset({"researcher"}))
    policy.check(researcher, "cohort.run", "cohort:x")
    policy.check(researcher, "quality.run", "warehouse")
    with pytest.raises(AccessDeniedError, match="cohort.patients.*researcher") as e:
        policy.check(researcher, "cohort.patients", "cohort:x")
    assert e.value.http_status == 403
    policy.check(Principal("bob", frozenset({"dim"})), "reidentify", "note:1")
