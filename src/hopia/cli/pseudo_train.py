"""``hopia pseudo train``: train the statistical PHI detector (CPU, bounded time).

The model goes to ``--out`` (default ``<home>/models/pseudo``), never into the installed
package; set ``HOPIA_DATA__PSEUDO__MODEL_PATH`` to that folder to use it. Each epoch is
checkpointed beside it; ``--resume`` continues an interrupted run. Maintainers rebuild the
shipped weights in a checkout by training to a folder of their own, then copying it over
``src/hopia/data/pseudo/model_weights`` in a commit::

    OMP_NUM_THREADS=1 hopia pseudo train --shared ../shared/data/pseudo \\
        --synth-patients 150 --seed 101 --out /tmp/hopia_phi
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from hopia.cli._common import context, err_console, handle_errors
from hopia.platform.scores import fmt_number


def train(
    shared: Path = typer.Option(
        ...,
        "--shared",
        help="Dossier de notes annotées *.jsonl {note_id, note_text, entities} ; les notes "
        "réservées à l'évaluation (20 % par hachage de l'identifiant) ne sont jamais apprises.",
    ),
    synth_patients: int = typer.Option(
        150, "--synth-patients", min=0, help="Patients du CHU synthétique généré en mémoire."
    ),
    seed: int = typer.Option(
        101, "--seed", help="Graine du CHU synthétique et de l'apprentissage (éviter 11 et 42)."
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="Dossier du modèle, remplacé à la fin (défaut : <home>/models/pseudo ; jamais le "
        "paquet installé).",
    ),
    resume: bool = typer.Option(
        False,
        "--resume",
        help="Reprendre un apprentissage interrompu à sa dernière époque terminée.",
    ),
    max_minutes: float = typer.Option(
        20.0, "--max-minutes", min=0.1, help="Budget de temps de l'apprentissage."
    ),
    max_epochs: int = typer.Option(12, "--max-epochs", min=1, help="Nombre maximal d'époques."),
    width: int | None = typer.Option(
        None, "--width", min=16, help="Largeur du réseau (défaut : celle du modèle livré)."
    ),
    depth: int | None = typer.Option(
        None, "--depth", min=1, help="Couches convolutives (défaut : celles du modèle livré)."
    ),
    augment_shared: float = typer.Option(
        0.0,
        "--augment-shared",
        min=0.0,
        max=1.0,
        help="Part des notes partagées aussi apprises sous une variante (casse, titres, listes, "
        "hôpitaux, villes), comme les notes du CHU synthétique (défaut : 0).",
    ),
) -> None:
    """Entraîner le détecteur statistique (CHU synthétique et notes partagées hors jeu réservé) ;
    le dossier de sortie est écrit d'un bloc."""
    from hopia.services import pseudo

    with handle_errors(), context() as ctx:
        request = pseudo.TrainRequest.of(
            shared=shared,
            out=out,
            synth_patients=synth_patients,
            seed=seed,
            max_minutes=max_minutes,
            max_epochs=max_epochs,
            width=width,
            depth=depth,
            augment_shared=augment_shared,
            resume=resume,
        )
        result = pseudo.train(ctx, request, log=lambda msg: err_console.print(escape(msg)))
    meta = result.meta
    dev = meta["dev"]
    err_console.print(
        f"Arrêt : {meta['stopped_by']}, meilleure époque {meta['best_epoch']}, "
        f"F dev {fmt_number(dev['score'], 3)}, {fmt_number(meta['training_seconds'] / 60, 1)} min"
    )
    err_console.print(
        f"Modèle écrit dans {escape(str(result.out))} ; pour l'utiliser : "
        f"HOPIA_DATA__PSEUDO__MODEL_PATH={escape(str(result.out))}"
    )
