"""Exports from the 40-patient warehouse: ids, generalisations, formats, manifest, audit. The
round trips (CSV = Parquet, an export loads back) run on the sample warehouse
(``test_sample.py``)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from fhir.resources.R4B import get_fhir_model_class
from sqlalchemy import select

from hopia.data.sharing import (
    Selection,
    ShareOptions,
    export,
    export_person_ids,
)
from hopia.data.sharing.export_omop import read_omop
from hopia.data.sharing.extract import extract
from hopia.platform import audit
from hopia.platform.exceptions import ReasonRequiredError, ShareRefusedError, SharingError
from hopia.platform.warehouse import Warehouse, schema
from tests.data.sharing.warehouse import (
    BNP,
    E10_HOLDERS,
    IDS,
    RARE_HOLDERS,
    REFERENCE,
    SECRET_STRINGS,
    fill,
)

SECRET = b"sharing-test-secret-0123456789ab"
EVERYONE = Selection(IDS, "persons:test", {"kind": "persons"})
SETTINGS = ShareOptions(reference_date=REFERENCE)
REASON = "étude ICARE, convention 2025-014"


def run(wh: Warehouse, out: Path, fmt: str, settings: ShareOptions = SETTINGS, **kw):  # noqa: ANN201
    return export(wh, EVERYONE, out, fmt, reason=REASON, secret=SECRET, options=settings, **kw)


def all_text(folder: Path) -> str:
    """Every exported value as text (Parquet decoded), to search for what must not leave."""
    parts = [p.read_text("utf-8") for p in folder.glob("*.json")]
    parts += [p.read_text("utf-8") for p in folder.glob("*.csv")]
    parts += (
        [
            read_omop(folder, "omop-parquet")[name].to_csv()
            for name in read_omop(folder, "omop-parquet")
        ]
        if any(folder.glob("*.parquet"))
        else []
    )
    return "\n".join(parts)


def test_omop_export_generalises_and_remaps(any_wh: Warehouse, tmp_path: Path) -> None:
    result = run(any_wh, tmp_path / "out", "omop-csv")
    tables = read_omop(result.folder, "omop-csv")
    report = result.report
    assert report.reached and report.after.k == 10 and report.after.l == 2
    assert report.levels == {"age": 1, "sex": 0, "postcode": 1, "diagnosis": 3}
    assert report.suppressed_persons == 0
    # person_id: fresh, never a warehouse id, consistent across tables
    persons = set(tables["person"]["person_id"])
    assert len(persons) == 40 and not persons & set(IDS)
    for name in ("condition_occurrence", "drug_exposure", "measurement", "death"):
        assert set(tables[name]["person_id"]) <= persons
    # the map is re-derivable in the research space from the secret and the audited salt
    with any_wh.engine.connect() as conn:
        entry = conn.execute(select(schema.audit_log)).one()
    salt = bytes.fromhex(json.loads(entry.details)["person_id_salt"])
    assert set(export_person_ids(SECRET, salt, IDS).values()) == persons
    # age → 5-year band (birth year of the band's middle), postcode → department
    assert set(tables["person"]["year_of_birth"]) == {2025 - 52, 2025 - 62}
    assert tables["person"][["month_of_birth", "day_of_birth"]].isna().all().all()
    assert sorted(tables["location"]["zip"]) == ["75", "92"]
    assert set(tables["location"]["state"]) == {"11"}
    assert tables["location"][["address_1", "city", "latitude"]].isna().all().all()
    assert set(tables["person"]["race_concept_id"]) == {0}


def test_rare_diagnoses_generalised_or_suppressed(wh: Warehouse, tmp_path: Path) -> None:
    result = run(wh, tmp_path / "out", "omop-csv")
    conditions = read_omop(result.folder, "omop-csv")["condition_occurrence"]
    codes = conditions["condition_source_value"]
    assert (codes == "E10").sum() == len(E10_HOLDERS)  # E10.1…E10.5 → category E10
    assert (conditions.loc[codes == "E10", "condition_concept_id"] == 0).all()
    assert not codes.str.startswith(("E10.", "Q87", "G71", "C47")).any()  # suppressed
    assert set(codes) == {"I50.9", "E11.9", "E10"}  # source text replaced by the code
    death = read_omop(result.folder, "omop-csv")["death"]
    assert list(death["cause_concept_id"]) == [0]  # died of Q87.4: cause withheld
    assert result.report.diagnoses == {"codes": 10, "kept": 2, "generalised": 5, "suppressed": 3}
    # all three rare holders are still exported, without their rare code
    assert len(read_omop(result.folder, "omop-csv")["person"]) == 40
    assert len(RARE_HOLDERS) == 3


def test_nothing_identifying_leaves(wh: Warehouse, tmp_path: Path) -> None:
    for fmt in ("omop-csv", "omop-parquet", "fhir"):
        folder = run(wh, tmp_path / fmt, fmt).folder
        text = all_text(folder)
        for secret in SECRET_STRINGS:
            assert secret not in text, (fmt, secret)
        assert "Marfan" not in text  # rare care site unlinked; note text and snippets not sent
    tables = read_omop(tmp_path / "omop-csv", "omop-csv")
    assert "note" not in tables
    assert tables["drug_exposure"][["sig", "lot_number", "provider_id"]].isna().all().all()
    assert list(tables["care_site"]["care_site_name"]) == ["Cardiologie"]
    modifiers = tables["note_nlp"]["term_modifiers"].map(json.loads)
    assert all(set(m) <= {"negation", "history"} for m in modifiers)  # codes removed


def test_notes_only_with_the_flag(wh: Warehouse, tmp_path: Path) -> None:
    result = run(
        wh, tmp_path / "out", "omop-csv", ShareOptions(reference_date=REFERENCE, with_notes=True)
    )
    notes = read_omop(result.folder, "omop-csv")["note"]
    assert len(notes) == 40 and notes["note_text"].notna().all()
    assert notes["note_source_value"].isna().all()
    assert result.manifest["policy"]["notes"] is True
    # the NLP mention of the rare diagnosis is dropped even when notes travel
    nlp = read_omop(result.folder, "omop-csv")["note_nlp"]
    assert "Marfan" not in set(nlp["lexical_variant"])


def test_manifest_hashes_and_audit_entry(wh: Warehouse, tmp_path: Path) -> None:
    result = run(wh, tmp_path / "out", "omop-parquet", actor="dr.martin")
    manifest = json.loads((result.folder / "manifest.json").read_text("utf-8"))
    assert manifest == json.loads(json.dumps(result.manifest, default=str))
    listed = {f["path"] for f in manifest["files"]}
    assert listed | {"manifest.json"} == {p.name for p in result.folder.iterdir()}
    for f in manifest["files"]:
        assert hashlib.sha256((result.folder / f["path"]).read_bytes()).hexdigest() == f["sha256"]
    assert manifest["anonymity"]["k_reached"] == 10 and manifest["anonymity"]["l_reached"] == 2
    assert manifest["created_by"] == "dr.martin" and manifest["reason"] == REASON
    assert manifest["hopia_version"]
    with wh.engine.connect() as conn:
        entry = conn.execute(select(schema.audit_log)).one()
        assert audit.verify(conn)
    details = json.loads(entry.details)
    assert (entry.action, entry.actor, entry.reason) == ("share.export", "dr.martin", REASON)
    assert details["export_id"] == manifest["export_id"]
    digest = hashlib.sha256((result.folder / "manifest.json").read_bytes()).hexdigest()
    assert details["manifest_sha256"] == digest
    assert details["k_reached"] == 10 and details["persons"] == 40


def test_fhir_bundles_validate_with_the_right_code_systems(wh: Warehouse, tmp_path: Path) -> None:
    result = run(wh, tmp_path / "out", "fhir", ShareOptions(reference_date=REFERENCE, per_bundle=8))
    bundles = sorted(result.folder.glob("bundle-*.json"))
    assert len(bundles) == 5
    bundle_model = get_fhir_model_class("Bundle")
    kinds: dict[str, int] = {}
    systems: dict[str, set[str]] = {}
    for path in bundles:
        bundle = bundle_model.model_validate_json(path.read_text("utf-8"))
        assert bundle.type == "collection"
        urls = {e.fullUrl for e in bundle.entry}
        for entry in bundle.entry:
            r = entry.resource
            kinds[r.get_resource_type()] = kinds.get(r.get_resource_type(), 0) + 1
            code = getattr(r, "code", None) or getattr(r, "medicationCodeableConcept", None)
            if code is not None and code.coding:
                systems.setdefault(r.get_resource_type(), set()).update(
                    c.system for c in code.coding
                )
            subject = getattr(r, "subject", None)
            if subject is not None:
                assert subject.reference in urls  # resolved inside the bundle
    assert kinds["Patient"] == 40 and kinds["Encounter"] == 40
    assert kinds["Condition"] == 85 and kinds["MedicationStatement"] == 40
    assert kinds["Observation"] == 40
    assert systems["Condition"] == {"http://hl7.org/fhir/sid/icd-10"}
    assert systems["MedicationStatement"] == {"http://www.whocc.no/atc"}
    assert systems["Observation"] == {"http://loinc.org"}
    first = json.loads(bundles[0].read_text("utf-8"))
    observation = next(
        e["resource"] for e in first["entry"] if e["resource"]["resourceType"] == "Observation"
    )
    assert observation["valueQuantity"]["system"] == "http://unitsofmeasure.org"
    assert observation["valueQuantity"]["code"] == "pg/mL"
    patient = first["entry"][0]["resource"]
    assert patient["birthDate"] in {"1973", "1963"} and patient["address"][0]["postalCode"] in {
        "75",
        "92",
    }


def test_invalid_resource_leaves_no_folder_and_no_audit(wh: Warehouse, tmp_path: Path) -> None:
    # A LOINC code with a double space is not a valid FHIR code.
    with wh.begin() as conn:
        conn.execute(
            schema.CDM["concept"]
            .update()
            .where(schema.CDM["concept"].c.concept_id == BNP)
            .values(concept_code="42637  9")
        )
    parent = tmp_path / "exports"
    parent.mkdir()
    with pytest.raises(SharingError, match=r"ressource FHIR invalide Observation/meas-\d+"):
        run(wh, parent / "out", "fhir")
    assert list(parent.iterdir()) == []  # neither the folder nor a partial sibling
    with wh.engine.connect() as conn:
        assert conn.execute(select(schema.audit_log)).all() == []


def test_refusal_is_audited_and_writes_nothing(wh: Warehouse, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(ShareRefusedError, match="k = 15 inatteignable"):
        run(wh, out, "omop-csv", ShareOptions(reference_date=REFERENCE, k=15))
    assert not out.exists()
    with wh.engine.connect() as conn:
        entry = conn.execute(select(schema.audit_log)).one()
    assert entry.action == "share.refused"
    assert json.loads(entry.details)["smallest_class"] == 10


def test_refuses_a_non_empty_target_and_a_missing_reason(wh: Warehouse, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(SharingError, match="n'est pas un dossier vide"):
        run(wh, out, "omop-csv")
    with pytest.raises(ReasonRequiredError, match="motif obligatoire"):
        export(wh, EVERYONE, tmp_path / "o2", "omop-csv", reason="court", secret=SECRET)
    assert (out / "keep.txt").read_text() == "x" and not (tmp_path / "o2").exists()


def test_unknown_person_ids_are_refused(wh: Warehouse, tmp_path: Path) -> None:
    selection = Selection([*IDS, 12345], "persons:x", {})
    with pytest.raises(SharingError, match="1 person_id de la sélection absent"):
        export(wh, selection, tmp_path / "o", "omop-csv", reason=REASON, secret=SECRET)


def test_identified_space_is_never_queried(tmp_path: Path) -> None:
    # Patients present only in hopia_id (no omop.person row) cannot be exported at all.
    wh = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    fill(wh)
    with wh.begin() as conn:
        conn.execute(
            schema.CDM["person"].delete().where(schema.CDM["person"].c.person_id == IDS[0])
        )
    with pytest.raises(SharingError, match="absent"):
        extract(wh, IDS)
    wh.close()


def test_requested_options_shape_the_export(any_wh: Warehouse, tmp_path: Path) -> None:
    # The requester drops sex and asks for dates to the month and 20-year age bands.
    options = ShareOptions(reference_date=REFERENCE, drop=("sex",), dates="mois", age_band=20)
    result = run(any_wh, tmp_path / "out", "omop-csv", options)
    tables = read_omop(result.folder, "omop-csv")
    assert result.report.levels["sex"] == 1 and result.report.levels["age"] >= 4
    assert set(tables["person"]["gender_concept_id"].astype(int)) == {0}
    assert tables["person"]["gender_source_value"].isna().all()
    for name, frame in tables.items():
        for column in [c for c in frame.columns if c.endswith("_date")]:
            days = {str(v)[8:10] for v in frame[column].dropna()}
            assert days <= {"01"}, (name, column, days)
    assert any(len(t) for t in tables.values())
    manifest = json.loads((result.folder / "manifest.json").read_text("utf-8"))
    assert manifest["options"] == {
        "age_band": 20,
        "geography": None,
        "drop": ["sex"],
        "dates": "mois",
    }
    assert "décalées" in " ".join(manifest["residual_risks"])  # the manifest is in French
    with pytest.raises(SharingError) as bad:
        run(any_wh, tmp_path / "bad", "omop-csv", ShareOptions(drop=("eye_colour",)))
    assert bad.value.fields == ("drop",) and not (tmp_path / "bad").exists()


# -- dates inside the notes' text (issue 11, finding 7: --dates coarsened the columns only) ------

DATED_NOTE = (
    "Vue en consultation le 12/03/2024 pour dyspnée. Hospitalisée du 3 mars 2024 au "
    "lundi 18 mars 2024 ; contrôle le 2024-04-02, puis le 05.04.24. Suivie depuis mars 2019, "
    "bilan le 1er avril. Dyspnée stable."
)


def _days_left(text: str) -> list[str]:
    """Every date of ``text`` that still gives its day, as the pseudonymiser reads dates."""
    from hopia.data.pseudo.rules import date_fields, find_dates, match_date
    from hopia.platform.text import fold

    left = []
    for span in find_dates(text, fold(text)):
        found = match_date(text[span.start : span.end])
        if found is None or date_fields(*found)[0] is not None:
            left.append(span.text)
    return left


def test_coarsened_note_dates_keep_no_day() -> None:
    from hopia.data.sharing.note_dates import coarsen

    assert _days_left(DATED_NOTE) != []  # the note does give days
    by_month = coarsen(DATED_NOTE, "mois")
    assert _days_left(by_month.text) == []
    assert "consultation le mars 2024 pour" in by_month.text
    assert "du mars 2024 au mars 2024" in by_month.text and "le avril 2024, puis" in by_month.text
    assert "depuis mars 2019" in by_month.text and "bilan le avril." in by_month.text
    by_year = coarsen(DATED_NOTE, "annee")
    assert _days_left(by_year.text) == [] and "mars" not in by_year.text
    assert "le 2024 pour" in by_year.text and "bilan le [date]." in by_year.text
    assert coarsen(DATED_NOTE, "jour").text == DATED_NOTE
    # A position after the dates moves with them; one before stays.
    word = DATED_NOTE.rindex("Dyspnée")
    moved = by_month.position(word)
    assert by_month.text[moved : moved + 7] == "Dyspnée" and by_month.position(5) == 5


def test_an_exported_note_keeps_no_exact_day_when_dates_are_coarsened(
    wh: Warehouse, tmp_path: Path
) -> None:
    note, nlp = schema.CDM["note"], schema.CDM["note_nlp"]
    start = DATED_NOTE.rindex("Dyspnée")
    with wh.begin() as conn:
        conn.execute(note.update().values(note_text=DATED_NOTE, note_title="CRH du 12/03/2024"))
        conn.execute(
            nlp.update().values(
                offset=f"{start}-{start + 7}", snippet="bilan le 1er avril. Dyspnée"
            )
        )
    options = ShareOptions(reference_date=REFERENCE, with_notes=True, dates="mois")
    result = run(wh, tmp_path / "out", "omop-csv", options)
    tables = read_omop(result.folder, "omop-csv")
    texts = list(tables["note"]["note_text"]) + list(tables["note"]["note_title"])
    assert len(texts) == 80 and all(_days_left(t) == [] for t in texts)
    assert "12/03/2024" not in all_text(result.folder) and "1er avril" not in all_text(
        result.folder
    )
    notes = dict(zip(tables["note"]["note_id"], tables["note"]["note_text"], strict=True))
    mentions = tables["note_nlp"]
    assert len(mentions) > 0
    for note_id, offset, snippet in zip(
        mentions["note_id"], mentions["offset"], mentions["snippet"], strict=True
    ):
        begin, end = (int(x) for x in offset.split("-"))
        assert notes[note_id][begin:end] == "Dyspnée"  # the mention still points at its word
        assert _days_left(snippet) == [] and "Dyspnée" in snippet
