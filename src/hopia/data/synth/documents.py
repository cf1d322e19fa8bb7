"""Document templates: hospital stay report (CRH), consultation, emergency visit; and the
dispatch that decides which documents a visit produces.

Operative reports, prescriptions and lab reports live in :mod:`.documents_short`.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from . import vocab
from .annotate import DocBuilder
from .documents_short import SERVICE_LABS, biologie, cro, markers, ordonnance
from .model import Clinician, SynthDocument, SynthPatient, Visit
from .narrative import FOLLOW_TEXT, conclusion, evolution, exam, follow_up, story, workup
from .phrasing import Ctx, cond, de, drug, feminine, patient_name, when
from .sections import (
    CANCERS,
    allergies,
    antecedents,
    family_history,
    header,
    labs_line,
    lifestyle,
    patient_block,
    signature,
    treatment_list,
    vitals,
)
from .vocab_drugs import TREATMENTS

ARRIVALS = ("SAMU", "pompiers", "moyens personnels", "ambulance privée")


def _make(ctx: Ctx, b: DocBuilder, kind: str, author: Clinician) -> SynthDocument:
    text, phi, facts = b.build()
    return SynthDocument(
        id="",
        text=text,
        patient_id=ctx.patient.ipp,
        date=ctx.when,
        type=kind,
        service=ctx.service,
        phi=phi,
        facts=facts,
        nda=ctx.visit.nda,
        visit_start=ctx.visit.start,
        visit_end=ctx.visit.end,
        author=author,
    )


def _labs_for(ctx: Ctx) -> list[str]:
    """Analytes quoted in a report: the episode's abnormal ones first, then a few usual ones."""
    usual = list(SERVICE_LABS[ctx.service])
    ctx.rng.shuffle(usual)
    keys = [k for k in markers(ctx) if k in ctx.visit.labs] + usual[
        : ctx.rng.randint(3, len(usual))
    ]
    return list(dict.fromkeys(keys))


def crh(ctx: Ctx) -> SynthDocument:
    """Compte rendu d'hospitalisation, written at discharge."""
    p, v, ep = ctx.patient, ctx.visit, ctx.visit.episode
    assert ep is not None
    b = DocBuilder()
    header(
        b,
        ctx,
        ctx.pick(
            (
                "COMPTE RENDU D'HOSPITALISATION",
                "Compte rendu d'hospitalisation",
                "COMPTE-RENDU D'HOSPITALISATION",
            )
        ),
    )
    patient_block(b, ctx)
    b.line()
    stay = ctx.g("Hospitalisé", "Hospitalisée")
    b.line(f"{stay} du {{a}} au {{e}}.", a=when(ctx, v.start), e=when(ctx, v.end))
    if ctx.chance(0.5):
        b.line()
        b.line(ctx.pick(("Cher confrère,", "Chère consœur, cher confrère,", "Cher ami,")))
        b.add("Votre ").add(ctx.g("patient ", "patiente ")).seq(patient_name(ctx), sep="")
        b.line(f" a été {stay.lower()} dans notre service. Voici le compte rendu de son séjour.")
    b.section(ctx.pick(("Motif d'hospitalisation", "Motif de l'hospitalisation", "Motif")))
    b.line("{c}.", c=cond(ctx, ep.key, capital=True))
    antecedents(b, ctx)
    if ctx.chance(0.7):
        family_history(b, ctx)
    if ctx.chance(0.5):
        allergies(b, ctx)
    lifestyle(b, ctx)
    treatment_list(
        b,
        ctx,
        p.treatments,
        ctx.pick(("Traitement à l'entrée", "Traitement en cours", "Traitement habituel")),
    )
    story(b, ctx, ep)
    exam(b, ctx, ep)
    workup(b, ctx, ep, _labs_for(ctx))
    evolution(b, ctx, ep)
    conclusion(b, ctx, ep)
    treatment_list(b, ctx, v.discharge_drugs, "Traitement de sortie")
    follow_up(b, ctx)
    signature(b, ctx, v.physician)
    return _make(ctx, b, "CRH", v.physician)


def consultation(ctx: Ctx) -> SynthDocument:
    """Follow-up consultation letter to the general practitioner."""
    p, v = ctx.patient, ctx.visit
    key = v.follow or (p.conditions[0] if p.conditions else "hta")
    service_name = vocab.SERVICES[ctx.service][0]
    b = DocBuilder()
    header(
        b,
        ctx,
        ctx.pick(
            (
                "COMPTE RENDU DE CONSULTATION",
                f"Consultation de {service_name}",
                "COURRIER DE CONSULTATION",
            )
        ),
    )
    patient_block(b, ctx, nda=ctx.chance(0.5))
    b.line()
    b.line(ctx.pick(("Cher confrère,", "Chère consœur,", "Cher collègue,")))
    b.add("J'ai revu en consultation le {d} ", d=when(ctx, ctx.when))
    b.add(ctx.g("votre patient ", "votre patiente ")).seq(patient_name(ctx), sep="")
    b.add(f", {p.age_at(ctx.when)} ans, pour le suivi ")
    main = cond(ctx, key)
    b.line("{de}{c}.", de=de(main.text), c=main)
    antecedents(b, ctx)
    treatment_list(b, ctx, p.treatments, ctx.pick(("Traitement actuel", "Traitement en cours")))
    b.section(ctx.pick(("Depuis la dernière consultation", "Histoire récente", "Évolution")))
    topic = (
        "cancer" if key in CANCERS else "postop" if ctx.service == "chirurgie_digestive" else key
    )
    for line in FOLLOW_TEXT.get(topic, FOLLOW_TEXT["hta"]):
        b.line(line)
    symptoms = ("dyspnee", "douleur_thor", "oedeme", "fievre", "perte_poids", "vertiges")
    c = cond(ctx, ctx.pick(symptoms), negated=True)
    b.line(ctx.pick(("Pas {de}{c}.", "Absence {de}{c}.")), de=de(c.text), c=c)
    b.section("Examen clinique")
    vitals(b, ctx)
    b.line(
        ctx.pick(("Examen clinique sans particularité.", "Auscultation cardio-pulmonaire normale."))
    )
    if ctx.chance(0.7):
        b.section("Examens complémentaires")
        labs_line(b, ctx, v.labs, _labs_for(ctx), ctx.when - timedelta(days=ctx.rng.randint(2, 10)))
    if key in CANCERS:
        regimen = [d for d, _ in p.treatments if d in TREATMENTS.get(key, ((), 0))[0]]
        if regimen:
            b.section("Traitement oncologique")
            b.line(f"Cure n°{ctx.rng.randint(2, 9)} ce jour :")
            for d in regimen:
                b.add("- ").piece(drug(ctx, d, 0, style=0)).line()
    b.section(ctx.pick(("Conclusion", "Au total")))
    c = cond(ctx, key, capital=True)
    state = ctx.pick(("stable", "bien contrôlée" if feminine(c.text) else "bien contrôlé", "suivi"))
    b.line(f"{{c}} : {state}.", c=c)
    if ctx.chance(0.5) and p.conditions:
        other = cond(ctx, ctx.pick(p.conditions), history=True)
        b.line("Par ailleurs, antécédent {de}{c} à surveiller.", de=de(other.text), c=other)
    later = ctx.when + timedelta(days=ctx.rng.randint(60, 180))
    b.line("Prochain rendez-vous le {d}.", d=when(ctx, later))
    b.line("Bien confraternellement.")
    signature(b, ctx, v.physician, copy_gp=False)
    return _make(ctx, b, "consultation", v.physician)


def urgences(ctx: Ctx, *, admitted: bool) -> SynthDocument:
    """Emergency department record; the diagnosis is only suspected when the patient is admitted."""
    p, v, ep = ctx.patient, ctx.visit, ctx.visit.episode
    assert ep is not None
    doctor = ctx.pick(ctx.staff["urgences"])
    b = DocBuilder()
    header(
        b,
        ctx,
        ctx.pick(("DOSSIER DE PASSAGE AUX URGENCES", "Compte rendu de passage aux urgences")),
    )
    patient_block(b, ctx)
    b.line()
    hour = f"{ctx.rng.randint(0, 23):02d}h{ctx.rng.randint(0, 59):02d}"
    b.line(f"Arrivée le {{d}} à {hour}.", d=when(ctx, v.start))
    b.line(f"Mode d'arrivée : {ctx.pick(ARRIVALS)}.")
    if ep.symptoms:
        b.line("Motif de recours : {c}.", c=cond(ctx, ep.symptoms[0], capital=True))
    antecedents(b, ctx)
    treatment_list(b, ctx, p.treatments, "Traitement habituel")
    story(b, ctx, ep, emergency=True)
    exam(b, ctx, ep)
    b.line(f"FR {ctx.rng.randint(14, 26)}/min. EVA {ctx.rng.randint(0, 8)}/10.")
    workup(b, ctx, ep, _labs_for(ctx))
    conclusion(b, ctx, ep, suspected=admitted)
    b.section("Orientation")
    if admitted:
        b.line(f"Hospitalisation en {vocab.SERVICES[v.service][0].lower()}.")
    else:
        b.line(
            ctx.pick(("Retour à domicile.", "Retour à domicile avec consignes de surveillance."))
        )
        if ep.drugs:
            b.section("Traitement de sortie")
            for key in ep.drugs:
                b.add("- ").piece(drug(ctx, key, 0)).line()
        b.add("Consulter son médecin traitant ").add(
            ctx.pick(("sous 48 heures.", "en cas d'aggravation."))
        )
        b.line()
    signature(b, ctx, doctor)
    return _make(ctx, b, "urgences", doctor)


def visit_documents(
    rng: random.Random, patient: SynthPatient, visit: Visit, staff: dict[str, list[Clinician]]
) -> list[SynthDocument]:
    """All documents a visit produces, in chronological order."""

    def ctx(day: date, service: str | None = None) -> Ctx:
        return Ctx(rng, patient, visit, staff, day, service or visit.service)

    docs: list[SynthDocument] = []
    if visit.via_urgences:
        docs.append(urgences(ctx(visit.start, "urgences"), admitted=True))
    if visit.kind in ("hospitalisation", "chirurgie"):
        docs.append(biologie(ctx(visit.start)))
        if visit.kind == "chirurgie":
            day = min(visit.start + timedelta(days=rng.randint(0, 1)), visit.end)
            docs.append(cro(ctx(day)))
        if rng.random() < 0.3 and (visit.end - visit.start).days > 2:
            docs.append(biologie(ctx(visit.end - timedelta(days=1)), control=True))
        docs.append(crh(ctx(visit.end)))
        if rng.random() < 0.75:
            docs.append(ordonnance(ctx(visit.end)))
    elif visit.kind == "consultation":
        if rng.random() < 0.4:
            docs.append(biologie(ctx(visit.start - timedelta(days=rng.randint(2, 10)))))
        docs.append(consultation(ctx(visit.start)))
        if rng.random() < 0.5:
            docs.append(ordonnance(ctx(visit.start)))
    else:  # urgences only
        if rng.random() < 0.7:
            docs.append(biologie(ctx(visit.start)))
        docs.append(urgences(ctx(visit.start), admitted=False))
        if rng.random() < 0.4 and visit.episode and visit.episode.drugs:
            docs.append(ordonnance(ctx(visit.start)))
    return docs
