"""The role x action rules and the perimeter policy, without any web framework."""

from __future__ import annotations

import pytest

from hopia.platform.access import Principal
from hopia.platform.exceptions import AccessDeniedError
from hopia.platform.identity.roles import BREAK_GLASS, RULES, Role, SpacePolicy, may, rule_for

# Patient 7 has stays in cardiology (1) and the emergency ward (3); patient 8 in oncology (7).
STAYS = {7: {1, 3}, 8: {7}}
policy = SpacePolicy(lambda person, conn: STAYS.get(person, set()), break_glass_roles=["clinician"])


def who(*roles: str, sites: tuple[int, ...] = ()) -> Principal:
    return Principal("u", frozenset(roles), care_sites=frozenset(sites))


def test_every_role_has_rules_and_admin_no_patient_data() -> None:
    assert set(RULES) == set(Role)
    admin = who("admin")
    for action in ("document.research", "document.identified", "patient.identified", "cohort.run"):
        assert not may(admin, action)
    assert may(admin, "account.create") and may(admin, "audit.verify")


def test_a_clinician_sees_the_patients_of_the_perimeter_only() -> None:
    clinician = who("clinician", sites=(3,))
    policy.check(clinician, "patient.identified", "person:7")
    with pytest.raises(AccessDeniedError) as err:
        policy.check(clinician, "patient.identified", "person:8")
    assert err.value.details == {
        "action": "patient.identified",
        "outside_perimeter": True,
        "break_glass": True,
    }
    with pytest.raises(AccessDeniedError):
        policy.check(clinician, "document.research", "research")  # no research space
    with pytest.raises(AccessDeniedError):
        policy.check(who("clinician"), "patient.identified", "person:7")  # no perimeter at all


def test_breaking_the_glass_is_for_the_configured_roles() -> None:
    clinician = who("clinician", sites=(3,))
    policy.check(clinician, "patient.identified" + BREAK_GLASS, "person:8")
    strict = SpacePolicy(lambda person, conn: STAYS[person], break_glass_roles=[])
    with pytest.raises(AccessDeniedError) as err:
        strict.check(clinician, "patient.identified" + BREAK_GLASS, "person:8")
    assert "break_glass" not in err.value.details
    # Breaking the glass never adds an action the role does not have.
    with pytest.raises(AccessDeniedError):
        policy.check(who("researcher"), "patient.identified" + BREAK_GLASS, "person:8")


def test_researchers_and_dim_never_get_the_identified_patient_list() -> None:
    for role in ("researcher", "data_steward"):
        assert rule_for(Role(role), "cohort.run") is not None
        with pytest.raises(AccessDeniedError):
            policy.check(who(role), "cohort.patients", "cohort:x@1")


def test_unknown_roles_give_nothing() -> None:
    with pytest.raises(AccessDeniedError) as err:
        policy.check(who("operator"), "audit.verify", "audit_log")
    assert "non autorisée pour votre rôle (operator)" in err.value.message
