"""Model card: what a model is for, what it was trained on, how well it does and for whom.

Written twice from one dictionary: ``card.json`` (machine-readable, holds the sha256 of the
model file that loading checks) and ``card.md`` (for the reader), plus ``calibration.png``.
Only aggregates go in a card: counts, dates of the data window, metrics; subgroups under
ten patients are already suppressed by :mod:`hopia.data.predict.evaluate`.
"""

from __future__ import annotations

import hashlib
import json
import platform
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from hopia.platform.scores import fmt_number

# What a person reads in the card (card.md and the text fields of card.json) is in French; the
# JSON keys stay as they are (machine-readable), and so do its numbers.
INTENDED_USE = (
    "Recherche et évaluation de la stratification du risque sur les données pseudonymisées de "
    "l'entrepôt. Ce n'est pas un dispositif médical : il ne doit pas orienter une décision de "
    "soin individuelle sans validation clinique locale, évaluation prospective et examen "
    "réglementaire par l'établissement."
)
LIMITATIONS = [
    "Entraîné et évalué sur une seule source de données ; les performances ailleurs sont "
    "inconnues.",
    "Découpage temporel seulement : pas de validation externe.",
    "Les événements hors de l'entrepôt (autre hôpital, décès à domicile) ne sont pas vus : une "
    "réhospitalisation ailleurs compte comme négative.",
    "Les réhospitalisations programmées et non programmées ne sont pas distinguées.",
    "Les pathologies tirées des comptes rendus par le TAL en portent les erreurs (mentions "
    "manquées ou fausses).",
    "La calibration peut dériver avec les pratiques de codage et la patientèle : réévaluer "
    "régulièrement (`hopia predict evaluate`).",
]
# French labels of the card's keys (a key without one is shown with its underscores as blanks).
LABELS = {
    "source": "source",
    "stays_labelled": "séjours étiquetés",
    "patients": "patients",
    "index_dates": "dates d'index",
    "training_window": "fenêtre d'entraînement",
    "split": "découpage",
    "train_stays": "séjours d'entraînement",
    "test_stays": "séjours de test",
    "train_dropped_label_after_cut": "séjours d'entraînement écartés (étiquette connue après "
    "la coupure)",
    "cut_date": "date de coupure",
    "encounters_raw": "séjours bruts",
    "sampled_patients": "patients échantillonnés",
    "candidates": "variables candidates",
    "kept": "variables retenues",
    "min_count": "effectif minimal",
    "by_prefix": "par préfixe",
    "text_derived_kept": "retenues issues du texte",
    "cutoff": "limite",
    "death_during_stay": "décès pendant le séjour",
    "window_after_data_end": "fenêtre au-delà de la fin des données",
}
_PACKAGES = ("hopia", "scikit-learn", "lightgbm", "pandas", "numpy", "joblib")


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "absent"
    return out


def config_hash(config: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of the training configuration."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def build_card(
    *,
    title: str,
    target: dict[str, Any],
    data: dict[str, Any],
    features: dict[str, Any],
    model: dict[str, Any],
    evaluation: dict[str, Any],
    importance: pd.DataFrame,
    config: dict[str, Any],
    limitations: list[str] | None = None,
) -> dict[str, Any]:
    """The card as a JSON-ready dictionary (``provenance.model_sha256`` is set on save)."""
    return {
        "title": title,
        "intended_use": INTENDED_USE,
        "target": target,
        "data": data,
        "features": features,
        "model": model,
        "evaluation": evaluation,
        "top_features": importance.to_dict(orient="records"),
        "limitations": [*LIMITATIONS, *(limitations or [])],
        "provenance": {
            "created_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
            "versions": package_versions(),
            "config": config,
            "config_sha256": config_hash(config),
            "model_file": None,
            "model_sha256": None,
        },
    }


def _fmt(x: Any, digits: int = 3) -> str:
    """A value for the reader: French decimals ("0,734"), "–" when undefined."""
    if x is None or (isinstance(x, float) and x != x):
        return "–"
    if isinstance(x, bool) or not isinstance(x, int | float):
        return str(x)
    return fmt_number(x, digits if isinstance(x, float) else None)


def _label(key: str) -> str:
    return LABELS.get(key, key.replace("_", " "))


def card_markdown(card: dict[str, Any]) -> str:
    ev, data, prov = card["evaluation"], card["data"], card["provenance"]
    test = ev["test"]
    lines = [
        f"# Fiche du modèle : {card['title']}",
        "",
        "## Usage prévu",
        "",
        card["intended_use"],
        "",
        "## Cible",
        "",
        f"`{card['target']['name']}`: {card['target']['definition']}",
        "",
        "## Données",
        "",
        *[f"- {_label(k)} : {_fmt(v)}" for k, v in data.items() if k != "exclusions"],
        *[f"- exclus ({_label(k)}) : {_fmt(v)}" for k, v in data["exclusions"].items()],
        "",
        "## Variables",
        "",
        *[f"- {_label(k)} : {_fmt(v)}" for k, v in card["features"].items()],
        "",
        "## Modèle",
        "",
        f"`{card['model']['estimator']}`",
        "",
        "```json",
        json.dumps(card["model"]["params"], indent=1, sort_keys=True),
        "```",
        "",
        "## Performances sur le jeu de test",
        "",
        "| mesure | valeur |",
        "|---|---|",
        f"| séjours / patients | {_fmt(test['n_stays'])} / {_fmt(test['n_patients'])} |",
        f"| prévalence | {_fmt(test['prevalence'])} |",
        f"| AUROC (IC 95 %, bootstrap par patient) | {_fmt(test['auroc'])} "
        f"({_fmt(test['auroc_ci95'][0])}–{_fmt(test['auroc_ci95'][1])}) |",
        f"| AUPRC | {_fmt(test['auprc'])} |",
        f"| score de Brier | {_fmt(test['brier'])} |",
        f"| AUROC sur le jeu d'entraînement | {_fmt(ev['train']['auroc'])} |",
        "",
        "### Calibration (déciles du risque prédit)",
        "",
        "![calibration](calibration.png)",
        "",
        "| décile | risque prédit moyen | taux observé | n |",
        "|---|---|---|---|",
        *[
            f"| {r['bin']} | {_fmt(float(r['mean_predicted']))} | "
            f"{_fmt(float(r['observed_rate']))} | {_fmt(r['n'])} |"
            for r in test["calibration"]
        ],
        "",
        "### Sous-groupes (groupes de moins de 10 patients masqués ; « * » : effectifs masqués "
        "pour qu'un petit groupe ne puisse être recalculé par différence)",
        "",
        "| variable | groupe | patients | séjours | positifs | AUROC | AUPRC | Brier |",
        "|---|---|---|---|---|---|---|---|",
        *[
            f"| {r['variable']} | {r['group']} | {r['patients']} | {r['stays']} | "
            f"{r['positives']} | {_fmt(r['auroc'])} | {_fmt(r['auprc'])} | {_fmt(r['brier'])} |"
            for r in test["subgroups"]
        ],
        "",
        "## Variables les plus importantes",
        "",
        "| variable | importance | type |",
        "|---|---|---|",
        *[
            f"| {r['feature']} | {fmt_number(float(r['importance']))} | {r['kind']} |"
            for r in card["top_features"]
        ],
        "",
        "## Limites",
        "",
        *[f"- {item}" for item in card["limitations"]],
        "",
        "## Provenance",
        "",
        f"- créée le : {prov['created_at']}",
        f"- fichier du modèle : `{prov['model_file']}`, sha256 `{prov['model_sha256']}`",
        f"- sha256 de la configuration : `{prov['config_sha256']}`",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in prov["versions"].items()),
        "",
    ]
    return "\n".join(lines)


def plot_calibration(calibration: pd.DataFrame, path: Path, *, title: str) -> None:
    """Reliability diagram (deciles of predicted risk) as a PNG, without a display."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=100)
    try:
        top = max(0.05, float(calibration[["mean_predicted", "observed_rate"]].max().max()))
        ax.plot([0, top], [0, top], linestyle="--", color="grey", label="calibration parfaite")
        ax.plot(
            calibration["mean_predicted"], calibration["observed_rate"], marker="o", label="modèle"
        )
        ax.set_xlabel("risque prédit moyen")
        ax.set_ylabel("taux observé")
        # French decimal commas on the axes, as everywhere a person reads numbers.
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt_number(round(v, 3))))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt_number(round(v, 3))))
        ax.set_title(title, fontsize=10)
        ax.legend(loc="upper left")
        fig.tight_layout()
        fig.savefig(path, metadata={"Software": None})
    finally:
        plt.close(fig)
