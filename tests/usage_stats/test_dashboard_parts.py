"""Periods (ranges, time zones, DST) and the SVG charts, without a database."""

import datetime as dt
import re
import uuid

import pytest

from usage_stats.dashboards import charts, labels
from usage_stats.dashboards.periods import PeriodError, block_masks, day_masks, month_spans, period_resolve
from usage_stats.dashboards.selectors import Figures, TenantSeries

NOW = dt.datetime(2024, 3, 31, 10, 20, tzinfo=dt.UTC)  # Europe's spring DST change day


def test_24h_is_hourly_and_ends_after_now():
    period = period_resolve(key="24h", tz_name="UTC", now=NOW)
    assert period.bucket == "hour"
    assert period.end == dt.datetime(2024, 3, 31, 11, tzinfo=dt.UTC)
    assert period.start == period.end - dt.timedelta(hours=24)
    assert len(period.edges) == 24


def test_7d_buckets_are_local_days_across_dst():
    period = period_resolve(key="7d", tz_name="Europe/Paris", now=NOW)
    assert period.bucket == "day"
    assert len(period.edges) == 7
    # Midnight in Paris is 23:00 UTC in winter and 22:00 UTC from 31 March.
    assert period.edges[0] == dt.datetime(2024, 3, 24, 23, tzinfo=dt.UTC)
    assert period.edges[-1] == dt.datetime(2024, 3, 30, 23, tzinfo=dt.UTC)
    assert [period.bucket_label(i) for i in (0, 6)] == ["2024-03-25", "2024-03-31"]


def test_custom_range_covers_whole_local_days():
    period = period_resolve(
        key="custom",
        tz_name="America/New_York",
        start_date=dt.date(2024, 1, 1),
        end_date=dt.date(2024, 1, 31),
    )
    assert period.start == dt.datetime(2024, 1, 1, 5, tzinfo=dt.UTC)
    assert period.end == dt.datetime(2024, 2, 1, 5, tzinfo=dt.UTC)
    assert len(period.edges) == 31
    assert period.label == "2024-01-01 to 2024-01-31"


def test_half_hour_zones_start_days_at_local_midnight_and_read_those_hours_per_quarter():
    period = period_resolve(key="7d", tz_name="Asia/Kolkata", now=NOW)
    assert all((edge.hour, edge.minute) == (18, 30) for edge in period.edges)
    assert all(edge.astimezone(period.tz).time() == dt.time(0) for edge in period.edges)
    assert [hour.minute for hour in period.split_hours] == [0] * 7
    assert len(period.split_quarters) == 7 * 4 - 2  # the first split hour starts before the period
    paris = period_resolve(key="7d", tz_name="Europe/Paris", now=NOW)
    assert paris.split_hours == [] and paris.split_quarters == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"key": "1y"}, "Unknown range"),
        ({"key": "24h", "tz_name": "Not/AZone"}, "Unknown time zone"),
        ({"key": "24h", "tz_name": "../../etc/passwd"}, "Unknown time zone"),
        ({"key": "custom"}, "needs both"),
        ({"key": "custom", "start_date": dt.date(2024, 2, 1), "end_date": dt.date(2024, 1, 1)}, "before"),
        ({"key": "custom", "start_date": dt.date(2020, 1, 1), "end_date": dt.date(2024, 1, 1)}, "at most"),
    ],
)
def test_bad_periods_have_messages(kwargs, message):
    with pytest.raises(PeriodError, match=message):
        period_resolve(now=NOW, **kwargs)


def test_month_spans_locate_the_hours_of_each_month():
    start = dt.datetime(2024, 1, 31, 22, tzinfo=dt.UTC)
    end = dt.datetime(2024, 2, 1, 2, tzinfo=dt.UTC)
    assert month_spans(start, end) == [
        (dt.date(2024, 1, 1), (30 * 24 + 22) * 4, 8),
        (dt.date(2024, 2, 1), 0, 8),
    ]
    assert month_spans(end, end) == []


def _drawings(svg: str) -> dict[str, str]:
    """The wide and the narrow drawing of one chart."""
    parts = re.findall(r'<svg class="chart chart-(\w+)".*?</svg>', svg, re.S)
    found = dict(zip(parts, re.findall(r'<svg class="chart chart-\w+".*?</svg>', svg, re.S), strict=True))
    assert set(found) == {"wide", "narrow"}
    return found


def _ticks(svg: str) -> list[str]:
    return re.findall(r'class="tick"[^>]*>([^<]*)</text>', svg)


def test_bar_chart_has_axes_labels_and_a_hover_title_per_bar():
    svg = charts.bar_chart(
        title="Requests <per> hour",
        labels=["a", "b", "c"],
        values=[5, 0, 12],
        y_label="requests per hour",
        hover=lambda i: f"bucket {i} & more",
        overlay=[1, 0, 2],
        name="requests",
        overlay_name="errors",
    )
    for drawing in _drawings(svg).values():
        assert drawing.count('<rect class="bar"') == 3
        assert drawing.count('<polygon class="error-marker"') == 2  # zero errors draw no marker
        assert "<title>bucket 2 &amp; more</title>" in drawing
        assert "Requests &lt;per&gt; hour" in drawing
        assert ">requests per hour</text>" in drawing  # the axis says what it counts
        assert "15" in _ticks(drawing)  # a round axis maximum at or above 12, whole numbers only
        assert all("." not in tick for tick in _ticks(drawing) if tick[:1].isdigit())


def test_error_markers_sit_above_their_bars_however_few_the_errors():
    svg = charts.bar_chart(
        title="t", labels=["a", "b"], values=[1000, 800], y_label="requests", hover=str, overlay=[1, 0]
    )
    wide = _drawings(svg)["wide"]
    bar_top = float(re.search(r'<rect class="bar"[^>]*? y="([\d.]+)"', wide).group(1))
    marker = re.search(r'<polygon class="error-marker" points="([^"]+)"', wide).group(1)
    tip_y = max(float(point.split(",")[1]) for point in marker.split())
    assert tip_y <= bar_top  # on top of the bar, not on the zero line under it


def test_count_axes_never_have_fractional_ticks():
    svg = charts.line_chart(
        title="t", labels=["x", "y"], series={"people": [1, 3]}, y_label="n", unit="people"
    )
    for drawing in _drawings(svg).values():
        assert [t for t in _ticks(drawing) if t[:1].isdigit()] == ["0", "1", "2", "3"]


def test_line_chart_escapes_series_names():
    svg = charts.line_chart(
        title="t", labels=["x", "y"], series={"<b>acme</b>": [1, 2]}, y_label="n", unit="requests"
    )
    assert "<b>" not in svg
    assert svg.count("<polyline") == 2  # wide and narrow
    assert "&lt;b&gt;acme&lt;/b&gt; · y · 2 requests" in svg


def test_hbar_chart_skips_missing_values_and_names_its_unit_and_technical_names():
    svg = charts.hbar_chart(
        title="t",
        categories=["Task list (GET)", "b"],
        technical=["task_list GET", "b"],
        series={"p50": [1.5, None]},
        unit="ms",
        decimals=1,
        axis_label="latency (ms)",
    )
    for drawing in _drawings(svg).values():
        assert drawing.count('<rect class="bar"') == 1
        assert "Task list (GET) (task_list GET) · p50 · 1.5 ms" in drawing
        assert "<title>Task list (GET) (task_list GET)</title>" in drawing  # hover on the name
        assert ">latency (ms)</text>" in drawing


def test_route_and_event_names_are_for_people():
    assert labels.route_label("task_list GET") == "Task list (GET)"
    assert labels.route_label("tasks.create POST") == "API: create a task (POST)"
    assert labels.route_label("accounts:some_new_page GET") == "Some new page (GET)"
    assert labels.route_label("") == "(no route)"
    assert labels.event_label("api.call") == "API calls"


def test_the_busiest_tenants_chart_puts_every_other_request_under_other_tenants():
    a, b, c = (uuid.UUID(int=n) for n in (1, 2, 3))
    totals = {a: Figures(requests=5), b: Figures(requests=3), c: Figures(requests=2)}
    chart = TenantSeries(totals=totals, requests={a: [3, 2], b: [1, 2]}).requests_chart(
        all_requests=[5, 5], label=str
    )
    assert chart == {str(a): [3, 2], str(b): [1, 2], "(other tenants)": [1, 1]}
    alone = TenantSeries(totals={a: totals[a], b: totals[b]}, requests={a: [3, 2], b: [1, 2]})
    assert "(other tenants)" not in alone.requests_chart(all_requests=[4, 4], label=str)


def test_day_and_block_masks_name_what_a_span_covers_whole_and_in_part():
    assert day_masks(0, 96) == (0b1, 0)
    assert day_masks(73, 96) == (0, 0b11)  # 18:15 to 18:15: two days in part
    assert day_masks(96, 2784) == ((1 << 30) - 2, 0)
    assert block_masks(73, 96) == (0b1110000, 0)  # blocks 4-6 whole, 3 and 7 in part
    assert block_masks(62 * 24, 24) == (0, 1)
