"""Cue lists given to EDS-NLP's qualifiers (their defaults plus Hopia's additions), and the
patterns of :mod:`.qualifier_rules`.

The lists are passed in the pipeline definition (``pipeline.PIPELINE``), so that a change here
changes the pipeline's fingerprint and rebuilds the cached pipeline.
"""

from __future__ import annotations

from edsnlp.pipes.qualifiers.history import patterns as eds_history
from edsnlp.pipes.qualifiers.hypothesis import patterns as eds_hypothesis
from edsnlp.pipes.qualifiers.negation import patterns as eds_negation
from edsnlp.pipes.terminations import termination as eds_termination

# Scope boundaries: adversative coordination ends a cue's scope ("pas de fièvre par contre une
# toux"); EDS-NLP already stops at "mais", "cependant", "toutefois", ",", ";" and ".".
COORDINATION: list[str] = ["par contre", "en revanche", "néanmoins", "à part", "excepté"]

#: For negation, hypothesis and history. "chez" opens the patient description of a synthesis
#: ("suspicion d'AEG chez un patient aux antécédents d'HTA": HTA is no hypothesis, AEG no
#: history). Not for family, whose cue often follows the mention ("diabète chez sa mère").
# Clause boundaries EDS-NLP lacks: a new clause in time ("pas de fièvre puis un pic fébrile"),
# a relative or contrast clause ("dont", "tandis que", "lorsque"), an association ("toux sans
# expectoration, associée à des douleurs"), a causal frame ("pas de lésion expliquant la
# confusion": the confusion is there, the lesion is not).
CLAUSE: list[str] = [
    "puis",
    "dont",
    "tandis que",
    "lorsque",
    "associé à",
    "associée à",
    "associés à",
    "associées à",
    "expliquant",
    "pouvant expliquer",
    "justifiant",
    # what follows "après" is the event the finding is dated from, not denied ("non rehaussée
    # après injection"); a patient "admis pour" starts the reason of the stay ("sans
    # antécédent admis pour exploration de lombalgies")
    "après",
    "admis pour",
    "admise pour",
    "admis dans",
    "admise dans",
    "hospitalisé pour",
    "hospitalisée pour",
    "adressé pour",
    "adressée pour",
    # EDS-NLP ends a scope at "ainsi que" but not at its elided form ("disparition de la
    # lamina dura ainsi qu'une opacité du sinus": the opacity is there)
    "ainsi qu'",
]
TERMINATION: list[str] = [
    *eds_termination,
    *COORDINATION,
    *CLAUSE,
    "chez",
    "non sevré",
    "non sevrée",
]
FAMILY_TERMINATION: list[str] = [*eds_termination, *COORDINATION, *CLAUSE]

# History: a habit given up is history ("tabagisme sevré depuis 2011"); "non sevré" (a
# termination above) keeps "tabagisme actif non sevré" current and affirmed.
HISTORY: list[str] = [
    *eds_history.history,
    "sevré",
    "sevrée",
    "sevrés",
    "sevrées",
    "ancien fumeur",
    "ancienne fumeuse",
    "ex-fumeur",
    "ex-fumeuse",
    "ex-tabagique",
    "ancien tabagisme",
    "tabagisme ancien",
    # a past operation or a cured disease is history ("opérée d'une cholécystectomie en 2005",
    # "hépatite B ancienne guérie")
    "opéré d'",
    "opérée d'",
    "opéré de",
    "opérée de",
    "opérés de",
    "opérées de",
    "guéri",
    "guérie",
    "guéris",
    "guéries",
]

# Negation: expressions that contain a negation cue but negate nothing.
NEGATION_PSEUDO: list[str] = [
    *eds_negation.pseudo,
    "non seulement",
    # "diabète non insulino-dépendant" is a diabetes ("non" is a following cue)
    "non insulino",
    "non insulinodépendant",
    "non insulino-requérant",
    "non insulinorequérant",
    # subtypes named with "non": "lymphome non hodgkinien", "FA non valvulaire"...
    "non hodgkinien",
    "non hodgkinienne",
    "non à petites cellules",
    "non valvulaire",
    "non ischémique",
    "non obstructif",
    "non obstructive",
    "non alcoolique",
    "non traumatique",
    "non st",
    "non compliqué",
    "non compliquée",
    "non précisé",
    "non précisée",
    "non spécifié",
    "non spécifiée",
    "non exclu",
    "non exclue",
    # hypotheses to rule out, not ruled out ("À éliminer : EP", "une EP n'est pas exclue")
    "à éliminer",
    "à exclure",
    "à écarter",
    "pour éliminer",
    "pour exclure",
    "pour écarter",
    "sans pouvoir exclure",
    "sans pouvoir éliminer",
    "sans pouvoir écarter",
    "ne peut exclure",
    "ne peut éliminer",
    "ne peut écarter",
    "ne peut être exclu",
    "ne peut être exclue",
    "ne peut pas être exclu",
    "ne peut pas être exclue",
    "ne peut pas exclure",
    "ne peut pas éliminer",
    "ne permettant pas d'exclure",
    "ne permettant pas d'éliminer",
    "ne permettant pas d'écarter",
    "n'élimine pas",
    "n'écarte pas",
    "pas éliminé",
    "pas éliminée",
    "pas éliminés",
    "pas éliminées",
]

# Hypothesis: cues before the mention ("ne permet pas d'exclure une pneumopathie").
HYPOTHESIS_PRECEDING: list[str] = [
    *eds_hypothesis.preceding,
    "permet pas d'exclure",
    "permet pas d'éliminer",
    "permet pas d'écarter",
    "permettant pas d'exclure",
    "permettant pas d'éliminer",
    "sans pouvoir exclure",
    "sans pouvoir éliminer",
    "ne peut exclure",
    "ne peut éliminer",
    "ne peut écarter",
    "ne peut pas exclure",
    "ne peut pas éliminer",
    "n'exclut pas",
    "n'élimine pas",
    "n'écarte pas",
    "à éliminer",
    "à exclure",
    "à écarter",
    "pour éliminer",
    "pour exclure",
    "pour écarter",
    "à discuter",
    "diagnostic différentiel",
    "diagnostics différentiels",
    "évocateur",
    "évocatrice",
    "évocateurs",
    "évocatrices",
    "évoquant",
    "suggestif",
    "suggestive",
    "compatible avec",
    "compatibles avec",
    "suspect",
    "suspecte",
    "présumé",
    "présumée",
    "douteux",
    "douteuse",
    "vraisemblable",
    "vraisemblablement",
    # "le tableau fait discuter une vascularite", "aspect pouvant correspondre à…"; "compatible
    # avec" needs hopia.qualifier_rules: "avec" ends a scope
    "fait discuter",
    "faire discuter",
    "font discuter",
    "fait évoquer",
    "font évoquer",
    "fait suspecter",
    "pouvant correspondre",
    "pourrait correspondre",
    "oriente vers",
    "orientant vers",
    "en faveur d'",
    "en faveur de",
    "en faveur du",
    "en faveur des",
]

# Hypothesis: cues after the mention ("une embolie pulmonaire n'est pas exclue").
HYPOTHESIS_FOLLOWING: list[str] = [
    *eds_hypothesis.following,
    "pas exclu",
    "pas exclue",
    "pas exclus",
    "pas exclues",
    "non exclu",
    "non exclue",
    "pas écarté",
    "pas écartée",
    "pas écartés",
    "pas écartées",
    "pas éliminé",
    "pas éliminée",
    "pas éliminés",
    "pas éliminées",
    "pas être exclu",
    "pas être exclue",
    "pas être exclus",
    "pas être exclues",
    "pas être éliminé",
    "pas être éliminée",
    "pas être écarté",
    "pas être écartée",
    "à éliminer",
    "à exclure",
    "à écarter",
    "à discuter",
    "à confirmer",
    "à explorer",
    "à rechercher",
    "suspecté",
    "suspectée",
    "suspectés",
    "suspectées",
    "évoqué",
    "évoquée",
    "évoqués",
    "évoquées",
    "vraisemblable",
    "douteux",
    "douteuse",
    "non confirmé",
    "non confirmée",
    "ne peut être exclu",
    "ne peut être exclue",
    "ne peut être éliminé",
    "ne peut être éliminée",
]
