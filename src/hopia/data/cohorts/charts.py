"""Charts of a cohort's *public* results (already suppressed), as PNG files.

Matplotlib with the Agg canvas only (no display, no pyplot global state). A suppressed cell is
drawn as an empty hatched bar labelled with its mark, never with a guessed height.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from hopia.data.cohorts.characterise import TOP_TITLES
from hopia.platform.files import atomic_file, private_dir

COLOR = "#2b6cb0"


def _bars(path: Path, title: str, labels: list[str], cells: list[Any], horizontal: bool) -> Path:
    fig = Figure(figsize=(8, max(3.0, 0.35 * len(labels) + 1.2)) if horizontal else (8, 4))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    known = [c if isinstance(c, int) else 0 for c in cells]
    positions = range(len(labels))
    draw = ax.barh if horizontal else ax.bar
    bars = draw(positions, known, color=COLOR)
    top = max(known, default=0) or 1
    for bar, cell in zip(bars, cells, strict=True):
        if not isinstance(cell, int):
            bar.set_hatch("//")
            bar.set_edgecolor(COLOR)
            bar.set_facecolor("none")
        if horizontal:
            ax.text(
                bar.get_width() + top * 0.01,
                bar.get_y() + bar.get_height() / 2,
                str(cell),
                va="center",
                fontsize=8,
            )
        else:
            ax.text(
                bar.get_x() + bar.get_width() / 2,
                bar.get_height() + top * 0.01,
                str(cell),
                ha="center",
                va="bottom",
                fontsize=8,
            )
    if horizontal:
        ax.set_yticks(list(positions), labels, fontsize=8)
        ax.invert_yaxis()
    else:
        ax.set_xticks(list(positions), labels, fontsize=8, rotation=30, ha="right")
    ax.set_title(title)
    (ax.xaxis if horizontal else ax.yaxis).set_major_locator(MaxNLocator(5, integer=True))
    ax.tick_params(labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    # Replaced whole, as results.json; owner-only, as everything in a cohort's folder.
    with atomic_file(path, "wb", private=True) as fh:
        fig.savefig(fh, format="png", dpi=110)
    return path


def _short(text: str, width: int = 45) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _step_label(step: dict[str, Any]) -> str:
    label = step["label"]
    if step["kind"] == "exclusion" and not label.startswith("Exclusion"):
        return f"Exclusion : {label}"
    return label


def write_charts(public: dict[str, Any], folder: Path) -> list[Path]:
    """PNG charts of the public results in ``folder`` (made owner-only, 0700, when absent);
    returns the files written (0600)."""
    private_dir(folder)
    written = []
    steps = public["attrition"]
    written.append(
        _bars(
            folder / "attrition.png",
            "Attrition (patients restants)",
            [_short(f"{s['step']}. {_step_label(s)}") for s in steps],
            [s["count"] for s in steps],
            horizontal=True,
        )
    )
    c = public.get("characterisation") or {}
    if "sex" not in c:  # withheld: too few patients to describe
        return written
    written.append(
        _bars(
            folder / "age.png",
            "Âge (années, à l'index ou à la date de référence)",
            list(c["age"]["bins"]),
            list(c["age"]["bins"].values()),
            horizontal=False,
        )
    )
    written.append(
        _bars(
            folder / "sexe.png", "Sexe", list(c["sex"]), list(c["sex"].values()), horizontal=False
        )
    )
    for key, title in TOP_TITLES.items():
        items = c[key]["items"]
        if items:
            labels = [_short(f"{i['code'] or ''} {i['name']}".strip()) for i in items]
            written.append(
                _bars(
                    folder / f"top_{key}.png",
                    f"{title} (patients)",
                    labels,
                    [i["persons"] for i in items],
                    horizontal=True,
                )
            )
    return written
