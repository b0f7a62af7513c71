"""Periods (ranges, time zones, DST) and the SVG charts, without a database."""

import datetime as dt
import re

import pytest

from usage_stats.dashboards import charts
from usage_stats.dashboards.periods import PeriodError, month_spans, period_resolve

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


def test_bar_chart_has_axes_labels_and_a_hover_title_per_bar():
    svg = charts.bar_chart(
        title="Requests <per> hour",
        labels=["a", "b", "c"],
        values=[5, 0, 12],
        y_label="requests",
        hover=lambda i: f"bucket {i} & more",
        overlay=[1, 0, 2],
        name="requests",
        overlay_name="errors",
    )
    assert svg.count('<rect class="bar"') == 3
    assert svg.count('<circle class="point"') == 2  # zero errors draw no dot
    assert "<title>bucket 2 &amp; more</title>" in svg
    assert "Requests &lt;per&gt; hour" in svg
    assert re.search(r'class="tick"[^>]*>12.5</text>', svg)  # a round axis maximum at or above 12


def test_line_chart_escapes_series_names():
    svg = charts.line_chart(
        title="t", labels=["x", "y"], series={"<b>acme</b>": [1, 2]}, y_label="n", unit="requests"
    )
    assert "<b>" not in svg
    assert svg.count("<polyline") == 1
    assert "&lt;b&gt;acme&lt;/b&gt; · y · 2 requests" in svg


def test_hbar_chart_skips_missing_values():
    svg = charts.hbar_chart(
        title="t", categories=["a", "b"], series={"p50": [1.5, None]}, unit="ms", decimals=1
    )
    assert svg.count('<rect class="bar"') == 1
    assert "a · p50 · 1.5 ms" in svg
