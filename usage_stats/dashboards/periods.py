"""Dashboard ranges: 24 h, 7 d, 30 d or custom dates, in a chosen time zone.

A local day is exact in every zone: it runs from the first instant whose local date is
that day (local midnight, or the end of a DST gap that swallowed it) to the next one, so
DST days last 23 or 25 hours and Asia/Kathmandu's start at 18:15 UTC. Rollups are kept per
UTC hour and per UTC quarter-hour, and every UTC offset in use since 2000 is a multiple of
15 minutes, so each edge is on a quarter-hour and the reads add whole hours plus the
quarter-hours of the few hours an edge splits (dashboards/sql.py). Dates are accepted from
MIN_DATE to MAX_DATE: nothing is recorded outside them, and beyond them some zones' old
offsets (local mean time) are not whole quarter-hours.
"""

import bisect
import datetime as dt
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache

RANGES = {"24h": "Last 24 hours", "7d": "Last 7 days", "30d": "Last 30 days", "custom": "Custom dates"}
DEFAULT_RANGE = "24h"
DEFAULT_TZ = "UTC"
MAX_CUSTOM_DAYS = 400
MIN_DATE = dt.date(2000, 1, 1)
MAX_DATE = dt.date(2099, 12, 31)
# Ranges up to this long are charted per hour, longer ones per day.
HOURLY_CHART_MAX = dt.timedelta(hours=48)
_HOUR = dt.timedelta(hours=1)
QUARTER = dt.timedelta(minutes=15)


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

    def read_params(self) -> dict[str, list[dt.datetime] | list[int] | dt.datetime]:
        """The parameters of the dashboards' signed reads (dashboards/sql.py), for this
        period's plan (`bucket`: per hour, or per day)."""
        edges = list(self.edges)
        params: dict[str, list[dt.datetime] | list[int] | dt.datetime] = {
            "start": self.start,
            "end": self.end,
            "edges": edges,
            "split_hours": self.split_hours,
        }
        fix: dict[str, list[tuple[dt.datetime, int, int]]] = {"sixhour": [], "hour": [], "quarter": []}
        if self.bucket == "hour":
            for quarter in self.split_quarters:
                fix["quarter"].append((quarter, bisect.bisect_right(edges, quarter), 1))
            params.update(day_edges=[], day_lo=self.start, day_hi=self.start)
        else:
            bounds = [*edges, self.end]
            days = _utc_midnights(bounds)
            params.update(day_edges=days[:-1], day_lo=days[0], day_hi=days[-1])
            last = len(edges)  # buckets are numbered 1..last (width_bucket)
            for j, (edge, midnight) in enumerate(zip(bounds, days, strict=True)):
                # Rows between the UTC midnight and the local edge belong to the bucket before
                # the edge (j) if the edge is later, else to the bucket after it (j + 1); the
                # day rows put them in the other one.
                later = 1 if edge > midnight else -1
                for moment, grain, sign in _signed_pieces(min(edge, midnight), max(edge, midnight)):
                    if j >= 1:
                        fix[grain].append((moment, j, sign * later))
                    if j < last:
                        fix[grain].append((moment, j + 1, -sign * later))
        for grain, rows in fix.items():
            key = f"fix_{grain}s"
            params[key] = [moment for moment, _, _ in rows]
            params[f"{key}_b"] = [b for _, b, _ in rows]
            params[f"{key}_s"] = [sign for _, _, sign in rows]
        return params

    @property
    def split_hours(self) -> list[dt.datetime]:
        """The UTC hours a bucket edge (or the end) falls inside: read per quarter-hour."""
        hours = {_floor_hour(edge) for edge in (*self.edges, self.end) if edge != _floor_hour(edge)}
        return sorted(hours)

    @property
    def split_quarters(self) -> list[dt.datetime]:
        """The quarter-hours of the split hours that lie inside the period."""
        return [
            hour + k * QUARTER
            for hour in self.split_hours
            for k in range(4)
            if self.start <= hour + k * QUARTER < self.end
        ]

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


def _utc_midnights(bounds: list[dt.datetime]) -> list[dt.datetime]:
    """A UTC midnight for each bucket bound, strictly increasing: the nearest one (at most
    12 hours away), or the next day when DST moved two bounds onto the same one."""
    days: list[dt.datetime] = []
    for bound in bounds:
        floor = bound.replace(hour=0, minute=0, second=0, microsecond=0)
        midnight = floor if bound - floor <= dt.timedelta(hours=12) else floor + dt.timedelta(days=1)
        if days and midnight <= days[-1]:
            midnight = days[-1] + dt.timedelta(days=1)
        days.append(midnight)
    return days


def _pieces(lo: dt.datetime, hi: dt.datetime) -> list[tuple[dt.datetime, str]]:
    """[lo, hi) as the fewest rollup rows: quarter-hours up to the first whole hour, whole
    hours, then quarter-hours (lo and hi are on quarter-hours)."""
    pieces: list[tuple[dt.datetime, str]] = []
    moment = lo
    while moment < hi:
        if moment.minute == 0 and moment + _HOUR <= hi:
            pieces.append((moment, "hour"))
            moment += _HOUR
        else:
            pieces.append((moment, "quarter"))
            moment += QUARTER
    return pieces


SIX_HOURS = dt.timedelta(hours=6)


def _round_six_hours(moment: dt.datetime) -> dt.datetime:
    """The nearest UTC 00:00, 06:00, 12:00 or 18:00 (the earlier one at a tie)."""
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    blocks = round((moment - day) / SIX_HOURS - 1e-9)
    return day + blocks * SIX_HOURS


def _signed_pieces(lo: dt.datetime, hi: dt.datetime) -> list[tuple[dt.datetime, str, int]]:
    """[lo, hi) as signed rollup rows (moment, grain, +1 or -1) whose sum is exactly its
    figures: the six-hour blocks between the block edges nearest to lo and hi, then the
    quarter-hours and hours between each end and its block edge, added or taken away (an
    Asia/Kathmandu edge at 18:15 is the 18:00 block minus its first quarter-hour). No end
    is more than three hours from a block edge."""
    lo_block, hi_block = _round_six_hours(lo), _round_six_hours(hi)
    pieces: list[tuple[dt.datetime, str, int]] = []
    moment = lo_block
    while moment < hi_block:
        pieces.append((moment, "sixhour", 1))
        moment += SIX_HOURS
    for a, b in ((lo, lo_block), (hi_block, hi)):
        # What lies between an end and its block edge: added when inside [lo, hi), taken
        # away when the blocks went past it.
        if a < b:
            pieces.extend((m, grain, 1) for m, grain in _pieces(a, b))
        elif b < a:
            pieces.extend((m, grain, -1) for m, grain in _pieces(b, a))
    return pieces


def day_start(day: dt.date, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """The first instant (UTC) whose local date in `tz` is `day`, on a quarter-hour.

    Midnight may not exist (a DST gap at midnight: the day starts when the gap ends) or may
    come twice (a fall back at midnight: the day starts at the second one)."""
    candidates = sorted(
        dt.datetime(day.year, day.month, day.day, fold=fold, tzinfo=tz).astimezone(dt.UTC) for fold in (0, 1)
    )
    for moment in candidates:
        if moment.astimezone(tz).date() >= day:
            break
    if moment.minute % 15 or moment.second or moment.microsecond:
        raise PeriodError(f"{tz.key} was not a whole number of quarter-hours from UTC on {day:%Y-%m-%d}.")
    return moment


def _date_check(day: dt.date, what: str) -> None:
    if not MIN_DATE <= day <= MAX_DATE:
        raise PeriodError(
            f"The {what} date {day:%Y-%m-%d} is out of range: choose dates from "
            f"{MIN_DATE:%Y-%m-%d} to {MAX_DATE:%Y-%m-%d}."
        )


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
        _date_check(today, "current")
        start = day_start(today - dt.timedelta(days=days - 1), tz)
        end = _ceil_hour(now)
    else:
        if start_date is None or end_date is None:
            raise PeriodError("A custom range needs both a start and an end date.")
        _date_check(start_date, "start")
        _date_check(end_date, "end")
        if end_date < start_date:
            raise PeriodError("The end date is before the start date.")
        if (end_date - start_date).days + 1 > MAX_CUSTOM_DAYS:
            raise PeriodError(f"A custom range can span at most {MAX_CUSTOM_DAYS} days.")
        start = day_start(start_date, tz)
        end = day_start(end_date + dt.timedelta(days=1), tz)
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
            edge = start if day == first else day_start(day, tz)
            if edge >= end:
                break
            if not days_list or edge > days_list[-1]:
                days_list.append(edge)
            day += dt.timedelta(days=1)
        edges = tuple(days_list)
    return Period(key=key, start=start, end=end, tz=tz, bucket=bucket, edges=edges)


DAY_QUARTERS = 96


def day_masks(first: int, count: int) -> tuple[int, int]:
    """For a span of a month's quarter-hours (index of the first, how many): the mask of
    the UTC days it covers whole and of those it covers in part (bit d: day d + 1), the
    layout of usage_rollup_user_month.days."""
    inner = edge = 0
    last = first + count  # exclusive
    for day in range(first // DAY_QUARTERS, (last - 1) // DAY_QUARTERS + 1 if count else 0):
        lo, hi = day * DAY_QUARTERS, (day + 1) * DAY_QUARTERS
        if first <= lo and hi <= last:
            inner |= 1 << day
        else:
            edge |= 1 << day
    return inner, edge


BLOCK_QUARTERS = 24
BLOCKS_PER_WORD = 62


def block_masks(first: int, count: int) -> tuple[int, int]:
    """The six-hour blocks of a month that a span of its quarter-hours covers whole, as
    the masks of usage_rollup_user_month.blocks_lo (blocks 0-61) and blocks_hi (62-123)."""
    lo = hi = 0
    for block in range(-(-first // BLOCK_QUARTERS), (first + count) // BLOCK_QUARTERS):
        if block < BLOCKS_PER_WORD:
            lo |= 1 << block
        else:
            hi |= 1 << (block - BLOCKS_PER_WORD)
    return lo, hi


def month_spans(start: dt.datetime, end: dt.datetime) -> list[tuple[dt.date, int, int]]:
    """For each UTC month overlapping [start, end) (both on quarter-hours): the month, the
    index of its first quarter-hour inside the range and how many of its quarter-hours are
    inside (the layout of the bits of usage_rollup_user_month.quarters)."""
    spans = []
    month = dt.datetime(start.year, start.month, 1, tzinfo=dt.UTC)
    while month < end:
        following = dt.datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=dt.UTC)
        lo = max(start, month)
        hi = min(end, following)
        if lo < hi:
            first = int((lo - month) / QUARTER)
            spans.append((month.date(), first, int((hi - month) / QUARTER) - first))
        month = following
    return spans
