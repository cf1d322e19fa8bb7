"""The field-by-field cohort builder: the one function that compiles the form to the DSL (every
kind, the text qualifiers, exclusion, index and windows), reading a saved definition back into
rows (or saying what the form cannot show), the validator's errors put next to their field,
and the pages: rows added and removed by the server, check, save, load, run, CSRF and roles.
Expected counts are recounted from the warehouse with plain SQL."""

from __future__ import annotations

import re

import pytest
import yaml
from fastapi.testclient import TestClient

from hopia.data.cohorts import definition_hash, parse_definition
from hopia.platform.exceptions import CohortDefinitionError
from hopia.web.pages import cohort_form as cf
from tests.web.conftest import BASE, Web
from tests.web.test_ui_pages import REPO, _check_page

# --- the compile function -----------------------------------------------------------------


def _compile(form: cf.BuilderForm) -> dict:
    compiled = cf.compile_form(form)
    assert compiled.errors == {}
    return compiled.mapping


def _form(*rows: cf.Row, **top: str) -> cf.BuilderForm:
    return cf.BuilderForm(
        name=top.get("name", "essai"), title=top.get("title", "Essai"), rows=list(rows)
    )


def test_every_kind_compiles_to_its_dsl_criterion() -> None:
    form = _form(
        cf.Row(kind="diagnostic", codes="I50, I11.0", label="IC"),
        cf.Row(kind="diagnostic_prefixe", codes="E1"),
        cf.Row(kind="medicament", codes="C03C; C03CA01"),
        cf.Row(kind="biologie", codes="42637-9, créatinine", min="400", max="1,5"),
        cf.Row(kind="age", min="18", max="80"),
        cf.Row(kind="sexe", sex="F"),
        cf.Row(kind="texte", codes="fièvre", exact=True),
        cf.Row(role="exclusion", kind="diagnostic", codes="Z49"),
    )
    form.description = "Pour l'essai"
    mapping = _compile(form)
    assert mapping == {
        "format": 1,
        "name": "essai",
        "version": "1",
        "title": "Essai",
        "description": "Pour l'essai",
        "inclusion": [
            {"label": "IC", "condition": {"cim10": ["I50", "I11.0"]}},
            {"condition": {"cim10_prefixes": ["E1"]}},
            {"drug": {"atc": ["C03C", "C03CA01"]}},
            {
                "measurement": {
                    "loinc": ["42637-9"],
                    "source_values": ["créatinine"],
                    "value": {"ge": 400, "le": 1.5},
                }
            },
            {"demographics": {"age_min": 18, "age_max": 80}},
            {"demographics": {"sex": ["F"]}},
            {"text": {"terms": ["fièvre"], "match": "exact"}},
        ],
        "exclusion": [{"condition": {"cim10": ["Z49"]}}],
    }
    parsed = parse_definition(mapping)  # the DSL's own validator accepts it
    assert [c.kind for c in parsed.inclusion] == [
        "condition",
        "condition",
        "drug",
        "measurement",
        "demographics",
        "demographics",
        "text",
    ]
    assert parsed.exclusion[0].condition.cim10 == ["Z49"]


@pytest.mark.parametrize(
    ("qualifier", "mode"),
    [(q, m) for q in ("negation", "hypothesis", "family", "history") for m in ("include", "only")],
)
def test_a_text_qualifier_is_written_only_when_it_is_not_the_default(
    qualifier: str, mode: str
) -> None:
    row = cf.Row(kind="texte", codes="insuffisance cardiaque", **{qualifier: mode})
    mapping = _compile(_form(row))
    text = mapping["inclusion"][0]["text"]
    assert text == {"terms": ["insuffisance cardiaque"], qualifier: mode}
    parsed = parse_definition(mapping).inclusion[0].text
    others = {"negation", "hypothesis", "family", "history"} - {qualifier}
    assert getattr(parsed, qualifier).value == mode
    assert all(getattr(parsed, q).value == "exclude" for q in others)
    affirmed = _compile(_form(cf.Row(kind="texte", codes="fièvre")))
    assert affirmed["inclusion"][0]["text"] == {"terms": ["fièvre"]}  # affirmed: the default


def test_an_index_row_windows_and_dates() -> None:
    form = _form(
        cf.Row(role="index", kind="texte", codes="insuffisance cardiaque", label="Mention"),
        cf.Row(kind="medicament", codes="C03C", window_start="-90", window_end="90"),
        cf.Row(kind="diagnostic", codes="I10", date_from="2020-01-01", date_to="2024-12-31"),
    )
    mapping = _compile(form)
    assert mapping["index"] == {"label": "Mention", "text": {"terms": ["insuffisance cardiaque"]}}
    assert mapping["inclusion"] == [
        {"drug": {"atc": ["C03C"]}, "window": {"start": -90, "end": 90}},
        {"condition": {"cim10": ["I10"]}, "date_from": "2020-01-01", "date_to": "2024-12-31"},
    ]
    parsed = parse_definition(mapping)
    assert parsed.index.text.terms == ["insuffisance cardiaque"]
    assert parsed.inclusion[0].window.start == -90


def test_what_the_dsl_cannot_hold_is_refused_by_field() -> None:
    two = _form(
        cf.Row(role="index", kind="diagnostic", codes="I50"),
        cf.Row(role="index", kind="medicament", codes="C03C"),
        cf.Row(role="index", kind="age", min="18"),
    )
    errors = cf.compile_form(two).errors
    assert set(errors) == {"c-1-role", "c-2-kind"}
    assert "un seul événement index" in errors["c-1-role"]
    assert cf.compile_form(_form(cf.Row(kind="age", min="18"))).errors == {}


def _validator_message(form: cf.BuilderForm) -> str:
    with pytest.raises(CohortDefinitionError) as caught:
        parse_definition(_compile(form))
    return caught.value.message


def test_the_validators_errors_land_next_to_their_fields() -> None:
    form = _form(
        cf.Row(role="exclusion", kind="diagnostic", codes="I50 !"),
        cf.Row(kind="age", min="dix-huit"),
        cf.Row(kind="medicament", codes=""),
        cf.Row(kind="diagnostic", codes="I10", window_start="0", window_end="30"),
        name="Pas Valide",
    )
    by_field, general = cf.errors_by_field(form, _validator_message(form))
    # exclusion[0] is row 0; inclusion[0], [1], [2] are rows 1, 2, 3
    assert "nombre entier attendu" in by_field["c-1-min"]
    assert "au moins un de" in by_field["c-2-kind"]
    assert "format invalide" in by_field["nom"]
    assert "CIM-10" in by_field["c-0-codes"]
    assert not general or all("fenêtre" in g for g in general)
    window = _form(cf.Row(kind="diagnostic", codes="I10", window_start="0", window_end="30"))
    by_field, general = cf.errors_by_field(window, _validator_message(window))
    assert general and general[0].startswith("une fenêtre (window) est relative") and not by_field


def test_a_saved_definition_reads_back_into_the_same_rows() -> None:
    form = _form(
        cf.Row(role="index", kind="texte", codes="insuffisance cardiaque", history="include"),
        cf.Row(kind="age", min="18", label="Adulte"),
        cf.Row(kind="biologie", codes="42637-9", min="400", window_start="-30", window_end="30"),
        cf.Row(kind="texte", codes="fièvre", negation="only", exact=True),
        cf.Row(role="exclusion", kind="diagnostic_prefixe", codes="Z49, Z99"),
        cf.Row(role="exclusion", kind="sexe", sex="M"),
    )
    form.reference_date = ""
    first = parse_definition(_compile(form))
    saved = first.model_dump(mode="json", by_alias=True, exclude_none=True)  # as stored
    again, missing = cf.from_definition(saved)
    assert missing is None and again is not None
    assert again.rows == form.rows
    assert definition_hash(parse_definition(_compile(again))) == definition_hash(first)


@pytest.mark.parametrize(
    ("criterion", "why"),
    [
        ({"any_of": [{"condition": {"cim10": ["I50"]}}]}, "any_of"),
        ({"condition": {"cim10": ["I50"]}, "count": {"min": 2}}, "count"),
        ({"visit": {"types": ["emergency"]}}, "visit"),
        ({"measurement": {"loinc": ["42637-9"], "value": {"gt": 400}}}, "gt"),
        ({"condition": {"cim10": ["I50"], "include_history": False}}, "include_history"),
        ({"text": {"labels": ["diabetes"]}}, "labels"),
        ({"demographics": {"age_min": 18, "sex": ["F"]}}, "sexe"),
    ],
)
def test_what_the_form_cannot_show_is_named(criterion: dict, why: str) -> None:
    mapping = {"name": "x", "title": "X", "inclusion": [criterion]}
    saved = parse_definition(mapping).model_dump(mode="json", by_alias=True, exclude_none=True)
    form, missing = cf.from_definition(saved)
    assert form is None and missing and why in missing


def test_posted_fields_parse_into_rows_and_forged_choices_fall_back() -> None:
    posted = {
        "nom": " essai ",
        "titre": "Essai",
        "c-0-role": "exclusion",
        "c-0-kind": "texte",
        "c-0-codes": "fièvre",
        "c-0-negation": "only",
        "c-0-exact": "oui",
        "c-1-kind": "sql_brut",
        "c-1-role": "tout",
        "c-1-history": "toujours",
    }
    form = cf.parse_fields(posted, 2)
    assert form.name == "essai" and len(form.rows) == 2
    assert form.rows[0] == cf.Row(
        role="exclusion", kind="texte", codes="fièvre", negation="only", exact=True
    )
    assert (form.rows[1].kind, form.rows[1].role, form.rows[1].history) == (
        "diagnostic",
        "inclusion",
        "exclude",
    )
    assert len(cf.parse_fields(posted, 10_000).rows) == cf.MAX_ROWS


# --- the pages ----------------------------------------------------------------------------


def _token(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _post(client: TestClient, token: str, rows: list[dict[str, str]], **fields: str):
    data = {"csrf": token, "lignes": str(len(rows)), **fields}
    for i, row in enumerate(rows):
        data.update({f"c-{i}-{k}": v for k, v in row.items()})
    return client.post("/cohorts/formulaire", data=data, follow_redirects=False)


FEVER = {"kind": "texte", "codes": "fièvre", "negation": "only", "label": "Fièvre niée"}
ADULT = {"kind": "age", "min": "18", "label": "Adulte"}
DIALYSIS = {"role": "exclusion", "kind": "diagnostic", "codes": "Z49", "label": "Dialyse"}


def test_rows_are_added_and_removed_by_the_server(web: Web) -> None:
    client = web.clients["researcher"]
    page = client.get("/cohorts")
    assert page.status_code == 200
    _check_page(page.text)
    assert 'name="c-0-kind"' in page.text and 'name="c-1-kind"' not in page.text
    token = _token(page.text)
    added = _post(client, token, [FEVER], action="ajouter", nom="essai")
    assert added.status_code == 200
    _check_page(added.text)
    assert 'name="c-1-kind"' in added.text and 'value="fièvre"' in added.text
    assert 'value="essai"' in added.text  # what was typed stays
    assert 'name="c-1-kind" class="nature" autofocus' in added.text  # the new row has focus
    removed = _post(client, token, [ADULT, FEVER], action="retirer-0")
    assert 'name="c-1-kind"' not in removed.text and 'value="fièvre"' in removed.text
    assert 'value="18"' not in removed.text


def test_an_invalid_form_says_why_next_to_the_field(web: Web) -> None:
    client = web.clients["researcher"]
    token = _token(client.get("/cohorts").text)
    bad = _post(
        client,
        token,
        [{"kind": "age", "min": "dix-huit"}, {"kind": "diagnostic", "codes": "I50 !"}],
        action="verifier",
        nom="essai",
        titre="Essai",
    )
    assert bad.status_code == 422
    _check_page(bad.text)
    age = re.search(r'<p class="erreur champ" id="erreur-c-0-min">([^<]+)</p>', bad.text)
    assert age and "nombre entier attendu" in age.group(1)
    assert 'aria-describedby="erreur-c-0-min"' in bad.text
    assert re.search(r'id="erreur-c-1-codes">[^<]*CIM-10', bad.text)
    assert "YAML généré" in bad.text and "age_min: dix-huit" in bad.text
    two = _post(
        client,
        token,
        [{"role": "index", **FEVER}, {"role": "index", **FEVER}],
        action="verifier",
        nom="essai",
        titre="Essai",
    )
    assert two.status_code == 422 and 'id="erreur-c-1-role"' in two.text


def test_a_cohort_built_field_by_field_is_saved_loaded_and_run(web: Web) -> None:
    client = web.clients["researcher"]
    token = _token(client.get("/cohorts").text)
    rows = [ADULT, FEVER, DIALYSIS]
    top = {"nom": "fievre_niee", "titre": "Fièvre niée", "description": "essai du formulaire"}
    checked = _post(client, token, rows, action="verifier", **top)
    assert checked.status_code == 200, checked.text[:500]
    assert "Définition valide : fievre_niee version 1, 4 étape(s)" in checked.text
    generated = re.search(r'<pre class="yaml genere">(.*?)</pre>', checked.text, re.S).group(1)
    mapping = yaml.safe_load(generated.replace("&#39;", "'").replace("&quot;", '"'))
    assert mapping["inclusion"][1] == {
        "label": "Fièvre niée",
        "text": {"terms": ["fièvre"], "negation": "only"},
    }
    saved = _post(client, token, rows, action="enregistrer", **top)
    assert saved.status_code == 303 and saved.headers["location"] == "/cohorts?nom=fievre_niee"
    stored = yaml.safe_load((web.settings.home / "cohorts" / "fievre_niee.yaml").read_text())
    assert stored["inclusion"][1]["text"]["negation"] == "only"
    loaded = client.get("/cohorts?nom=fievre_niee").text
    _check_page(loaded)
    assert "ne sait pas montrer" not in loaded and '<details class="avance">' in loaded
    assert re.search(r'id="c-1-negation"[^>]*>.*?<option value="only" selected>', loaded, re.S)
    assert 'id="c-2-codes" name="c-2-codes" value="Z49"' in loaded
    assert re.search(r'id="c-2-role"[^>]*>.*?<option value="exclusion" selected>', loaded, re.S)

    ran = client.post("/cohorts/fievre_niee/run", data={"csrf": token})
    assert ran.status_code == 200
    _check_page(ran.text)
    negated = web.sql(
        "select count(distinct n.person_id) from omop.note_nlp x join omop.note n "
        "on n.note_id = x.note_id join omop.person p on p.person_id = n.person_id "
        "where lower(x.lexical_variant) like '%fièvre%' "
        "and json_extract_string(x.term_modifiers, '$.negation') = 'true' "
        "and json_extract_string(x.term_modifiers, '$.hypothesis') = 'false' "
        "and json_extract_string(x.term_modifiers, '$.family') = 'false' "
        "and json_extract_string(x.term_modifiers, '$.history') = 'false' "
        "and extract(year from current_date) - p.year_of_birth > 18"
    )[0][0]
    assert negated >= 10, "the sample has a demo-size cohort of negated fever"
    cells = re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td><td>([^<]+)</td>", ran.text)
    labels = [c[1].replace("&#39;", "'") for c in cells]
    assert labels == ["Personnes de l'entrepôt", "Adulte", "Fièvre niée", "Dialyse"]
    people = web.sql("select count(*) from omop.person")[0][0]
    assert cells[0][2] == str(people)
    assert cells[-1][2] == str(negated)  # nobody has a dialysis code in the sample
    assert ran.text.count('<svg class="barres"') >= 2  # age and sex charts, at least


def test_a_definition_the_form_cannot_show_opens_in_the_yaml_mode(web: Web) -> None:
    client = web.clients["data_steward"]
    token = _token(client.get("/cohorts").text)
    text = (REPO / "configs" / "cohorts" / "insuffisance_cardiaque.yaml").read_text()
    client.post("/cohorts", data={"definition": text, "action": "enregistrer", "csrf": token})
    page = client.get("/cohorts?nom=insuffisance_cardiaque")
    assert page.status_code == 200
    assert "ne sait pas montrer" in page.text and "any_of" in page.text
    assert '<details class="avance" open>' in page.text
    assert '<details class="avance">' in client.get("/cohorts").text  # closed by default
    assert '<details class="avance" open>' in client.get("/cohorts?mode=yaml").text
    assert "insuffisance_cardiaque" in re.search(
        r"<textarea id=\"definition\".*?</textarea>", page.text, re.S
    ).group(0)


def test_the_form_needs_its_token_and_a_role_that_may_define_cohorts(web: Web) -> None:
    client = web.clients["researcher"]
    forged = _post(client, "", [ADULT], action="verifier", nom="essai", titre="Essai")
    assert forged.status_code == 403 and "autre site" in forged.text
    for role in ("clinician", "manager", "admin"):
        other = web.clients[role]
        token = _token(other.get("/jobs").text)
        refused = _post(other, token, [ADULT], action="enregistrer", nom="refus", titre="Refus")
        assert refused.status_code == 403, role
        assert "non autorisée" in refused.text
    assert not (web.settings.home / "cohorts" / "refus.yaml").exists()
    anonymous = TestClient(web.app, base_url=BASE, follow_redirects=False)
    assert _post(anonymous, "x", [ADULT], action="verifier").status_code == 403  # no token pair
