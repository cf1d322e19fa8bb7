"""Lab values as small server-side SVG trend plots: the values over time, the reference range
as a band, values outside it marked. No chart library and no script: the SVG is in the page,
its colours come from the style sheet (classes), every point carries its value in a
``<title>`` and the plot an ``aria-label`` that says the same in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

WIDTH, HEIGHT = 520, 180
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 14, 30


@dataclass(frozen=True)
class Point:
    when: date
    value: float
    low: float | None
    high: float | None

    @property
    def outside(self) -> bool:
        return (self.low is not None and self.value < self.low) or (
            self.high is not None and self.value > self.high
        )


def _number(value: float) -> str:
    return f"{value:.4g}".replace(".", ",")


def trend_svg(label: str, unit: str | None, points: list[Point]) -> Markup:
    """One plot of ``points`` (dated values, in any order)."""
    points = sorted(points, key=lambda p: p.when)
    lows = [p.low for p in points if p.low is not None]
    highs = [p.high for p in points if p.high is not None]
    low, high = (min(lows) if lows else None), (max(highs) if highs else None)
    values = [p.value for p in points] + [v for v in (low, high) if v is not None]
    v_min, v_max = min(values), max(values)
    if v_max == v_min:
        v_min, v_max = v_min - 1, v_max + 1
    pad = (v_max - v_min) * 0.08
    v_min, v_max = v_min - pad, v_max + pad
    d_min, d_max = points[0].when.toordinal(), points[-1].when.toordinal()
    span = max(1, d_max - d_min)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(when: date) -> float:
        if d_max == d_min:
            return LEFT + plot_w / 2
        return LEFT + plot_w * (when.toordinal() - d_min) / span

    def y(value: float) -> float:
        return TOP + plot_h * (v_max - value) / (v_max - v_min)

    unit_txt = f" {unit}" if unit else ""
    outside = sum(p.outside for p in points)
    words = (
        f"{label} : {len(points)} valeur(s) du {points[0].when:%d/%m/%Y} au "
        f"{points[-1].when:%d/%m/%Y}, dernière {_number(points[-1].value)}{unit_txt}"
    )
    if low is not None or high is not None:
        words += (
            f", plage de référence {_number(low) if low is not None else '…'} – "
            f"{_number(high) if high is not None else '…'}, {outside} hors plage"
        )
    parts = [
        f'<svg class="courbe" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}"'
        f' role="img" aria-label="{escape(words)}">'
    ]
    if low is not None or high is not None:
        top = y(high) if high is not None else TOP
        bottom = y(low) if low is not None else TOP + plot_h
        parts.append(
            f'<rect class="plage" x="{LEFT}" y="{top:.1f}" width="{plot_w}"'
            f' height="{max(0.0, bottom - top):.1f}"><title>plage de référence</title></rect>'
        )
    parts.append(
        f'<line class="axe" x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}"'
        f' y2="{TOP + plot_h}"/><line class="axe" x1="{LEFT}" y1="{TOP}" x2="{LEFT}"'
        f' y2="{TOP + plot_h}"/>'
    )
    for value in (v for v in (low, high) if v is not None):
        parts.append(
            f'<text class="graduation" x="{LEFT - 4}" y="{y(value) + 4:.1f}"'
            f' text-anchor="end">{escape(_number(value))}</text>'
        )
    parts.append(
        f'<text class="graduation" x="{LEFT}" y="{HEIGHT - 8}">{points[0].when:%d/%m/%Y}</text>'
        f'<text class="graduation" x="{LEFT + plot_w}" y="{HEIGHT - 8}"'
        f' text-anchor="end">{points[-1].when:%d/%m/%Y}</text>'
    )
    if len(points) > 1:
        line = " ".join(f"{x(p.when):.1f},{y(p.value):.1f}" for p in points)
        parts.append(f'<polyline class="trace" points="{line}"/>')
    for p in points:
        css = "point hors-plage" if p.outside else "point"
        tip = f"{p.when:%d/%m/%Y} : {_number(p.value)}{unit_txt}"
        if p.outside:
            tip += " (hors plage)"
        parts.append(
            f'<circle class="{css}" cx="{x(p.when):.1f}" cy="{y(p.value):.1f}" r="4">'
            f"<title>{escape(tip)}</title></circle>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


BAR_W, ROW_H, LABEL_W = 520, 22, 220


def bars_svg(title: str, cells: list[tuple[str, object]]) -> Markup:
    """Horizontal bars of published counts. A suppressed cell (``"<10"``, ``"*"``) gets no bar,
    only its text: its size must not be drawn."""
    numbers = [v for _, v in cells if isinstance(v, int | float) and not isinstance(v, bool)]
    top = max(numbers, default=0) or 1
    height = ROW_H * len(cells) + 8
    words = f"{title} : " + " ; ".join(f"{label} {value}" for label, value in cells)
    parts = [
        f'<svg class="barres" viewBox="0 0 {BAR_W} {height}" width="{BAR_W}" height="{height}"'
        f' role="img" aria-label="{escape(words)}">'
    ]
    room = BAR_W - LABEL_W - 60
    for i, (label, value) in enumerate(cells):
        y = 4 + i * ROW_H
        short = label if len(label) <= 30 else label[:29] + "…"  # 220 px at 12 px a glyph
        parts.append(
            f'<text class="graduation" x="{LABEL_W - 6}" y="{y + 15}" text-anchor="end">'
            f"{escape(short)}<title>{escape(label)}</title></text>"
        )
        width = 0.0
        if isinstance(value, int | float) and not isinstance(value, bool):
            width = room * value / top
            parts.append(
                f'<rect class="barre" x="{LABEL_W}" y="{y + 3}" width="{width:.1f}" height="16"/>'
            )
        parts.append(
            f'<text class="graduation" x="{LABEL_W + width + 4:.1f}" y="{y + 15}">'
            f"{escape(str(value))}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
