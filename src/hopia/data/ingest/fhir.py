"""FHIR reader: a DocumentReference, Media or Binary, or a Bundle of them with their Patient and
Practitioners.

Every resource is validated with ``fhir.resources``. The 8.x releases ship R5 at the top level and
R4B (4.3.0) under ``fhir.resources.R4B``; R4B is the closest to R4 (same DocumentReference, Bundle,
Patient and Practitioner), so it is what validates here. Attachments are read only when embedded
(``data``) or when their ``url`` names a Binary of the same Bundle: any other ``url`` is never
fetched, the platform being offline.

A scanned attachment (image/png, image/jpeg, image/tiff, or a PDF whose pages have no text layer)
is read by OCR exactly as a scan file is (:func:`hopia.data.ingest.image.read_scan`, settings
``data.ocr.*``): its pages' confidence travels on the document, low pages are flagged, and a
missing Tesseract fails that document alone, naming the Debian package.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from hopia.data.ingest.image import IMAGE_MEDIA_TYPES, read_scan
from hopia.data.ingest.pdf import read_pdf
from hopia.data.ingest.text import decode_text, normalise_newlines, read_bytes
from hopia.data.records import OcrPage, PatientIdentity, RawDocument, ReadFailure
from hopia.platform.exceptions import SourceError
from hopia.platform.text import json_problem

MAX_FHIR_BYTES = 200 * 1024 * 1024
"""Largest FHIR file accepted (bundles may embed PDFs in base64)."""

BUNDLE_TYPES = frozenset({"collection", "document", "transaction", "batch", "searchset"})
NIR_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"
EXTERNAL_ATTACHMENT = "pièce jointe externe non prise en charge"
# When a document is attached in several formats, the most faithful text wins: a scan read by
# OCR comes last.
_CONTENT_PREFERENCE = (
    "text/plain",
    "text/html",
    "application/xhtml+xml",
    "application/pdf",
    *sorted(IMAGE_MEDIA_TYPES),
)
# Resources read as documents; a Binary only when no document of its Bundle points to it.
DOCUMENT_TYPES = ("DocumentReference", "Media", "Binary")
_MAX_ERRORS_SHOWN = 3
_WHITESPACE = re.compile(r"\s+")


class _EntryError(Exception):
    """One document (or bundle entry) that cannot be read; carries the French reason."""


def _validation_summary(exc: ValidationError) -> str:
    """``"content : Field required; status : ..."``: where and what, first few errors only."""
    errors = exc.errors()
    shown = [_one_error(e) for e in errors[:_MAX_ERRORS_SHOWN]]
    more = len(errors) - len(shown)
    return "; ".join(shown) + (f" (+{more} autres erreurs)" if more > 0 else "")


def _one_error(error: Any) -> str:
    where = ".".join(str(p) for p in error["loc"]) or "racine"
    return f"{where} : {error['msg'].splitlines()[0] if error['msg'] else error['type']}"


def _validate(resource: Any) -> Any:
    """Validated R4B model of ``resource``; ``_EntryError`` with a French reason otherwise."""
    if not isinstance(resource, dict):
        raise _EntryError("ressource FHIR invalide : objet JSON attendu")
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str) or not resource_type:
        raise _EntryError("resourceType absent : ce n'est pas une ressource FHIR")
    try:
        model = get_fhir_model_class(resource_type)
    except ValueError:
        raise _EntryError(f"resourceType inconnu : {resource_type}") from None
    try:
        return model.model_validate(resource)
    except ValidationError as exc:
        raise _EntryError(
            f"ressource FHIR invalide ({resource_type}) : {_validation_summary(exc)}"
        ) from None
    except RecursionError:  # an extension nested thousands deep: this resource only
        raise _EntryError(
            f"ressource FHIR invalide ({resource_type}) : structure trop profondément imbriquée"
        ) from None


# --- Attachments ----------------------------------------------------------------------------


class _HtmlText(HTMLParser):
    """Text of an HTML fragment: one line per block element, table cells joined by " | "."""

    _BLOCKS = frozenset(
        {"p", "div", "br", "li", "tr", "table", "ul", "ol", "dt", "dd", "hr", "pre", "blockquote"}
        | {"h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header", "footer"}
    )
    _SKIPPED = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._cell_open = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIPPED:
            self._skip += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")
            self._cell_open = False
        elif tag in ("td", "th"):
            if self._cell_open:
                self.parts.append(" | ")
            self._cell_open = True

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIPPED:
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            # Source line breaks are plain spaces in HTML; keep one space around inline tags.
            self.parts.append(_WHITESPACE.sub(" ", data))

    def text(self) -> str:
        # Blocks open and close with a line break: the blank lines that leaves carry no meaning.
        lines = (" ".join(line.split()) for line in "".join(self.parts).split("\n"))
        return "\n".join(line for line in lines if line)


def html_to_text(html: str) -> str:
    """Visible text of an HTML document, paragraphs and table rows on their own lines."""
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    return parser.text()


def _media_type(content_type: str | None) -> tuple[str, str | None]:
    """``("text/plain", "iso-8859-1")`` from ``"text/plain; charset=ISO-8859-1"``."""
    if not content_type:
        return "", None
    media, *params = (p.strip() for p in content_type.split(";"))
    charset = None
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"') or None
    return media.lower(), charset


def _decode(data: bytes, charset: str | None, ref: str) -> str:
    if charset is None:
        try:
            return decode_text(data, ref)
        except SourceError as exc:
            raise _EntryError(f"pièce jointe : {exc.reason}") from None
    try:
        codecs.lookup(charset)
    except LookupError:
        raise _EntryError(f"jeu de caractères inconnu : {charset}") from None
    try:
        return normalise_newlines(data.decode(charset))
    except UnicodeDecodeError as exc:
        raise _EntryError(f"pièce jointe non décodable en {charset} (octet {exc.start})") from None


Text = tuple[str, tuple[OcrPage, ...]]
"""A document's text and the pages of it read by OCR (none for a text layer)."""


def _content(attachment: Any, context: _Context, doc: Any) -> tuple[str, bytes]:
    """``(content type, bytes)`` of an attachment: embedded, or a Binary of the Bundle."""
    if attachment.data is None:
        if attachment.url:
            binary = context.binary(attachment.url, doc)
            if binary is None:
                raise _EntryError(EXTERNAL_ATTACHMENT)
            return attachment.contentType or binary.contentType, binary.data or b""
        raise _EntryError("pièce jointe vide (ni data ni url)")
    return attachment.contentType, attachment.data


def _attachment_text(attachment: Any, ref: str, context: _Context, doc: Any) -> Text:
    return _bytes_text(*_content(attachment, context, doc), ref)


def _bytes_text(content_type: str | None, data: bytes, ref: str) -> Text:
    media, charset = _media_type(content_type)
    if not data:
        raise _EntryError("pièce jointe vide")
    if media == "application/pdf":
        try:
            return read_pdf(data, ref)
        except SourceError as exc:
            raise _EntryError(f"pièce jointe : {exc.reason}") from None
    if media in IMAGE_MEDIA_TYPES:
        try:
            return read_scan(data, ref)
        except SourceError as exc:
            raise _EntryError(f"pièce jointe : {exc.reason}") from None
    if media in ("text/html", "application/xhtml+xml"):
        return html_to_text(_decode(data, charset, ref)), ()
    if media.startswith("text/"):
        return _decode(data, charset, ref), ()
    raise _EntryError(f"type de pièce jointe non pris en charge : {media or 'non précisé'}")


def _rank(content_type: str | None) -> int:
    media = _media_type(content_type)[0]
    in_order = media in _CONTENT_PREFERENCE
    return _CONTENT_PREFERENCE.index(media) if in_order else len(_CONTENT_PREFERENCE)


def _document_text(attachments: list[Any], ref: str, context: _Context, doc: Any) -> Text:
    reasons: list[str] = []
    for attachment in sorted(attachments, key=lambda a: _rank(a.contentType)):
        try:
            text, ocr = _attachment_text(attachment, ref, context, doc)
        except _EntryError as exc:
            reasons.append(str(exc))
            continue
        if text.strip():
            return text, ocr
        reasons.append("pièce jointe sans texte")
    raise _EntryError("; ".join(dict.fromkeys(reasons)) or "aucune pièce jointe")


# --- Patients and practitioners ------------------------------------------------------------


def _identifier_type_codes(identifier: Any) -> set[str]:
    codings = identifier.type.coding if identifier.type and identifier.type.coding else []
    return {(c.code or "").upper() for c in codings}


def _is_nir(identifier: Any) -> bool:
    system = identifier.system or ""
    return system == NIR_SYSTEM or "nir" in system.lower() or "INS" in system


def _ipp_and_nir(patient: Any) -> tuple[str | None, str | None]:
    identifiers = [i for i in (patient.identifier or []) if i.value]
    nir = next((i.value for i in identifiers if _is_nir(i)), None)
    local = [i for i in identifiers if not _is_nir(i)]
    preferred = [
        i for i in local if "PI" in _identifier_type_codes(i) or "ipp" in (i.system or "").lower()
    ]
    ipp = (preferred or local or [None])[0]
    return (ipp.value if ipp else None), nir


def _human_name(names: list[Any] | None) -> tuple[str | None, str | None]:
    """``(family, given)`` of the official name, else the first one."""
    if not names:
        return None, None
    name = next((n for n in names if n.use == "official"), names[0])
    given = " ".join(name.given or []) or None
    return name.family or None, given


def _identity(patient: Any, ref: str) -> PatientIdentity:
    ipp, nir = _ipp_and_nir(patient)
    if not ipp:
        raise _EntryError(f"Patient {ref} sans identifiant (IPP)")
    family, given = _human_name(patient.name)
    address = (patient.address or [None])[0]
    telecom = patient.telecom or []
    gender = {"male": "M", "female": "F"}.get(patient.gender or "")
    return PatientIdentity(
        ipp=ipp,
        family_name=family,
        given_name=given,
        birth_date=_as_date(patient.birthDate),
        sex=gender,
        nir=nir,
        address=", ".join(address.line) if address and address.line else None,
        zip=address.postalCode if address else None,
        city=address.city if address else None,
        phone=next((t.value for t in telecom if t.system == "phone" and t.value), None),
        email=next((t.value for t in telecom if t.system == "email" and t.value), None),
    )


def _practitioner_name(practitioner: Any) -> str | None:
    for name in practitioner.name or []:
        if name.text:
            return name.text
        full = " ".join([*(name.given or []), name.family or ""]).strip()
        if full:
            return full
    return None


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) >= 10:  # partial dates (2024-03) carry no day
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


# --- Documents -----------------------------------------------------------------------------


@dataclass
class _Context:
    """Resources a document's references may point to: the bundle's, by every name they go by."""

    resources: dict[str, Any]
    invalid: set[str]

    def resolve(self, reference: str | None, doc: Any) -> Any | None:
        if not reference:
            return None
        if reference.startswith("#"):  # contained resource
            return next((c for c in doc.contained or [] if c.id == reference[1:]), None)
        if reference in self.invalid:
            raise _EntryError(f"ressource référencée invalide : {reference}")
        found = self.resources.get(reference)
        if found is None and "://" in reference:  # "http://host/fhir/Binary/1" is "Binary/1"
            found = self.resources.get("/".join(reference.rstrip("/").split("/")[-2:]))
        return found

    def binary(self, url: str, doc: Any) -> Any | None:
        """The Binary of this Bundle (or contained in ``doc``) that an attachment's ``url``
        names; None for anything else (an external address is never fetched)."""
        resource = self.resolve(url, doc)
        if resource is not None and resource.get_resource_type() == "Binary":
            return resource
        return None


def _names_of(entry: dict[str, Any], resource: dict[str, Any]) -> list[str]:
    """The references an entry answers to: its fullUrl and ``Type/id``."""
    names = [entry["fullUrl"]] if isinstance(entry.get("fullUrl"), str) else []
    if isinstance(resource, dict) and resource.get("id"):
        names.append(f"{resource.get('resourceType')}/{resource['id']}")
    if names and "/" in names[0] and not names[0].startswith("urn:"):
        # Absolute fullUrl "http://example.org/fhir/Patient/1" is also referenced as "Patient/1".
        names.append("/".join(names[0].rstrip("/").split("/")[-2:]))
    return names


def _patient_of(doc: Any, context: _Context) -> tuple[PatientIdentity | None, str | None]:
    # A Binary has no subject; its securityContext, when it names a Patient, is the patient.
    subject = doc.securityContext if _kind(doc) == "Binary" else doc.subject
    if subject is None:
        return None, None
    resource = context.resolve(subject.reference, doc)
    if resource is not None and resource.get_resource_type() == "Patient":
        return _identity(resource, subject.reference), None
    # Logical reference only: the identifier is all that is known.
    ipp = subject.identifier.value if subject.identifier else None
    return None, ipp


def _staff_of(doc: Any, context: _Context) -> tuple[str, ...]:
    people = {"DocumentReference": "author", "Media": "operator"}.get(_kind(doc))
    found = getattr(doc, people, None) if people else None
    if found is not None and not isinstance(found, list):
        found = [found]
    names: dict[str, None] = {}
    for author in found or []:
        resource = context.resolve(author.reference, doc)
        name = None
        if resource is not None and resource.get_resource_type() == "Practitioner":
            name = _practitioner_name(resource)
        name = name or author.display
        if name:
            names.setdefault(name, None)
    return tuple(names)


def _kind(resource: Any) -> str:
    return resource.get_resource_type()


def _concept_text(concept: Any) -> str | None:
    if concept is None:
        return None
    codings = concept.coding or []
    return concept.text or next((c.display or c.code for c in codings if c.display or c.code), None)


def _stay_of(doc: Any, context: _Context) -> dict[str, Any]:
    """The stay of ``context.encounter``: the Encounter's identifier (else its id), period and
    service type when the bundle holds it, the identifier alone for a logical reference."""
    kind = _kind(doc)
    if kind == "DocumentReference":
        references = (doc.context.encounter or []) if doc.context else []
    elif kind == "Media":
        references = [doc.encounter] if doc.encounter else []
    else:
        references = []
    for reference in references:
        try:
            encounter = context.resolve(reference.reference, doc)
        except _EntryError:
            encounter = None  # an invalid Encounter fails as its own entry; the document stays
        if encounter is not None and encounter.get_resource_type() == "Encounter":
            number = next((i.value for i in encounter.identifier or [] if i.value), None)
            period = encounter.period
            start = _as_date(period.start) if period else None
            end = _as_date(period.end) if period else None
            return {
                "visit_id": (number or encounter.id or "").strip() or None,
                "visit_start": start,
                "visit_end": end if not (start and end and end < start) else None,
                "service": _concept_text(encounter.serviceType),
            }
        if reference.identifier is not None and (reference.identifier.value or "").strip():
            return {"visit_id": reference.identifier.value.strip()}
    return {}


def _document(doc: Any, path: Path, ref: str, context: _Context) -> RawDocument:
    """The document a DocumentReference, a Media or a Binary holds."""
    kind = _kind(doc)
    if getattr(doc, "status", None) == "entered-in-error":
        raise _EntryError("document annulé (status entered-in-error)")
    if kind == "Binary":
        text, ocr = _bytes_text(doc.contentType, doc.data or b"", ref)
    elif kind == "Media":
        text, ocr = _document_text([doc.content], ref, context, doc)
    else:
        text, ocr = _document_text([c.attachment for c in doc.content], ref, context, doc)
    patient, ipp = _patient_of(doc, context)
    return RawDocument(
        text=text,
        source_path=str(path),
        source_ref=ref,
        format=FhirReader.format,
        external_id=_external_id(doc),
        patient=patient,
        ipp=ipp,
        doc_date=_date_of(doc),
        doc_type=_type_of(doc),
        staff=_staff_of(doc, context),
        ocr=ocr,
        **_stay_of(doc, context),
    )


def _date_of(doc: Any) -> date | None:
    kind = _kind(doc)
    if kind == "DocumentReference":
        found = _as_date(doc.date)
        if found is None and doc.context and doc.context.period:
            found = _as_date(doc.context.period.start)
        return found
    if kind == "Media":  # when it was taken, else when it was made available
        period = doc.createdPeriod
        return (
            _as_date(doc.createdDateTime)
            or (_as_date(period.start) if period else None)
            or _as_date(doc.issued)
        )
    return None  # a Binary: the header of its text, read by the ingest


def _type_of(doc: Any) -> str | None:
    kind = _kind(doc)
    concept = doc.type if kind in ("DocumentReference", "Media") else None
    if kind == "Media" and concept is None:
        concept = doc.modality
    if concept is None:
        return None
    codings = concept.coding or []
    return concept.text or (codings[0].display if codings else None)


def _external_id(doc: Any) -> str | None:
    master = getattr(doc, "masterIdentifier", None)
    external_id = master.value if master else None
    identifiers = getattr(doc, "identifier", None)
    if not external_id and identifiers:
        external_id = identifiers[0].value
    return external_id or doc.id


def _attachment_urls(doc: Any) -> list[str]:
    kind = _kind(doc)
    if kind == "DocumentReference":
        return [c.attachment.url for c in doc.content if c.attachment.url]
    if kind == "Media":
        return [doc.content.url] if doc.content.url else []
    return []


def _load_json(path: Path) -> Any:
    text = decode_text(read_bytes(path, MAX_FHIR_BYTES), path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(
            path, f"JSON invalide : {json_problem(exc)} (ligne {exc.lineno}, colonne {exc.colno})"
        ) from None
    except RecursionError:
        raise SourceError(path, "JSON invalide : structure trop profondément imbriquée") from None
    except ValueError as exc:  # e.g. an integer beyond Python's 4300-digit conversion limit
        raise SourceError(path, f"JSON invalide : {json_problem(exc)}") from None


class FhirReader:
    """Reads FHIR R4 JSON: a DocumentReference, Media or Binary, or a Bundle holding them."""

    format = "fhir"
    suffixes: tuple[str, ...] = (".json", ".fhir")

    def read(self, path: Path) -> Iterator[RawDocument | ReadFailure]:
        """Yield one :class:`RawDocument` per DocumentReference, Media and Binary (one that no
        document of the Bundle points to), or a :class:`ReadFailure`.

        Raises
        ------
        SourceError
            Unreadable or invalid JSON, an invalid top-level resource, a resource other than
            those or a Bundle, or a Bundle of an unsupported type or without documents.
        """
        path = Path(path)
        root = _load_json(path)
        resource_type = root.get("resourceType") if isinstance(root, dict) else None
        if resource_type == "Bundle":
            yield from self._read_bundle(root, path)
            return
        try:
            doc = _validate(root)
        except _EntryError as exc:
            raise SourceError(path, str(exc)) from None
        if resource_type not in DOCUMENT_TYPES:
            raise SourceError(
                path,
                f"ressource FHIR non prise en charge : {resource_type} "
                "(attendu DocumentReference, Media, Binary ou Bundle)",
            )
        try:
            yield _document(doc, path, str(path), _Context({}, set()))
        except _EntryError as exc:
            yield ReadFailure(str(path), str(path), self.format, str(exc))

    def _read_bundle(self, root: dict[str, Any], path: Path) -> Iterator[RawDocument | ReadFailure]:
        entries = root.get("entry") or []
        if not isinstance(entries, list):
            raise SourceError(path, "Bundle invalide : « entry » doit être une liste")
        # The Bundle itself is validated without its resources, which are validated one by one
        # so that one bad entry does not cost the others.
        shell = {**root, "entry": [_without_resource(e) for e in entries]}
        try:
            bundle = _validate(shell)
        except _EntryError as exc:
            raise SourceError(path, str(exc)) from None
        if bundle.type not in BUNDLE_TYPES:
            raise SourceError(path, f"type de Bundle non pris en charge : {bundle.type}")

        models: dict[int, Any] = {}
        failures: dict[int, str] = {}
        context = _Context({}, set())
        for index, entry in enumerate(entries, start=1):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if resource is None:
                continue  # e.g. a DELETE request in a transaction
            try:
                models[index] = _validate(resource)
            except _EntryError as exc:
                failures[index] = str(exc)
                context.invalid.update(_names_of(entry, resource))
                continue
            for name in _names_of(entry, resource):
                context.resources[name] = models[index]

        # A Binary that a document's attachment points to is read as that document's content.
        attached = {
            id(found)
            for m in models.values()
            if _kind(m) in ("DocumentReference", "Media")
            for url in _attachment_urls(m)
            if (found := _quiet(context.binary, url, m)) is not None
        }
        documents = [
            i
            for i, m in models.items()
            if _kind(m) in DOCUMENT_TYPES and not (_kind(m) == "Binary" and id(m) in attached)
        ]
        if not documents and not failures:
            raise SourceError(
                path, "aucun document (DocumentReference, Media ou Binary) dans le Bundle"
            )
        for index in sorted([*documents, *failures]):
            ref = f"{path}#entry{index}"
            if index in failures:
                yield ReadFailure(str(path), ref, self.format, failures[index])
                continue
            try:
                yield _document(models[index], path, ref, context)
            except _EntryError as exc:
                yield ReadFailure(str(path), ref, self.format, str(exc))


def _quiet(resolve: Any, url: str, doc: Any) -> Any | None:
    """``resolve(url, doc)``, None where the reference is invalid (its document says so)."""
    try:
        return resolve(url, doc)
    except _EntryError:
        return None


def _without_resource(entry: Any) -> Any:
    if isinstance(entry, dict):
        return {k: v for k, v in entry.items() if k != "resource"}
    return entry
