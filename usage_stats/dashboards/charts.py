"""Server-side charts as inline SVG: no JavaScript, no CDN, readable offline and in
screenshots. Every data point carries a <title>, which browsers show on hover.

Each function returns markup that is safe to insert: all text is escaped here.
"""

import html
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from django.utils.safestring import SafeString, mark_safe

NO_VALUE = "\u2014"  # shown for a figure that does not exist (no events)
PALETTE = ("#3355dd", "#e07b00", "#1e8449", "#c0392b", "#8e44ad", "#16a085", "#7f8c8d")
ERROR_COLOR = "#c0392b"
_ids = itertools.count(1)


@dataclass(frozen=True)
class Layout:
    """One rendering of a chart. Each chart is drawn twice, wide and narrow, and CSS shows
    the one that fits (dashboard.css): an SVG scales its text with its width, so one drawing
    cannot be readable both at 1280 px and on a 390 px phone."""

    name: str
    width: int
    height: int
    left: int  # room for the y tick labels
    right: int
    top: int  # room for the error markers above the tallest bar
    bottom: int  # room for the x tick labels and the legend
    x_labels: int  # at most this many x tick labels
    hbar_left: int  # room for the category names of horizontal bars
    category_chars: int  # category names longer than this are cut (the full name is on hover)
    legend_char_px: int


WIDE = Layout("wide", 760, 280, 64, 16, 24, 56, 7, 210, 32, 7)
NARROW = Layout("narrow", 400, 300, 52, 10, 24, 64, 4, 150, 19, 8)
LAYOUTS = (WIDE, NARROW)


def escape(text: object) -> str:
    """django.utils.html.escape without its lazy-string wrapper: a page escapes a few
    thousand hover texts, and the wrapper cost more than the escaping."""
    return html.escape(str(text))


def number(value: float | None, decimals: int = 0) -> str:
    """1234567 -> '1,234,567'; None -> '\u2014'."""
    if value is None:
        return NO_VALUE
    return f"{value:,.{decimals}f}"


def _nice_step(span: float, ticks: int = 5, *, integer: bool = False) -> float:
    raw = span / max(ticks, 1)
    if integer and raw <= 1:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for factor in (1, 2, 5, 10) if integer else (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _y_axis(top_value: float, *, integer: bool = False) -> tuple[float, list[float]]:
    """The axis maximum and its tick values, from 0; whole numbers only for counts."""
    if top_value <= 0:
        return 1.0, [0.0, 1.0]
    step = _nice_step(top_value, integer=integer)
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

    def __init__(
        self, layout: Layout, labels: Sequence[str], top_value: float, y_label: str, *, integer: bool
    ) -> None:
        self.layout = layout
        self.labels = list(labels)
        self.n = max(len(self.labels), 1)
        self.left, self.right = layout.left, layout.width - layout.right
        self.top, self.bottom = layout.top, layout.height - layout.bottom
        self.y_max, self.ticks = _y_axis(top_value, integer=integer)
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
        every = max(1, math.ceil(len(self.labels) / self.layout.x_labels))
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
            f'<text class="axis-label" x="12" y="{mid:.1f}" text-anchor="middle" '
            f'transform="rotate(-90 12 {mid:.1f})">{escape(self.y_label)}</text>'
        )
        return parts


def _legend(layout: Layout, items: list[tuple[str, str]], y: float, x: float) -> list[str]:
    parts = []
    for name, color in items:
        marker = (
            f'<polygon points="{x},{y - 10} {x + 10},{y - 10} {x + 5},{y}" fill="{color}"/>'
            if color == ERROR_COLOR
            else f'<rect x="{x}" y="{y - 10}" width="10" height="10" fill="{color}"/>'
        )
        parts.append(f'{marker}<text class="legend" x="{x + 14}" y="{y}">{escape(name)}</text>')
        x += 24 + layout.legend_char_px * min(len(name), 28)
    return parts


def _svg(layout: Layout, title: str, body: list[str], height: int | None = None) -> str:
    chart_id = f"chart-{next(_ids)}"
    return (
        f'<svg class="chart chart-{layout.name}" viewBox="0 0 {layout.width} {height or layout.height}" '
        f'role="img" aria-labelledby="{chart_id}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}">{escape(title)}</title>{"".join(body)}</svg>'
    )


def _both(draw: Callable[[Layout], str]) -> SafeString:
    return mark_safe("".join(draw(layout) for layout in LAYOUTS))  # noqa: S308 - texts escaped in draw


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
    """Vertical bars of counts, one per label (whole-number ticks). The optional second
    series (errors among the requests, say) is marked by a red triangle above each bar
    that has any, so a handful of errors under thousands of requests is still seen; the
    count is in the hover text. hover(i) is the text shown for bucket i."""

    def draw(layout: Layout) -> str:
        frame = _Frame(layout, ticks or labels, max([*values, 0]), y_label, integer=True)
        body = frame.axes()
        width = max(frame.slot * 0.8, 1.0)
        for index, value in enumerate(values):
            y = frame.y(value)
            body.append(
                f'<rect class="bar" x="{frame.x_center(index) - width / 2:.1f}" y="{y:.1f}" '
                f'width="{width:.1f}" height="{frame.bottom - y:.1f}" fill="{PALETTE[0]}">'
                f"<title>{escape(hover(index))}</title></rect>"
            )
        legend = [(name, PALETTE[0])] if name else []
        if overlay is not None:
            for index, value in enumerate(overlay):
                if value:
                    x, y = frame.x_center(index), frame.y(values[index] if index < len(values) else 0) - 3
                    half = max(min(width / 2, 5.0), 3.0)
                    body.append(
                        f'<polygon class="error-marker" points="{x - half:.1f},{y - 8:.1f} '
                        f'{x + half:.1f},{y - 8:.1f} {x:.1f},{y:.1f}" fill="{ERROR_COLOR}">'
                        f"<title>{escape(hover(index))}</title></polygon>"
                    )
            legend.append((overlay_name, ERROR_COLOR))
        body += _legend(layout, legend, layout.height - 8, layout.left)
        return _svg(layout, title, body)

    return _both(draw)


def line_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    y_label: str,
    unit: str,
    ticks: Sequence[str] | None = None,
    integer: bool = True,
) -> SafeString:
    """One line per series with a dot per point; hover shows series, bucket and value.
    `ticks` are shorter axis labels (default: the labels); counts get whole-number ticks."""

    def draw(layout: Layout) -> str:
        top_value = max([v for values in series.values() for v in values] + [0])
        frame = _Frame(layout, ticks or labels, top_value, y_label, integer=integer)
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
        body += _legend(layout, legend, layout.height - 8, layout.left)
        return _svg(layout, title, body)

    return _both(draw)


def hbar_chart(
    *,
    title: str,
    categories: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    unit: str,
    decimals: int = 0,
    technical: Sequence[str] | None = None,
    axis_label: str = "",
) -> SafeString:
    """Horizontal bars per category, one bar per series (p50 and p95 per route, say).
    `technical` names (one per category) are added to each hover text; `axis_label`
    names the value axis (with its unit)."""
    names = list(series)

    def draw(layout: Layout) -> str:
        row_height = 12 * max(len(names), 1) + 10
        height = layout.top + row_height * max(len(categories), 1) + 60
        left, right = layout.hbar_left, layout.width - layout.right - 20
        top_value = max([v or 0 for values in series.values() for v in values] + [0])
        y_max, ticks = _y_axis(top_value, integer=decimals == 0)
        body = []
        bottom = height - 60

        def x_of(value: float) -> float:
            return left + (right - left) * (value / y_max)

        for tick in ticks:
            x = x_of(tick)
            body.append(
                f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{layout.top}" y2="{bottom}"/>'
                f'<text class="tick" x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">'
                f"{escape(_tick_label(tick))}</text>"
            )
        body.append(f'<line class="axis" x1="{left}" x2="{left}" y1="{layout.top}" y2="{bottom}"/>')
        if axis_label:
            body.append(
                f'<text class="axis-label" x="{(left + right) / 2:.1f}" y="{bottom + 34}" '
                f'text-anchor="middle">{escape(axis_label)}</text>'
            )
        for row, category in enumerate(categories):
            y0 = layout.top + row * row_height + 5
            cut = layout.category_chars
            label = category if len(category) <= cut else category[: cut - 1] + "…"
            full = category if technical is None else f"{category} ({technical[row]})"
            body.append(
                f'<text class="tick category" x="{left - 6}" y="{y0 + 6 * len(names) + 4:.1f}" '
                f'text-anchor="end"><title>{escape(full)}</title>{escape(label)}</text>'
            )
            for k, (name, color) in enumerate(zip(names, itertools.cycle(PALETTE), strict=False)):
                value = series[name][row]
                if value is None:
                    continue
                text = f"{full} · {name} · {number(value, decimals)} {unit}"
                body.append(
                    f'<rect class="bar" x="{left}" y="{y0 + 12 * k:.1f}" '
                    f'width="{max(x_of(value) - left, 1):.1f}" '
                    f'height="11" fill="{color}"><title>{escape(text)}</title></rect>'
                )
        body += _legend(
            layout, list(zip(names, itertools.cycle(PALETTE), strict=False)), height - 8, layout.left
        )
        return _svg(layout, title, body, height)

    return _both(draw)
