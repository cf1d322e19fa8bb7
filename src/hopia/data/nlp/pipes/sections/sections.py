"""``hopia.sections``: section titles on their own line *and* inline, a drop-in for
``eds.sections``.

Same output contract as ``eds.sections``: ``doc.spans["section_titles"]`` holds the titles and
``doc.spans["sections"]`` the sections, each running from its title to the next title (or the
end of the document; see below for inline titles), labelled with the section name, with
``span._.section_title`` pointing to its title. ``eds.family`` and ``eds.history`` find this
component by its name, ``sections``.

Differences with ``eds.sections``:

- a title may open its line and be followed by text after a colon ("Motif : fièvre et toux.",
  "ATCD : HTA, diabète"), or follow the end of a sentence on the same line ("... apyrétique.
  Conclusion : ..."); a title alone on its line needs no colon;
- the section of such an inline title stops at the end of its paragraph (a blank line) when
  no title comes before: "Motif : toux.", a blank line, then an untitled narrative does not
  make the narrative a "motif" (nor "ATCD : HTA" the rest of the note history);
- what is not a known title followed by a colon, or a title line, never opens a section:
  "le patient dit : ..." in the middle of a sentence is plain text;
- titles of consultations and operative reports (indication, installation, voie d'abord, temps
  opératoire, fermeture, suites opératoires...) are known too (see :mod:`.patterns`);
- matching is a few regular expression passes over the text (case and accents ignored), no
  token matcher: cheap per document.
"""

import re
from typing import Any, NamedTuple

from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from hopia.data.nlp.pipes.sections import patterns

# What may precede a title on its line: indentation, a bullet, a number ("1.", "II -"), markup.
_LINE_PREFIX = r"[ \t]*(?:(?:[-*#>•]+|(?:\d{1,2}|[ivx]{1,4})[ \t]?[.)/-]|\*\*)[ \t]*)?"
# Lines that may hold a title: short up to a colon or to their end. Testing the titles only
# there is several times faster than one regex over the whole text.
_CANDIDATE_LINE = re.compile(r"^[^\n:]{1,80}(?::|$)", re.MULTILINE)
_BLANK_LINE = re.compile(r"\n[ \t]*\n")

# Titles are written folded (see :mod:`.patterns`); matching them on the original text through
# accent classes spares folding every document.
_ACCENTS = {
    "a": "[aàâä]",
    "c": "[cç]",
    "e": "[eéèêë]",
    "i": "[iîï]",
    "o": "[oôö]",
    "u": "[uùûü]",
    " ": r"[ \t]+",
    "'": r"['’][ \t]*",
}


def _title_regex(title: str) -> str:
    """A title as written in :mod:`.patterns` to the regex that matches it in the original text
    (with ``re.IGNORECASE``)."""
    return "".join(_ACCENTS.get(ch, ch) for ch in title)


class TitleRegexes(NamedTuple):
    """The compiled title finders and the label of each title group (``g<i>``, ``h<i>``)."""

    own_line: re.Pattern[str]
    after_sentence: re.Pattern[str]
    labels: list[str]


def compile_titles(sections: dict[str, list[str]]) -> TitleRegexes:
    """Regexes finding the titles of ``sections`` (label -> title patterns).

    ``own_line`` matches at the start of a candidate line: a title after an optional bullet or
    number, followed by a colon or the end of the line. ``after_sentence`` finds a title that
    follows the end of a sentence on the same line and is followed by a colon.
    """
    labels = list(sections)
    # Each label's titles form one named group, so match.lastgroup names the label; the second
    # regex names them h<i> for symmetry with g<i>.
    alternatives = "|".join(
        f"(?P<g{i}>{'|'.join(_title_regex(t) for t in sections[label])})"
        for i, label in enumerate(labels)
    )
    flags = re.MULTILINE | re.IGNORECASE
    own_line = re.compile(
        rf"{_LINE_PREFIX}(?:{alternatives})(?:\*\*)?[ \t]*(?::|\.?[ \t]*$)", flags
    )
    after = alternatives.replace("?P<g", "?P<h")
    after_sentence = re.compile(rf"[.!?][ \t]+(?:{after})[ \t]*:", flags)
    return TitleRegexes(own_line, after_sentence, labels)


class SectionsMatcher:
    """Finds section titles (own line or inline) and the sections they open.

    Parameters
    ----------
    nlp : the pipeline (unused, for the factory protocol).
    name : component name; keep ``sections``, which ``eds.family`` and ``eds.history`` look up.
    sections : section label -> title regexes over folded text (see :mod:`.patterns`); passed
        in the pipeline definition so that a change of titles changes its fingerprint.
    """

    def __init__(
        self,
        nlp: Any = None,
        name: str = "sections",
        *,
        sections: dict[str, list[str]] | None = None,
    ) -> None:
        self.name = name
        self.sections = dict(patterns.SECTIONS if sections is None else sections)
        self.regexes = compile_titles(self.sections)
        self.set_extensions()

    @staticmethod
    def set_extensions() -> None:
        for ext in ("section_title", "section"):
            if not Span.has_extension(ext):
                Span.set_extension(ext, default=None)

    def __getstate__(self) -> dict[str, Any]:
        # The compiled regex is rebuilt on load: a pickle stores only the titles.
        return {"name": self.name, "sections": self.sections}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.name = state["name"]
        self.sections = state["sections"]
        self.regexes = compile_titles(self.sections)
        self.set_extensions()

    def titles(self, doc: Doc) -> list[tuple[Span, int | None]]:
        """Title spans, sorted, without overlaps, each with the character offset where its
        section must end at the latest: the end of the paragraph for an inline title, None
        (the next title) for a title alone on its line."""
        text = doc.text
        own_line, after_sentence, labels = self.regexes
        matches = [
            m
            for line in _CANDIDATE_LINE.finditer(text)
            if (m := own_line.match(text, line.start(), line.end())) is not None
        ]
        matches.extend(after_sentence.finditer(text))
        found: dict[tuple[int, int], tuple[Span, int | None]] = {}
        for match in matches:
            group = match.lastgroup
            assert group is not None  # every alternative is inside one title group
            start, end = match.span(group)
            span = doc.char_span(start, end, labels[int(group[1:])], alignment_mode="expand")
            if span is None or not len(span):
                continue
            line_end = text.find("\n", match.end())
            line_end = len(text) if line_end < 0 else line_end
            inline = bool(text[match.end() : line_end].strip())
            limit = None
            if inline:
                blank = _BLANK_LINE.search(text, line_end)
                limit = blank.start() if blank is not None else None
            found[(span.start, span.end)] = (span, limit)
        return [found[(t.start, t.end)] for t in filter_spans([s for s, _ in found.values()])]

    def __call__(self, doc: Doc) -> Doc:
        titles = self.titles(doc)
        sections: list[Span] = []
        ends = [t.start for t, _ in titles[1:]] + [len(doc)]
        for (title, limit), end in zip(titles, ends, strict=False):  # no title: no section
            if limit is not None:  # an inline title: its section stops at the paragraph's end
                paragraph = doc.char_span(title.start_char, limit, alignment_mode="contract")
                if paragraph is not None:
                    end = min(end, paragraph.end)
            section = Span(doc, title.start, end, label=title.label)
            section._.section_title = title
            sections.append(section)
        doc.spans["sections"] = sections
        doc.spans["section_titles"] = [t for t, _ in titles]
        for section in sections:  # as eds.sections: entities already found learn their section
            for ent in section.ents:
                ent._.section = section.label_
        return doc
