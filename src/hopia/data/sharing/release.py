"""Sharing checks and exports: select, measure, anonymise, write, audit.

Every audit entry of the sharing axis is written here: ``share.check`` (the persons' records
were read to measure k and l), ``share.refused`` (an export refused, with its figures) and
``share.export``. An export is written into a hidden sibling folder, then put in place
(:func:`hopia.platform.files.replace_dir`) in the same transaction as its audit entry: a failure
leaves neither a partial folder nor an audit entry for files that do not exist. The files inside
that folder need no atomic writer of their own: nobody sees the folder before it is whole.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from hopia import __version__
from hopia.data.sharing.anonymity import (
    DEFAULT_K,
    DEFAULT_L,
    DEFAULT_MAX_SUPPRESSION,
    AnonymisationPlan,
    AnonymityReport,
    plan,
)
from hopia.data.sharing.export_fhir import write_fhir
from hopia.data.sharing.export_omop import FORMATS, write_omop
from hopia.data.sharing.extract import Extract, extract
from hopia.data.sharing.persons import Selection
from hopia.data.sharing.prepare import KEEP, prepare
from hopia.data.sharing.quasi import population
from hopia.platform import audit
from hopia.platform.access import Purpose, check_reason
from hopia.platform.exceptions import ShareRefusedError, SharingError
from hopia.platform.files import sha256_file, staging_dir
from hopia.platform.warehouse import Warehouse

EXPORT_FORMATS = (*FORMATS, "fhir")
MANIFEST, REPORT = "manifest.json", "anonymity_report.json"
RESIDUAL_RISKS = [
    "Dates are those of the research space (shifted per patient by pseudonymisation), kept "
    "exactly: a recipient who knows a real date of care cannot use it, but intervals between "
    "events are preserved.",
    "Free text: notes are pseudonymised, yet a rare detail written in a note cannot be "
    "generalised; notes and NLP snippets leave only when the export asks for them (with_notes).",
    "k-anonymity protects against linkage on the declared quasi-identifiers only (age, sex, "
    "postcode, rare diagnoses); the sequence of events of a patient can still be unique.",
]


@dataclass(frozen=True)
class ShareOptions:
    k: int = DEFAULT_K
    l: int = DEFAULT_L  # noqa: E741
    max_suppression: float = DEFAULT_MAX_SUPPRESSION
    reference_date: date | None = None
    with_notes: bool = False
    per_bundle: int = 1


@dataclass(frozen=True)
class ExportResult:
    folder: Path
    manifest: dict[str, Any]
    report: AnonymityReport
    audit_id: int


def _measure(
    wh: Warehouse, selection: Selection, options: ShareOptions
) -> tuple[Extract, AnonymisationPlan]:
    reference_year = (options.reference_date or date.today()).year
    data = extract(wh, selection.person_ids, with_notes=options.with_notes)
    return data, plan(
        population(data, reference_year), options.k, options.l, options.max_suppression
    )


def check(
    wh: Warehouse, selection: Selection, options: ShareOptions, *, actor: str | None = None
) -> AnonymityReport:
    """The report only; :class:`ShareRefusedError` (with its report) when k or l fails.

    Measuring reads every record of the selected persons: the check is audited
    (``share.check``, figures only), refused or not."""
    try:
        report = _measure(wh, selection, options)[1].report
    except ShareRefusedError as refused:
        _audit_check(wh, selection, refused.report, actor)
        raise
    _audit_check(wh, selection, report, actor)
    return report


def _audit_check(
    wh: Warehouse, selection: Selection, report: AnonymityReport, actor: str | None
) -> None:
    with wh.begin() as conn:
        audit.record(
            conn,
            actor,
            "share.check",
            selection.target,
            details={
                "persons": len(selection.person_ids),
                "reached": report.reached,
                **_figures(report),
            },
        )


def check_target_folder(out: Path) -> None:
    """An export goes to a new or empty folder whose parent exists."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise SharingError(
            f"{out} : existe déjà et n'est pas un dossier vide ; choisissez-en un neuf",
            fields=("out",),
        )
    if not out.parent.exists():
        raise SharingError(f"{out.parent} : dossier parent introuvable", fields=("out",))


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n", "utf-8")


def export(
    wh: Warehouse,
    selection: Selection,
    out: Path,
    fmt: str,
    *,
    reason: str | None,
    secret: bytes,
    options: ShareOptions = ShareOptions(),
    actor: str | None = None,
) -> ExportResult:
    """Export the selection to ``out`` (a new or empty folder), audited; all or nothing."""
    reason = check_reason(reason, Purpose.SHARE)
    if fmt not in EXPORT_FORMATS:
        raise SharingError(
            f"format inconnu : {fmt} (attendu : {', '.join(EXPORT_FORMATS)})", fields=("format",)
        )
    out = Path(out).absolute()
    check_target_folder(out)
    export_id = str(uuid.uuid4())
    try:
        data, anonymisation = _measure(wh, selection, options)
    except ShareRefusedError as refused:
        with wh.begin() as conn:
            audit.record(
                conn,
                actor,
                "share.refused",
                selection.target,
                reason,
                {"format": fmt, "persons": len(selection.person_ids), **_figures(refused.report)},
            )
        raise
    dataset = prepare(data, anonymisation, secret, with_notes=options.with_notes)
    report = anonymisation.report
    # Owner-only (0700 folder, 0600 files) whatever the umask: the recipient is given the
    # folder, not every local user.
    with staging_dir(out, private=True) as staging:
        tmp = staging.path
        if fmt == "fhir":
            counts = write_fhir(dataset, tmp, export_id, options.per_bundle)
        else:
            counts = write_omop(dataset, tmp, fmt)
        _write_json(tmp / REPORT, report.to_dict())
        manifest = _manifest(tmp, counts, fmt, export_id, selection, report, options, reason, actor)
        _write_json(tmp / MANIFEST, manifest)
        with wh.begin() as conn:
            entry = audit.record(
                conn,
                actor,
                "share.export",
                selection.target,
                reason,
                {
                    "export_id": export_id,
                    "format": fmt,
                    "persons": len(dataset.tables["person"]),
                    "with_notes": options.with_notes,
                    "files": len(counts),
                    "manifest_sha256": sha256_file(tmp / MANIFEST),
                    # With the platform secret, the salt re-derives the person_id map.
                    "person_id_salt": dataset.salt,
                    **_figures(report),
                },
            )
            staging.publish()  # in the audit's transaction: no entry without the files
    return ExportResult(out, manifest, report, entry.audit_id)


def _figures(report: AnonymityReport) -> dict[str, Any]:
    after = report.after
    return {
        "k_target": report.k,
        "l_target": report.l,
        "k_reached": after.k if after and report.reached else None,
        "l_reached": after.l if after and report.reached else None,
        "smallest_class": after.k if after else None,
        "suppressed_persons": report.suppressed_persons,
        "blocking": report.blocking,
    }


def _manifest(
    folder: Path,
    counts: dict[str, int],
    fmt: str,
    export_id: str,
    selection: Selection,
    report: AnonymityReport,
    options: ShareOptions,
    reason: str,
    actor: str | None,
) -> dict[str, Any]:
    files = [
        {
            "path": name,
            "rows": rows,
            "bytes": (folder / name).stat().st_size,
            "sha256": sha256_file(folder / name),
        }
        for name, rows in sorted(counts.items())
    ]
    files.append(
        {
            "path": REPORT,
            "rows": None,
            "bytes": (folder / REPORT).stat().st_size,
            "sha256": sha256_file(folder / REPORT),
        }
    )
    return {
        "export_id": export_id,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "created_by": audit.current_actor(actor),
        "reason": reason,
        "hopia_version": __version__,
        "format": fmt,
        "source": selection.source,
        "reference_year": report.reference_year,
        "persons": report.persons - report.suppressed_persons,
        "anonymity": {
            "k": report.k,
            "l": report.l,
            "k_reached": report.after.k if report.after else None,
            "l_reached": report.after.l if report.after else None,
            "quasi_identifiers": report.quasi_identifiers,
            "sensitive_attribute": report.sensitive_attribute,
            "generalisations": report.generalisations,
            "suppressed_persons": report.suppressed_persons,
            "max_suppression": report.max_suppression,
            "diagnoses": report.diagnoses,
        },
        "policy": {
            "person_id": "keyed hash (HMAC-SHA256, platform secret + per-export salt kept in "
            "the audit log); other ids: sequential, local to this export",
            "year_of_birth": "birth year of the middle of the person's age band at the "
            "reference year (top-coded at 90 when the ladder reaches it); month, day and time "
            "of birth removed",
            "columns_kept": {name: sorted(cols) for name, cols in KEEP.items()},
            "never_exported": [
                "hopia_id (identities, source documents, PHI spans)",
                "hopia_vault",
                "provider",
                "free-text source values",
                "race and ethnicity",
            ],
            "notes": options.with_notes,
        },
        "residual_risks": RESIDUAL_RISKS,
        "files": files,
    }
