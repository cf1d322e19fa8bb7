"""``hopia nlp train``: train the statistical clinical NER (``hopia.clinical_ner``) on CPU.

The model goes to ``<home>/models/clinical_ner`` unless ``--out`` names another folder (never
the installed package); select it with ``HOPIA_DATA__NLP__CLINICAL_NER_MODEL``. See
``src/hopia/data/nlp/pipes/clinical_ner/SOURCES.md`` for how the shipped weights are rebuilt.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from hopia.cli._common import context, err_console, handle_errors
from hopia.platform.scores import fmt_number

HELP = (
    "Entraîner le modèle statistique de mentions cliniques (DISO, CHEM, PROC, ANAT) sur un "
    "corpus BRAT (QUAERO TRAIN) : CPU, un fil, temps borné. Le dev sert à l'arrêt précoce et "
    "est pris dans ce dossier seulement ; le modèle est écrit d'un bloc (par défaut sous "
    "<home>/models/clinical_ner), chaque époque gardée dans <dossier>.checkpoint ; --resume "
    "reprend un entraînement interrompu. Le choisir ensuite avec le réglage "
    "data.nlp.clinical_ner_model."
)


def train(
    brat: Path = typer.Option(..., "--brat", help="Dossier BRAT d'entraînement (QUAERO train)."),
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="Dossier du modèle (remplacé à la fin ; défaut : <home>/models/clinical_ner).",
    ),
    seed: int = typer.Option(13, "--seed", help="Graine de l'apprentissage."),
    max_minutes: float = typer.Option(
        40.0,
        "--max-minutes",
        min=0.1,
        help="Budget de temps de l'apprentissage (un arrêt sur ce budget dépend de la machine).",
    ),
    max_epochs: int = typer.Option(12, "--max-epochs", min=1, help="Nombre maximal d'époques."),
    resume: bool = typer.Option(
        False, "--resume", help="Reprendre après la dernière époque d'un entraînement interrompu."
    ),
) -> None:
    """Train on ``brat`` and write ``out`` atomically."""
    from hopia.services import nlp

    with handle_errors(), context() as ctx:
        request = nlp.TrainRequest.of(
            brat=brat,
            out=out,
            seed=seed,
            max_minutes=max_minutes,
            max_epochs=max_epochs,
            resume=resume,
        )
        result = nlp.train(ctx, request, log=lambda msg: err_console.print(escape(msg)))
    meta = result.meta
    dev = meta["dev_of_train"]
    err_console.print(
        f"Arrêt : {meta['stopped_by']}, meilleure époque {meta['best_epoch']}, "
        f"dev (pris dans l'entraînement) P {dev['p']:.3f} R {dev['r']:.3f} F {dev['f']:.3f}, "
        f"{fmt_number(meta['training_seconds'] / 60, 1)} min"
    )
    err_console.print(
        f"Modèle écrit dans {escape(str(result.out))} ; pour l'utiliser : "
        f"HOPIA_DATA__NLP__CLINICAL_NER_MODEL={escape(str(result.out))}"
    )
