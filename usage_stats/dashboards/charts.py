"""Server-side charts as inline SVG: no JavaScript, no CDN, readable offline and in
screenshots. Every data point carries a <title>, which browsers show on hover.

Each function returns markup that is safe to insert: all text is escaped here.
"""

import itertools
import math
from collections.abc import Callable, Mapping, Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 760
HEIGHT = 280
MARGIN_LEFT = 64
MARGIN_RIGHT = 16
MARGIN_TOP = 16
MARGIN_BOTTOM = 56
MAX_X_LABELS = 7
NO_VALUE = "\u2014"  # shown for a figure that does not exist (no events)
PALETTE = ("#3355dd", "#e07b00", "#1e8449", "#c0392b", "#8e44ad", "#16a085", "#7f8c8d")
_ids = itertools.count(1)


def number(value: float | None, decimals: int = 0) -> str:
    """1234567 -> '1,234,567'; None -> '\u2014'."""
    if value is None:
        return NO_VALUE
    return f"{value:,.{decimals}f}"


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / max(ticks, 1)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _y_axis(top_value: float) -> tuple[float, list[float]]:
    """The axis maximum and its tick values, from 0."""
    if top_value <= 0:
        return 1.0, [0.0, 1.0]
    step = _nice_step(top_value)
    top = math.ceil(top_value / step) * step
    return top, [i * step for i in range(round(top / step) + 1)]


def _tick_label(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 10_000:
        return f"{value / 1_000:g}k"
    return f"{value:g}"


class _Frame:
    """Plot area geometry and the shared axis/label markup."""

    def __init__(self, labels: Sequence[str], top_value: float, y_label: str) -> None:
        self.labels = list(labels)
        self.n = max(len(self.labels), 1)
        self.left, self.right = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
        self.top, self.bottom = MARGIN_TOP, HEIGHT - MARGIN_BOTTOM
        self.y_max, self.ticks = _y_axis(top_value)
        self.y_label = y_label

    @property
    def slot(self) -> float:
        return (self.right - self.left) / self.n

    def x_center(self, index: int) -> float:
        return self.left + self.slot * (index + 0.5)

    def y(self, value: float) -> float:
        return self.bottom - (self.bottom - self.top) * (value / self.y_max)

    def axes(self) -> list[str]:
        parts = []
        for tick in self.ticks:
            y = self.y(tick)
            parts.append(
                f'<line class="grid" x1="{self.left}" x2="{self.right}" y1="{y:.1f}" y2="{y:.1f}"/>'
                f'<text class="tick" x="{self.left - 6}" y="{y + 4:.1f}" text-anchor="end">'
                f"{escape(_tick_label(tick))}</text>"
            )
        parts.append(
            f'<line class="axis" x1="{self.left}" x2="{self.left}" y1="{self.top}" y2="{self.bottom}"/>'
            f'<line class="axis" x1="{self.left}" x2="{self.right}" y1="{self.bottom}" y2="{self.bottom}"/>'
        )
        every = max(1, math.ceil(len(self.labels) / MAX_X_LABELS))
        for index, label in enumerate(self.labels):
            if index % every:
                continue
            x = self.x_center(index)
            parts.append(
                f'<line class="axis" x1="{x:.1f}" x2="{x:.1f}" y1="{self.bottom}" y2="{self.bottom + 4}"/>'
                f'<text class="tick" x="{x:.1f}" y="{self.bottom + 18}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
        mid = (self.top + self.bottom) / 2
        parts.append(
            f'<text class="axis-label" x="14" y="{mid:.1f}" text-anchor="middle" '
            f'transform="rotate(-90 14 {mid:.1f})">{escape(self.y_label)}</text>'
        )
        return parts


def _svg(title: str, body: list[str], legend: list[tuple[str, str]] | None = None) -> SafeString:
    chart_id = f"chart-{next(_ids)}"
    legend_markup = ""
    if legend:
        x = MARGIN_LEFT
        items = []
        for name, color in legend:
            items.append(
                f'<rect x="{x}" y="{HEIGHT - 18}" width="10" height="10" fill="{color}"/>'
                f'<text class="legend" x="{x + 14}" y="{HEIGHT - 9}">{escape(name)}</text>'
            )
            x += 24 + 7 * min(len(name), 24)
        legend_markup = "".join(items)
    return mark_safe(  # noqa: S308 - every interpolated text above is escaped
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{chart_id}" '
        f'xmlns="http://www.w3.org/2000/svg"><title id="{chart_id}">{escape(title)}</title>'
        f"{''.join(body)}{legend_markup}</svg>"
    )


def bar_chart(
    *,
    title: str,
    labels: Sequence[str],
    ticks: Sequence[str] | None = None,
    values: Sequence[float],
    y_label: str,
    hover: Callable[[int], str],
    overlay: Sequence[float] | None = None,
    overlay_name: str = "",
    name: str = "",
) -> SafeString:
    """Vertical bars, one per label; an optional second series drawn as dots on top
    (errors over requests, say). hover(i) is the text shown for bucket i."""
    top_value = max([*values, *(overlay or []), 0])
    frame = _Frame(ticks or labels, top_value, y_label)
    body = frame.axes()
    width = max(frame.slot * 0.8, 1.0)
    for index, value in enumerate(values):
        y = frame.y(value)
        body.append(
            f'<rect class="bar" x="{frame.x_center(index) - width / 2:.1f}" y="{y:.1f}" width="{width:.1f}" '
            f'height="{frame.bottom - y:.1f}" fill="{PALETTE[0]}">'
            f"<title>{escape(hover(index))}</title></rect>"
        )
    legend = None
    if overlay is not None:
        for index, value in enumerate(overlay):
            if value:
                body.append(
                    f'<circle class="point" cx="{frame.x_center(index):.1f}" cy="{frame.y(value):.1f}" r="3" '
                    f'fill="{PALETTE[3]}"><title>{escape(hover(index))}</title></circle>'
                )
        legend = [(name, PALETTE[0]), (overlay_name, PALETTE[3])]
    return _svg(title, body, legend)


def line_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    y_label: str,
    unit: str,
    ticks: Sequence[str] | None = None,
) -> SafeString:
    """One line per series with a dot per point; hover shows series, bucket and value.
    `ticks` are shorter axis labels (default: the labels)."""
    top_value = max([v for values in series.values() for v in values] + [0])
    frame = _Frame(ticks or labels, top_value, y_label)
    body = frame.axes()
    legend = []
    for (name, values), color in zip(series.items(), itertools.cycle(PALETTE), strict=False):
        points = [(frame.x_center(i), frame.y(v)) for i, v in enumerate(values)]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            body.append(
                f'<polyline class="line" fill="none" stroke="{color}" stroke-width="2" points="{path}"/>'
            )
        for index, (x, y) in enumerate(points):
            text = f"{name} · {labels[index]} · {number(values[index])} {unit}"
            body.append(
                f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}">'
                f"<title>{escape(text)}</title></circle>"
            )
        legend.append((name, color))
    return _svg(title, body, legend)


def hbar_chart(
    *,
    title: str,
    categories: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    unit: str,
    decimals: int = 0,
) -> SafeString:
    """Horizontal bars per category, one bar per series (p50 and p95 per route, say)."""
    names = list(series)
    row_height = 10 * max(len(names), 1) + 10
    height = MARGIN_TOP + row_height * max(len(categories), 1) + 40
    left, right = 190, WIDTH - 60
    top_value = max([v or 0 for values in series.values() for v in values] + [0])
    y_max, ticks = _y_axis(top_value)
    body = []
    bottom = height - 40

    def x_of(value: float) -> float:
        return left + (right - left) * (value / y_max)

    for tick in ticks:
        x = x_of(tick)
        body.append(
            f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{MARGIN_TOP}" y2="{bottom}"/>'
            f'<text class="tick" x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">'
            f"{escape(_tick_label(tick))}</text>"
        )
    body.append(f'<line class="axis" x1="{left}" x2="{left}" y1="{MARGIN_TOP}" y2="{bottom}"/>')
    for row, category in enumerate(categories):
        y0 = MARGIN_TOP + row * row_height + 5
        label = category if len(category) <= 28 else category[:27] + "…"
        body.append(
            f'<text class="tick" x="{left - 6}" y="{y0 + 5 * len(names) + 4:.1f}" text-anchor="end">'
            f"{escape(label)}</text>"
        )
        for k, (name, color) in enumerate(zip(names, itertools.cycle(PALETTE), strict=False)):
            value = series[name][row]
            if value is None:
                continue
            text = f"{category} · {name} · {number(value, decimals)} {unit}"
            body.append(
                f'<rect class="bar" x="{left}" y="{y0 + 10 * k:.1f}" '
                f'width="{max(x_of(value) - left, 1):.1f}" '
                f'height="9" fill="{color}"><title>{escape(text)}</title></rect>'
            )
    legend_y = height - 14
    x = left
    for name, color in zip(names, itertools.cycle(PALETTE), strict=False):
        body.append(
            f'<rect x="{x}" y="{legend_y - 9}" width="10" height="10" fill="{color}"/>'
            f'<text class="legend" x="{x + 14}" y="{legend_y}">{escape(name)}</text>'
        )
        x += 30 + 7 * len(name)
    chart_id = f"chart-{next(_ids)}"
    return mark_safe(  # noqa: S308 - every interpolated text above is escaped
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{chart_id}" '
        f'xmlns="http://www.w3.org/2000/svg"><title id="{chart_id}">{escape(title)}</title>'
        f"{''.join(body)}</svg>"
    )
