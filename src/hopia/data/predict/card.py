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

INTENDED_USE = (
    "Research and evaluation of risk stratification on pseudonymised warehouse data. Not a "
    "medical device: it must not drive individual care decisions without a local clinical "
    "validation, a prospective evaluation and the hospital's regulatory review."
)
LIMITATIONS = [
    "Trained and evaluated on one data source; performance elsewhere is unknown.",
    "Temporal split only: no external validation.",
    "Outcomes outside the warehouse (another hospital, death at home) are not seen: "
    "readmissions elsewhere count as negatives.",
    "Planned and unplanned readmissions are not told apart.",
    "Conditions derived from notes by NLP carry its errors (missed or wrong mentions).",
    "Calibration may drift as coding practice and case mix change: re-evaluate periodically "
    "(`hopia predict evaluate`).",
]
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
    if x is None or (isinstance(x, float) and x != x):
        return "–"
    return f"{x:.{digits}f}" if isinstance(x, float) else str(x)


def card_markdown(card: dict[str, Any]) -> str:
    ev, data, prov = card["evaluation"], card["data"], card["provenance"]
    test = ev["test"]
    lines = [
        f"# Model card: {card['title']}",
        "",
        "## Intended use",
        "",
        card["intended_use"],
        "",
        "## Target",
        "",
        f"`{card['target']['name']}`: {card['target']['definition']}",
        "",
        "## Data",
        "",
        *[f"- {k.replace('_', ' ')}: {_fmt(v)}" for k, v in data.items() if k != "exclusions"],
        *[f"- excluded ({k.replace('_', ' ')}): {v}" for k, v in data["exclusions"].items()],
        "",
        "## Features",
        "",
        *[f"- {k.replace('_', ' ')}: {_fmt(v)}" for k, v in card["features"].items()],
        "",
        "## Model",
        "",
        f"`{card['model']['estimator']}`",
        "",
        "```json",
        json.dumps(card["model"]["params"], indent=1, sort_keys=True),
        "```",
        "",
        "## Performance on the test set",
        "",
        "| metric | value |",
        "|---|---|",
        f"| stays / patients | {test['n_stays']} / {test['n_patients']} |",
        f"| prevalence | {_fmt(test['prevalence'])} |",
        f"| AUROC (95 % CI, patient bootstrap) | {_fmt(test['auroc'])} "
        f"({_fmt(test['auroc_ci95'][0])}–{_fmt(test['auroc_ci95'][1])}) |",
        f"| AUPRC | {_fmt(test['auprc'])} |",
        f"| Brier score | {_fmt(test['brier'])} |",
        f"| AUROC on the training set | {_fmt(ev['train']['auroc'])} |",
        "",
        "### Calibration (deciles of predicted risk)",
        "",
        "![calibration](calibration.png)",
        "",
        "| bin | mean predicted | observed | n |",
        "|---|---|---|---|",
        *[
            f"| {r['bin']} | {r['mean_predicted']:.3f} | {r['observed_rate']:.3f} | {r['n']} |"
            for r in test["calibration"]
        ],
        "",
        "### Subgroups (groups under 10 patients suppressed)",
        "",
        "| variable | group | patients | stays | positives | AUROC | AUPRC | Brier |",
        "|---|---|---|---|---|---|---|---|",
        *[
            f"| {r['variable']} | {r['group']} | {r['patients']} | {r['stays']} | "
            f"{r['positives']} | {_fmt(r['auroc'])} | {_fmt(r['auprc'])} | {_fmt(r['brier'])} |"
            for r in test["subgroups"]
        ],
        "",
        "## Most important features",
        "",
        "| feature | importance | kind |",
        "|---|---|---|",
        *[
            f"| {r['feature']} | {r['importance']:.4g} | {r['kind']} |"
            for r in card["top_features"]
        ],
        "",
        "## Limitations",
        "",
        *[f"- {item}" for item in card["limitations"]],
        "",
        "## Provenance",
        "",
        f"- created: {prov['created_at']}",
        f"- model file: `{prov['model_file']}`, sha256 `{prov['model_sha256']}`",
        f"- configuration sha256: `{prov['config_sha256']}`",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in prov["versions"].items()),
        "",
    ]
    return "\n".join(lines)


def plot_calibration(calibration: pd.DataFrame, path: Path, *, title: str) -> None:
    """Reliability diagram (deciles of predicted risk) as a PNG, without a display."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=100)
    try:
        top = max(0.05, float(calibration[["mean_predicted", "observed_rate"]].max().max()))
        ax.plot([0, top], [0, top], linestyle="--", color="grey", label="perfect")
        ax.plot(
            calibration["mean_predicted"], calibration["observed_rate"], marker="o", label="model"
        )
        ax.set_xlabel("mean predicted risk")
        ax.set_ylabel("observed rate")
        ax.set_title(title, fontsize=10)
        ax.legend(loc="upper left")
        fig.tight_layout()
        fig.savefig(path, metadata={"Software": None})
    finally:
        plt.close(fig)
