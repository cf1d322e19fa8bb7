"""The web's services refuse by themselves, whatever front end calls them: the role and
perimeter policy is asked by the service, and a refusal is audited."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from hopia.platform.access import Principal
from hopia.platform.config import get_settings
from hopia.platform.exceptions import AccessDeniedError
from hopia.platform.identity import store
from hopia.platform.identity.roles import SpacePolicy
from hopia.platform.warehouse import Warehouse
from hopia.services import documents, patients
from hopia.services.context import Context


def _context(wh: Warehouse, principal: Principal) -> Context:
    sites = store.perimeter_reader(wh.engine)
    ctx = Context(get_settings(), principal, SpacePolicy(sites, ["clinician"]))
    ctx._warehouse, ctx._owns_warehouse = wh, False
    return ctx


def _refusals(wh: Warehouse) -> int:
    with wh.engine.connect() as conn:
        q = "SELECT count(*) FROM hopia_meta.audit_log WHERE action = 'access.refused'"
        return conn.execute(text(q)).scalar_one()


def test_services_apply_the_space_policy(sample_copy: Warehouse) -> None:
    with sample_copy.engine.connect() as conn:
        person, note = conn.execute(
            text(
                "SELECT n.person_id, min(n.note_id) FROM omop.note n JOIN omop.visit_occurrence v "
                "ON v.person_id = n.person_id WHERE v.care_site_id = 2 GROUP BY n.person_id "
                "ORDER BY n.person_id LIMIT 1"
            )
        ).one()
    researcher = _context(sample_copy, Principal("r", frozenset({"researcher"})))
    before = _refusals(sample_copy)
    with pytest.raises(AccessDeniedError):
        documents.view_document(
            researcher, documents.DocumentViewRequest.of(note_id=note, space="identified")
        )
    with pytest.raises(AccessDeniedError):
        patients.view_patient(researcher, patients.PatientRequest.of(person_id=person))
    assert _refusals(sample_copy) == before + 2
    # The research view is the researcher's; the clinician of care site 2 reads the patient.
    view = documents.view_document(researcher, documents.DocumentViewRequest.of(note_id=note))
    assert view.space == "research"
    clinician = Principal("c", frozenset({"clinician"}), care_sites=frozenset({2}))
    seen = patients.view_patient(
        _context(sample_copy, clinician), patients.PatientRequest.of(person_id=person)
    )
    assert seen.person_id == person and any(s.care_site_id == 2 for s in seen.stays)
