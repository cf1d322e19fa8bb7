"""Clause-level corrections of EDS-NLP's negation that its cue lists cannot express, because they
depend on where the cue stands relative to the mention (used by ``hopia.qualifier_rules``).

EDS-NLP matches cues as phrases wherever they are; a pseudo-cue cannot say "this 'non' follows
the mention" (it would also cancel "patient non *fumeur*"), nor "this test is the subject of the
negated verb". These rules look at the tokens of the mention's clause instead:

1. **"non" inside a term.** "diabète non insulino-dépendant", "détresse respiratoire non
   contrôlée", "toux non productive": a "non" *after* the mention followed by a modifier
   qualifies the mention, it does not deny it. The mention stays negated when the word after
   "non" says the finding was not found or not done ("adénopathie non retrouvée", "souffle non
   perçu", "hémocultures non prélevées", :data:`FINDING_WORDS`), when "non" ends the statement
   ("Toux : non"), or when a negation cue precedes the mention in its clause.
2. **Tests and examinations are not denied by what they did not show.** "Le scanner n'a pas
   montré d'épanchement", "pas d'embolie pulmonaire à l'angioscanner", "échographie sans mettre en
   évidence de dilatation": the examination was done, the finding is negated. A test mention
   (:func:`hopia.data.nlp.pipes.qualifiers.results.is_test`) stays negated only when the
   negation bears on the test itself: a cue right before it ("pas de sérologie VIH réalisée",
   "aucune PCR") or "not done" after it ("scanner non réalisé", "n'a pas été faite"). A test
   followed by "not done" is negated even when no EDS-NLP cue reached it ("l'IRM ne peut pas
   être réalisée", "l'échographie et le scanner n'ont pas pu être effectués").
3. **A "non" that modifies a term denies nothing around it either.** "Fracture non déplacée du
   col fémoral", "diabète non équilibré sous metformine", "masse non rehaussée après
   injection": EDS-NLP reads "non" as a cue both ways and negates the col fémoral, the
   metformine, the injection. When every negation word of the mention's clause is such a
   modifying "non" (followed by a modifier, hyphen or not: "non-insulinodépendant"), and the
   "non" does not stand right before the mention ("patient non fumeur" denies the tobacco), the
   mention is affirmed (:func:`only_modifier_non`).
"""

from __future__ import annotations

import re

from spacy.tokens import Doc, Span, Token

from hopia.platform.text import fold

#: Tokens that end a clause for these rules (folded text).
BOUNDARIES: frozenset[str] = frozenset(
    {",", ";", ".", ":", "!", "?", "(", ")", "mais", "et", "puis", "or", "car", "donc", "\n"}
)
#: Preceding negation cues (folded tokens); "n'" is how the tokenizer keeps the elided "ne".
PRECEDING_CUES: frozenset[str] = frozenset(
    {
        "pas",
        "sans",
        "aucun",
        "aucune",
        "aucuns",
        "aucunes",
        "absence",
        "ni",
        "non",
        "jamais",
        "ne",
        "n'",
        "n’",
        "nie",
        "niant",
        "nier",
    }
)
#: Words after "non" that deny the finding or the test ("non retrouvé", "non réalisé"): with
#: them "non" is a real negation (folded, any gender or number).
FINDING_WORDS: re.Pattern[str] = re.compile(
    r"(?:re)?trouve|visualise|vu|objective|mis|mise|percu|palpe|palpable|detecte|decele|"
    r"observe|note|constate|identifie|present|connu|retenu|confirme|realise|fait|faite|"
    r"preleve|effectue|pratique|demande|envoye|disponible|recherche|decrit|signale|"
    r"rapporte|evoque|visible|individualise|isole"
)
_FINDING = re.compile(rf"(?:{FINDING_WORDS.pattern})(?:e|s|es)?")
# "not done" after a test: "non réalisé", "pas été faite", "n'ont pas été prélevées"
_NOT_DONE = re.compile(
    r"^[^,;.:]{0,60}?\b(?:non|pas|jamais)\s+(?:(?:encore|ete|pu|etre)\s+)*"
    r"(?:realise|fait|faite|preleve|effectue|pratique|demande|envoye|disponible|refait|"
    r"programme|faits|faites)"
)
_SKIP_BEFORE: frozenset[str] = frozenset(
    {"de", "d'", "d’", "l'", "l’", "la", "le", "les", "du", "des", "un", "une"}
    | {"nouvel", "nouvelle"}
)
_MAX_GAP = 4  # tokens between the mention and its "non" ("éruption maculo-papuleuse non …")


def _f(token: Token) -> str:
    return fold(token.text)


def _is_boundary(token: Token) -> bool:
    return _f(token) in BOUNDARIES or token.is_sent_start or "\n" in token.text


def clause_start(span: Span) -> int:
    """Index of the first token of the mention's clause (after the previous boundary). A
    sentence's first word belongs to the clause it starts ("Pas de lésion non rehaussée")."""
    doc = span.doc
    i = span.start
    while i > 0 and not doc[i].is_sent_start:
        before = doc[i - 1]
        if _f(before) in BOUNDARIES or "\n" in before.text:
            break
        i -= 1
    return i


def negated_before(span: Span) -> bool:
    """A preceding negation cue in the mention's clause, before the mention."""
    doc = span.doc
    return any(_f(t) in PRECEDING_CUES for t in doc[clause_start(span) : span.start])


def _modified(doc: Doc, i: int) -> int | None:
    """Index of the word a "non" at ``i`` modifies ("non productive", "non-insulinodépendant"),
    or None when nothing follows it in its clause ("Toux : non.") or the word says the finding
    was not found or not done ("non retrouvé", :data:`FINDING_WORDS`)."""
    j = i + 1
    while j < len(doc) and doc[j].text in {"-", "‐", "‑"}:
        j += 1
    if j >= len(doc) or _is_boundary(doc[j]) or doc[j].is_punct:
        return None
    return None if _FINDING.fullmatch(_f(doc[j])) else j


def modifier_non(span: Span) -> bool:
    """The mention is followed, in its clause, by "non" + a modifier (rule 1): that "non"
    negates nothing."""
    doc: Doc = span.doc
    i, end = span.end, min(len(doc), span.end + _MAX_GAP + 1)
    while i < end and not _is_boundary(doc[i]):
        if _f(doc[i]) == "non":
            break
        if _f(doc[i]) in PRECEDING_CUES:
            return False
        i += 1
    else:
        return False
    if _modified(doc, i) is None:
        return False
    return not negated_before(span)


#: Negation words read after a mention (folded): EDS-NLP's following cues, in short.
_FOLLOWING_CUE = re.compile(
    r"absente?s?|depourvue?s?|disparai\w*|eliminee?s?|exclue?s?|immunisee?s?|impossible|"
    r"improbable|negati(?:f|fs|ve|ves)|negligeables?|niee?s?|pas|jamais|aucune?s?|sans|ni|non"
)


def clause_end(span: Span) -> int:
    """Index of the token after the last one of the mention's clause."""
    doc = span.doc
    i = span.end
    while i < len(doc) and not _is_boundary(doc[i]):
        i += 1
    return i


def only_modifier_non(span: Span) -> bool:
    """Every negation word of the mention's clause is a "non" that modifies a term, and none
    stands right before the mention (rule 3): the mention is affirmed."""
    doc: Doc = span.doc
    start, end = clause_start(span), clause_end(span)
    modifiers = 0
    for i in range(start, end):
        if span.start <= i < span.end:
            continue  # the mention's own words ("diabète non insulino-dépendant")
        word = _f(doc[i])
        if word == "non":
            target = _modified(doc, i)
            if target is None or target == span.start:
                return False  # "Toux : non", "non retrouvé", "patient non fumeur"
            modifiers += 1
        elif (
            i < span.start
            and word in PRECEDING_CUES
            or i >= span.end
            and _FOLLOWING_CUE.fullmatch(word)
        ):
            return False
    return modifiers > 0


def not_done(span: Span) -> bool:
    """A test mention followed in its clause by "not done" ("ne peut pas être réalisée")."""
    doc = span.doc
    after = fold(doc[span.end : min(len(doc), span.end + 16)].text)
    return _NOT_DONE.match(after) is not None


def negation_on_test(span: Span) -> bool:
    """For a test mention: does the negation bear on the test itself (rule 2)?"""
    doc = span.doc
    i = span.start - 1
    while i >= 0 and _f(doc[i]) in _SKIP_BEFORE:
        i -= 1
    if i >= 0 and _f(doc[i]) in PRECEDING_CUES and span.start - i <= 3:
        return True
    return not_done(span)
