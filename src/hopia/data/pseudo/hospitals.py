"""French hospitals by their own names: a gazetteer written for Hopia, and where each name counts.

The pattern rules (:data:`hopia.data.pseudo.patterns.HOSPITAL`) read "keyword + capitalised
words" ("Hôpital Tenon", "CHU de Rennes"). What they cannot read is a hospital named without its
keyword ("hospitalisé à Mondor", "suivi à l'IGR", "Centre Léon Bérard" read as a person), in lower
case after its keyword when its name is no person's or commune's ("hôpital de la conception").
This module knows about 180 hospitals by name. The institutions that run hospitals ("AP-HP.
Centre - Université Paris Cité", "Assistance Publique - Hôpitaux de Paris") are not read as
hospitals: they name no site, and the eds-pseudo annotation leaves them out.

Source: a list written by hand for Hopia (2026-12-07) from public knowledge of French hospitals —
the 30 CHU/CHR and their main sites, the 38 AP-HP sites and the sites of the Hospices Civils de
Lyon and of the AP-HM, the 18 cancer centres of Unicancer (CLCC), the army's hospitals (HIA) and
the largest general hospitals and non-profit hospitals (ESPIC) — not from FINESS (open data, not
available offline here) and never from an evaluation file. It is not exhaustive: the keyword
rules stay the general case; this list adds the names a keyword does not announce.

Each entry has a kind, which says where its name alone is a hospital:

- ``N``: a name that means nothing else in a note ("Lariboisière", "Pontchaillou",
  "Pitié-Salpêtrière"): anywhere when capitalised, in lower case when it has two words or more;
- ``P``: a person's name ("Georges Pompidou", "Léon Bérard"): anywhere when capitalised and not
  after a word that makes it a street, a disease or a school ("rue Ambroise Paré", "syndrome de
  Claude Bernard-Horner"); the gazetteers would read it as a person anyway, this gives its label;
- ``C``: a word that is also a surname, a saint, a commune, an eponym or a common word ("Cochin",
  "Foch", "Saint-Louis", "Conception", "Mondor": "maladie de Mondor"): only right after "à",
  "au", "l'" or a hospital's keyword ("hôpital de la conception", "revu à Mondor").

Acronyms: ``ACRONYMS`` are read alone (capitals only); ``CUE_ACRONYMS`` mean something else too
("KB" a kilobase, "ICM") and are read only after "à", "au", "l'".
"""

from __future__ import annotations

import re
from functools import cache

from hopia.platform.text import fold

# kind | forms, separated by ";" (the first as usually written) | city
_TABLE = """
N | Pitié-Salpêtrière; Pitié Salpêtrière; Salpêtrière; Salpétrière | Paris
N | Lariboisière | Paris
N | Necker-Enfants malades; Necker Enfants Malades; Necker | Paris
N | Hôtel-Dieu | Paris
N | Quinze-Vingts | Paris
N | Val-de-Grâce | Paris
N | Bicêtre | Le Kremlin-Bicêtre
C | Kremlin-Bicêtre; Kremlin Bicêtre | Le Kremlin-Bicêtre
N | Beaujon | Clichy
N | Avicenne | Bobigny
N | Fernand-Widal | Paris
N | Bichat-Claude-Bernard; Bichat Claude Bernard | Paris
N | Cochin-Port-Royal; Cochin Port Royal | Paris
N | Vaugirard-Gabriel-Pallez | Paris
N | Corentin-Celton | Issy-les-Moulineaux
N | Joffre-Dupuytren | Draveil
N | Adélaïde-Hautval | Villiers-le-Bel
N | Montsouris; Institut Mutualiste Montsouris | Paris
N | Lannelongue; Marie-Lannelongue | Le Plessis-Robinson
N | Pontchaillou | Rennes
N | Hautepierre | Strasbourg
N | Brabois | Vandœuvre-lès-Nancy
N | Purpan | Toulouse
N | Rangueil | Toulouse
N | Oncopole; IUCT-Oncopole | Toulouse
N | Pellegrin | Bordeaux
N | Haut-Lévêque; Haut Lévèque | Pessac
N | Lapeyronie | Montpellier
N | Gui-de-Chauliac | Montpellier
N | Arnaud-de-Villeneuve | Montpellier
N | Val d'Aurelle | Montpellier
N | Michallon | Grenoble
N | Timone; La Timone | Marseille
N | Paoli-Calmettes | Marseille
N | Croix-Rousse | Lyon
N | Lyon-Sud; Lyon Sud | Pierre-Bénite
N | Vinatier; Le Vinatier | Bron
N | Gustave-Roussy; Gustave Roussy | Villejuif
N | Bergonié | Bordeaux
N | Carémeau | Nîmes
N | Milétrie; La Milétrie | Poitiers
N | Minjoz; Jean-Minjoz | Besançon
N | Montpied; Gabriel-Montpied | Clermont-Ferrand
N | Côte de Nacre | Caen
N | Cavale Blanche; La Cavale Blanche | Brest
N | Clocheville | Tours
N | Bellepierre | Saint-Denis (La Réunion)
N | Félix-Guyon; Felix Guyon | Saint-Denis (La Réunion)
N | Zobda-Quitman; Pierre-Zobda-Quitman | Fort-de-France
N | Cimiez | Nice
N | Lenval; Fondation Lenval | Nice
N | Laveran | Marseille
N | Desgenettes | Lyon
N | Legouest | Metz
N | Robert-Picqué; Robert Picqué | Villenave-d'Ornon
N | Delafontaine | Saint-Denis
N | Ballanger; Robert-Ballanger | Aulnay-sous-Bois
N | Chenevier; Albert-Chenevier | Créteil
N | Nouvel Hôpital Civil | Strasbourg
C | Femme Mère Enfant; Femme-Mère-Enfant | Bron
N | Pierre-Wertheimer | Bron
N | Louis-Pradel | Bron
N | Sainte-Marguerite | Marseille
N | Huriez; Claude-Huriez | Lille
N | Salengro; Roger-Salengro | Lille
N | Jeanne-de-Flandre; Jeanne de Flandre | Lille
N | Lambret; Oscar-Lambret | Lille
N | Baclesse; François-Baclesse | Caen
N | Lacassagne; Antoine-Lacassagne | Nice
N | Godinot; Jean-Godinot | Reims
N | Gauducheau; René-Gauducheau | Saint-Herblain
N | Vautrin; Alexis-Vautrin | Vandœuvre-lès-Nancy
N | Chubert | Vannes
N | Centre Cardiologique du Nord | Saint-Denis
P | Georges-Pompidou; Georges Pompidou; Européen Georges-Pompidou | Paris
P | Ambroise-Paré; Ambroise Paré | Boulogne-Billancourt
P | Antoine-Béclère; Antoine Béclère | Clamart
P | Armand-Trousseau; Armand Trousseau | Paris
P | Henri-Mondor; Henri Mondor | Créteil
P | Louis-Mourier; Louis Mourier | Colombes
P | Jean-Verdier; Jean Verdier | Bondy
P | Paul-Brousse; Paul Brousse | Villejuif
P | Raymond-Poincaré; Raymond Poincaré | Garches
P | Robert-Debré; Robert Debré | Paris
P | Charles-Foix; Charles Foix | Ivry-sur-Seine
P | René-Muret; René Muret | Sevran
P | Émile-Roux; Emile Roux | Limeil-Brévannes
P | Georges-Clemenceau; Georges Clemenceau | Champcueil
P | Paul-Doumer | Labruyère
P | Léopold-Bellan; Léopold Bellan | Paris
P | Paul-Guiraud; Paul Guiraud | Villejuif
P | Simone-Veil; Simone Veil | Eaubonne
P | René-Dubos; René Dubos | Pontoise
P | André-Mignot; André Mignot | Le Chesnay
P | André-Grégoire; André Grégoire | Montreuil
P | Max-Fourestier; Max Fourestier | Nanterre
P | Victor-Dupouy; Victor Dupouy | Argenteuil
P | François-Quesnay; François Quesnay | Mantes-la-Jolie
P | Marc-Jacquet; Marc Jacquet | Melun
P | Édouard-Herriot; Edouard Herriot | Lyon
P | Léon-Bérard; Léon Bérard | Lyon
P | Claudius-Regaud; Claudius Regaud | Toulouse
P | Jean-Perrin; Jean Perrin | Clermont-Ferrand
P | Georges-François-Leclerc; Georges-François Leclerc; Georges François Leclerc | Dijon
P | Henri-Becquerel; Henri Becquerel | Rouen
P | Eugène-Marquis; Eugène Marquis | Rennes
P | Paul-Strauss; Paul Strauss | Strasbourg
P | Paul-Papin; Paul Papin | Angers
P | Charles-Nicolle; Charles Nicolle | Rouen
P | Albert-Calmette; Albert Calmette | Lille
P | François-Mitterrand; François Mitterrand | Dijon
P | Jacques-Monod; Jacques Monod | Le Havre
P | Émile-Muller; Emile Muller | Mulhouse
P | Louis-Pasteur; Louis Pasteur | Colmar
P | Yves-Le-Foll; Yves Le Foll | Saint-Brieuc
P | Gustave-Dron; Gustave Dron | Tourcoing
P | Victor-Provo; Victor Provo | Roubaix
P | Henri-Duffaut; Henri Duffaut | Avignon
P | William-Morey; William Morey | Chalon-sur-Saône
P | Clermont-Tonnerre | Brest
C | Bichat | Paris
C | Cochin | Paris
C | Tenon | Paris
C | Trousseau | Paris
C | Saint-Antoine | Paris
C | Saint-Louis | Paris
C | Sainte-Anne | Paris
C | Sainte-Périne | Paris
C | Saint-Joseph; Paris Saint-Joseph | Paris
C | Saint-Camille | Bry-sur-Marne
C | Bretonneau | Tours
C | Rothschild; Adolphe de Rothschild | Paris
C | Foch | Suresnes
C | Percy | Clamart
C | Bégin | Saint-Mandé
C | Broca | Paris
C | Mondor | Créteil
C | Béclère | Clamart
C | Debré | Paris
C | Pompidou | Paris
C | Curie; Marie-Curie | Paris
C | Diaconesses; Diaconesses Croix Saint-Simon | Paris
C | Esquirol | Saint-Maurice
C | Conception; La Conception | Marseille
C | Pasteur | Nice
C | Archet; L'Archet | Nice
C | Laennec | Saint-Herblain
C | Larrey | Toulouse
C | Saint-Éloi | Montpellier
C | Saint-André | Bordeaux
C | Saint-Jean | Perpignan
C | Saint-Philibert | Lomme
C | Saint-Vincent-de-Paul | Lille
C | Sainte-Musse | Toulon
C | Dupuytren | Limoges
C | Estaing | Clermont-Ferrand
C | Morvan | Brest
C | Mercy | Metz
C | Scorff | Lorient
C | Bellevue | Saint-Étienne
C | Charcot | Paris
C | Calmette | Lille
C | Poincaré | Garches
C | Mourier | Colombes
C | Verdier | Bondy
C | Brousse | Villejuif
C | Herriot | Lyon
C | Roussy | Villejuif
C | Paré | Boulogne-Billancourt
C | Bérard | Lyon
C | Regaud | Toulouse
C | Becquerel | Rouen
C | Nicolle | Rouen
"""

_KINDS = ("N", "P", "C")

# Acronyms of hospitals and hospital groups, read alone (in capitals): none of them is a
# medical acronym in French notes.
ACRONYMS = (
    "IGR", "IUCT", "GHPS", "HUPNVS", "HUEP", "HUPSSD", "HUPIFO", "HUPC", "HUHM", "HUPS",
    "CHSF", "CHIPS", "CHIV", "CHIC", "CHIPG", "NHC", "APHM", "IMM", "GHEF", "GHICL", "HFME",
)  # fmt: skip
# Acronyms that also mean something else ("KB" a kilobase, "ICM" an ischaemic cardiomyopathy in
# notes translated from English, "IPC", "ICL", "CLB" other abbreviations): a hospital only after
# "à", "au", "l'".
CUE_ACRONYMS = ("KB", "ICM", "ICO", "IPC", "CLB", "ICL", "IHU")


def _form_regex(form: str) -> str:
    """The folded form as a pattern: blanks and hyphens interchangeable, "St"/"Ste" for
    "Saint"/"Sainte", an apostrophe either way."""
    words = [w for w in re.split(r"[\s\-]+", fold(form).replace("’", "'")) if w]
    out = []
    for w in words:
        if w == "saint":
            out.append(r"(?:saint|st\.?)")
        elif w == "sainte":
            out.append(r"(?:sainte|ste\.?)")
        else:
            out.append(re.escape(w).replace("'", r"['’][ \t]?"))
    return r"(?:[ \t]*-[ \t]*|[ \t]+)".join(out)


def _person_word(form: str) -> bool:
    from hopia.data.pseudo.gazetteer import key_of, load

    key = key_of(form)
    g = load()
    return " " not in key and (key in g.surnames or key in g.first_names)


@cache
def table() -> dict[str, list[tuple[str, str]]]:
    """{kind: [(form, city)]}: the gazetteer, read once."""
    out: dict[str, list[tuple[str, str]]] = {k: [] for k in _KINDS}
    for line in _TABLE.strip().splitlines():
        kind, forms, city = (p.strip() for p in line.split("|"))
        out[kind] += [(f.strip(), city) for f in forms.split(";") if f.strip()]
    return out


def _alternation(forms: list[str]) -> str:
    return "|".join(_form_regex(f) for f in sorted(set(forms), key=len, reverse=True))


# A hospital's keyword right before a listed name: the span starts there ("Centre Léon Bérard",
# "hôpital de la conception", "CMC Ambroise Paré"). "Site" is a cue, not part of the name.
_KEYWORD = (
    r"(?:(?:hopital|hopitaux|hop\.?|clinique|polyclinique|institut|fondation|maternite|"
    r"centre(?:[ \t]+(?:hospitalier(?:[ \t]+universitaire)?|medico[ \t-]chirurgical|"
    r"cardiologique|de[ \t]+lutte[ \t]+contre[ \t]+le[ \t]+cancer))?|"
    r"groupe[ \t]+hospitalier|chu|chru|chr|chi|ch|gh|ghu|hia|cmc|clcc)"
    r"(?:[ \t]+(?:prive|universitaire|europeen|mutualiste|militaire|d'instruction[ \t]+des"
    r"[ \t]+armees|intercommunal))?"
    r"[ \t]+(?:(?:de[ \t]+la|de[ \t]+l'|du|des|de|d'|la|le|l')[ \t]*)?)"
)
# Before a name alone: "à", "au", "l'", "vers", "depuis", "site (de)" (with "la" / "l'").
_CUE = (
    r"(?<![\w'])(?:(?:a|au|aux|vers|depuis|site(?:[ \t]+de)?)[ \t]+(?:la[ \t]+|l')?"
    r"|l'|site[ \t]+d')"
)
# Words before a capitalised person's name that make it no hospital.
_NOT_HOSPITAL_BEFORE = re.compile(
    r"(?:\b(?:rue|avenue|av|bd|boulevard|place|all[ée]e|impasse|quai|square|cours|lyc[ée]e|"
    r"coll[èe]ge|[ée]cole|universit[ée]|facult[ée]|maladie|syndrome|signe|prix|"
    r"station|m[ée]tro|gare|pont|stade|salle|amphith[ée][âa]tre|"
    r"dr|drs|pr|docteur|professeur|mme|mr|m|madame|monsieur|mlle|nom|pr[ée]nom)\b\.?"
    r"[ \t]*(?:de|du|des|d['’]|de[ \t]+la|la|le)?[ \t]*|\w[ \t]*-[ \t]*)$",
    re.IGNORECASE,
)


@cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    t = table()
    # a one-word name that is also somebody's name ("Lacassagne", "Pellegrin") is read alone only
    # after a cue, as the C kind
    alone_forms = [f for f, _ in t["N"] if not _person_word(f)] + [f for f, _ in t["P"]]
    every = _alternation([f for k in _KINDS for f, _ in t[k]])
    edge_r = r"(?![\w\-])"
    # each pattern behind a look-ahead on its first letters: ``re`` skips to candidate positions
    firsts = "".join(sorted({fold(f)[0] for f in alone_forms}))
    with_keyword = re.compile(
        rf"(?=[hcpimfg])(?<![\w\-])(?P<kw>{_KEYWORD})(?P<name>{every}){edge_r}"
    )
    after_cue = re.compile(rf"(?=[avdsl]){_CUE}(?P<name>{every}){edge_r}")
    alone = re.compile(
        rf"(?=[{re.escape(firsts)}])(?<![\w\-'’])(?P<name>{_alternation(alone_forms)}){edge_r}"
    )
    acronyms = re.compile(
        rf"(?=[A-Z])(?<![\w\-/.])(?:(?P<alone>{'|'.join(map(re.escape, ACRONYMS))})|"
        rf"(?<=[ \t'’])(?P<cued>{'|'.join(map(re.escape, CUE_ACRONYMS))}))(?![\w\-/])"
    )
    return with_keyword, after_cue, alone, acronyms


_ACRONYM_CUE = re.compile(r"(?:(?<![\w])(?:[àaA]|au|aux|AU|vers|depuis)[ \t]+(?:l['’])?|[lL]['’])$")
_CAPITALISED = re.compile(r"[A-ZÀ-Þ]")


def _capitalised(name: str) -> bool:
    """Every word of the name capitalised, particles aside ("Côte de Nacre", "Val d'Aurelle")."""
    words = [w for w in re.split(r"[\s\-]+", name) if w]
    small = {"de", "d'", "la", "le", "du", "des", "l'"}
    return all(
        _CAPITALISED.match(w) or fold(w) in small or fold(w)[:2] in ("d'", "l'") for w in words
    )


def find_known_hospitals(text: str, folded: str) -> list[tuple[int, int, str]]:
    """(start, end, detail) of the hospitals this gazetteer names in ``text``; ``folded`` is
    ``fold(text)``. Overlapping readings are left to the caller's fusion."""
    with_keyword, after_cue, alone, acronyms = _patterns()
    out: list[tuple[int, int, str]] = []
    for m in with_keyword.finditer(folded):
        out.append((m.start(), m.end(), "liste+mot-cle"))
    for m in after_cue.finditer(folded):
        s, e = m.span("name")
        name = text[s:e]
        # "à conception", "à pasteur" in lower case: a single listed word after "à" is read only
        # capitalised; several words ("à la pitié salpêtrière") whatever their case
        if _capitalised(name) or len(re.split(r"[\s\-]+", name.strip())) > 1:
            out.append((s, e, "liste+a"))
    for m in alone.finditer(folded):
        s, e = m.span("name")
        name = text[s:e]
        several = len(re.split(r"[\s\-]+", name.strip())) > 1
        if not (_capitalised(name) or several):
            continue
        if _NOT_HOSPITAL_BEFORE.search(text, max(0, s - 40), s):
            continue
        if not _capitalised(name) and fold(name) in _person_forms():
            continue  # "georges pompidou" in lower case: the gazetteers' reading, if any
        out.append((s, e, "liste"))
    for m in acronyms.finditer(text):
        if m["cued"] and not _ACRONYM_CUE.search(text, max(0, m.start() - 12), m.start()):
            continue
        out.append((m.start(), m.end(), "sigle"))
    return out


@cache
def _person_forms() -> frozenset[str]:
    return frozenset(fold(f) for f, _ in table()["P"])
