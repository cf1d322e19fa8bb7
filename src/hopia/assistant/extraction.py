"""The embedded LLM as a zero/few-shot clinical entity extractor, behind the same contract as
the rules + NER pipeline (``hopia nlp extract --engine llm``): :class:`hopia.data.nlp.Entity`
with label, offsets, text and the qualifiers negated / hypothetical / family / history.

- **Prompt.** French, one worked example (few-shot), three semantic groups: ``maladie``
  (DISO: diseases, symptoms, anomalies), ``substance`` (CHEM: drugs, chemicals) and ``acte``
  (PROC: examinations, procedures, treatments), each with its qualifiers. Written once from the
  task's definition, not tuned on the evaluation sets.
- **Constrained decoding.** The answer is JSON valid against :data:`SCHEMA` (llama.cpp turns it
  into a grammar): ``{"entites": [{"texte", "type", "qualificatifs": [...]}]}``, at most
  :data:`MAX_ENTITIES` per piece, in a token budget that grows with the piece's length
  (:meth:`LlmExtractor.answer_tokens`). An answer cut by the budget keeps its complete entities
  (counted as *truncated*).
- **Offsets are never the model's.** Each quoted ``texte`` is looked up in the text (case and
  spacing ignored, whole words), at its next unused occurrence; a span that is not in the text
  is *dropped* and counted — a generative model may paraphrase or invent, and an offset must
  point at what the document says.
- Long texts are cut into pieces of :data:`CHUNK_CHARS` (paragraph, line or sentence breaks) so
  that prompt and answer fit the packaged models' 4,096-token context.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hopia.assistant.llm.base import ChatMessage, Completion
from hopia.data.nlp import Entity
from hopia.platform.text import chunk_bounds

PROMPT_VERSION = "extraction.v1"
CHUNK_CHARS = 1_200
MAX_TOKENS = 512
MAX_ENTITIES = 40  # per piece: more is a model repeating itself

#: The model's type names and the semantic groups they stand for.
GROUPS: dict[str, str] = {"maladie": "DISO", "substance": "CHEM", "acte": "PROC"}
#: The model's qualifier names and the Entity fields they set.
QUALIFIERS: dict[str, str] = {
    "nié": "negation",
    "hypothétique": "hypothesis",
    "familial": "family",
    "antécédent": "history",
}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "entites": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "texte": {"type": "string"},
                    "type": {"type": "string", "enum": list(GROUPS)},
                    "qualificatifs": {
                        "type": "array",
                        "items": {"type": "string", "enum": list(QUALIFIERS)},
                        "maxItems": len(QUALIFIERS),
                    },
                },
                "required": ["texte", "type", "qualificatifs"],
            },
            "maxItems": MAX_ENTITIES,
        }
    },
    "required": ["entites"],
}

SYSTEM = (
    "Tu es un système d'extraction d'information médicale. Dans le texte donné, relève chaque "
    "mention de :\n"
    "- maladie : maladie, symptôme, signe clinique, anomalie ;\n"
    "- substance : médicament, molécule, substance chimique ou biologique ;\n"
    "- acte : examen, analyse, intervention, traitement non médicamenteux.\n"
    "Recopie chaque mention exactement comme elle est écrite dans le texte (mêmes mots, même "
    "orthographe). Pour chacune, donne ses qualificatifs : « nié » si le texte dit qu'elle est "
    "absente, « hypothétique » si elle est seulement envisagée, suspectée ou conditionnelle, "
    "« familial » si elle concerne un membre de la famille et non le patient, « antécédent » si "
    "elle appartient au passé du patient. Une liste vide si aucun ne s'applique. Réponds en JSON."
)
EXAMPLE_TEXT = (
    "Patient de 67 ans, antécédent d'infarctus du myocarde traité par angioplastie. Pas de "
    "fièvre. Mère diabétique. Scanner thoracique si suspicion d'embolie pulmonaire. Poursuite "
    "du ramipril."
)
EXAMPLE_ANSWER = json.dumps(
    {
        "entites": [
            {"texte": "infarctus du myocarde", "type": "maladie", "qualificatifs": ["antécédent"]},
            {"texte": "angioplastie", "type": "acte", "qualificatifs": ["antécédent"]},
            {"texte": "fièvre", "type": "maladie", "qualificatifs": ["nié"]},
            {"texte": "diabétique", "type": "maladie", "qualificatifs": ["familial"]},
            {"texte": "Scanner thoracique", "type": "acte", "qualificatifs": ["hypothétique"]},
            {"texte": "embolie pulmonaire", "type": "maladie", "qualificatifs": ["hypothétique"]},
            {"texte": "ramipril", "type": "substance", "qualificatifs": []},
        ]
    },
    ensure_ascii=False,
)


def messages(text: str) -> list[ChatMessage]:
    """The prompt of one piece of text: instructions, the worked example, the text."""
    return [
        ChatMessage("system", SYSTEM),
        ChatMessage("user", f"Texte :\n{EXAMPLE_TEXT}"),
        ChatMessage("assistant", EXAMPLE_ANSWER),
        ChatMessage("user", f"Texte :\n{text}"),
    ]


# -- reading the answer --------------------------------------------------------------------------

_OBJECT = re.compile(r"\{[^{}\[\]]*(?:\[[^\[\]]*\][^{}\[\]]*)?\}")


@dataclass(frozen=True)
class Mention:
    """One mention as the model quoted it."""

    text: str
    group: str  # DISO, CHEM, PROC
    qualifiers: frozenset[str]  # Entity field names


def _mention(item: Any) -> Mention | None:
    if not isinstance(item, Mapping):
        return None
    text, kind = item.get("texte"), item.get("type")
    if not isinstance(text, str) or not text.strip() or kind not in GROUPS:
        return None
    flags = item.get("qualificatifs") or []
    names = frozenset(QUALIFIERS[q] for q in flags if isinstance(q, str) and q in QUALIFIERS)
    return Mention(text.strip(), GROUPS[kind], names)


def parse_answer(answer: str) -> tuple[list[Mention], bool]:
    """The mentions of a JSON answer and whether it was incomplete (cut by the token limit):
    then its complete entity objects are kept."""
    try:
        data = json.loads(answer)
        items = data.get("entites", []) if isinstance(data, dict) else []
        complete = True
    except ValueError:
        items = []
        for found in _OBJECT.finditer(answer):
            try:
                items.append(json.loads(found.group(0)))
            except ValueError:
                continue
        complete = False
    mentions = [m for m in map(_mention, items) if m is not None]
    return mentions, not complete


# -- finding the mentions in the text ------------------------------------------------------------

_EDGE = "\"'«»“”‘’`.,;:()[] \t\n"


def _pattern(span: str) -> re.Pattern[str] | None:
    words = span.strip(_EDGE).split()
    if not words:
        return None
    body = r"\s+".join(re.escape(w) for w in words)
    before = r"(?<!\w)" if words[0][0].isalnum() else ""
    after = r"(?!\w)" if words[-1][-1].isalnum() else ""
    return re.compile(before + body + after, re.IGNORECASE)


def locate(text: str, span: str, taken: set[tuple[int, int]]) -> tuple[int, int] | None:
    """Offsets of the first occurrence of ``span`` in ``text`` not in ``taken`` (case and
    spacing ignored, whole words); None when the text does not contain it."""
    pattern = _pattern(span)
    if pattern is None:
        return None
    first = None
    for found in pattern.finditer(text):
        where = (found.start(), found.end())
        first = first or where
        if where not in taken:
            return where
    return first  # every occurrence already taken: the same mention quoted twice


@dataclass
class ExtractionStats:
    """What the extractor spent and what it had to drop, over every text so far."""

    texts: int = 0
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    mentions: int = 0  # quoted by the model
    dropped: int = 0  # not found in the text
    truncated: int = 0  # answers cut by the token limit
    per_call: list[tuple[int, int, float]] = field(default_factory=list)


#: ``complete(messages, max_tokens, json_schema) -> Completion``
Complete = Callable[[Sequence[ChatMessage], int, Mapping[str, Any]], Completion]


class LlmExtractor:
    """Entities of texts by a chat model answering :data:`SCHEMA`."""

    def __init__(
        self,
        complete: Complete,
        model: str,
        *,
        chunk_chars: int = CHUNK_CHARS,
        max_tokens: int = MAX_TOKENS,
    ) -> None:
        self.complete = complete
        self.model = model
        self.chunk_chars = chunk_chars
        self.max_tokens = max_tokens
        self.stats = ExtractionStats()

    def answer_tokens(self, piece: str) -> int:
        """The token budget of a piece's answer: its quoted spans plus about 15 tokens of JSON
        per entity fit in 96 + one token per two characters; a small model that repeats itself
        would otherwise write to the hard limit on every short text."""
        return min(self.max_tokens, 96 + len(piece) // 2)

    @property
    def pipe(self) -> str:
        return f"llm.{self.model}"

    def extract(self, text: str) -> tuple[list[Entity], int]:
        """The entities of ``text`` in order and the number of quoted spans dropped."""
        self.stats.texts += 1
        entities: list[Entity] = []
        dropped = 0
        for start, end in chunk_bounds(text, self.chunk_chars):
            piece = text[start:end]
            if not piece.strip():
                continue
            found, lost = self._piece(piece)
            dropped += lost
            entities += [_shifted(e, start) for e in found]
        entities.sort(key=lambda e: (e.start, e.end))
        return entities, dropped

    def _piece(self, piece: str) -> tuple[list[Entity], int]:
        t0 = time.perf_counter()
        answer = self.complete(messages(piece), self.answer_tokens(piece), SCHEMA)
        seconds = time.perf_counter() - t0
        usage = answer.usage
        s = self.stats
        s.calls += 1
        s.prompt_tokens += usage.prompt_tokens
        s.completion_tokens += usage.completion_tokens
        s.seconds += seconds
        s.per_call.append((usage.prompt_tokens, usage.completion_tokens, seconds))
        mentions, truncated = parse_answer(answer.text)
        s.truncated += truncated or answer.finish_reason == "length"
        s.mentions += len(mentions)
        taken: set[tuple[int, int]] = set()
        entities, dropped = [], 0
        for m in mentions:
            where = locate(piece, m.text, taken)
            if where is None:
                dropped += 1
                continue
            if where in taken:
                continue  # the same span quoted again: one entity
            taken.add(where)
            entities.append(self._entity(piece, where, m))
        s.dropped += dropped
        return entities, dropped

    def _entity(self, text: str, where: tuple[int, int], m: Mention) -> Entity:
        start, end = where
        return Entity(
            start=start,
            end=end,
            label=m.group,
            text=text[start:end],
            negation="negation" in m.qualifiers,
            hypothesis="hypothesis" in m.qualifiers,
            family="family" in m.qualifiers,
            history="history" in m.qualifiers,
            reported_speech=False,
            codes={},
            pipe=self.pipe,
            lexical_variant=m.text,
            section=None,
            value=None,
            unit=None,
            category=m.group,
        )


def _shifted(e: Entity, offset: int) -> Entity:
    if not offset:
        return e
    from dataclasses import replace

    return replace(e, start=e.start + offset, end=e.end + offset)
