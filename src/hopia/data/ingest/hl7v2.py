"""HL7 v2 reader: MDM (T02, T04...) and ORU^R01 messages, one document per message.

The parser is deliberately small and strict: segments are split on ``\\r`` or ``\\n``, fields on the
separators the MSH segment declares, and HL7 escapes are decoded only in the values read. A message
that cannot be trusted (bad segment, no patient identifier, no text) becomes a
:class:`ReadFailure`; the other messages of the file are still read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from hopia.data.ingest import text as plain
from hopia.data.records import PatientIdentity, RawDocument, ReadFailure
from hopia.platform.exceptions import SourceError

TEXT_VALUE_TYPES = frozenset({"TX", "FT", "ST"})
SUPPORTED_MESSAGES = frozenset({"MDM", "ORU"})
NIR_OID = "1.2.250.1.213.1.4.8"

_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{2}")
_BATCH_SEGMENTS = frozenset({"FHS", "BHS", "BTS", "FTS"})
_NIR_ID_TYPES = frozenset({"INS", "INS-NIR", "NIR", "SS"})
# National identifiers (INS and its variants) are never the hospital's IPP.
_NATIONAL_ID_PREFIX = "INS"
_MLLP = "\x0b\x1c"
# Formatting escapes of FT values: those that start a new output line, and those that only
# change layout (highlighting, fill mode, indentation) and can be dropped without losing text.
_NEWLINE_ESCAPES = frozenset({".br", ".ce"})
_LAYOUT_ESCAPES = frozenset({"H", "N"})
_LAYOUT_COMMANDS = (".fi", ".nf", ".sk", ".in", ".ti")
# "\.spN\" skips N lines. A real report skips a few; an unbounded N turns a 161-byte message
# into 50 M newlines. Capped, every escape's output is at most a few times its own length.
MAX_SKIPPED_LINES = 10


_DEFAULT_ENCODING = "^~\\&"


@dataclass(frozen=True)
class _Delimiters:
    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"


@dataclass
class _Message:
    number: int
    first_line: int
    lines: list[str] = field(default_factory=list)


class _MessageError(Exception):
    """A message that cannot be read; carries the French reason."""


class _Segments:
    """The segments of one message, with field access by HL7 position (SEG-n)."""

    def __init__(self, message: _Message) -> None:
        msh = message.lines[0]
        if len(msh) < 8 or msh[3].isalnum() or msh[3].isspace():
            raise _MessageError("segment MSH invalide (séparateurs absents)")
        sep = msh[3]
        # MSH-2 lists component, repetition, escape and subcomponent characters; pad with defaults.
        chars = msh[4:].split(sep, 1)[0]
        comp, rep, esc, sub = (chars + _DEFAULT_ENCODING[len(chars) :])[:4]
        self.delims = _Delimiters(sep, comp, rep, esc, sub)
        self.segments: list[list[str]] = []
        for offset, line in enumerate(message.lines):
            seg_id = line[:3]
            if not _SEGMENT_ID.fullmatch(seg_id) or (len(line) > 3 and line[3] != sep):
                raise _MessageError(f"segment invalide à la ligne {message.first_line + offset}")
            fields = line.split(sep)
            if seg_id == "MSH":  # MSH-1 is the separator itself: shift so that MSH-n is fields[n]
                fields.insert(1, sep)
            self.segments.append(fields)

    def all(self, seg_id: str) -> list[list[str]]:
        return [s for s in self.segments if s[0] == seg_id]

    def first(self, seg_id: str) -> list[str] | None:
        return next((s for s in self.segments if s[0] == seg_id), None)

    def get(self, segment: list[str] | None, n: int) -> str:
        """Raw (still escaped) value of field ``n`` of ``segment``, ``""`` when absent."""
        return segment[n] if segment is not None and n < len(segment) else ""

    def reps(self, value: str) -> list[str]:
        return value.split(self.delims.repetition) if value else []

    def comps(self, value: str) -> list[str]:
        return value.split(self.delims.component)

    def comp(self, value: str, n: int) -> str:
        """Unescaped component ``n`` (1-based) of ``value``, first subcomponent only."""
        parts = self.comps(value)
        raw = parts[n - 1] if n <= len(parts) else ""
        return self.unescape(raw.split(self.delims.subcomponent)[0]).strip()

    def unescape(self, value: str) -> str:
        """Decode HL7 escape sequences; unknown ones are kept verbatim, never dropped."""
        esc = self.delims.escape
        if not esc or esc not in value:
            return value
        pattern = re.escape(esc) + r"([^" + re.escape(esc) + r"]*)" + re.escape(esc)
        return re.sub(pattern, lambda m: self._escape(m.group(1), m.group(0)), value)

    def _escape(self, code: str, literal: str) -> str:
        d = self.delims
        simple = {"F": d.field, "S": d.component, "T": d.subcomponent, "R": d.repetition}
        if code in simple:
            return simple[code]
        if code == "E":
            return d.escape
        if code in _NEWLINE_ESCAPES:
            return "\n"
        if code.startswith(".sp"):
            count = code[3:].strip().lstrip("+")
            # Digits compared as text: int() of a 5000-digit count is refused by Python itself.
            skip = (
                int(count)
                if count.isascii() and count.isdigit() and len(count) <= 3
                else MAX_SKIPPED_LINES
            )
            return "\n" * min(max(skip, 1), MAX_SKIPPED_LINES)
        if code in _LAYOUT_ESCAPES or code.startswith(_LAYOUT_COMMANDS):
            return ""
        if code.startswith("X") and len(code) > 1:
            return _hex_text(code[1:]) or literal
        return literal


def _hex_text(digits: str) -> str | None:
    try:
        raw = bytes.fromhex(digits)
    except ValueError:
        return None
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _split_messages(text: str, path: Path) -> tuple[list[_Message], list[int]]:
    """Messages of the file, and the line numbers of stray content before the first MSH."""
    messages: list[_Message] = []
    stray: list[int] = []
    for lineno, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip(_MLLP).rstrip()
        if not line.strip():
            continue
        if line.startswith("MSH"):
            messages.append(_Message(len(messages) + 1, lineno, [line]))
        elif line[:3] in _BATCH_SEGMENTS:
            continue
        elif messages:
            messages[-1].lines.append(line)
        else:
            stray.append(lineno)
    if not messages:
        raise SourceError(path, "aucun segment MSH : ce n'est pas un fichier HL7 v2")
    return messages, stray


def _parse_date(value: str) -> date | None:
    digits = value[:8]
    if len(digits) < 8 or not digits.isdigit():
        return None
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


def _message_text(seg: _Segments) -> str:
    """Text of the OBX values of a text type (and NTE comments), one line per repetition."""
    lines: list[str] = []
    for segment in seg.segments:
        if segment[0] == "OBX" and seg.comp(seg.get(segment, 2), 1) in TEXT_VALUE_TYPES:
            # The whole value is the text: a stray unescaped "^" stays in it.
            reps = seg.reps(seg.get(segment, 5)) or [""]
        elif segment[0] == "NTE":
            reps = seg.reps(seg.get(segment, 3))
        else:
            continue
        lines.extend(seg.unescape(rep) for rep in reps)
    return "\n".join(line.rstrip() for line in "\n".join(lines).split("\n")).strip("\n")


def _ipp_and_nir(seg: _Segments, pid: list[str]) -> tuple[str | None, str | None]:
    ipp = nir = None
    fallback = None
    for rep in seg.reps(seg.get(pid, 3)):
        value, id_type = seg.comp(rep, 1), seg.comp(rep, 5).upper()
        parts = seg.comps(rep)
        authority = parts[3] if len(parts) > 3 else ""  # HD: namespace&OID&ISO
        if not value:
            continue
        if id_type in _NIR_ID_TYPES or NIR_OID in authority:
            nir = nir or value
        elif id_type.startswith(_NATIONAL_ID_PREFIX):
            continue
        elif id_type == "PI":
            ipp = ipp or value
        else:
            fallback = fallback or value
    nir = nir or seg.comp(seg.get(pid, 19), 1) or None
    return ipp or fallback, nir


def _phone_and_email(seg: _Segments, pid: list[str]) -> tuple[str | None, str | None]:
    phone = email = None
    for rep in seg.reps(seg.get(pid, 13)):
        first, address = seg.comp(rep, 1), seg.comp(rep, 4)
        if "@" in address:
            email = email or address
        if "@" in first:
            email = email or first
        elif first or seg.comp(rep, 12):
            phone = phone or first or seg.comp(rep, 12)
    return phone, email


def _patient(seg: _Segments) -> PatientIdentity:
    pid = seg.first("PID")
    if pid is None:  # a message without its patient must not land as the unknown person 0
        raise _MessageError("segment PID absent : message sans patient")
    ipp, nir = _ipp_and_nir(seg, pid)
    if not ipp:
        raise _MessageError("identifiant patient (IPP, PID-3) absent")
    name = (seg.reps(seg.get(pid, 5)) or [""])[0]
    address = (seg.reps(seg.get(pid, 11)) or [""])[0]
    street = ", ".join(p for p in (seg.comp(address, 1), seg.comp(address, 2)) if p)
    phone, email = _phone_and_email(seg, pid)
    sex = seg.comp(seg.get(pid, 8), 1).upper()
    return PatientIdentity(
        ipp=ipp,
        family_name=seg.comp(name, 1) or None,
        given_name=seg.comp(name, 2) or None,
        birth_date=_parse_date(seg.comp(seg.get(pid, 7), 1)),
        sex=sex if sex in ("M", "F") else None,
        nir=nir,
        address=street or None,
        zip=seg.comp(address, 5) or None,
        city=seg.comp(address, 3) or None,
        phone=phone,
        email=email,
    )


def _staff(seg: _Segments) -> tuple[str, ...]:
    """Clinicians named in TXA-5/9/10/22 and OBX-16 (XCN: id^family^given^...), in order."""
    values = [seg.get(txa, n) for txa in seg.all("TXA") for n in (5, 9, 10, 22)]
    values += [seg.get(obx, 16) for obx in seg.all("OBX")]
    names: dict[str, None] = {}
    for value in values:
        for rep in seg.reps(value):
            name = " ".join(p for p in (seg.comp(rep, 3), seg.comp(rep, 2)) if p)
            if name:
                names.setdefault(name, None)
    return tuple(names)


def _coded_text(seg: _Segments, value: str) -> str | None:
    """Label of a coded value (code^text^system): the text, else the code."""
    return seg.comp(value, 2) or seg.comp(value, 1) or None


def _stay(seg: _Segments) -> dict[str, Any]:
    """The stay of the message (PV1): PV1-19 visit number (NDA), PV1-44/45 admission and
    discharge date-times, PV1-3 point of care (else PV1-10 hospital service)."""
    pv1 = seg.first("PV1")
    if pv1 is None:
        return {}
    start = _parse_date(seg.comp(seg.get(pv1, 44), 1))
    # PV1-45 repeats in v2.5 (one discharge per leave): the first one is the stay's.
    end = _parse_date(seg.comp((seg.reps(seg.get(pv1, 45)) or [""])[0], 1))
    if start and end and end < start:
        end = None  # an inconsistent discharge is left out; the documents' dates bound the stay
    service = seg.comp(seg.get(pv1, 3), 1) or seg.comp(seg.get(pv1, 10), 1)
    return {
        "visit_id": seg.comp(seg.get(pv1, 19), 1) or None,
        "visit_start": start,
        "visit_end": end,
        "service": service or None,
    }


def _document(seg: _Segments, path: Path, ref: str) -> RawDocument:
    msh, txa, obr = seg.first("MSH"), seg.first("TXA"), seg.first("OBR")
    message_type = seg.comp(seg.get(msh, 9), 1)
    if message_type not in SUPPORTED_MESSAGES:
        label = "^".join(seg.comps(seg.get(msh, 9))[:2])
        raise _MessageError(f"type de message non pris en charge : {label or 'absent'}")
    patient = _patient(seg)
    text = _message_text(seg)
    if not text.strip():
        raise _MessageError("message sans texte (aucun OBX de type TX, FT ou ST)")
    dates = (seg.comp(seg.get(txa, 4), 1), seg.comp(seg.get(obr, 7), 1))
    dates += (seg.comp(seg.get(msh, 7), 1),)
    doc_type = _coded_text(seg, seg.get(txa, 2)) or _coded_text(seg, seg.get(obr, 4))
    return RawDocument(
        text=text,
        source_path=str(path),
        source_ref=ref,
        format=Hl7Reader.format,
        external_id=seg.comp(seg.get(txa, 12), 1) or seg.comp(seg.get(msh, 10), 1) or None,
        patient=patient,
        doc_date=next((d for d in map(_parse_date, dates) if d), None),
        doc_type=doc_type,
        staff=_staff(seg),
        **_stay(seg),
    )


class Hl7Reader:
    """Reads HL7 v2 files holding one or more MDM or ORU^R01 messages."""

    format = "hl7v2"
    suffixes: tuple[str, ...] = (".hl7", ".hl7v2")

    def read(self, path: Path) -> Iterator[RawDocument | ReadFailure]:
        """Yield one :class:`RawDocument` per message, or a :class:`ReadFailure` for a bad one.

        Raises
        ------
        SourceError
            Empty, oversize, binary or undecodable file, or no MSH segment at all.
        """
        path = Path(path)
        text = plain.decode_text(plain.read_bytes(path, plain.MAX_TEXT_BYTES), path)
        messages, stray = _split_messages(text, path)
        if stray:
            yield self._failure(path, f"#L{stray[0]}", "contenu hors message avant le premier MSH")
        for message in messages:
            ref = f"{path}#msg{message.number}"
            try:
                yield _document(_Segments(message), path, ref)
            except _MessageError as exc:
                raw = "\r".join(message.lines).encode("utf-8")
                yield self._failure(path, f"#msg{message.number}", str(exc), raw)

    def _failure(self, path: Path, locator: str, reason: str, raw: bytes = b"") -> ReadFailure:
        return ReadFailure(str(path), f"{path}{locator}", self.format, reason, raw)
