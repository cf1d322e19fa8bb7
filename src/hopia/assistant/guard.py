"""The PHI guard: what stands between a prompt and a backend outside the hospital.

Before a call to a backend not marked local, every message is pseudonymised with Hopia's own
engine (:class:`hopia.data.pseudo.Pseudonymiser`, the one ``hopia pseudo run`` and the ingest
use, with the statistical PHI model as the installation configures it): names, IPP, NIR,
dates, addresses, phones, mails become consistent surrogates in the same format. The
surrogate → original map lives in memory for that call only (:class:`Restorer`) and puts the
originals back into the answer, also across streamed pieces: a surrogate split between two
deltas is held back until it is whole (or plainly not a surrogate).

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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from hopia.assistant.llm.base import ChatMessage, Delta
from hopia.data.pseudo import Pseudonymiser
from hopia.platform.exceptions import HopiaError, PhiGuardError


@dataclass
class Restorer:
    """Surrogate → original for one call; ``feed`` / ``flush`` restore a stream."""

    originals: dict[str, str] = field(default_factory=dict)
    _pattern: re.Pattern[str] | None = field(default=None, repr=False)
    _pending: str = field(default="", repr=False)

    def add(self, surrogate: str, original: str) -> None:
        if not surrogate or surrogate == original:
            return
        known = self.originals.get(surrogate)
        if known is not None and known != original:
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


class PhiGuard:
    """Pseudonymises what leaves for a backend not local, and restores what comes back."""

    def __init__(self, pseudonymiser: Pseudonymiser) -> None:
        if pseudonymiser.policy != "surrogate":
            raise PhiGuardError("le garde-fou exige la politique « surrogate » (substituts)")
        self.pseudonymiser = pseudonymiser

    def _pseudonymise(self, texts: Sequence[str], backend: str) -> tuple[list[str], Restorer, int]:
        key = secrets.token_hex(16)  # this call's surrogates: consistent within, unlinkable
        restorer, out, replaced = Restorer(), [], 0
        try:
            for text in texts:
                result = self.pseudonymiser.pseudonymise(text, patient_key=key)
                for span, surrogate in zip(result.spans, result.surrogates, strict=True):
                    restorer.add(surrogate, span.text)
                replaced += len(result.spans)
                out.append(result.pseudo_text)
        except Exception as exc:  # whatever broke: nothing leaves
            why = exc.message if isinstance(exc, HopiaError) else type(exc).__name__
            raise PhiGuardError(
                f"la pseudonymisation a échoué ({why}) : rien n'a été envoyé au modèle "
                f"« {backend} », qui n'est pas hébergé par l'établissement",
                details={"backend": backend},
            ) from None
        return out, restorer, replaced

    def protect(self, messages: Sequence[ChatMessage], backend: str) -> Guarded:
        """Every message pseudonymised (system, user and assistant turns alike)."""
        texts, restorer, replaced = self._pseudonymise([m.content for m in messages], backend)
        guarded = [ChatMessage(m.role, t) for m, t in zip(messages, texts, strict=True)]
        return Guarded(guarded, restorer, replaced)

    def protect_texts(self, texts: Sequence[str], backend: str) -> tuple[list[str], int]:
        """Texts to embed, pseudonymised (nothing comes back to restore)."""
        out, _, replaced = self._pseudonymise(texts, backend)
        return out, replaced
