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


FAN_W, FAN_H = 640, 220
FAN_LEFT, FAN_RIGHT, FAN_TOP, FAN_BOTTOM = 44, 12, 12, 30


@dataclass(frozen=True)
class FanDay:
    """One forecast day: the outer band (``low``–``high``, e.g. P5–P95), the inner band
    (``inner_low``–``inner_high``, e.g. P25–P75) and the median."""

    when: date
    low: float
    inner_low: float
    median: float
    inner_high: float
    high: float


def _observed(run: list[str]) -> list[str]:
    """One unbroken stretch of observed values: a line, or a dot when it is a single day."""
    if len(run) > 1:
        return [f'<polyline class="observe" points="{" ".join(run)}"/>']
    if run:
        cx, cy = run[0].split(",")
        return [f'<circle class="observe-point" cx="{cx}" cy="{cy}" r="2"/>']
    return []


def fan_svg(
    label: str,
    actuals: list[tuple[date, int | None]],
    fan: list[FanDay],
    masked_below: int | None = None,
) -> Markup:
    """Past values as a line, then a forecast fan: two bands and the median.

    ``actuals`` are ``(day, count)``; a count of ``None`` is a suppressed small cell (between 1
    and ``masked_below - 1``): the line breaks there and a pale box spans that range, so the
    plot says no more than the table's ``"<N"``. Days are consecutive calendar days."""
    if not fan:
        return Markup("")
    days = [d for d, _ in actuals] + [f.when for f in fan]
    first = min(days).toordinal()
    span = max(1, max(days).toordinal() - first)
    shown = [v for _, v in actuals if v is not None]
    masked = any(v is None for _, v in actuals) and masked_below is not None
    top = max([*shown, *(f.high for f in fan), (masked_below or 1) - 1 if masked else 0, 1])
    top = float(top) * 1.05
    plot_w, plot_h = FAN_W - FAN_LEFT - FAN_RIGHT, FAN_H - FAN_TOP - FAN_BOTTOM

    def x(when: date) -> float:
        return FAN_LEFT + plot_w * (when.toordinal() - first) / span

    def y(value: float) -> float:
        return FAN_TOP + plot_h * (1 - value / top)

    def band(lows: list[float], highs: list[float]) -> str:
        up = [f"{x(f.when):.1f},{y(v):.1f}" for f, v in zip(fan, highs, strict=True)]
        down = [f"{x(f.when):.1f},{y(v):.1f}" for f, v in zip(fan, lows, strict=True)]
        return " ".join(up + down[::-1])

    words = (
        f"{label} : prévision du {fan[0].when:%d/%m/%Y} au {fan[-1].when:%d/%m/%Y}, médiane "
        f"de {_number(fan[0].median)} à {_number(fan[-1].median)} par jour, intervalle à 90 % "
        f"jusqu'à {_number(max(f.high for f in fan))}"
    )
    if actuals:
        words += f" ; {len(actuals)} jour(s) observé(s) avant"
    parts = [
        f'<svg class="eventail eventail-previsions" viewBox="0 0 {FAN_W} {FAN_H}" role="img" '
        f'aria-label="{escape(words)}">',
        f'<line class="axe" x1="{FAN_LEFT}" y1="{y(0):.1f}" x2="{FAN_LEFT + plot_w}"'
        f' y2="{y(0):.1f}"/>',
        f'<polygon class="bande-90" points="{band([f.low for f in fan], [f.high for f in fan])}">'
        "<title>intervalle P5–P95</title></polygon>",
        f'<polygon class="bande-50" points="'
        f'{band([f.inner_low for f in fan], [f.inner_high for f in fan])}">'
        "<title>intervalle P25–P75</title></polygon>",
    ]
    if len(fan) > 1:
        line = " ".join(f"{x(f.when):.1f},{y(f.median):.1f}" for f in fan)
        parts.append(f'<polyline class="mediane" points="{line}"/>')
    else:
        parts.append(
            f'<circle class="mediane-point" cx="{x(fan[0].when):.1f}" '
            f'cy="{y(fan[0].median):.1f}" r="3"/>'
        )
    # the observed line, broken at each suppressed cell
    run: list[str] = []
    day_w = plot_w / span
    for when, value in actuals:
        if value is None:
            parts += _observed(run)
            run = []
            if masked_below is not None:
                low, high = y(masked_below - 1), y(1)
                parts.append(
                    f'<rect class="masque" x="{x(when) - day_w / 2:.1f}" y="{low:.1f}" '
                    f'width="{day_w:.1f}" height="{max(0.0, high - low):.1f}"/>'
                )
            continue
        run.append(f"{x(when):.1f},{y(value):.1f}")
    parts += _observed(run)
    origin = x(fan[0].when)
    parts += [
        f'<line class="origine" x1="{origin:.1f}" y1="{FAN_TOP}" x2="{origin:.1f}"'
        f' y2="{y(0):.1f}"/>',
        f'<text x="{FAN_LEFT - 4}" y="{y(0) + 4:.1f}" text-anchor="end">0</text>',
        f'<text x="{FAN_LEFT - 4}" y="{FAN_TOP + 8}" text-anchor="end">'
        f"{escape(_number(top))}</text>",
        f'<text x="{FAN_LEFT}" y="{FAN_H - 8}">{min(days):%d/%m/%Y}</text>',
        f'<text x="{FAN_LEFT + plot_w}" y="{FAN_H - 8}" text-anchor="end">'
        f"{max(days):%d/%m/%Y}</text>",
    ]
    if actuals and FAN_LEFT + plot_w - origin > 80:  # room beside the last date
        parts.append(
            f'<text x="{origin:.1f}" y="{FAN_H - 8}" text-anchor="middle">'
            f"{fan[0].when:%d/%m}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
