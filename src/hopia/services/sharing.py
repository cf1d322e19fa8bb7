"""Sharing service: measure k-anonymity and l-diversity of a selection, export it.

The rules, for every front end:

- an export needs a reason of at least ten characters, checked before anything is read; the
  access policy is asked next (``share.check``, ``share.export``);
- k, l and the largest share of suppressed patients default to the site's settings
  (``data.sharing``); the pseudonymisation secret comes from the installation's keys;
- every audit entry of the axis (``share.check``, ``share.refused``, ``share.export``) is
  written by :mod:`hopia.data.sharing.release`, in the transaction of what it records;
- a check that cannot reach k or l is an outcome (:attr:`ShareCheck.refused`), not an error:
  the report says why; an export that cannot is a :class:`ShareRefusedError` carrying it.
  Either names the request fields that could lift the refusal (``report.remedies``: ``k``,
  ``max_suppression``, ``age_band``, ``geography``, ``drop``); front ends phrase them;
- the requester may widen the bands and drop quasi-identifiers (``age_band``, ``geography``,
  ``drop``) and coarsen the exported dates (``dates``);
- no count below 10 patients (nor a class below k) leaves in a report or a message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field

from hopia.data.cohorts.suppression import WITHHELD  # noqa: F401 - front ends
from hopia.data.sharing import ExportResult, ShareOptions, select_persons
from hopia.data.sharing.anonymity import QI_NAMES, AnonymityReport  # noqa: F401 - front ends
from hopia.data.sharing.persons import check_source
from hopia.data.sharing.release import check as measure
from hopia.data.sharing.release import check_target_folder
from hopia.data.sharing.release import export as write_export
from hopia.platform.access import Purpose
from hopia.platform.exceptions import ShareRefusedError
from hopia.platform.files import write_text_atomic
from hopia.services.context import Context, Request
from hopia.services.warehouse import existing_warehouse

ExportFormat = Literal["omop-csv", "omop-parquet", "fhir"]
# The quasi-identifiers a request may drop, by the names users read (French), and their keys.
QuasiIdentifier = Literal["age", "sexe", "code-postal", "diagnostic"]
DROP_NAMES: dict[str, str] = {
    "age": "age",
    "sexe": "sex",
    "code-postal": "postcode",
    "diagnostic": "diagnosis",
}


class _ShareRequest(Request):
    cohort: Path | None = None
    """A cohort definition whose members are shared (or ``persons``, not both)."""
    persons: Path | None = None
    """A file of person_ids (research space), one per line."""
    k: int | None = Field(None, ge=1)
    """Smallest class size; default ``data.sharing.k``."""
    l: int | None = Field(None, ge=1)  # noqa: E741
    """Distinct sensitive values per class; default ``data.sharing.l``."""
    max_suppression: float | None = Field(None, ge=0.0, lt=1.0)
    """Largest share of patients suppressed; default ``data.sharing.max_suppression``."""
    reference_date: date | None = None
    """Date ages are computed at; default today."""
    age_band: Literal[5, 10, 20] | None = None
    """Narrowest age band (years) exported; the ladder may widen it (up to 10 years)."""
    geography: Literal["departement", "region"] | None = None
    """Finest geography exported instead of the postcode."""
    drop: tuple[QuasiIdentifier, ...] = ()
    """Quasi-identifiers not exported at all (what a refusal may ask to remove)."""


class CheckRequest(_ShareRequest):
    json_out: Path | None = None
    """Also write the report there, as JSON."""


class ExportRequest(_ShareRequest):
    out: Path
    """A new or empty folder."""
    format: ExportFormat
    reason: str | None = None
    with_notes: bool = False
    """Include the (pseudonymised) text of the notes: a residual risk."""
    dates: Literal["jour", "mois", "annee"] = "jour"
    """Precision of the exported dates: day, or brought to the first of the month or year."""
    per_bundle: int = Field(1, ge=1)
    """FHIR: patients per Bundle."""


@dataclass(frozen=True)
class ShareCheck:
    report: AnonymityReport
    json_out: Path | None = None

    @property
    def refused(self) -> bool:
        """k or l cannot be reached within the allowed suppression (the report's ``message``
        says why and which quasi-identifier blocks)."""
        return not self.report.reached


def _resource(request: _ShareRequest) -> str:
    """What the policy is asked about, before anything is read: the selection's file."""
    if request.cohort is not None:
        return f"cohort-definition:{request.cohort.name}"
    return f"persons-file:{request.persons.name if request.persons else ''}"


def _options(ctx: Context, request: _ShareRequest, **extra: object) -> ShareOptions:
    defaults = ctx.settings.data.sharing
    return ShareOptions(
        k=request.k if request.k is not None else defaults.k,
        l=request.l if request.l is not None else defaults.l,
        max_suppression=(
            request.max_suppression
            if request.max_suppression is not None
            else defaults.max_suppression
        ),
        reference_date=request.reference_date,
        age_band=request.age_band,
        geography=request.geography,
        drop=tuple(dict.fromkeys(DROP_NAMES[q] for q in request.drop)),
        **extra,  # type: ignore[arg-type]
    )


def check(ctx: Context, request: CheckRequest) -> ShareCheck:
    """The k/l report of the selection; nothing is exported. Audited (``share.check``)."""
    check_source(request.cohort, request.persons)
    options = _options(ctx, request)
    ctx.authorize("share.check", _resource(request))
    wh = existing_warehouse(ctx)
    selection = select_persons(wh, request.cohort, request.persons)
    try:
        report = measure(wh, selection, options, actor=ctx.actor)
    except ShareRefusedError as refused:
        report = refused.report
    if request.json_out is not None:
        text = json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n"
        write_text_atomic(request.json_out, text)
    return ShareCheck(report, request.json_out)


def export(ctx: Context, request: ExportRequest) -> ExportResult:
    """Export the selection, pseudonymised, k-anonymous and l-diverse, audited; all or nothing.
    :class:`ShareRefusedError` (audited ``share.refused``) when k or l cannot be reached."""
    # Before anything is read; a refused reason is on record.
    reason = ctx.check_reason(request.reason, Purpose.SHARE, "share.export", _resource(request))
    check_source(request.cohort, request.persons)
    out = request.out.absolute()
    check_target_folder(out)
    options = _options(
        ctx,
        request,
        with_notes=request.with_notes,
        per_bundle=request.per_bundle,
        dates=request.dates,
    )
    ctx.authorize("share.export", _resource(request))
    secret = ctx.secret()
    wh = existing_warehouse(ctx)
    selection = select_persons(wh, request.cohort, request.persons)
    return write_export(
        wh,
        selection,
        out,
        request.format,
        reason=reason,
        secret=secret,
        options=options,
        actor=ctx.actor,
    )
