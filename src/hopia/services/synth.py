"""Synthetic-CHU service: generate fictitious patients, stays, documents and gold annotations
into a folder (``hopia synth``), for tests, demonstrations and training.

The folder rules, for every front end: the output must be a folder; a non-empty one is replaced
only when the request says ``force``; and never the working directory, one of its parents or
the home folder, whatever ``force`` says. The corpus appears all at once (written aside, then
renamed). The data are fictitious: no audit entry.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field

from hopia.platform.exceptions import ConflictError, InvalidRequestError, SynthError
from hopia.services.context import Context, Request

#: ``on_progress(done, total)``
ProgressCallback = Callable[[int, int], None]


class GenerateRequest(Request):
    out: Path
    patients: int = Field(300, ge=1)
    seed: int = 42
    formats: bool = True  # also render ~10 % of the documents as PDF, DOCX, HL7 v2, FHIR
    force: bool = False  # replace a non-empty output folder


@dataclass(frozen=True)
class GenerateResult:
    out: Path
    seed: int
    formats: bool
    counts: dict[str, int]  # patients, documents, files, pdf, docx, hl7, fhir, rendered_documents
    seconds: float


def _protected(out: Path) -> bool:
    """The working directory, one of its parents, or the home folder: never replaced."""
    target = out.resolve()
    cwd = Path.cwd().resolve()
    return target == cwd or target in cwd.parents or target == Path.home().resolve()


def check_output(out: Path, force: bool) -> None:
    """The folder rules of the module docstring (raises with the request fields at fault)."""
    if out.exists() and not out.is_dir():
        raise InvalidRequestError(f"{out} existe et n'est pas un dossier", fields=("out",))
    if out.exists() and any(out.iterdir()):
        if not force:
            raise ConflictError(
                f"le dossier {out} n'est pas vide ; demander son remplacement ou choisir un "
                "autre dossier",
                fields=("out", "force"),
            )
        if _protected(out):
            raise InvalidRequestError(
                f"refus de remplacer {out} (dossier courant, parent ou dossier personnel) ; "
                "choisir un sous-dossier dédié",
                fields=("out",),
            )


def generate(
    ctx: Context,
    request: GenerateRequest,
    *,
    on_patients: ProgressCallback | None = None,
    on_files: ProgressCallback | None = None,
) -> GenerateResult:
    """Generate ``patients`` patients from ``seed`` (the same seed gives the same files, byte
    for byte) and write them to ``out``. ``on_patients`` follows the generation, ``on_files``
    the rendered files (with ``formats``)."""
    from hopia.data.synth import generate as generate_corpus
    from hopia.data.synth import write_corpus

    out = request.out
    check_output(out, request.force)
    ctx.authorize("synth.generate", str(out))
    started = time.perf_counter()
    corpus = generate_corpus(
        request.patients,
        request.seed,
        progress=None if on_patients is None else (lambda n: on_patients(n, request.patients)),
    )
    files = len(corpus.renditions) if request.formats else 0
    try:
        counts = write_corpus(
            corpus,
            out,
            formats=request.formats,
            overwrite=request.force,
            progress=None if on_files is None or not files else (lambda n: on_files(n, files)),
        )
    except FileExistsError:  # filled in meanwhile
        raise ConflictError(f"le dossier {out} n'est pas vide", fields=("out", "force")) from None
    except OSError as exc:
        raise SynthError(f"écriture impossible dans {out} : {exc}", fields=("out",)) from exc
    return GenerateResult(out, request.seed, request.formats, counts, time.perf_counter() - started)
