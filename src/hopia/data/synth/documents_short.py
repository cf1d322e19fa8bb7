"""Shorter documents: operative report (CRO), prescription (ordonnance), lab report (biologie)."""

from __future__ import annotations

from .annotate import DocBuilder, Phi
from .model import Clinician, SynthDocument
from .phrasing import Ctx, cond, drug, measure, num, patient_name, person, when
from .sections import at_home, header, patient_block, signature
from .vocab_clinical import LAB_SHIFTS, LABS

_CRO_STEPS = (
    "Installation en décubitus dorsal, bras gauche le long du corps.",
    "Antibioprophylaxie selon le protocole du service.",
    "Badigeonnage et champage stériles. Check-list HAS réalisée.",
    "Open cœlioscopie ombilicale, création du pneumopéritoine à 12 mmHg.",
    "Mise en place de trois trocarts sous contrôle de la vue.",
    "Exploration de la cavité abdominale : pas de lésion associée.",
    "Dissection prudente, hémostase soigneuse à la pince bipolaire.",
    "Extraction de la pièce opératoire dans un sac.",
    "Lavage, aspiration, vérification de l'hémostase.",
    "Fermeture aponévrotique au fil résorbable, surjet intradermique.",
)
# Analytes shown in a report's work-up, by service.
SERVICE_LABS: dict[str, tuple[str, ...]] = {
    "cardiologie": ("hemoglobine", "creatinine", "kaliemie", "troponine", "ntprobnp", "ldl"),
    "pneumologie": ("hemoglobine", "leucocytes", "crp", "creatinine", "ddimeres"),
    "nephrologie": ("creatinine", "dfg", "uree", "kaliemie", "natremie", "hemoglobine", "albumine"),
    "endocrinologie": ("glycemie", "hba1c", "creatinine", "tsh", "ldl", "kaliemie"),
    "oncologie": ("hemoglobine", "leucocytes", "neutrophiles", "plaquettes", "crp", "albumine"),
    "geriatrie": ("hemoglobine", "natremie", "kaliemie", "creatinine", "crp", "albumine"),
    "chirurgie_digestive": (
        "hemoglobine",
        "leucocytes",
        "crp",
        "lipase",
        "bilirubine",
        "creatinine",
    ),
    "urgences": ("hemoglobine", "leucocytes", "crp", "creatinine", "kaliemie", "troponine"),
}
# Analytes a condition or an episode calls for.
MARKERS: dict[str, tuple[str, ...]] = {
    "k_prostate": ("psa",), "k_colon": ("ace",), "k_rectum": ("ace",), "k_pancreas": ("ca199",),
    "dt1": ("hba1c", "glycemie"), "dt2": ("hba1c", "glycemie"), "hypothyr": ("tsh",),
    "basedow": ("tsh",), "ic": ("ntprobnp",), "dyslip": ("ldl",), "irc": ("dfg", "uree"),
    "irct": ("dfg", "uree", "calcemie"), "cirrhose": ("inr", "bilirubine", "albumine"),
    "anemie_fer": ("ferritine",), "nephrotique": ("albumine", "proteinurie"),
}  # fmt: skip
_CORE = ("hemoglobine", "leucocytes", "plaquettes", "natremie", "kaliemie", "creatinine", "crp")
_VITALS = ("ta", "fc", "temperature", "spo2", "fr", "poids", "taille", "imc")


def markers(ctx: Ctx) -> list[str]:
    """Analytes the patient's conditions and the current episode call for."""
    keys: list[str] = []
    for cond_key in ctx.patient.conditions:
        keys += MARKERS.get(cond_key, ())
    ep = ctx.visit.episode
    if ep is not None:
        keys += [k for k in LAB_SHIFTS.get(ep.key, {}) if k not in _VITALS]
    return list(dict.fromkeys(keys))


# Lab panels of a report, in the order of the French "compte rendu de biologie".
_PANELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Hématologie", ("hemoglobine", "leucocytes", "neutrophiles", "plaquettes")),
    ("Biochimie sanguine", ("natremie", "kaliemie", "bicarbonates", "uree", "creatinine", "dfg",
                            "glycemie", "calcemie", "albumine", "crp")),
    ("Bilan hépatique", ("asat", "alat", "bilirubine", "lipase")),
    ("Cardiologie - Hémostase", ("troponine", "ntprobnp", "ddimeres", "inr")),
    ("Endocrinologie - Marqueurs", ("hba1c", "tsh", "ldl", "ferritine", "psa", "ace", "ca199",
                                    "lactates", "proteinurie")),
)  # fmt: skip


def _make(ctx: Ctx, b: DocBuilder, kind: str, author: Clinician) -> SynthDocument:
    text, phi, facts = b.build()
    return SynthDocument(
        "",
        text,
        ctx.patient.ipp,
        ctx.when,
        kind,
        ctx.service,
        phi,
        facts,
        nda=ctx.visit.nda,
        visit_start=ctx.visit.start,
        visit_end=ctx.visit.end,
        author=author,
    )


def cro(ctx: Ctx) -> SynthDocument:
    """Compte rendu opératoire."""
    v, ep = ctx.visit, ctx.visit.episode
    assert ep is not None and ep.procedure
    surgeons = ctx.staff["chirurgie_digestive"]
    surgeon, aide = v.physician, ctx.pick([s for s in surgeons if s != v.physician])
    anesth = ctx.pick(ctx.staff["anesthesie"])
    b = DocBuilder()
    header(b, ctx, ctx.pick(("COMPTE RENDU OPÉRATOIRE", "Compte rendu opératoire")))
    patient_block(b, ctx)
    b.line()
    b.line("Date de l'intervention : {d}", d=when(ctx, ctx.when))
    b.add("Opérateur : ").seq(person(ctx, surgeon), sep="").add("    Aide : ").seq(
        person(ctx, aide), sep=""
    )
    b.line()
    b.add("Anesthésiste : ").seq(person(ctx, anesth), sep="").line()
    b.line(
        f"Type d'anesthésie : {ctx.pick(('anesthésie générale', 'anesthésie générale avec IOT'))}"
    )
    b.section("Indication")
    b.line("{c}.", c=cond(ctx, ep.key, capital=True))
    for key in ep.symptoms[:1]:
        b.line(
            f"Tableau clinique : {{c}} évoluant depuis {ctx.rng.randint(1, 6)} jours.",
            c=cond(ctx, key),
        )
    b.section("Intervention")
    b.line(ep.procedure[0].upper() + ep.procedure[1:] + ".")
    b.section("Description")
    steps = list(_CRO_STEPS)
    if "laparotomie" in ep.procedure:
        steps[3:5] = ["Laparotomie médiane sus et sous-ombilicale."]
    for step in steps:
        b.line(step)
    b.line(f"Durée opératoire : {ctx.rng.randint(35, 180)} minutes. Pertes sanguines minimes.")
    if ctx.chance(0.6):
        b.line("Pièce adressée en anatomopathologie.")
    b.section("Suites opératoires prévues")
    b.line("Lever précoce à J0, reprise alimentaire progressive.")
    b.add("Prévention thromboembolique : ").piece(drug(ctx, "enoxaparine", 0)).line(".")
    b.add("Antalgie : ").piece(drug(ctx, "paracetamol", 1)).line(".")
    signature(b, ctx, surgeon, copy_gp=False)
    return _make(ctx, b, "CRO", surgeon)


def ordonnance(ctx: Ctx) -> SynthDocument:
    """Prescription at discharge or after a consultation."""
    p, v = ctx.patient, ctx.visit
    doctor = ctx.pick(ctx.staff["urgences"]) if ctx.service == "urgences" else v.physician
    if v.kind == "urgences":
        drugs = [(k, 0) for k in (v.episode.drugs if v.episode else ())]
    elif v.kind == "consultation":
        drugs = list(p.treatments)
    else:
        drugs = list(v.discharge_drugs)
    drugs = at_home(drugs)
    b = DocBuilder()
    header(
        b,
        ctx,
        ctx.pick(("ORDONNANCE", "ORDONNANCE DE SORTIE", "Prescriptions médicales de sortie")),
    )
    b.seq(patient_name(ctx), sep="").add(f", {p.age_at(ctx.when)} ans")
    if ctx.chance(0.6):
        b.add(" - {g} le {d}", g=ctx.g("né", "née"), d=when(ctx, p.birth_date, "DATE_NAISSANCE"))
    b.line()
    b.line("IPP : {i}", i=Phi(p.ipp, "IPP"))
    b.line("{w}", w=measure(ctx, "poids", v.vitals["poids"], style=2))
    b.line()
    style = ctx.pick((0, 1, 1, 2))
    for i, (key, pos) in enumerate(drugs or [("paracetamol", 0)], start=1):
        b.add(f"{i}) ").piece(drug(ctx, key, pos, style=style)).line()
    b.line()
    b.line(ctx.pick(("QSP 1 mois, à renouveler 2 fois.", "QSP 3 mois.", "Traitement pour 1 mois.")))
    if ctx.chance(0.3):
        b.line("Soins infirmiers à domicile : préparation du pilulier 1 fois par semaine.")
    if ctx.chance(0.4):
        b.line("Bilan sanguin dans 1 semaine : NFS, ionogramme, créatinine.")
    signature(b, ctx, doctor, copy_gp=False)
    return _make(ctx, b, "ordonnance", doctor)


def biologie(ctx: Ctx, *, control: bool = False) -> SynthDocument:
    """Compte rendu de biologie: panels with reference ranges and out-of-range flags."""
    v = ctx.visit
    labs = v.labs_control if control else v.labs
    bio = ctx.pick(ctx.staff["biologie"])
    b = DocBuilder()
    header(b, ctx, ctx.pick(("COMPTE RENDU DE BIOLOGIE", "RÉSULTATS D'ANALYSES BIOLOGIQUES")))
    b.line("Laboratoire de biologie médicale")
    patient_block(b, ctx)
    b.line()
    hour = f"{ctx.rng.randint(6, 11):02d}h{ctx.rng.randint(0, 59):02d}"
    b.line(f"Prélèvement du {{d}} à {hour}", d=when(ctx, ctx.when))
    b.add("Prescripteur : ").seq(person(ctx, v.physician), sep="").line()
    for title, keys in _PANELS:
        shown = [
            k
            for k in keys
            if k in labs and (k in ("hemoglobine", "creatinine") or ctx.chance(0.75))
        ]
        if not shown:
            continue
        b.section(title)
        for key in shown:
            lab = LABS[key]
            value = labs[key]
            flag = " *" if not lab.lo <= value <= lab.hi else ""
            b.add("{m}", m=measure(ctx, key, value, style=2))
            b.line(f"   (N : {num(lab.lo, lab.decimals)} - {num(lab.hi, lab.decimals)}){flag}")
    b.section("Commentaire")
    comments = (
        "Résultats validés biologiquement.",
        "Les valeurs marquées * sont hors normes.",
        "Contrôle conseillé à distance.",
    )
    b.line(ctx.pick(comments))
    signature(b, ctx, bio, copy_gp=False)
    return _make(ctx, b, "biologie", bio)
