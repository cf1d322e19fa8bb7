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
    floor_levels,
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
# What a recipient reads in the manifest: French, like everything a user reads.
RESIDUAL_RISKS = [
    "Les dates sont celles de l'espace de recherche (décalées par patient lors de la "
    "pseudonymisation), à la précision demandée (jour, mois ou année) : une date réelle de soin "
    "connue du destinataire ne sert à rien, mais les intervalles entre événements sont conservés.",
    "Texte libre : les notes sont pseudonymisées, mais un détail rare écrit dans une note ne peut "
    "pas être généralisé ; notes et extraits NLP ne sortent que si l'export les demande "
    "(with_notes), et leurs dates ne suivent pas la précision demandée.",
    "Le k-anonymat protège du croisement sur les quasi-identifiants déclarés seulement (âge, "
    "sexe, code postal, diagnostics rares) ; la suite des événements d'un patient peut rester "
    "unique.",
    "Les effectifs publiés ailleurs (attrition d'une cohorte) et ceux de cet export ne doivent "
    "pas être rapprochés : leur différence peut être un petit effectif.",
]


@dataclass(frozen=True)
class ShareOptions:
    k: int = DEFAULT_K
    l: int = DEFAULT_L  # noqa: E741
    max_suppression: float = DEFAULT_MAX_SUPPRESSION
    reference_date: date | None = None
    with_notes: bool = False
    per_bundle: int = 1
    age_band: int | None = None  # 5, 10 or 20: the narrowest age band exported
    geography: str | None = None  # "departement" or "region": the finest geography exported
    drop: tuple[str, ...] = ()  # quasi-identifiers not exported at all
    dates: str = "jour"  # "mois" or "annee": every date brought to its month or year


@dataclass(frozen=True)
class ExportResult:
    folder: Path
    manifest: dict[str, Any]
    report: AnonymityReport
    audit_id: int


def _measure(
    wh: Warehouse, selection: Selection, options: ShareOptions
) -> tuple[Extract, AnonymisationPlan]:
    floor = floor_levels(options.age_band, options.geography, options.drop)  # before reading
    reference_year = (options.reference_date or date.today()).year
    data = extract(wh, selection.person_ids, with_notes=options.with_notes)
    return data, plan(
        population(data, reference_year), options.k, options.l, options.max_suppression, floor
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
    dataset = prepare(
        data, anonymisation, secret, with_notes=options.with_notes, dates=options.dates
    )
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
    public = report.to_dict()
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
        "persons": report.persons - report.suppressed_persons,  # countable in the files
        "options": {
            "age_band": options.age_band,
            "geography": options.geography,
            "drop": list(options.drop),
            "dates": options.dates,
        },
        "anonymity": {
            "k": report.k,
            "l": report.l,
            "k_reached": report.after.k if report.after else None,
            "l_reached": report.after.l if report.after else None,
            "quasi_identifiers": report.quasi_identifiers,
            "sensitive_attribute": report.sensitive_attribute,
            "generalisations": report.generalisations,
            "suppressed_persons": public["suppressed_persons"],
            "max_suppression": report.max_suppression,
            "diagnoses": report.diagnoses,
        },
        "policy": {
            "person_id": "hachage à clé (HMAC-SHA256, secret de la plateforme + sel propre à "
            "l'export, conservé au journal d'audit) ; autres identifiants : numéros séquentiels "
            "propres à cet export",
            "year_of_birth": "année de naissance du milieu de la tranche d'âge de la personne à "
            "l'année de référence (plafonnée à 90 ans si l'échelle l'atteint ; vide si l'âge est "
            "retiré) ; mois, jour et heure de naissance retirés",
            "columns_kept": {name: sorted(cols) for name, cols in KEEP.items()},
            "never_exported": [
                "hopia_id (identités, documents sources, segments identifiants)",
                "hopia_vault",
                "provider (professionnels)",
                "valeurs sources en texte libre",
                "origine ethnique",
            ],
            "notes": options.with_notes,
        },
        "residual_risks": RESIDUAL_RISKS,
        "files": files,
    }
