"""The PHI guard: what stands between a prompt and a backend outside the hospital.

Before a call to a backend not marked local, every message is pseudonymised with Hopia's own
engine (:class:`hopia.data.pseudo.Pseudonymiser`, the one ``hopia pseudo run`` and the ingest
use, with the statistical PHI model as the installation configures it): names, IPP, NIR,
dates, addresses, phones, mails become consistent surrogates in the same format. The
surrogate → original map lives in memory for that call only (:class:`Restorer`) and puts the
originals back into the answer, also across streamed pieces: a surrogate split between two
deltas is held back until it is whole (or plainly not a surrogate).

An identifier the engine replaced once is then replaced wherever else it appears in the call
(same case, whole words, 3 characters or more): the engine may find a name in a document's
header and miss it alone three lines below.

What leaves is held to a stricter rule than the warehouse's text (:func:`strict_names`): a
word is replaced when its place alone says it is a name — right after "Dr" or "Pr" in any case
("Dr ben barka"), glued to an initial ("Z.Phillot"), before a comma and an initial at the
start of a line ("Nivor, S."). A word wrongly replaced costs nothing here: it comes back in the
answer; a name sent out cannot be called back.

One secret key per call (random, never stored): surrogates are consistent across the call's
messages (the same patient is the same fake patient in the system prompt and the question), and
two calls cannot be linked by their surrogates. Dates are shifted by the same offset within a
call, so intervals stay true; ages computed by the model may be off by up to a year.

When pseudonymisation fails, nothing is sent: :class:`~hopia.platform.exceptions.PhiGuardError`.
What the guard cannot restore: a surrogate the model rewrote (a date spelled out, a name
declined) stays a surrogate in the answer — never an original sent out.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from hopia.assistant.llm.base import ChatMessage, Delta
from hopia.data.pseudo import Pseudonymiser, PseudoResult
from hopia.data.pseudo.rules import PhiSpan
from hopia.platform.exceptions import HopiaError, PhiGuardError

# Shorter surrogates are not restored, shorter originals not propagated: "L.", "M.", "12" also
# stand for words that are not them (a civility, a number).
_SHORTEST = 3


_WORD = r"[^\W\d_][\w'’-]*"
# A practitioner's title: whatever follows is a name, in any case ("Dr ben barka: …"). Not
# "PR" in capitals: the polyarthrite rhumatoïde ("PR séropositive").
_PRACTITIONER = re.compile(
    rf"\b(?:Dr|DR|Docteur|DOCTEUR|docteur|Pr|Professeur|PROFESSEUR|professeur)\.?[ \t]+"
    rf"(?P<name>{_WORD}(?:[ \t]+{_WORD})?)"
)
# Particles a name may start with: the word after them is the name's too.
_PARTICLES = frozenset(
    ("ben", "ibn", "bin", "el", "al", "le", "la", "de", "du", "des", "van", "von", "der", "di")
)
# "Z.Phillot", "A.Mariniere": an initial glued to a capitalised word.
_GLUED = re.compile(r"\b[A-Z]\.(?P<name>[A-ZÀ-Ý][a-zà-ÿ'-]{2,}|[A-ZÀ-Ý]{3,})\b")
# "Nivor, S." at the start of a line: a surname, then the first name's initial.
_SURNAME_INITIAL = re.compile(r"(?m)^[ \t]*(?P<name>[A-ZÀ-Ý][\wÀ-ÿ'-]{2,}),[ \t]*[A-Z]\.")


def strict_names(text: str, spans: Sequence[PhiSpan]) -> list[PhiSpan]:
    """Names that the place of a word gives away, not already among ``spans``: the guard's
    stricter rule for what leaves (see the module's docstring)."""
    taken = [(s.start, s.end) for s in spans]

    def free(start: int, end: int) -> bool:
        return all(end <= a or b <= start for a, b in taken)

    found: list[tuple[int, int]] = []
    for m in _PRACTITIONER.finditer(text):
        start, end = m.span("name")
        words = list(re.finditer(_WORD, text[start:end]))
        first, second = words[0], words[1] if len(words) > 1 else None
        if len(first.group()) < 2:
            continue  # an initial ("Dr A. Martin", "Dr A.Martin"): the engine's, or _GLUED's
        keep_second = second is not None and (
            first.group().casefold() in _PARTICLES or second.group()[:1].isupper()
        )
        found.append((start, start + (second.end() if keep_second else first.end())))
    for pattern in (_GLUED, _SURNAME_INITIAL):
        found += [m.span("name") for m in pattern.finditer(text)]
    out: list[PhiSpan] = []
    for start, end in sorted(set(found)):
        if free(start, end):
            taken.append((start, end))
            out.append(PhiSpan(start, end, "NOM", text[start:end], "rule", "garde-fou"))
    return out


def folded(text: str) -> str:
    """Without accents, case-folded: the engine gives "REMY" and "RÉMY" one surrogate."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@dataclass
class Restorer:
    """Surrogate → original for one call; ``feed`` / ``flush`` restore a stream."""

    originals: dict[str, str] = field(default_factory=dict)
    _pattern: re.Pattern[str] | None = field(default=None, repr=False)
    _pending: str = field(default="", repr=False)

    def add(self, surrogate: str, original: str) -> None:
        if len(surrogate) < _SHORTEST or surrogate == original:
            return  # an initial's surrogate ("M.") is also a civility: it stays as it came
        known = self.originals.get(surrogate)
        if known is not None and known != original:
            if known and folded(known) == folded(original):
                return  # "REMY" and "RÉMY": one name spelt two ways; the first spelling back
            # Two originals behind one surrogate: restoring would guess; the surrogate stays.
            self.originals[surrogate] = ""
        else:
            self.originals[surrogate] = original
        self._pattern = None

    @property
    def pattern(self) -> re.Pattern[str] | None:
        if self._pattern is None and self.originals:
            # Longest first: "Jeanne" before "Jean"; whole words only ("Marc" not in "Marché").
            names = sorted(self.originals, key=len, reverse=True)
            self._pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, names)) + r")(?!\w)")
        return self._pattern

    def _original(self, surrogate: str) -> str:
        return self.originals.get(surrogate) or surrogate

    def restore(self, text: str) -> str:
        """``text`` with every whole surrogate replaced by its original."""
        pattern = self.pattern
        if pattern is None:
            return text
        return pattern.sub(lambda m: self._original(m.group(0)), text)

    def _hold_from(self, text: str, start: int) -> int:
        """Where the tail that may still grow into a surrogate begins (``len(text)``: none)."""
        longest = max(map(len, self.originals), default=0)
        for j in range(max(start, len(text) - longest + 1), len(text)):
            tail = text[j:]
            if (j == 0 or not (text[j - 1].isalnum() or text[j - 1] == "_")) and any(
                s.startswith(tail) for s in self.originals
            ):
                return j
        return len(text)

    def feed(self, chunk: str) -> str:
        """The part of the stream so far that can be shown restored; the rest waits."""
        text = self._pending + chunk
        pattern = self.pattern
        if pattern is None:
            return text
        out: list[str] = []
        pos, hold = 0, self._hold_from(text, 0)
        for match in pattern.finditer(text):
            if match.start() >= hold:
                break
            if match.end() == len(text):  # the word may go on in the next piece
                hold = min(hold, match.start())
                break
            out += (text[pos : match.start()], self._original(match.group(0)))
            pos = match.end()
            if pos > hold:
                hold = self._hold_from(text, pos)
        hold = max(hold, pos)
        out.append(text[pos:hold])
        self._pending = text[hold:]
        return "".join(out)

    def flush(self) -> str:
        """What is still held, restored: the stream has ended."""
        text, self._pending = self._pending, ""
        return self.restore(text)

    def restore_stream(self, deltas: Iterable[Delta]) -> Iterator[Delta]:
        """The deltas of a backend, restored; the final (``done``) delta carries what was held."""
        for delta in deltas:
            if delta.done:
                yield Delta(
                    self.flush() + delta.text,
                    done=True,
                    usage=delta.usage,
                    finish_reason=delta.finish_reason,
                )
                return
            shown = self.feed(delta.text)
            if shown:
                yield Delta(shown)
        rest = self.flush()
        if rest:
            yield Delta(rest)


@dataclass(frozen=True)
class Guarded:
    """A call's messages as the backend will see them, and how to read its answer back."""

    messages: list[ChatMessage]
    restorer: Restorer
    replaced: int  # identifying spans replaced, for the audit (a count, no text)


def _propagate(
    texts: list[str], placed: list[list[tuple[int, int]]], restorer: Restorer
) -> tuple[list[str], int]:
    """Replace, in every text of the call, the whole-word occurrences of an original that the
    pseudonymiser replaced somewhere but missed elsewhere ("M. Christophe MOREAU" found in the
    header, "MOREAU" alone missed in a later line), by the same surrogate. Same case only.

    ``placed``: per text, where the engine put its surrogates; they are never touched (the
    surrogate of one name may be another real name of the call: "THEVENET" -> "DUPONT")."""
    surrogate_of = {
        original: surrogate
        for surrogate, original in restorer.originals.items()
        if original and len(original) >= _SHORTEST
    }
    if not surrogate_of:
        return texts, 0
    names = sorted(surrogate_of, key=len, reverse=True)
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, names)) + r")(?!\w)")
    count = 0
    out = []
    for text, spans in zip(texts, placed, strict=True):
        starts = [start for start, _ in spans]

        def swap(
            match: re.Match[str], spans: list[tuple[int, int]] = spans, starts: list[int] = starts
        ) -> str:
            nonlocal count
            i = bisect_right(starts, match.start()) - 1  # the surrogate starting at or before
            for start, end in spans[max(i, 0) : i + 2]:
                if start < match.end() and match.start() < end:
                    return match.group(0)  # a surrogate the engine placed: left as it is
            count += 1
            return surrogate_of[match.group(0)]

        out.append(pattern.sub(swap, text))
    return out, count


_ATTEMPTS = 16  # draws of a call's key; detection runs once, a draw only places surrogates
_NAMES = frozenset({"NOM", "PRENOM"})


def _collisions(
    pairs: Sequence[tuple[str, str, str]], said: frozenset[str] = frozenset()
) -> tuple[int, int]:
    """How many surrogates stand for two originals of the call (told apart once folded), hold
    a word of a name of the call, or are another real value of it (a date, a hospital, a city),
    or hold a word the call's texts already say (``said``: "Ambroise" for a first name beside
    the "Hôpital Ambroise-Paré" of the letterhead, which the restorer would then turn into the
    first name's original). Postcodes are left out: the engine derives a postcode's surrogate
    from its commune's, so two postcodes of one city ("69001", "69003", Lyon) always share one —
    no new key changes that; such a postcode is not restored.

    Counted apart, the worse first: (surrogates that are another person's or value's own —
    the backend would read two people as one, or a real name —, surrogates that only wear a
    word the texts say elsewhere — the answer's restoration would touch that word)."""
    names = {w for _, o, label in pairs if label in _NAMES for w in _words(o)}
    originals = {folded(o) for _, o, label in pairs if label != "ZIP"}
    behind: dict[str, str] = {}
    serious = worded_only = 0
    for surrogate, original, label in pairs:
        if len(surrogate) < _SHORTEST or label == "ZIP":
            continue
        fs, fo = folded(surrogate), folded(original)
        shared = behind.setdefault(surrogate, fo) != fo
        worded = {w for w in _words(surrogate) if w.isalpha()}
        if "DATE" in label:  # a shifted date's month ("mars") is said everywhere
            worded = set()
        if shared or bool(worded & names) or fs in originals:
            serious += 1
        elif worded & said:
            worded_only += 1
    return serious, worded_only


def _pairs(results: Sequence[PseudoResult]) -> list[tuple[str, str, str]]:
    return [
        (surrogate, span.text, span.label)
        for r in results
        for span, surrogate in zip(r.spans, r.surrogates, strict=True)
    ]


def _proper_words(texts: Sequence[str]) -> frozenset[str]:
    """The words the texts write with a capital (folded): the names of places, services and
    people that a surrogate must not wear. Lower-case words are left out: a surrogate "Rose"
    or "Blanc" beside "une lésion rose" restores nothing wrongly (restoring matches the
    surrogate's own case), and counting them would leave no clash-free draw in a long text."""
    capitalised = (
        w for text in texts for w in re.findall(r"[^\W\d_][\w'-]*", text) if w[0].isupper()
    )
    return frozenset(x for w in capitalised for x in _words(w) if x.isalpha())


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w+", folded(text)) if len(w) >= _SHORTEST}


class PhiGuard:
    """Pseudonymises what leaves for a backend not local, and restores what comes back."""

    def __init__(self, pseudonymiser: Pseudonymiser) -> None:
        if pseudonymiser.policy != "surrogate":
            raise PhiGuardError("le garde-fou exige la politique « surrogate » (substituts)")
        self.pseudonymiser = pseudonymiser

    def _pseudonymise(self, texts: Sequence[str], backend: str) -> tuple[list[str], Restorer, int]:
        try:
            # Detection once (the model is the costly part); surrogates drawn again with a new
            # key while two people of the call would share one, or one would wear the other's
            # real name ("THEVENET" -> "DUPONT" beside a real DUPONT): the backend would read
            # them as one person, and the answer could not be put back.
            detected = []
            for text in texts:
                spans = self.pseudonymiser.detect(text)
                detected.append(sorted([*spans, *strict_names(text, spans)], key=lambda x: x.start))
            said = _proper_words(texts)
            best: tuple[tuple[int, int], list[PseudoResult]] | None = None
            for _ in range(_ATTEMPTS):
                key = secrets.token_hex(16)  # this call's surrogates: consistent, unlinkable
                results = [
                    self.pseudonymiser.pseudonymise(
                        text, patient_key=key, model_spans=spans, rule_spans=[]
                    )
                    for text, spans in zip(texts, detected, strict=True)
                ]
                clashes = _collisions(_pairs(results), said)
                if best is None or clashes < best[0]:
                    best = (clashes, results)
                if clashes == (0, 0):
                    break
            assert best is not None
            results = best[1]  # the draw with the fewest clashes (long texts may keep some)
            pairs = _pairs(results)
            restorer = Restorer()
            for surrogate, original, _ in pairs:
                restorer.add(surrogate, original)
            out = [r.pseudo_text for r in results]
            placed = [[(p.start, p.end) for p in r.pseudo_spans()] for r in results]
            out, again = _propagate(out, placed, restorer)
        except Exception as exc:  # whatever broke: nothing leaves
            why = exc.message if isinstance(exc, HopiaError) else type(exc).__name__
            raise PhiGuardError(
                f"la pseudonymisation a échoué ({why}) : rien n'a été envoyé au modèle "
                f"« {backend} », qui n'est pas hébergé par l'établissement",
                details={"backend": backend},
            ) from None
        return out, restorer, len(pairs) + again

    def protect(self, messages: Sequence[ChatMessage], backend: str) -> Guarded:
        """Every message pseudonymised (system, user and assistant turns alike)."""
        texts, restorer, replaced = self._pseudonymise([m.content for m in messages], backend)
        guarded = [ChatMessage(m.role, t) for m, t in zip(messages, texts, strict=True)]
        return Guarded(guarded, restorer, replaced)

    def protect_texts(self, texts: Sequence[str], backend: str) -> tuple[list[str], int]:
        """Texts to embed, pseudonymised (nothing comes back to restore)."""
        out, _, replaced = self._pseudonymise(texts, backend)
        return out, replaced
