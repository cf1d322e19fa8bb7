"""What the PHI guard lets through, on annotated notes (``hopia assistant eval guard``).

Each note goes through :meth:`PhiGuard.protect` as a prompt bound for a backend not local
would; the evaluation then looks, in what would have left, for every annotated identifier's
original text. A direct identifier (a name, a phone number, an e-mail, a social security or
hospital number, an address, a birth date) found there was **sent**; quasi-identifiers (dates,
cities, postcodes, hospitals) and initials alone ("D.", "JM": the guard keeps a replaced name's
initial as written) are counted apart. An occurrence is counted only beyond those the
note has outside the identifier's own spans ("Rose" the first name beside "une lésion rose": the
adjective is no leak), words matched whole, case and accents folded. The answer's side is
checked too: the protected text, restored, must give the note back exactly.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hopia.assistant.guard import PhiGuard, folded
from hopia.assistant.llm.base import ChatMessage
from hopia.data.pseudo.evaluate import PhiGoldDoc
from hopia.platform.exceptions import PhiGuardError

DIRECT = frozenset(
    {"NOM", "PRENOM", "TEL", "MAIL", "SECU", "IPP", "NDA", "ADRESSE", "DATE_NAISSANCE"}
)


@dataclass
class GuardEvalResult:
    notes: int = 0
    identifiers: Counter[str] = field(default_factory=Counter)  # direct, per label
    sent: Counter[str] = field(default_factory=Counter)  # direct identifiers found in what left
    quasi: int = 0
    quasi_sent: int = 0
    initials: int = 0  # a first name's initial alone ("D.", "JM"): counted apart
    initials_sent: int = 0
    restored_exactly: int = 0
    refused: int = 0  # notes the guard refused to send (an error: nothing left)
    seconds: float = 0.0
    leaks: list[str] = field(default_factory=list)  # "note id LABEL" (no text: it is PHI)
    not_restored: list[str] = field(default_factory=list)  # note ids

    def to_json(self) -> dict[str, Any]:
        total = sum(self.identifiers.values())
        sent = sum(self.sent.values())
        return {
            "notes": self.notes,
            "direct_identifiers": total,
            "direct_sent": sent,
            "direct_sent_rate": sent / total if total else 0.0,
            "sent_by_label": dict(sorted(self.sent.items())),
            "identifiers_by_label": dict(sorted(self.identifiers.items())),
            "quasi_identifiers": self.quasi,
            "quasi_sent": self.quasi_sent,
            "initials": self.initials,
            "initials_sent": self.initials_sent,
            "restored_exactly": self.restored_exactly,
            "refused": self.refused,
            "seconds": round(self.seconds, 2),
            "leaks": self.leaks,
            "not_restored": self.not_restored,
        }


def _count(needle: str, haystack: str) -> int:
    """Whole-word occurrences of ``needle`` in ``haystack`` (both folded)."""
    if not needle.strip():
        return 0
    pattern = r"(?<!\w)" + re.escape(needle) + r"(?!\w)"
    return len(re.findall(pattern, haystack))


def _initial(original: str) -> bool:
    """An initial or two ("d.", "jm", "j.-p."): identifies nobody alone."""
    letters = [c for c in original if c.isalpha()]
    return 0 < len(letters) <= 2 and all(c in ".- " or c.isalpha() for c in original)


def _outside(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``text`` with the identifier spans blanked (same length)."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def evaluate_guard(
    guard: PhiGuard, docs: Sequence[PhiGoldDoc], backend: str = "évaluation"
) -> GuardEvalResult:
    """Run every note through ``guard`` and count what would have been sent."""
    result = GuardEvalResult()
    started = time.perf_counter()
    for doc in docs:
        result.notes += 1
        try:
            guarded = guard.protect([ChatMessage("user", doc.text)], backend)
        except PhiGuardError:
            result.refused += 1  # nothing left: no leak, but no answer either
            continue
        sent = guarded.messages[0].content
        if guarded.restorer.restore(sent) == doc.text:
            result.restored_exactly += 1
        else:
            result.not_restored.append(doc.id)
        out = folded(sent)
        rest = folded(_outside(doc.text, [(s.start, s.end) for s in doc.spans]))
        for span in doc.spans:
            original = folded(doc.text[span.start : span.end]).strip()
            leaked = _count(original, out) > _count(original, rest)
            if _initial(original):
                result.initials += 1
                result.initials_sent += leaked
            elif span.label in DIRECT:
                result.identifiers[span.label] += 1
                if leaked:
                    result.sent[span.label] += 1
                    result.leaks.append(f"{doc.id} {span.label}")
            else:
                result.quasi += 1
                result.quasi_sent += leaked
    result.seconds = time.perf_counter() - started
    return result
