"""A dictated note's sections put into written form by a language model, never at the cost of a
fact (issue 14 item 4).

Each section is sent alone (the model sees no more than the clinician said there). Its proposal
is kept only when Hopia's NLP finds, in both directions, the same clinical facts: nothing added
or changed (the grounding check of the proposal against the dictated text) and nothing dropped
(the same check of the dictated text against the proposal). Otherwise the dictated text stays,
with the reasons, in French, for the clinician to read. Without a model the sections stay as
dictated and the note says so: the rule-based structuring does not need one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hopia.assistant import grounding
from hopia.assistant.grounding import Flag, SourceText
from hopia.assistant.tasks import Generate, run
from hopia.assistant.tasks.dictation import DICTATION_SECTION, SectionInputs


@dataclass(frozen=True)
class SectionRewrite:
    """One section: what was dictated, what the model proposed, and whether it was kept."""

    title: str
    dictated: str
    proposed: str
    accepted: bool
    added: tuple[Flag, ...] = ()  # facts of the proposal the dictation does not back
    dropped: tuple[Flag, ...] = ()  # facts of the dictation the proposal lost or changed
    reason: str | None = None  # why the dictated text stays, in French

    @property
    def text(self) -> str:
        """The section's text in the note: the proposal when kept, the dictation otherwise."""
        return self.proposed if self.accepted else self.dictated

    def to_json(self) -> dict[str, Any]:
        return {
            "section": self.title,
            "accepted": self.accepted,
            "dictated": self.dictated,
            "proposed": self.proposed,
            "added": [f.to_json() for f in self.added],
            "dropped": [f.to_json() for f in self.dropped],
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Reformulation:
    sections: list[SectionRewrite]
    model: str | None
    prompt_version: str
    message: str | None = None  # no model: said in French
    errors: list[str] = field(default_factory=list)

    @property
    def texts(self) -> dict[str, str]:
        return {s.title: s.text for s in self.sections}


def _in_dictation(message: str) -> str:
    """The grounding check's French message, said of the dictated text (its only source)."""
    return message.replace("dans les sources", "dans le texte dicté").replace(
        "des sources", "du texte dicté"
    )


def _reason(added: tuple[Flag, ...], dropped: tuple[Flag, ...], proposed: str) -> str | None:
    if not proposed.strip():
        return "le modèle n'a rien proposé"
    parts = [f"« {f.text} » : {_in_dictation(f.message)}" for f in added] + [
        f"« {f.text} » : perdu ou modifié dans la proposition" for f in dropped
    ]
    return "; ".join(parts) or None


def reformulate(
    sections: Mapping[str, str], *, generate: Generate | None, nlp: Any
) -> Reformulation:
    """Each section of ``sections`` (title → dictated text) put into written form by
    ``generate``, kept only when it holds exactly the dictated facts."""
    version = DICTATION_SECTION.prompt.label
    if generate is None:
        from hopia.assistant.tasks import NO_MODEL

        kept = [SectionRewrite(t, x, "", False, reason=NO_MODEL) for t, x in sections.items()]
        return Reformulation(kept, None, version, message=NO_MODEL)
    out: list[SectionRewrite] = []
    model: str | None = None
    for title, dictated in sections.items():
        if not dictated.strip():
            out.append(SectionRewrite(title, dictated, dictated, True))
            continue
        source = SourceText(f"section:{title}", dictated, title)
        result = run(
            DICTATION_SECTION,
            SectionInputs(text=dictated, title=title),
            [source],
            generate=generate,
            nlp=nlp,
        )
        model = result.model or model
        proposed = result.text.strip()
        added = tuple(result.flags)
        dropped: tuple[Flag, ...] = ()
        if proposed:
            back = grounding.check(dictated, [SourceText("proposition", proposed)], nlp=nlp)
            dropped = back.flags
        reason = _reason(added, dropped, proposed)
        kept = reason is None
        out.append(SectionRewrite(title, dictated, proposed, kept, added, dropped, reason))
    return Reformulation(out, model, version)
