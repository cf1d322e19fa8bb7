"""NLP enrichment: conditions known only from text vs structured sources, by service."""

from __future__ import annotations

from datetime import date

import pytest

from hopia.data.quality.enrichment import enrichment_report
from tests.conftest import ENGINES
from tests.data.quality.builders import warehouse
from tests.data.rows import EHR, NLP, Rows

DIABETES, HYPERTENSION, ASTHMA = 201826, 320128, 317009
ER_VISIT = 9203
DAY = date(2023, 2, 1)


@pytest.mark.parametrize("engine", ENGINES)
def test_text_only_conditions_by_service(engine: str, tmp_path) -> None:
    rows = Rows()
    for pid, sex, year in [(1, "M", 1950), (2, "F", 1960), (3, "F", 1970)]:
        rows.person(pid, sex, date(year, 1, 1))
    rows.add("care_site", care_site_id=10, care_site_name="Cardiologie")
    rows.visit(1, DAY, date(2023, 2, 3), care_site_id=10)
    rows.visit(2, DAY, DAY, ER_VISIT)
    for pid, concept, kind, visit in [
        (1, DIABETES, EHR, 1),  # structured
        (1, DIABETES, NLP, 1),  # confirms it: not text-only
        (1, HYPERTENSION, NLP, 1),  # text only
        (2, ASTHMA, NLP, 2),  # text only, patient known only by text
        (3, DIABETES, EHR, None),  # structured, no visit
    ]:
        rows.condition(pid, concept, DAY, kind, visit_occurrence_id=visit)
    for pid in (1, 1, 2):
        rows.note(pid, DAY, "texte pseudonymisé")
    for note, affirmed in [(1, True), (1, False), (3, True)]:
        rows.mention(note, 0, date(2023, 2, 2), "diabete", term_exists="Y" if affirmed else "N")
    with warehouse(engine, tmp_path) as wh:
        report = enrichment_report(rows.write(wh))
    assert (report.persons, report.notes, report.notes_with_mentions) == (3, 3, 2)
    assert (report.mentions, report.mentions_affirmed) == (3, 2)
    assert report.condition_pairs_structured == 2
    assert report.condition_pairs_text == 3
    assert report.condition_pairs_text_only == 2
    assert report.persons_condition_text_only == 1
    conditions = report.domains[0]
    assert conditions.table == "condition_occurrence"
    assert (conditions.structured_rows, conditions.text_rows) == (2, 3)
    assert (conditions.persons_structured, conditions.persons_text) == (2, 2)
    services = {
        s.service: (
            s.persons,
            s.structured_rows,
            s.text_rows,
            s.text_only_rows,
            s.persons_text_only,
        )
        for s in report.services
    }
    assert services == {
        "Cardiologie": (1, 1, 2, 1, 1),
        "Urgences": (1, 0, 1, 1, 1),
        "Sans séjour": (1, 1, 0, 0, 0),
    }
    cardiology = next(s for s in report.services if s.service == "Cardiologie")
    assert round(cardiology.text_share, 1) == 66.7
    drugs = report.domains[1]
    assert (drugs.structured_rows, drugs.text_rows, drugs.persons_text_only) == (0, 0, 0)
