"""Dashboard periods: day, week and month bounds, DST and month spans. Pure: no database."""

import datetime as dt

import pytest

from usage_stats.dashboards.periods import (
    HOURLY_CHART_MAX,
    PeriodError,
    month_spans,
    period_resolve,
    timezone_resolve,
)

H = dt.timedelta(hours=1)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def test_24h_on_the_hour_ends_now_and_off_the_hour_ends_at_the_next_hour():
    assert period_resolve(key="24h", now=utc(2025, 6, 1, 12)).end == utc(2025, 6, 1, 12)
    period = period_resolve(key="24h", now=utc(2025, 6, 1, 12, 0, 1))
    assert (period.start, period.end) == (utc(2025, 5, 31, 13), utc(2025, 6, 1, 13))
    assert period.edges == tuple(period.start + k * H for k in range(24))


@pytest.mark.parametrize(
    ("key", "days", "start"), [("7d", 7, utc(2025, 6, 9, 4)), ("30d", 30, utc(2025, 5, 17, 4))]
)
def test_week_and_month_start_at_local_midnight_and_have_one_bucket_per_day(key, days, start):
    now = utc(2025, 6, 15, 9, 30)
    period = period_resolve(key=key, tz_name="America/New_York", now=now)  # UTC-4 in June
    assert period.bucket == "day"
    assert period.start == start
    assert period.end == utc(2025, 6, 15, 10)
    assert len(period.edges) == days
    assert all(edge.astimezone(period.tz).hour == 0 for edge in period.edges)
    assert period.bucket_end(days - 1) == period.end  # today so far


def test_a_fall_back_day_is_one_25_hour_bucket():
    period = period_resolve(
        key="custom",
        tz_name="Europe/Paris",
        start_date=dt.date(2024, 10, 26),
        end_date=dt.date(2024, 10, 28),
    )
    assert period.bucket == "day"
    assert period.edges == (utc(2024, 10, 25, 22), utc(2024, 10, 26, 22), utc(2024, 10, 27, 23))
    assert period.end == utc(2024, 10, 28, 23)
    assert [period.bucket_end(i) - period.edges[i] for i in range(3)] == [24 * H, 25 * H, 24 * H]


def test_a_spring_forward_weekend_is_47_hours_and_charted_per_hour():
    period = period_resolve(
        key="custom",
        tz_name="Europe/Paris",
        start_date=dt.date(2024, 3, 30),
        end_date=dt.date(2024, 3, 31),
    )
    assert period.end - period.start == 47 * H <= HOURLY_CHART_MAX
    assert period.bucket == "hour"
    assert len(period.edges) == 47
    # Local 02:00 does not exist on 31 March: 01:00 is followed by 03:00.
    local_hours = [edge.astimezone(period.tz).hour for edge in period.edges[24:28]]
    assert local_hours == [0, 1, 3, 4]
    assert period.tick_label(24) == "Mar 31"


def test_custom_label_names_the_first_and_last_local_days():
    period = period_resolve(
        key="custom", tz_name="Asia/Tokyo", start_date=dt.date(2025, 1, 1), end_date=dt.date(2025, 1, 31)
    )
    assert period.label == "2025-01-01 to 2025-01-31"
    assert period.start == utc(2024, 12, 31, 15)
    assert len(period.edges) == 31


def test_the_longest_custom_range_is_accepted_and_one_day_more_refused():
    start = dt.date(2024, 1, 1)
    assert period_resolve(key="custom", start_date=start, end_date=start + dt.timedelta(days=399))
    with pytest.raises(PeriodError, match="at most 400 days"):
        period_resolve(key="custom", start_date=start, end_date=start + dt.timedelta(days=400))


def test_unknown_time_zones_and_ranges_are_refused_with_a_message():
    with pytest.raises(PeriodError, match="Unknown time zone"):
        timezone_resolve("Mars/Olympus")
    with pytest.raises(PeriodError, match="Unknown range"):
        period_resolve(key="1y")
    assert timezone_resolve(None).key == "UTC"


@pytest.mark.parametrize(
    ("start", "end", "spans"),
    [
        (utc(2025, 6, 1, 5), utc(2025, 6, 1, 8), [(dt.date(2025, 6, 1), 20, 12)]),
        (utc(2025, 6, 1, 5, 45), utc(2025, 6, 1, 6), [(dt.date(2025, 6, 1), 23, 1)]),
        (
            utc(2024, 12, 31, 22),
            utc(2025, 1, 1, 2),
            [(dt.date(2024, 12, 1), 742 * 4, 8), (dt.date(2025, 1, 1), 0, 8)],
        ),
        # A leap February has 29 * 96 = 2784 quarter-hours.
        (utc(2024, 2, 1), utc(2024, 3, 1), [(dt.date(2024, 2, 1), 0, 2784)]),
        (utc(2025, 6, 1), utc(2025, 6, 1), []),
    ],
)
def test_month_spans_cut_ranges_at_utc_month_boundaries(start, end, spans):
    assert month_spans(start, end) == spans
