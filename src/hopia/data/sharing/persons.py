"""Who is exported: the members of a cohort definition, or a list of person_ids.

:func:`cohort_person_ids` is the only place that knows the cohort axis's API.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from hopia.platform.exceptions import SharingError
from hopia.platform.warehouse import Warehouse


@dataclass(frozen=True)
class Selection:
    """The persons to export and where they come from (for the manifest and the audit log)."""

    person_ids: list[int]
    target: str  # audit target: cohort:<name>@<version> or persons:<sha256 prefix>
    source: dict[str, Any] = field(default_factory=dict)


def cohort_person_ids(wh: Warehouse, definition: Path) -> Selection:
    """Members of a cohort definition (``hopia.data.cohorts``), read in the research space."""
    from hopia.data.cohorts import compile_cohort, definition_hash, load_definition

    d = load_definition(definition)
    members = compile_cohort(d).members_query().subquery()
    with wh.engine.connect() as conn:
        ids = sorted({int(v) for v in conn.execute(select(members.c.person_id)).scalars()})
    source = {
        "kind": "cohort",
        "name": d.name,
        "version": d.version,
        "definition_sha256": definition_hash(d),
    }
    return Selection(ids, f"cohort:{d.name}@{d.version}", source)


def file_person_ids(path: Path) -> Selection:
    """One person_id per line; blank lines and ``#`` comments ignored; a header is refused."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SharingError(
            f"{path} : fichier illisible ({exc.strerror or exc})", fields=("persons",)
        ) from exc
    ids: set[int] = set()
    for number, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), 1):
        value = line.split("#", 1)[0].strip()
        if not value:
            continue
        if not value.isdigit():
            raise SharingError(
                f"{path} : ligne {number} : person_id entier attendu (un par ligne), reçu "
                f"{value[:20]!r}",
                fields=("persons",),
            )
        ids.add(int(value))
    digest = hashlib.sha256(raw).hexdigest()
    source = {"kind": "persons", "file": path.name, "file_sha256": digest}
    return Selection(sorted(ids), f"persons:{digest[:16]}", source)


def check_source(cohort: Path | None, persons: Path | None) -> None:
    """Exactly one source: a cohort definition or a person_id file."""
    if (cohort is None) == (persons is None):
        raise SharingError(
            "indiquez soit une définition de cohorte, soit un fichier de person_id (un des deux)",
            fields=("cohort", "persons"),
        )


def select_persons(wh: Warehouse, cohort: Path | None, persons: Path | None) -> Selection:
    check_source(cohort, persons)
    selection = cohort_person_ids(wh, cohort) if cohort else file_person_ids(persons)  # type: ignore[arg-type]
    if not selection.person_ids:
        raise SharingError(
            "la sélection ne contient aucun patient : rien à partager", fields=("cohort", "persons")
        )
    return selection
