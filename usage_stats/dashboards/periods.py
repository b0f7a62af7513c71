"""Dashboard ranges: 24 h, 7 d, 30 d or custom dates, in a chosen time zone.

Rollups are hourly in UTC, so a period is a span of whole UTC hours and its chart buckets
start on UTC hours: local hours for short ranges, local days (from local midnight) for
longer ones. In zones whose offset is not a whole number of hours (Asia/Kolkata), a local
day starts at the UTC hour just before local midnight; the page says so.
"""

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache

RANGES = {"24h": "Last 24 hours", "7d": "Last 7 days", "30d": "Last 30 days", "custom": "Custom dates"}
DEFAULT_RANGE = "24h"
DEFAULT_TZ = "UTC"
MAX_CUSTOM_DAYS = 400
# Ranges up to this long are charted per hour, longer ones per day.
HOURLY_CHART_MAX = dt.timedelta(hours=48)
_HOUR = dt.timedelta(hours=1)


class PeriodError(ValueError):
    """Bad range input; the message is for people."""


@dataclass(frozen=True)
class Period:
    key: str
    start: dt.datetime  # UTC, on the hour, inclusive
    end: dt.datetime  # UTC, on the hour, exclusive
    tz: zoneinfo.ZoneInfo
    bucket: str  # "hour" or "day"
    edges: tuple[dt.datetime, ...]  # UTC start of each chart bucket; edges[0] == start

    @property
    def label(self) -> str:
        if self.key != "custom":
            return RANGES[self.key]
        first = self.start.astimezone(self.tz).date()
        last = (self.end - _HOUR).astimezone(self.tz).date()
        return f"{first:%Y-%m-%d} to {last:%Y-%m-%d}"

    @property
    def tz_name(self) -> str:
        return self.tz.key

    @property
    def whole_hour_offsets(self) -> bool:
        """False when a local day boundary falls inside a UTC hour (e.g. UTC+05:30)."""
        offsets = {self.tz.utcoffset(edge) for edge in (self.start, self.end)}
        return all(offset is not None and offset.total_seconds() % 3600 == 0 for offset in offsets)

    def bucket_label(self, index: int) -> str:
        local = self.edges[index].astimezone(self.tz)
        return f"{local:%Y-%m-%d %H:%M}" if self.bucket == "hour" else f"{local:%Y-%m-%d}"

    def tick_label(self, index: int) -> str:
        """A short axis label: the local time of day for hours (with the date at midnight)."""
        local = self.edges[index].astimezone(self.tz)
        if self.bucket == "day":
            return f"{local:%b %d}"
        return f"{local:%b %d}" if local.hour == 0 or index == 0 else f"{local:%H:%M}"

    def bucket_end(self, index: int) -> dt.datetime:
        return self.edges[index + 1] if index + 1 < len(self.edges) else self.end


@lru_cache(maxsize=1)
def timezone_names() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def timezone_resolve(name: str | None) -> zoneinfo.ZoneInfo:
    name = (name or DEFAULT_TZ).strip()
    if name not in timezone_names() and name != "UTC":
        raise PeriodError(f"Unknown time zone {name[:64]!r}: use a name such as Europe/Paris or UTC.")
    return zoneinfo.ZoneInfo(name)


def _floor_hour(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def _ceil_hour(moment: dt.datetime) -> dt.datetime:
    floor = _floor_hour(moment)
    return floor if floor == moment else floor + _HOUR


def _local_midnight(day: dt.date, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    return _floor_hour(dt.datetime(day.year, day.month, day.day, tzinfo=tz))


def period_resolve(
    *,
    key: str | None,
    tz_name: str | None = None,
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Period:
    """The period a dashboard shows; raises PeriodError with a message for people."""
    key = key or DEFAULT_RANGE
    if key not in RANGES:
        raise PeriodError(f"Unknown range {key[:32]!r}: choose one of {', '.join(RANGES)}.")
    tz = timezone_resolve(tz_name)
    now = now or dt.datetime.now(dt.UTC)
    today = now.astimezone(tz).date()
    if key == "24h":
        end = _ceil_hour(now)
        start = end - dt.timedelta(hours=24)
    elif key in ("7d", "30d"):
        days = 7 if key == "7d" else 30
        start = _local_midnight(today - dt.timedelta(days=days - 1), tz)
        end = _ceil_hour(now)
    else:
        if start_date is None or end_date is None:
            raise PeriodError("A custom range needs both a start and an end date.")
        if end_date < start_date:
            raise PeriodError("The end date is before the start date.")
        if (end_date - start_date).days + 1 > MAX_CUSTOM_DAYS:
            raise PeriodError(f"A custom range can span at most {MAX_CUSTOM_DAYS} days.")
        start = _local_midnight(start_date, tz)
        end = _local_midnight(end_date + dt.timedelta(days=1), tz)
    if end - start <= HOURLY_CHART_MAX:
        bucket = "hour"
        count = int((end - start) / _HOUR)
        edges = tuple(start + k * _HOUR for k in range(count))
    else:
        bucket = "day"
        first = start.astimezone(tz).date()
        days_list: list[dt.datetime] = []
        day = first
        while True:
            edge = start if day == first else _local_midnight(day, tz)
            if edge >= end:
                break
            if not days_list or edge > days_list[-1]:
                days_list.append(edge)
            day += dt.timedelta(days=1)
        edges = tuple(days_list)
    return Period(key=key, start=start, end=end, tz=tz, bucket=bucket, edges=edges)


def month_spans(start: dt.datetime, end: dt.datetime) -> list[tuple[dt.date, int, int]]:
    """For each UTC month overlapping [start, end): the month, the index of its first hour
    inside the range and how many of its hours are inside (the layout of the bits of
    usage_rollup_user_month.hours)."""
    spans = []
    month = dt.datetime(start.year, start.month, 1, tzinfo=dt.UTC)
    while month < end:
        following = dt.datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=dt.UTC)
        lo = max(start, month)
        hi = min(end, following)
        if lo < hi:
            first = int((lo - month) / _HOUR)
            spans.append((month.date(), first, int((hi - month) / _HOUR) - first))
        month = following
    return spans
