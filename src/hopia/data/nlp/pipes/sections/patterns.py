"""Section titles of French clinical documents, by section label.

Labels keep ``eds.sections``' names where it has one (``antécédents``, ``antécédents
familiaux``, ``histoire de la maladie``, ``motif``, ``examens``… are looked up by name by
``eds.family``, ``eds.history`` and downstream code); the others are new.

Titles are regular expressions written *folded* (lower case, no accents) and matched whole,
ignoring case and accents: a title is followed by a colon, or by the end of its line. In them a
vowel or "c" also matches its accented forms, a space stands for any run of blanks on the line,
and an apostrophe matches ``'`` or ``’`` and the blanks after it; so write no capturing group,
and no vowel, space or apostrophe inside a character class or an escape.
"""

from __future__ import annotations

SECTIONS: dict[str, list[str]] = {
    # --- hospitalisation reports (CRH) and emergency notes ---------------------------------
    "motif": [
        r"motifs?",
        r"motifs? (?:d'|de l')?(?:hospitalisation|admission|entree|consultation|recours)",
        r"motifs? (?:medical|de la consultation|de l'hospitalisation|de la demande)",
        r"plaintes?(?: principales?)?",
        r"raisons? de (?:l'hospitalisation|la consultation|l'admission)",
    ],
    "histoire de la maladie": [
        r"histoire (?:de la maladie|recente|clinique)(?: actuelle)?(?: - explorations)?",
        r"histoire recente de la maladie",
        r"histoire du poids",
        r"hdm",
        r"anamnese",
        r"rappel clinique",
        r"resume(?: clinique)?(?: - histoire de la maladie)?",
        r"antecedents et histoire de la maladie",
        r"depuis (?:la|notre) derniere (?:consultation|visite)",
        r"interrogatoire",
    ],
    "antécédents": [
        r"antecedents?",
        r"atcds?",
        r"antecedents? (?:personnels|medicaux|chirurgicaux|medico-chirurgicaux)",
        r"antecedents? medicaux et chirurgicaux",
        r"antecedents? (?:personnels )?(?:medicaux|chirurgicaux) et (?:medicaux|chirurgicaux)",
        r"antecedents? (?:gyneco-obstetricaux|obstetricaux|gynecologiques)",
        r"atcds? (?:personnels|medicaux|chirurgicaux|medico-chirurgicaux)",
    ],
    "antécédents familiaux": [
        r"antecedents? familiaux",
        r"atcds? familiaux",
        r"histoire familiale",
    ],
    "habitus": [
        r"habitus",
        r"mode de vie(?: - scolarite)?",
        r"contexte(?: familial et)? social",
        r"contexte familial et social",
        r"situation sociale(?:, mode de vie)?",
        r"conditions de vie",
    ],
    "facteurs de risques": [
        r"facteurs? de risques?(?: cardio-?vasculaires?)?",
        r"frcv",
    ],
    "allergies": [
        r"allergies?(?: medicamenteuses?| connues?)?",
        r"intolerances?(?: medicamenteuses?)?",
    ],
    "vaccinations": [r"vaccinations?"],
    # "Traitement :" alone is the treatment in place or the one decided: its own label
    "traitement": [r"traitements?", r"traitements? (?:oncologiques?|specifiques?)"],
    "traitements entrée": [
        r"traitements? (?:habituels?|actuels?|en cours|personnels?|de fond|a domicile)",
        r"traitements? (?:a l'|d')entree",
        r"attitude therapeutique initiale",
    ],
    "examens": [
        r"examens?(?: cliniques?| physiques?)?",
        r"examens? cliniques? (?:a l'|d')entree",
        r"examens? (?:a l'|d')entree",
        r"examens? cliniques? (?:de|a la) sortie",
    ],
    "données biométriques entrée": [
        r"donnees biometriques et parametres vitaux a l'entree",
        r"parametres vitaux et donnees biometriques a l'entree",
        r"parametres vitaux",
        r"constantes",
    ],
    "examens complémentaires": [
        r"examens? complementaires?",
        r"examens? complementaires? (?:realises )?(?:a l'entree|(?:pendant|durant) le sejour)",
        r"examens? paracliniques?",
        r"examens? para-cliniques?",
        r"bilan paraclinique",
        r"explorations?(?: complementaires?| fonctionnelles?)?",
        r"resultats?(?: des examens)?",
    ],
    "biologie": [
        r"biologie",
        r"bilan biologique(?: d'entree| a l'entree)?",
        r"examens? biologiques?",
        r"bilan sanguin",
        # panels of a laboratory report
        r"hematologie",
        r"biochimie(?: sanguine| urinaire)?",
        r"hemostase",
        r"bilan (?:hepatique|lipidique|martial|thyroidien|renal)",
        r"serologies?",
        r"gaz du sang",
    ],
    "imagerie": [
        r"imagerie(?: post-operatoire)?",
        r"radiologie",
        r"examens? radiologiques?",
        r"examens? d'imagerie",
    ],
    "evolution": [
        r"evolution(?: clinique)?",
        r"evolution (?:dans le service|au cours (?:du sejour|de l'hospitalisation))",
        r"evolution et (?:prise en charge|examen clinique aux lits portes)",
        r"prise en charge(?: et evolution)?",
        r"au cours de l'hospitalisation",
        r"deroulement (?:du sejour|de l'hospitalisation)",
    ],
    "conclusion": [
        r"conclusions?",
        r"conclusion (?:de sortie|medicale|de la consultation)",
        r"au total",
        r"en resume",
        r"synthese(?: medicale)?(?: ?/ ?conclusion)?",
        r"syntese medicale ?/ ?conclusion",
    ],
    "conclusion entrée": [r"conclusion (?:a l'|d')entree"],
    "diagnostic": [
        r"diagnostics?",
        r"diagnostics? (?:retenus?|principal|principaux|associes?|de sortie|final)",
    ],
    "conduite à tenir": [
        r"conduite a tenir",
        r"cat",
        r"projet(?: therapeutique)?",
        r"plan(?: de soins| therapeutique)?",
        r"propositions?(?: therapeutiques?)?",
        r"recommandations?",
        r"orientation",
        r"suivi",
    ],
    "traitements sortie": [
        r"traitements? (?:de|a la) sortie",
        r"ordonnance de sortie",
    ],
    "prescriptions": [
        r"prescriptions?",
        r"prescriptions? (?:medicales )?de sortie",
        r"ordonnance",
    ],
    "modalites sortie": [
        r"modalites de sortie",
        r"devenir(?: du patient| de la patiente)?",
        r"mode de sortie",
    ],
    "correspondants": [r"correspondants"],
    # --- operative reports (CRO) -------------------------------------------------------------
    "actes": [r"interventions?(?: realisee?s?| pratiquee?s?)?", r"actes?(?: realises?)?"],
    "indication": [r"indications?(?: operatoires?| chirurgicales?)?"],
    "installation": [r"installation(?: du patient| de la patiente)?"],
    "voie d'abord": [r"voies? d'abord", r"abord"],
    "temps opératoire": [
        r"temps operatoires?",
        r"descriptions?(?: operatoires?| de l'intervention| de l'acte)?",
        r"deroulement(?: de l'intervention| operatoire)?",
        r"gestes?(?: realises?| operatoires?)?",
        r"constatations?(?: operatoires?| per-?operatoires?)?",
    ],
    "incidents": [
        r"incidents?(?: per-?operatoires?| et complications?)?",
        r"complications? per-?operatoires?",
    ],
    "fermeture": [r"fermeture(?: parietale)?"],
    "suites opératoires": [
        r"suites? (?:operatoires?|post-?operatoires?)(?: prevues?| simples?)?",
        r"consignes? post-?operatoires?",
        r"soins post-?operatoires?",
    ],
    "anatomopathologie": [
        r"anatomopathologie",
        r"anapath",
        r"examens? anatomopathologiques?",
        r"compte rendu anatomopathologique",
        r"histologie",
    ],
    # A document title, as in eds.sections: on its own line, it opens the first section.
    "introduction": [r"compte(?:-| )?rendu d'hospitalisation[^\n:]{0,30}"],
}
