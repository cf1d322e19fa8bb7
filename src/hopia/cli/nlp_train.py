"""``hopia nlp train``: train the statistical clinical NER (``hopia.clinical_ner``) on CPU.

The shipped weights are rebuilt with::

    OMP_NUM_THREADS=1 hopia nlp train --brat ../shared/data/quaero/train --seed 13 \\
        --out src/hopia/data/nlp/pipes/clinical_ner/model_weights
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from hopia.cli._common import context, err_console, handle_errors

HELP = (
    "Entraîner le modèle statistique de mentions cliniques (DISO, CHEM, PROC, ANAT) sur un "
    "corpus BRAT (QUAERO TRAIN) : CPU, un fil, temps borné. Le dev sert à l'arrêt précoce et "
    "est pris dans ce dossier seulement ; le modèle est écrit d'un bloc dans --out."
)


def train(
    brat: Path = typer.Option(..., "--brat", help="Dossier BRAT d'entraînement (QUAERO train)."),
    out: Path = typer.Option(..., "--out", "-o", help="Dossier du modèle (remplacé à la fin)."),
    seed: int = typer.Option(13, "--seed", help="Graine de l'apprentissage."),
    max_minutes: float = typer.Option(
        40.0,
        "--max-minutes",
        min=0.1,
        help="Budget de temps de l'apprentissage (un arrêt sur ce budget dépend de la machine).",
    ),
    max_epochs: int = typer.Option(12, "--max-epochs", min=1, help="Nombre maximal d'époques."),
) -> None:
    """Train on ``brat`` and write ``out`` atomically."""
    from hopia.services import nlp

    with handle_errors(), context() as ctx:
        request = nlp.TrainRequest.of(
            brat=brat, out=out, seed=seed, max_minutes=max_minutes, max_epochs=max_epochs
        )
        meta = nlp.train(ctx, request, log=lambda msg: err_console.print(escape(msg))).meta
    dev = meta["dev_of_train"]
    err_console.print(
        f"Arrêt : {meta['stopped_by']}, meilleure époque {meta['best_epoch']}, "
        f"dev (pris dans l'entraînement) P {dev['p']:.3f} R {dev['r']:.3f} F {dev['f']:.3f}, "
        f"{meta['training_seconds'] / 60:.1f} min"
    )
