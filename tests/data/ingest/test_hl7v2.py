"""Hl7Reader: MDM and ORU messages, identity, escapes, and bad messages among good ones."""

from __future__ import annotations

from datetime import date

import pytest

from hopia.data.ingest.hl7v2 import Hl7Reader
from hopia.data.records import PatientIdentity, RawDocument, ReadFailure
from hopia.platform.exceptions import SourceError
from tests.data.ingest.conftest import assert_ingest_error


def seg(name: str, **fields: str) -> str:
    """One segment with its fields at their HL7 positions: ``seg("OBX", f5="texte")``."""
    values = {int(k[1:]): v for k, v in fields.items()}
    last = max(values, default=0)
    return "|".join([name, *(values.get(i, "") for i in range(1, last + 1))])


def msh(
    control_id: str, message_type: str = "MDM^T02^MDM_T02", when: str = "20240305103000"
) -> str:
    # MSH-1 is the field separator itself, so MSH-n sits at index n-1 of the split line.
    fields = ["MSH", "^~\\&", "DXCARE", "CHU-LYON", "HOPIA", "CHU-LYON", when, "", message_type]
    return "|".join([*fields, control_id, "P", "2.5"])


PID = seg(
    "PID",
    f1="1",
    f3="123456^^^CHU-LYON&1.2.250.1.999&ISO^PI~185037512345678^^^ASIP-SANTE-INS-NIR"
    "&1.2.250.1.213.1.4.8&ISO^INS",
    f5="DUPONT^Marie^^^Mme^^L",
    f7="19850312",
    f8="F",
    f11="12 rue des Lilas^Bât. B^Lyon^^69003^FRA",
    f13="0478123456^PRN^PH~^NET^Internet^marie.dupont@example.fr",
)
MDM = "\r".join(
    [
        msh("MSG0001"),
        seg("EVN", f1="T02", f2="20240305103000"),
        PID,
        seg("PV1", f2="I"),
        seg(
            "TXA",
            f1="1",
            f2="CRH^Compte rendu d'hospitalisation",
            f3="TX",
            f4="20240304",
            f9="12345^MARTIN^Jean^^^Dr",
            f12="DOC-2024-001",
            f17="AU",
            f22="67890^DURAND^Claire^^^Dr",
        ),
        seg(
            "OBX",
            f1="1",
            f2="TX",
            f3="CRH^Compte rendu",
            f5="Patiente admise pour fièvre à 39,5 °C.~Antécédents : asthme.",
            f11="F",
            f16="11111^LEROY^Paul",
        ),
        seg(
            "OBX",
            f1="2",
            f2="FT",
            f3="CRH",
            f5="Examen : TA 12\\S\\8\\.br\\Traitement : paracétamol \\T\\ repos \\F\\ hydratation."
            "\\.br\\Voir \\E\\dossier\\E\\.",
            f11="F",
        ),
        seg("OBX", f1="3", f2="NM", f3="TEMP", f5="39.5", f11="F"),
        seg("OBX", f1="4", f2="ST", f3="CONC", f5="Conclusion : pyélonéphrite aiguë.", f11="F"),
    ]
)
ORU = "\n".join(
    [
        msh("LAB0042", "ORU^R01^ORU_R01", when="20240310080000"),
        seg("PID", f1="1", f3="654321^^^CHU-LYON^PI", f5="MARTIN^Paul", f7="19500101", f8="M"),
        seg("OBR", f1="1", f4="BIO^Bilan biologique^L", f7="20240309141500"),
        seg(
            "OBX", f1="1", f2="ST", f3="CRP", f5="CRP à 48 mg/L, en baisse.", f16="2222^PETIT^Anne"
        ),
        seg("NTE", f1="1", f3="Prélèvement hémolysé."),
    ]
)


def _read(write, content: str | bytes, name: str = "messages.hl7") -> list:
    return list(Hl7Reader().read(write(name, content)))


def test_mdm_message_text_identity_and_metadata(write) -> None:
    path = write("cr.hl7", MDM)
    [doc] = Hl7Reader().read(path)
    assert isinstance(doc, RawDocument)
    assert doc.text == (
        "Patiente admise pour fièvre à 39,5 °C.\n"
        "Antécédents : asthme.\n"
        "Examen : TA 12^8\n"
        "Traitement : paracétamol & repos | hydratation.\n"
        "Voir \\dossier\\.\n"
        "Conclusion : pyélonéphrite aiguë."
    )
    assert doc.patient == PatientIdentity(
        ipp="123456",
        family_name="DUPONT",
        given_name="Marie",
        birth_date=date(1985, 3, 12),
        sex="F",
        nir="185037512345678",
        address="12 rue des Lilas, Bât. B",
        zip="69003",
        city="Lyon",
        phone="0478123456",
        email="marie.dupont@example.fr",
    )
    assert doc.patient_ipp == "123456"
    assert doc.doc_date == date(2024, 3, 4)  # TXA-4 before MSH-7
    assert doc.doc_type == "Compte rendu d'hospitalisation"
    assert doc.external_id == "DOC-2024-001"
    assert doc.staff == ("Jean MARTIN", "Claire DURAND", "Paul LEROY")
    assert (doc.format, doc.source_ref) == ("hl7v2", f"{path}#msg1")


def test_several_messages_one_document_each(write) -> None:
    path = write("lot.hl7", MDM + "\r" + ORU + "\n")
    first, second = Hl7Reader().read(path)
    assert first.source_ref == f"{path}#msg1" and second.source_ref == f"{path}#msg2"
    assert second.text == "CRP à 48 mg/L, en baisse.\nPrélèvement hémolysé."
    assert second.patient.ipp == "654321" and second.patient.sex == "M"
    assert second.doc_date == date(2024, 3, 9)  # OBR-7
    assert second.doc_type == "Bilan biologique"  # OBR-4 text
    assert second.external_id == "LAB0042"  # MSH-10 without TXA-12
    assert second.staff == ("Anne PETIT",)


def test_cp1252_file_with_mllp_framing(write) -> None:
    data = b"\x0b" + ORU.replace("\n", "\r").encode("cp1252") + b"\x1c\r"
    [doc] = _read(write, data)
    assert "CRP à 48 mg/L" in doc.text and "hémolysé" in doc.text


def test_bad_segment_fails_its_message_only(write) -> None:
    broken = MDM.replace("\rPV1|", "\rtexte égaré sans segment\rPV1|")
    path = write("lot.hl7", broken + "\r" + ORU)
    failure, doc = Hl7Reader().read(path)
    assert isinstance(failure, ReadFailure)
    assert failure.source_ref == f"{path}#msg1" and failure.format == "hl7v2"
    assert failure.reason == "segment invalide à la ligne 4"
    assert failure.raw.startswith(b"MSH|")
    assert isinstance(doc, RawDocument) and doc.source_ref == f"{path}#msg2"


def test_message_without_text_is_a_failure(write) -> None:
    no_text = "\r".join(line for line in MDM.split("\r") if not line.startswith("OBX|1|TX"))
    no_text = "\r".join(
        line for line in no_text.split("\r") if "|FT|" not in line and "|ST|" not in line
    )
    [failure] = _read(write, no_text)
    assert isinstance(failure, ReadFailure)
    assert failure.reason == "message sans texte (aucun OBX de type TX, FT ou ST)"


def test_unsupported_message_type_is_a_failure(write) -> None:
    adt = "\r".join([msh("ADT1", "ADT^A08^ADT_A01"), PID, seg("PV1", f2="I")])
    [failure] = _read(write, adt)
    assert failure.reason == "type de message non pris en charge : ADT^A08"


def test_message_without_ipp_is_a_failure(write) -> None:
    nameless = MDM.replace(PID, seg("PID", f1="1", f5="DUPONT^Marie"))
    [failure] = _read(write, nameless)
    assert failure.reason == "identifiant patient (IPP, PID-3) absent"


def test_content_before_first_msh_is_reported(write) -> None:
    path = write("lot.hl7", "FHS|^~\\&|DXCARE\rligne parasite\r" + ORU)
    failure, doc = Hl7Reader().read(path)
    assert failure.source_ref == f"{path}#L2"
    assert failure.reason == "contenu hors message avant le premier MSH"
    assert isinstance(doc, RawDocument)


def test_file_without_msh_is_refused(write) -> None:
    path = write("pas-hl7.hl7", "PID|1||123456\rOBX|1|TX|||texte\r")
    with pytest.raises(SourceError) as excinfo:
        list(Hl7Reader().read(path))
    assert_ingest_error(excinfo, "aucun segment MSH", path)


def test_binary_hl7_is_refused(write) -> None:
    path = write("binaire.hl7", b"MSH|^~\\&|\x00\x00\x00" + bytes(range(256)))
    with pytest.raises(SourceError) as excinfo:
        list(Hl7Reader().read(path))
    assert_ingest_error(excinfo, "fichier binaire ou corrompu (octets nuls)", path)


def test_empty_hl7_is_refused(write) -> None:
    path = write("vide.hl7", b"")
    with pytest.raises(SourceError) as excinfo:
        list(Hl7Reader().read(path))
    assert_ingest_error(excinfo, "fichier vide", path)


def test_stay_from_pv1(write) -> None:
    """PV1-19 visit number (NDA), PV1-44/45 admission and discharge, PV1-3 point of care."""
    pv1 = seg(
        "PV1",
        f1="1",
        f2="I",
        f3="CARDIO^204^B^CHU",
        f10="MED",
        f19="24001234^^^CHU^AN",
        f44="202403021015",
        f45="20240308",
    )
    [doc] = _read(write, MDM.replace(seg("PV1", f2="I"), pv1))
    assert (doc.visit_id, doc.service) == ("24001234", "CARDIO")
    assert (doc.visit_start, doc.visit_end) == (date(2024, 3, 2), date(2024, 3, 8))
    # Without PV1-3 the hospital service (PV1-10) names the unit; a discharge before the
    # admission is left out; no PV1-19, no stay.
    odd = seg("PV1", f2="I", f10="MED", f19="24001234", f44="20240308", f45="20240302")
    [doc] = _read(write, MDM.replace(seg("PV1", f2="I"), odd))
    assert (doc.service, doc.visit_start, doc.visit_end) == ("MED", date(2024, 3, 8), None)
    [doc] = _read(write, MDM)
    assert doc.visit_id is doc.visit_start is doc.visit_end is doc.service is None
