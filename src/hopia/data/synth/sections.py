"""Sections shared by the document templates: header, identity block, history, lifestyle, exam...

Every name, date, place or identifier goes through :class:`~.annotate.Phi` and every condition,
drug or measurement through :class:`~.annotate.Fact`: nothing identifying is written as plain text.
"""

from __future__ import annotations

from datetime import date, timedelta

from . import vocab
from .annotate import DocBuilder, Phi
from .identity import format_nir, phone_variant
from .model import Clinician
from .phrasing import (
    Ctx,
    cap,
    cond,
    d_un,
    de,
    drug,
    drug_name,
    feminine,
    measure,
    month_year,
    patient_name,
    person,
    un,
    when,
)
from .vocab_clinical import DIAGNOSES
from .vocab_drugs import DRUGS, TREATMENTS

NEGATABLE_HISTORY = ("diabete_nos", "tvp", "avc", "idm", "ep", "asthme", "hta", "k_colon")
CANCERS = ("k_poumon", "k_sein", "k_colon", "k_rectum", "k_prostate", "k_pancreas", "k_estomac")
CANCERS += ("k_vessie", "chc", "lymphome")
LETHAL = ("idm", "avc", "k_sein", "k_colon", "k_prostate", "sca")
_UNIT_NAMES = {
    "biologie": "Laboratoire de biologie médicale",
    "anesthesie": "Anesthésie-Réanimation",
}


def site_of(service: str) -> tuple[str, str, str, str]:
    return vocab.CHU_SITES[vocab.SERVICES[service][1]]


def service_phone(service: str) -> str:
    site = vocab.SERVICES[service][1]
    return f"04 72 {('11', '13', '16')[site]} {vocab.SERVICES[service][2]}"


def header(b: DocBuilder, ctx: Ctx, title: str) -> None:
    """Letterhead, place and date, then the document title."""
    site, street, zip_code, city = site_of(ctx.service)
    name, _, _ = vocab.SERVICES[ctx.service]
    head = ctx.staff[ctx.service][0]
    mail = f"secretariat.{vocab.SERVICE_MAIL_SLUGS[ctx.service]}@{vocab.CHU_DOMAIN}"
    if ctx.chance(0.5):
        b.line("{chu} - {site}", chu=Phi(vocab.CHU_NAME, "HOPITAL"), site=Phi(site, "HOPITAL"))
    else:
        b.line("{site}", site=Phi(site, "HOPITAL")).line(
            "{chu}", chu=Phi(vocab.CHU_NAME, "HOPITAL")
        )
    b.line("{a}, {z} {c}", a=Phi(street, "ADRESSE"), z=Phi(zip_code, "ZIP"), c=Phi(city, "VILLE"))
    b.line(name if name.startswith("Service") else f"Service {de(name)}{name}")
    b.add("Chef de service : ").seq(person(ctx, head), sep="").line()
    b.line(
        "Secrétariat : {t} - {m}",
        t=Phi(phone_variant(ctx.rng, service_phone(ctx.service)), "TEL"),
        m=Phi(mail, "MAIL"),
    )
    b.line()
    b.line("{c}, le {d}", c=Phi(city, "VILLE"), d=when(ctx, ctx.when))
    b.line()
    b.line(title)
    b.line()


def patient_block(b: DocBuilder, ctx: Ctx, *, nda: bool = True) -> None:
    """The identity block; three layouts seen in French hospital software."""
    p, rng = ctx.patient, ctx.rng
    born = ctx.g("né", "née")
    style = rng.randrange(3)
    city = p.city.upper() if ctx.chance(0.4) else p.city
    if style == 0:
        b.add("Patient : " if not p.female else ctx.pick(("Patiente : ", "Patient : ")))
        b.seq(patient_name(ctx), sep="")
        b.line(
            f", {born} le {{d}} ({p.age_at(ctx.when)} ans)",
            d=when(ctx, p.birth_date, "DATE_NAISSANCE"),
        )
        b.add("IPP : {i}", i=Phi(p.ipp, "IPP"))
        if nda:
            b.add(" - N° de séjour (NDA) : {n}", n=Phi(ctx.visit.nda, "NDA"))
        b.line()
        b.line(
            "Adresse : {a}, {z} {c}",
            a=Phi(p.address, "ADRESSE"),
            z=Phi(p.zip, "ZIP"),
            c=Phi(city, "VILLE"),
        )
        b.line("Tél. : {t}", t=Phi(phone_variant(rng, p.phone), "TEL"))
    elif style == 1:
        surname = p.usage_name.upper() if p.usage_name else p.family_name
        b.line("Nom : {n}    Prénom : {g}", n=Phi(surname, "NOM"), g=Phi(p.given_name, "PRENOM"))
        if p.usage_name:
            b.line("Nom de naissance : {n}", n=Phi(p.family_name, "NOM"))
        b.line(
            "Date de naissance : {d}    Sexe : {s}",
            d=Phi(p.birth_date.strftime("%d/%m/%Y"), "DATE_NAISSANCE"),
            s=p.sex,
        )
        b.add("N° IPP : {i}", i=Phi(p.ipp, "IPP"))
        if nda:
            b.add("    N° de séjour : {n}", n=Phi(ctx.visit.nda, "NDA"))
        b.line()
        b.line(
            "Domicile : {a} - {z} {c}",
            a=Phi(p.address, "ADRESSE"),
            z=Phi(p.zip, "ZIP"),
            c=Phi(city, "VILLE"),
        )
        b.line("Téléphone : {t}", t=Phi(phone_variant(rng, p.phone), "TEL"))
        if ctx.chance(0.5):
            b.line("N° de sécurité sociale : {n}", n=Phi(format_nir(p.nir), "SECU"))
    else:
        b.add("Concerne : ").seq(patient_name(ctx), sep="").line()
        b.add(
            f"{cap(born)} le {{d}} - IPP {{i}}",
            d=when(ctx, p.birth_date, "DATE_NAISSANCE"),
            i=Phi(p.ipp, "IPP"),
        )
        if nda:
            b.add(" - NDA {n}", n=Phi(ctx.visit.nda, "NDA"))
        b.line()
        b.line(
            "{a}, {z} {c}", a=Phi(p.address, "ADRESSE"), z=Phi(p.zip, "ZIP"), c=Phi(city, "VILLE")
        )
        if ctx.chance(0.3):
            b.line("NIR : {n}", n=Phi(p.nir if ctx.chance(0.5) else format_nir(p.nir), "SECU"))
    if p.email and ctx.chance(0.3):
        b.line("Courriel : {m}", m=Phi(p.email, "MAIL"))
    if p.gp is not None:
        b.add("Médecin traitant : ").seq(person(ctx, p.gp), sep="")
        b.line(" ({c})", c=Phi(p.gp.city or "", "VILLE"))


def _since(ctx: Ctx, key: str) -> list:
    onset = ctx.patient.onset.get(key)
    if onset is None:
        return []
    form = ctx.rng.randrange(4)
    if form == 0:
        return [f" depuis {onset.year}"]
    if form == 1:
        agreed = "diagnostiquée" if feminine(DIAGNOSES[key].forms[0]) else "diagnostiqué"
        return [f" {agreed} en ", Phi(month_year(onset), "DATE")]
    if form == 2:
        return [f" ({onset.year})"]
    return []


def antecedents(b: DocBuilder, ctx: Ctx) -> None:
    """Medical and surgical history, past stays, and a negated history item."""
    p = ctx.patient
    b.section(
        ctx.pick(
            (
                "Antécédents",
                "Antécédents médicaux et chirurgicaux",
                "Antécédents personnels",
                "ATCD",
            )
        )
    )
    for key in p.conditions:
        b.add("- ").piece(cond(ctx, key, capital=True, history=True)).seq(_since(ctx, key), sep="")
        treated = [d for d, _ in p.treatments if d in TREATMENTS.get(key, ((), 0))[0]]
        if treated and key in CANCERS:
            b.add(", traité par ").seq([drug_name(ctx, d) for d in treated], last=" et ")
        elif treated and ctx.chance(0.3):
            b.add(", sous ").piece(drug_name(ctx, treated[0]))
        b.line()
    for d, service, key in p.events:
        if d >= ctx.when:
            continue
        label = vocab.SERVICES[service][0].lower()
        b.add(f"- Hospitalisation en {label} en {{d}} pour ", d=Phi(month_year(d), "DATE"))
        b.line("{c}", c=cond(ctx, key, history=True))
    for surgery, year in p.surgeries:
        b.line(f"- {cap(surgery)} en {year}")
    negatable = [k for k in NEGATABLE_HISTORY if not _has_code(p.conditions, DIAGNOSES[k].code)]
    if negatable and ctx.chance(0.6):
        c = cond(ctx, ctx.pick(negatable), negated=True, history=True)
        b.line(
            ctx.pick(("Pas d'antécédent {de}{c}.", "Pas d'antécédent personnel {de}{c}.")),
            de=de(c.text),
            c=c,
        )


def _has_code(conditions: list[str], code: str) -> bool:
    """Whether the patient has a condition of the same CIM-10 category (any diabetes for E14)."""
    wanted = {"E10", "E11", "E14"} if code[:3] == "E14" else {code[:3]}
    return any(DIAGNOSES[k].code[:3] in wanted for k in conditions)


def family_history(b: DocBuilder, ctx: Ctx) -> None:
    p = ctx.patient
    b.section("Antécédents familiaux")
    if not p.family_history and not p.family_negative:
        b.line("Pas d'antécédent familial notable.")
        return
    for relative, key in p.family_history:
        fem = relative in ("Mère", "Sœur", "Fille")
        if key == "diabete_nos" and ctx.chance(0.6):
            b.line(f"{relative} {{c}}.", c=cond(ctx, key, form=1, family=True))
            continue
        c = cond(ctx, key, family=True)
        roll = ctx.rng.randrange(3)
        if roll == 0 and key in LETHAL:
            age = ctx.rng.randint(52, 88)
            dead = "décédée" if fem else "décédé"
            b.line(f"{relative} {dead} {d_un(c.text)}{{c}} à {age} ans.", c=c)
        elif roll <= 1:
            b.line(f"{relative} : {{c}}.", c=c)
        else:
            b.line(f"{relative} {'suivie' if fem else 'suivi'} pour {un(c.text)}{{c}}.", c=c)
    if p.family_negative:
        c = cond(ctx, p.family_negative, family=True, negated=True, form=0)
        b.line("Pas d'antécédent familial {de}{c}.", de=de(c.text), c=c)


def allergies(b: DocBuilder, ctx: Ctx) -> None:
    b.section("Allergies")
    b.line(
        ctx.patient.allergy
        or ctx.pick(("Pas d'allergie médicamenteuse connue.", "Aucune allergie connue."))
    )


def lifestyle(b: DocBuilder, ctx: Ctx) -> None:
    p = ctx.patient
    b.section(ctx.pick(("Mode de vie", "Habitus", "Contexte familial et social")))
    if p.nursing_home:
        lives = ctx.g("Institutionnalisé", "Institutionnalisée")
        b.line(f"{lives} à l'{{h}}.", h=Phi(p.nursing_home, "HOPITAL"))
    else:
        b.line(p.living)
    if p.job:
        b.line(p.job)
    tob = cond(
        ctx,
        "tabac",
        form=0 if p.tobacco != "actif" else None,
        capital=True,
        negated=p.tobacco == "non",
        history=p.tobacco == "sevre",
    )
    if p.tobacco == "actif":
        b.line(f"{{c}} à {p.pack_years} PA.", c=tob)
    elif p.tobacco == "sevre":
        quit_year = max(p.birth_date.year + 30, ctx.when.year - 12)
        b.line(
            f"{{c}} sevré depuis {quit_year} ({p.pack_years} PA).",
            c=tob,
        )
    else:
        b.line("Pas de {c}.", c=cond(ctx, "tabac", form=0, negated=True))
    if p.alcohol == "non":
        b.line("Pas de {c}.", c=cond(ctx, "alcool", form=0, negated=True))
    elif p.alcohol == "sevre":
        b.line(
            "{c} sevrée depuis plusieurs années.",
            c=cond(ctx, "alcool", form=0, capital=True, history=True),
        )
    else:
        b.line("{c} à 4 verres par jour.", c=cond(ctx, "alcool", form=1, capital=True))
    if p.trusted and ctx.chance(0.6):
        relation, given, family, phone = p.trusted
        b.add(f"Personne de confiance : {relation}, ")
        b.add("{g} {f}", g=Phi(given, "PRENOM"), f=Phi(family.upper(), "NOM"))
        b.line(" ({t}).", t=Phi(phone_variant(ctx.rng, phone), "TEL"))


def at_home(drugs: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Drugs taken outside hospital: intravenous ones (chemotherapy...) are not listed."""
    return [
        (key, pos)
        for key, pos in drugs
        if DRUGS[key].posologies[pos % len(DRUGS[key].posologies)].route != "intraveineuse"
    ]


def treatment_list(b: DocBuilder, ctx: Ctx, drugs: list[tuple[str, int]], title: str) -> None:
    b.section(title)
    drugs = at_home(drugs)
    if not drugs:
        b.line("Aucun traitement au long cours.")
        return
    style = ctx.rng.randrange(3)
    for key, pos in drugs:
        b.add("- ").piece(drug(ctx, key, pos, style=style)).line()


def vitals(b: DocBuilder, ctx: Ctx) -> None:
    v = ctx.visit.vitals
    if ctx.chance(0.7):
        b.add(
            "{p}, {t}",
            p=measure(ctx, "poids", v["poids"]),
            t=measure(ctx, "taille", ctx.patient.height),
        )
        b.line(" ({i}).", i=measure(ctx, "imc", v["imc"], style=0))
    pieces: list = [
        measure(ctx, "ta", f"{int(v['tas'])}/{int(v['tad'])}"),
        measure(ctx, "fc", v["fc"]),
    ]
    pieces.append(measure(ctx, "spo2", v["spo2"]))
    pieces.append(measure(ctx, "temperature", v["temperature"]))
    b.seq(pieces).line(".")


def labs_line(b: DocBuilder, ctx: Ctx, labs: dict[str, float], keys: list[str], d: date) -> None:
    b.add(
        ctx.pick(
            ("Biologie du {d} : ", "Bilan biologique du {d} : ", "Biologie d'entrée ({d}) : ")
        ),
        d=when(ctx, d),
    )
    b.seq([measure(ctx, k, labs[k]) for k in keys if k in labs]).line(".")


def signature(b: DocBuilder, ctx: Ctx, who: Clinician, *, copy_gp: bool = True) -> None:
    b.line()
    b.seq(person(ctx, who), sep="").line()
    b.line(f"{who.role} - {_UNIT_NAMES.get(who.service) or vocab.SERVICES[who.service][0]}")
    if ctx.chance(0.4):
        b.line(
            "Document validé électroniquement le {d}",
            d=when(ctx, ctx.when + timedelta(days=ctx.rng.randint(0, 3))),
        )
    gp = ctx.patient.gp
    if copy_gp and gp is not None and ctx.chance(0.7):
        b.add("Copie : ").seq(person(ctx, gp), sep="")
        b.line(", médecin traitant, {c}", c=Phi(gp.city or "", "VILLE"))
