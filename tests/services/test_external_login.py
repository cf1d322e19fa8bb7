"""How the external login service reads a provider's claims: dotted paths through objects and
lists (Keycloak's realm_access.roles, Pro Santé Connect's exercices), the role mapping, the
user name. The whole login runs against a real provider in tests/web/test_oidc.py."""

from __future__ import annotations

from hopia.platform.config import OidcSettings
from hopia.services.external_login import claim_values, roles_from, username_from

PSC = {
    "SubjectNameID": "810000000001",
    "SubjectRefPro": {
        "exercices": [
            {"codeProfession": "10", "activities": [{"codeSecteurActivite": "SA07"}]},
            {"codeProfession": "60"},
        ]
    },
}


def test_claim_values_walk_objects_and_lists() -> None:
    assert claim_values({"realm_access": {"roles": ["a", "b"]}}, "realm_access.roles") == [
        "a",
        "b",
    ]
    assert claim_values(PSC, "SubjectRefPro.exercices.codeProfession") == ["10", "60"]
    assert claim_values(PSC, "SubjectRefPro.exercices.activities.codeSecteurActivite") == ["SA07"]
    assert claim_values({"sites": [1, 2], "flag": True}, "sites") == ["1", "2"]
    assert claim_values({"flag": True, "x": {"y": None}}, "flag") == []  # not a value
    assert claim_values({"x": {"y": None}}, "x.y") == [] and claim_values(PSC, "missing") == []
    assert claim_values(PSC, None) == []


def test_roles_come_only_through_the_mapping_and_only_known_roles() -> None:
    oidc = OidcSettings(
        role_mapping={"10": ["clinician"], "60": ["researcher", "superuser"], "admin": ["admin"]}
    )
    assert roles_from(oidc, ["10", "60"]) == ["clinician", "researcher"]  # superuser: unknown
    assert roles_from(oidc, ["Admin", "offline_access"]) == []  # exact values only
    assert roles_from(OidcSettings(), ["admin"]) == []  # no mapping: nothing granted


def test_user_names_are_valid_hopia_names() -> None:
    oidc = OidcSettings()
    assert username_from(oidc, {"preferred_username": "Jean.Dupont"}, "s") == "jean.dupont"
    assert username_from(oidc, {"preferred_username": "jean@chu.fr"}, "s") == "jean-chu.fr"
    assert username_from(oidc, {}, "f81d4fae-7dec") == "f81d4fae-7dec"  # the subject
    assert username_from(oidc, {"preferred_username": "Zoé Lê"}, "s") == "zoe-le"
    nothing = username_from(oidc, {"preferred_username": "@"}, "subject-1")
    assert nothing.startswith("oidc-") and len(nothing) == 17
    assert nothing != username_from(oidc, {"preferred_username": "@"}, "subject-2")
    psc = OidcSettings(username_claim="SubjectNameID")
    assert username_from(psc, PSC, "sub") == "810000000001"
