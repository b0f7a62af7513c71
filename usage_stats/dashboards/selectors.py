"""Dashboard reads. Usage figures come from the rollups only (usage_stats/rollups);
raw events are read for the CSV export alone. Tenant and user counts come from the main
database.

Every usage read runs with JIT off: these aggregates finish in milliseconds, and
compiling them would cost 40-130 ms more.
"""

import contextlib
import dataclasses
import datetime as dt
import functools
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django_tenants.utils import get_tenant_model
from psycopg2 import sql as pgsql

from core.db import roles
from usage_stats.rollups import histogram
from usage_stats.rollups.rollup import RollupState, rollup_state

from . import sql
from .periods import Period, block_masks, day_masks, month_spans

EXPORT_FETCH_ROWS = 2000


@dataclass(frozen=True)
class Figures:
    """Counters summed over some rollup rows."""

    requests: int = 0
    events: int = 0
    errors: int = 0
    tokens: int = 0
    latency_count: int = 0
    latency_ms_sum: float = 0.0
    hist: tuple[int, ...] | None = None

    @property
    def error_rate(self) -> float | None:
        """Errors per event (0..1), None without events."""
        return self.errors / self.events if self.events else None

    @property
    def latency_avg_ms(self) -> float | None:
        return self.latency_ms_sum / self.latency_count if self.latency_count else None

    def latency_percentile_ms(self, q: float) -> float | None:
        return histogram.percentile(self.hist, q)


def _figures(
    requests: Any,
    events: Any,
    errors: Any,
    tokens: Any,
    latency_count: Any,
    latency_ms_sum: Any,
    hist: Any = None,
) -> Figures:
    """Figures from one result row (sums are NULL over no rows)."""
    return Figures(
        requests=int(requests or 0),
        events=int(events or 0),
        errors=int(errors or 0),
        tokens=int(tokens or 0),
        latency_count=int(latency_count or 0),
        latency_ms_sum=float(latency_ms_sum or 0.0),
        hist=tuple(hist) if hist else None,
    )


@contextlib.contextmanager
def _stats_cursor() -> Iterator[Any]:
    """A cursor on the stats database inside a transaction with JIT off."""
    using = settings.STATS_DB_ALIAS
    # Inside a caller's transaction (a test, a job) the role would outlive this block.
    outer = connections[using].in_atomic_block
    with transaction.atomic(using=using, savepoint=False), connections[using].cursor() as cursor:
        # As the dashboards' role (DB_STATS_READER_ROLE: SELECT only) when one is set.
        role_sql = roles.set_local_role_sql(roles.stats_reader_role_name())
        cursor.execute(pgsql.SQL(role_sql) + sql.DASH_SESSION_SETUP)
        try:
            yield cursor
        finally:
            if outer and role_sql:
                with contextlib.suppress(DatabaseError):
                    cursor.execute("SET LOCAL ROLE NONE")


def _array_literal(values: list) -> str:
    """A PostgreSQL array literal ('{...}') of ints or aware datetimes (ISO 8601 needs no
    quoting inside one). The reads cast it (`::timestamptz[]`, `::int[]`), so the driver
    quotes one string instead of adapting each of a local-day plan's few hundred values
    (about 1.3 ms a read)."""
    return "{" + ",".join(v.isoformat() if isinstance(v, dt.datetime) else str(int(v)) for v in values) + "}"


@functools.lru_cache(maxsize=64)
def _read_literals(period: Period) -> dict[str, Any]:
    """A period's read parameters (the same for each of a page's reads), arrays as literals."""
    return {
        key: _array_literal(value) if isinstance(value, list) else value
        for key, value in period.read_params().items()
    }


def _range(period: Period, tenant_id: uuid.UUID | None = None) -> dict:
    params = dict(_read_literals(period))
    if tenant_id is not None:
        params["tenant_id"] = tenant_id
    return params


def _hist_add(a: tuple[int, ...] | None, b: tuple[int, ...] | None) -> tuple[int, ...] | None:
    if a is None:
        return b
    if b is None:
        return a
    return tuple(x + y for x, y in zip(a, b, strict=True))


def figures_sum(items: Iterable[Figures]) -> Figures:
    """The figures of several buckets (or routes) together, histograms merged."""
    total = Figures()
    for f in items:
        total = Figures(
            requests=total.requests + f.requests,
            events=total.events + f.events,
            errors=total.errors + f.errors,
            tokens=total.tokens + f.tokens,
            latency_count=total.latency_count + f.latency_count,
            latency_ms_sum=total.latency_ms_sum + f.latency_ms_sum,
            hist=_hist_add(total.hist, f.hist),
        )
    return total


@dataclass(frozen=True)
class SeriesPoint:
    start: dt.datetime
    figures: Figures

    @property
    def requests(self) -> int:
        return self.figures.requests

    @property
    def events(self) -> int:
        return self.figures.events

    @property
    def errors(self) -> int:
        return self.figures.errors


def usage_series(*, period: Period, tenant_id: uuid.UUID | None = None) -> list[SeriesPoint]:
    """Figures per chart bucket (every bucket, zeros included); their sum is the period's.
    No latency histograms: usage_event_routes reads them."""
    statement = (sql.DASH_SERIES_ALL if tenant_id is None else sql.DASH_SERIES_TENANT)[period.bucket]
    with _stats_cursor() as cursor:
        cursor.execute(statement, _range(period, tenant_id))
        found = {int(bucket): _figures(*row) for bucket, *row in cursor.fetchall()}
    return [SeriesPoint(edge, found.get(index + 1, Figures())) for index, edge in enumerate(period.edges)]


@dataclass(frozen=True)
class TenantSeries:
    """Every tenant's figures over the period, and requests per chart bucket of the
    busiest few (staff): the top tenants table and the busiest tenants' chart."""

    totals: dict[uuid.UUID, Figures]
    requests: dict[uuid.UUID, list[int]]  # the busiest tenants by requests, most first

    def top(self, limit: int) -> list[tuple[uuid.UUID, Figures]]:
        """The `limit` tenants with the most events, most first (ties by id)."""
        ranked = sorted(self.totals, key=lambda t: (-self.totals[t].events, str(t)))
        return [(t, self.totals[t]) for t in ranked[:limit]]

    def requests_chart(
        self, *, all_requests: list[int], label: Callable[[uuid.UUID], str]
    ) -> dict[str, list[int]]:
        """Requests per bucket of the busiest tenants, plus "(other tenants)": every
        tenant's requests (`all_requests`, the all-tenants series) less theirs."""
        series = {label(t): values for t, values in self.requests.items() if sum(values)}
        shown = set(self.requests)
        if any(figures.requests for t, figures in self.totals.items() if t not in shown):
            series["(other tenants)"] = [
                total - sum(values[i] for values in self.requests.values())
                for i, total in enumerate(all_requests)
            ]
        return series


def _busiest(totals: dict[uuid.UUID, Figures], count: int) -> list[uuid.UUID]:
    ranked = sorted(totals, key=lambda t: (-totals[t].requests, str(t)))
    return [t for t in ranked[:count] if totals[t].requests]


@functools.lru_cache(maxsize=64)
def _whole(period: Period) -> Period:
    """The period as one chart bucket (for reads that group by anything but the bucket)."""
    return dataclasses.replace(period, edges=period.edges[:1])


def usage_series_by_tenant(*, period: Period, chart_tenants: int) -> TenantSeries:
    """Every tenant's figures over the period, and the requests per bucket of the
    `chart_tenants` with most requests (ties by id)."""
    whole = _whole(period)
    with _stats_cursor() as cursor:
        cursor.execute(sql.DASH_TENANT_TOTALS[whole.bucket], _range(whole))
        # as text: psycopg2 has no C parser for uuid
        totals = {uuid.UUID(text): _figures(*values) for text, *values in cursor.fetchall()}
        busiest = _busiest(totals, chart_tenants)
        requests = {t: [0] * len(period.edges) for t in busiest}
        if busiest:
            cursor.execute(sql.DASH_TENANTS_REQUESTS[period.bucket], {**_range(period), "tenants": busiest})
            for text, bucket, count in cursor.fetchall():
                requests[uuid.UUID(text)][int(bucket) - 1] = int(count or 0)
    return TenantSeries(totals=totals, requests=requests)


@dataclass(frozen=True)
class EventRoute:
    event: str
    route: str
    figures: Figures


def usage_event_routes(*, period: Period, tenant_id: uuid.UUID | None = None) -> list[EventRoute]:
    """Figures per (event, route): the events-by-type and latency-per-route tables. Read
    with a one-bucket plan: the local days' edges inside the period would cancel out, so
    only the period's two ends add rows besides the days (half the read at UTC+05:45)."""
    whole = _whole(period)
    statement = (sql.DASH_EVENT_ROUTES_ALL if tenant_id is None else sql.DASH_EVENT_ROUTES_TENANT)[
        whole.bucket
    ]
    with _stats_cursor() as cursor:
        cursor.execute(statement, _range(whole, tenant_id))
        return [EventRoute(event, route, _figures(0, *row)) for event, route, *row in cursor.fetchall()]


def _span_params(period: Period) -> dict:
    spans = month_spans(period.start, period.end)
    masks = [day_masks(first, length) for _, first, length in spans]
    firsts = [first for _, first, _ in spans]
    return {
        "months": [month for month, _, _ in spans],
        "firsts": firsts,
        "lens": [length for _, _, length in spans],
        "inner": [inner for inner, _ in masks],
        "edge": [edge for _, edge in masks],
        "prev_firsts": [NO_PREVIOUS_SPAN, *firsts[:-1]],
    }


# prev_firsts of a range's first month: every prev_last_q (-1..2975) is below it.
NO_PREVIOUS_SPAN = 32767


def usage_active_users(*, period: Period, tenant_id: uuid.UUID) -> int:
    """Distinct signed-in users of one tenant with any event in the period."""
    params = _span_params(period)
    long = len(params["months"]) > 2
    with _stats_cursor() as cursor:
        cursor.execute(
            sql.DASH_ACTIVE_USERS_TENANT_LONG if long else sql.DASH_ACTIVE_USERS_TENANT,
            {**params, "tenant_id": tenant_id},
        )
        return int(cursor.fetchone()[0])


def active_users_parts(*, period: Period) -> int:
    """How many parts usage_active_users_by_tenant can read the period in: one per month
    of a range over at most two months (each user is counted in the first month it is
    active in), else one."""
    months = len(month_spans(period.start, period.end))
    return months if months <= 2 else 1


def usage_active_users_by_tenant(*, period: Period, part: int | None = None) -> dict[uuid.UUID, int]:
    """Distinct signed-in users per tenant (users of different tenants are different
    people even with the same id, so the all-tenants figure is the sum). With `part`
    (below active_users_parts), only the users counted in that month of the range: the
    parts, read side by side, add up to the whole."""
    params = _span_params(period)
    long = len(params["months"]) > 2
    if part is not None and not long:
        params = {key: values[part : part + 1] for key, values in params.items()}
    with _stats_cursor() as cursor:
        cursor.execute(sql.DASH_SESSION_HASH_GROUPS)
        cursor.execute(
            sql.DASH_ACTIVE_USERS_BY_TENANT_LONG if long else sql.DASH_ACTIVE_USERS_BY_TENANT, params
        )
        return {tenant_id: int(count) for tenant_id, count in cursor.fetchall()}


# The per-bucket users statement of recent periods, as text: composing its few hundred
# parts cost a few ms a page, and every tenant's page of a period shares it.
_USERS_SERIES_SQL: dict[Period, tuple[str, list[dt.date]]] = {}
_USERS_SERIES_SQL_MAX = 64


def _users_series_sql(period: Period, cursor: Any) -> tuple[str, list[dt.date]]:
    found = _USERS_SERIES_SQL.get(period)
    if found is None:
        buckets: list[list[sql.BucketSpan]] = []
        months: set[dt.date] = set()
        for index, edge in enumerate(period.edges):
            spans = month_spans(edge, period.bucket_end(index))
            buckets.append(
                [
                    (month, first, length, *day_masks(first, length), *block_masks(first, length))
                    for month, first, length in spans
                ]
            )
            months.update(month for month, _, _ in spans)
        found = (sql.dash_active_users_series(buckets).as_string(cursor.cursor), sorted(months))
        if len(_USERS_SERIES_SQL) >= _USERS_SERIES_SQL_MAX:
            _USERS_SERIES_SQL.clear()
        _USERS_SERIES_SQL[period] = found
    return found


def usage_active_users_series(*, period: Period, tenant_id: uuid.UUID) -> list[int]:
    """Distinct users per chart bucket for one tenant."""
    with _stats_cursor() as cursor:
        statement, months = _users_series_sql(period, cursor)
        cursor.execute(statement, {"tenant_id": tenant_id, "months": months})
        counts = cursor.fetchone()[0] or []
    return [int(count) for count in counts]


def usage_demo_events() -> int:
    """How many demo events (made up by `stats_generate`) the figures may include."""
    with _stats_cursor() as cursor:
        cursor.execute(sql.DASH_DEMO_EVENTS)
        return int(cursor.fetchone()[0])


def usage_rollup_status() -> RollupState:
    return rollup_state()


def usage_events_export(*, tenant_id: uuid.UUID, period: Period) -> Iterator[tuple]:
    """Raw events of one tenant in the period, oldest first, read through a server-side
    cursor so memory stays flat however many there are."""
    stats = connections[settings.STATS_DB_ALIAS]
    cursor = stats.chunked_cursor()
    try:
        cursor.cursor.itersize = EXPORT_FETCH_ROWS
        cursor.execute(sql.EXPORT_EVENTS, {"tenant_id": tenant_id, "start": period.start, "end": period.end})
        yield from cursor
    finally:
        cursor.close()


# --- Main database: tenants and people ------------------------------------------------


def tenants_created(*, period: Period) -> list:
    """Tenants created in the period, newest first."""
    return list(
        get_tenant_model()
        .objects.real()
        .filter(created_at__gte=period.start, created_at__lt=period.end)
        .order_by("-created_at")
    )


def tenant_by_slug(*, slug: str) -> Any:
    """The tenant (never the public site) with this slug, or None."""
    return get_tenant_model().objects.real().filter(slug=slug).first()


@dataclass(frozen=True)
class TenantLabel:
    """How a dashboard names a tenant id: its slug and name now, or its id if it is gone."""

    tenant_id: uuid.UUID
    slug: str | None
    name: str

    @property
    def text(self) -> str:
        return self.slug or f"(deleted {str(self.tenant_id)[:8]})"


def tenant_labels(*, tenant_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, TenantLabel]:
    """Labels for tenant ids, in one query of the main database."""
    ids = list(tenant_ids)
    found = {
        row["uuid"]: TenantLabel(row["uuid"], row["slug"], row["name"])
        for row in get_tenant_model().objects.filter(uuid__in=ids).values("uuid", "slug", "name")
    }
    return {t: found.get(t) or TenantLabel(t, None, "") for t in ids}
