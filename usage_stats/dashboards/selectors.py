"""Dashboard reads. Usage figures come from the rollups only (usage_stats/rollups);
raw events are read for the CSV export alone. Tenant and user counts come from the main
database.

Every usage read runs with JIT off: these aggregates finish in milliseconds, and
compiling them would cost 40-130 ms more.
"""

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from django_tenants.utils import get_tenant_model
from psycopg2 import sql as pgsql

from core.db import roles
from usage_stats.rollups import histogram
from usage_stats.rollups.rollup import RollupState, rollup_state

from . import sql
from .periods import Period, month_spans

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
    with transaction.atomic(using=using, savepoint=False), connections[using].cursor() as cursor:
        # As the dashboards' role (DB_STATS_READER_ROLE: SELECT only) when one is set.
        role_sql = roles.set_local_role_sql(roles.stats_reader_role_name())
        cursor.execute(pgsql.SQL(role_sql) + sql.DASH_SESSION_SETUP)
        yield cursor


def _range(period: Period, tenant: str | None = None) -> dict:
    params = {"start": period.start, "end": period.end, "edges": list(period.edges)}
    if tenant is not None:
        params["tenant"] = tenant
    return params


def usage_totals(*, period: Period, tenant: str | None = None) -> Figures:
    statement = sql.DASH_TOTALS_ALL if tenant is None else sql.DASH_TOTALS_TENANT
    with _stats_cursor() as cursor:
        cursor.execute(statement, _range(period, tenant))
        return _figures(*cursor.fetchone())


@dataclass(frozen=True)
class SeriesPoint:
    start: dt.datetime
    requests: int
    events: int
    errors: int


def usage_series(*, period: Period, tenant: str | None = None) -> list[SeriesPoint]:
    """Requests, events and errors per chart bucket (every bucket, zeros included)."""
    statement = sql.DASH_SERIES_ALL if tenant is None else sql.DASH_SERIES_TENANT
    with _stats_cursor() as cursor:
        cursor.execute(statement, _range(period, tenant))
        found = {int(bucket): row for bucket, *row in cursor.fetchall()}
    points = []
    for index, edge in enumerate(period.edges):
        requests, events, errors = found.get(index + 1, (0, 0, 0))
        points.append(SeriesPoint(edge, int(requests), int(events), int(errors)))
    return points


def usage_series_by_tenant(*, period: Period, top: int = 5) -> dict[str, list[int]]:
    """Requests per bucket for the `top` busiest tenants, plus "(other tenants)" if any."""
    with _stats_cursor() as cursor:
        cursor.execute(sql.DASH_SERIES_BY_TENANT, _range(period))
        rows = cursor.fetchall()
    per_tenant: dict[str, list[int]] = {}
    for tenant, bucket, requests in rows:
        values = per_tenant.setdefault(tenant, [0] * len(period.edges))
        values[int(bucket) - 1] += int(requests or 0)
    ranked = sorted(per_tenant, key=lambda name: (-sum(per_tenant[name]), name))
    series = {name: per_tenant[name] for name in ranked[:top]}
    rest = ranked[top:]
    if rest:
        series["(other tenants)"] = [
            sum(per_tenant[name][i] for name in rest) for i in range(len(period.edges))
        ]
    return series


def usage_top_tenants(*, period: Period, limit: int = 20) -> list[tuple[str, Figures]]:
    with _stats_cursor() as cursor:
        cursor.execute(sql.DASH_TOP_TENANTS, {**_range(period), "limit": limit})
        return [(tenant, _figures(*row)) for tenant, *row in cursor.fetchall()]


def usage_events_by_type(*, period: Period, tenant: str | None = None) -> list[tuple[str, Figures]]:
    statement = sql.DASH_EVENTS_ALL if tenant is None else sql.DASH_EVENTS_TENANT
    with _stats_cursor() as cursor:
        cursor.execute(statement, _range(period, tenant))
        return [(event, _figures(0, *row)) for event, *row in cursor.fetchall()]


def usage_latency_by_route(*, period: Period, tenant: str | None = None) -> list[tuple[str, Figures]]:
    """Per route (events that carried a latency): counts and the merged histogram."""
    statement = sql.DASH_ROUTES_ALL if tenant is None else sql.DASH_ROUTES_TENANT
    with _stats_cursor() as cursor:
        cursor.execute(statement, _range(period, tenant))
        return [(route, _figures(0, *row)) for route, *row in cursor.fetchall()]


def _span_params(period: Period) -> dict:
    spans = month_spans(period.start, period.end)
    return {
        "months": [month for month, _, _ in spans],
        "firsts": [first for _, first, _ in spans],
        "lens": [length for _, _, length in spans],
    }


def usage_active_users(*, period: Period, tenant: str | None = None) -> int:
    """Distinct signed-in users with any event in the period (per tenant: users of
    different tenants are different people even with the same id)."""
    statement = sql.DASH_ACTIVE_USERS_ALL if tenant is None else sql.DASH_ACTIVE_USERS_TENANT
    with _stats_cursor() as cursor:
        cursor.execute(statement, {**_span_params(period), "tenant": tenant})
        return int(cursor.fetchone()[0])


def usage_active_users_by_tenant(*, period: Period, tenants: list[str]) -> dict[str, int]:
    if not tenants:
        return {}
    with _stats_cursor() as cursor:
        cursor.execute(sql.DASH_ACTIVE_USERS_BY_TENANT, {**_span_params(period), "tenants": tenants})
        return {tenant: int(count) for tenant, count in cursor.fetchall()}


def usage_active_users_series(*, period: Period, tenant: str) -> list[int]:
    """Distinct users per chart bucket for one tenant."""
    params: dict[str, list] = {"buckets": [], "months": [], "firsts": [], "lens": [], "splits": []}
    for index, edge in enumerate(period.edges):
        spans = month_spans(edge, period.bucket_end(index))
        for month, first, length in spans:
            params["buckets"].append(index + 1)
            params["months"].append(month)
            params["firsts"].append(first)
            params["lens"].append(length)
            params["splits"].append(len(spans) > 1)
    with _stats_cursor() as cursor:
        cursor.execute(sql.DASH_ACTIVE_USERS_SERIES, {**params, "tenant": tenant})
        found = {int(bucket): int(count) for bucket, count in cursor.fetchall()}
    return [found.get(index + 1, 0) for index in range(len(period.edges))]


def usage_rollup_status() -> RollupState:
    return rollup_state()


def usage_events_export(*, tenant: str, period: Period) -> Iterator[tuple]:
    """Raw events of one tenant in the period, oldest first, read through a server-side
    cursor so memory stays flat however many there are."""
    stats = connections[settings.STATS_DB_ALIAS]
    cursor = stats.chunked_cursor()
    try:
        cursor.cursor.itersize = EXPORT_FETCH_ROWS
        cursor.execute(sql.EXPORT_EVENTS, {"tenant": tenant, "start": period.start, "end": period.end})
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


def tenant_exists(*, schema_name: str) -> bool:
    """Whether a tenant (never the public site) has this schema."""
    return get_tenant_model().objects.real().filter(schema_name=schema_name).exists()
