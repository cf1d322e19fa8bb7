"""Narrative sections: history of the illness, clinical exam, work-up, evolution, conclusion."""

from __future__ import annotations

from datetime import timedelta

from . import vocab
from .annotate import DocBuilder, Phi
from .phrasing import Ctx, cond, d_un, de, patient_name, person, the, un, when
from .scenarios import Episode
from .sections import labs_line, vitals

# What a follow-up visit says about a chronic condition (no diagnosis named).
FOLLOW_TEXT: dict[str, tuple[str, ...]] = {
    "hta": ("Automesure tensionnelle : moyenne à 138/84 mmHg sur 3 jours.",
            "Bonne observance thérapeutique, pas d'effet indésirable rapporté."),
    "ic": ("Pas de signe congestif, poids stable depuis la dernière consultation.",
           "Essoufflement pour des efforts importants uniquement (NYHA II)."),
    "fa": ("Bonne tolérance de l'anticoagulation, pas de saignement extériorisé.",),
    "cardio_isch": ("Épreuve d'effort négative cliniquement et électriquement.",
                    "Pas de récidive d'oppression thoracique à l'effort."),
    "dt2": ("Autosurveillance : glycémies à jeun entre 1,20 et 1,60 g/L.",
            "Examen des pieds : pas de plaie, monofilament perçu aux deux pieds."),
    "dt1": ("Capteur de glycémie en continu : temps dans la cible à 58 %, variabilité élevée.",
            "Quelques glycémies basses nocturnes rapportées, resucrage efficace."),
    "hypothyr": ("Asthénie améliorée depuis l'adaptation de la posologie.",),
    "basedow": ("Tremblements et sueurs nettement améliorés sous traitement.",),
    "obesite": ("Prise en charge diététique, activité physique 3 fois par semaine.",
                "Projet de chirurgie bariatrique discuté en réunion pluridisciplinaire."),
    "irc": ("Régime hyposodé bien suivi, restriction protidique modérée.",
            "Information sur les techniques d'épuration extra-rénale délivrée."),
    "irct": ("Hémodialyse 3 fois par semaine sur fistule artério-veineuse, bonne tolérance.",),
    "bpco": ("EFR : VEMS à 52 % de la théorique, rapport de Tiffeneau à 0,58.",
             "Réhabilitation respiratoire proposée, vaccinations à jour."),
    "asthme": ("Score ACT à 21, pas de réveil nocturne, recours au traitement de secours rare.",),
    "saos": ("Appareillage par PPC bien toléré, observance de 6 heures par nuit.",),
    "alzheimer": ("MMSE à 18/30, troubles mnésiques stables.",
                  "Aidant principal épuisé, accueil de jour proposé."),
    "demence": ("MMSE à 16/30.", "Mise en place d'une aide à domicile 2 fois par jour."),
    "osteoporose": ("Densitométrie : T-score à -3,1 au rachis lombaire.",),
    "cancer": ("Bonne tolérance de la cure précédente, asthénie de grade 1.",
               "Scanner d'évaluation : réponse partielle selon les critères RECIST.",
               "Décision de poursuivre le traitement en cours après avis de la RCP."),
    "postop": ("Cicatrices propres, pas de collection palpable.",
               "Reprise d'une alimentation normale, transit régulier."),
}  # fmt: skip

_REFERRALS = ("gp", "hospital", "samu", "self", "pompiers")


def story(b: DocBuilder, ctx: Ctx, ep: Episode, *, emergency: bool = False) -> None:
    """History of the illness: who sent the patient, symptoms with dates, pertinent negatives."""
    p, v = ctx.patient, ctx.visit
    b.section(
        ctx.pick(("Histoire de la maladie", "Histoire de la maladie actuelle", "Histoire récente"))
    )
    b.seq(patient_name(ctx, full=False), sep="").add(f", {p.age_at(ctx.when)} ans, ")
    referral = ctx.pick(_REFERRALS)
    sent = ctx.g("adressé", "adressée")
    if referral == "gp" and p.gp is not None:
        b.add(f"est {sent} par son médecin traitant, le ").seq(person(ctx, p.gp), sep="")
    elif referral == "hospital":
        name = ctx.pick(vocab.OTHER_HOSPITALS[:14])
        b.add(f"est {sent} par {the(name)}{{h}}", h=Phi(name, "HOPITAL"))
    elif referral == "samu":
        b.add(f"est {ctx.g('amené', 'amenée')} par le SAMU")
    elif referral == "pompiers":
        b.add(f"est {ctx.g('amené', 'amenée')} par les pompiers")
    else:
        b.add("consulte spontanément")
    symptoms = [cond(ctx, s) for s in ep.symptoms]
    if symptoms:
        b.add(" pour ").seq(symptoms, last=" et ")
    b.line(".")
    onset = v.start - timedelta(days=ctx.rng.randint(1, 10))
    if symptoms:
        openings = (
            "Début des symptômes le {d}",
            "Depuis le {d}, majoration progressive des symptômes",
            "Apparition le {d}",
        )
        b.add(ctx.pick(openings), d=when(ctx, onset))
        b.line(", sans facteur déclenchant retrouvé." if ctx.chance(0.5) else ".")
    negs = list(ep.absent)
    for key in negs:
        c = cond(ctx, key, negated=True)
        pattern = ctx.rng.randrange(4)
        if pattern == 0:
            b.line("Pas {de}{c}.", de=de(c.text), c=c)
        elif pattern == 1:
            b.line("Absence {de}{c}.", de=de(c.text), c=c)
        elif pattern == 2:
            who = ctx.g("Le patient", "La patiente")
            b.line(f"{who} ne rapporte pas {{de}}{{c}}.", de=de(c.text), c=c)
        else:
            b.line("Pas {de}{c} à l'interrogatoire.", de=de(c.text), c=c)
    if v.via_urgences and not emergency:
        b.add("Prise en charge initiale aux urgences le {d}", d=when(ctx, v.start))
        b.line(" puis transfert dans le service.")


def exam(b: DocBuilder, ctx: Ctx, ep: Episode | None) -> None:
    b.section(ctx.pick(("Examen clinique", "Examen clinique à l'entrée")))
    vitals(b, ctx)
    for finding in ep.findings if ep else ():
        b.line(finding)
    closing = (
        "Reste de l'examen sans particularité.",
        "Le reste de l'examen clinique est normal.",
        "Examen neurologique sans anomalie.",
    )
    b.line(ctx.pick(closing))


def workup(b: DocBuilder, ctx: Ctx, ep: Episode | None, keys: list[str]) -> None:
    stay = ctx.service != "urgences"
    b.section(
        ctx.pick(("Examens complémentaires", "Examens complémentaires réalisés pendant le séjour"))
        if stay
        else "Examens complémentaires"
    )
    labs_line(b, ctx, ctx.visit.labs, keys, ctx.visit.start)
    for line in ep.exams if ep else ():
        b.line(f"- {line}")


def evolution(b: DocBuilder, ctx: Ctx, ep: Episode) -> None:
    b.section(ctx.pick(("Évolution", "Evolution")))
    for line in ep.evolution:
        b.line(line)
    b.line(
        ctx.pick(
            (
                "Pas de complication durant le séjour.",
                "Bonne tolérance des traitements.",
                "Mobilisation précoce, pas d'événement intercurrent.",
            )
        )
    )
    b.line("Retour à domicile le {d}.", d=when(ctx, ctx.visit.end))


def conclusion(b: DocBuilder, ctx: Ctx, ep: Episode, *, suspected: bool = False) -> None:
    """Main diagnosis, comorbidities as history, a ruled-out or suspected differential."""
    p = ctx.patient
    b.section(ctx.pick(("Conclusion", "Au total", "Synthèse")))
    main = cond(ctx, ep.key, capital=not suspected, hypothesis=suspected)
    if suspected:
        b.add(
            ctx.pick(("Suspicion {de}{c}", "Probable {c}", "Tableau évocateur {de}{c}")),
            de=de(main.text),
            c=main,
        )
    else:
        b.piece(main)
    comorbid = [k for k in p.conditions if k != ep.key][:3]
    if comorbid:
        b.add(
            f" chez {ctx.g('un patient', 'une patiente')} de {p.age_at(ctx.when)} ans"
            " aux antécédents "
        )
        for i, key in enumerate(comorbid):
            c = cond(ctx, key, history=True)
            sep = "" if i == 0 else (" et " if i == len(comorbid) - 1 else ", ")
            b.add("{s}{de}{c}", s=sep, de=de(c.text), c=c)
    b.line(".")
    for key in [k for k in ep.differential if k not in p.conditions]:
        c = cond(ctx, key, negated=not suspected, hypothesis=suspected)
        if suspected:
            b.line(
                ctx.pick(("À éliminer : {c}.", "Diagnostic différentiel à discuter : {c}.")), c=c
            )
        elif ctx.chance(0.5):
            b.line("Pas d'argument pour {u}{c}.", u=un(c.text), c=c)
        else:
            b.line("Pas d'élément en faveur {u}{c}.", u=d_un(c.text), c=c)
    if not suspected and ctx.chance(0.4):
        suspicion(b, ctx)


# Secondary diagnoses a team may suspect during a stay, by service.
SUSPICIONS: dict[str, tuple[str, ...]] = {
    "cardiologie": ("saos", "ait", "ra"),
    "pneumologie": ("saos", "ic", "k_poumon"),
    "nephrologie": ("nephrotique", "anemie_fer", "hyperk"),
    "endocrinologie": ("saos", "hypothyr", "retino"),
    "oncologie": ("ep", "denutrition", "meta_os"),
    "geriatrie": ("denutrition", "depression", "anemie_fer"),
    "chirurgie_digestive": ("lithiase", "k_colon", "anemie_fer"),
    "urgences": ("ep", "fa"),
}


def suspicion(b: DocBuilder, ctx: Ctx) -> None:
    """A secondary diagnosis left as a hypothesis, with the plan to confirm it."""
    options = [k for k in SUSPICIONS[ctx.service] if k not in ctx.patient.conditions]
    if not options:
        return
    c = cond(ctx, ctx.pick(options), hypothesis=True)
    pattern = ctx.rng.randrange(3)
    if pattern == 0:
        b.line("Suspicion {de}{c}, bilan à compléter en ambulatoire.", de=de(c.text), c=c)
    elif pattern == 1:
        b.line("Hypothèse {de}{c} à confirmer.", de=de(c.text), c=c)
    else:
        b.line("Possible {c}, à explorer.", c=c)


def follow_up(b: DocBuilder, ctx: Ctx) -> None:
    v = ctx.visit
    b.section(ctx.pick(("Suivi", "Modalités de sortie", "Devenir du patient")))
    later = v.end + timedelta(days=ctx.rng.randint(21, 90))
    b.add("Consultation de contrôle avec le ").seq(person(ctx, v.physician), sep="")
    b.line(" le {d}.", d=when(ctx, later))
    if ctx.chance(0.6):
        b.line(
            f"Bilan biologique à J{ctx.pick((7, 10, 15))} : ionogramme sanguin, créatinine, NFS."
        )
    if ctx.patient.gp is not None and ctx.chance(0.5):
        b.add("Le traitement sera réévalué par le ").seq(person(ctx, ctx.patient.gp), sep="").line(
            "."
        )
