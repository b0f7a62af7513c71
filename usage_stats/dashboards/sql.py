"""The dashboards' reads: rollups only (rollups/sql.py names the tables), plus the raw
events of one tenant for the CSV export. Named statements composed with psycopg2.sql."""

from psycopg2 import sql

from usage_stats.ingest.sql import EVENTS_TABLE
from usage_stats.rollups.sql import (
    REQUEST_EVENT,
    ROLLUP_ALL_HOURLY,
    ROLLUP_HOURLY,
    ROLLUP_TENANT_HOURLY,
    ROLLUP_USER_MONTH,
    hist_sum,
)

# Params: start, end (UTC hour bounds, end exclusive); tenant where scoped; edges: the
# timestamptz lower bounds of the chart buckets (width_bucket numbers them from 1).

_SUMS = sql.SQL(
    "coalesce(sum(events), 0), coalesce(sum(errors), 0), coalesce(sum(tokens), 0),"
    " coalesce(sum(latency_count), 0), coalesce(sum(latency_ms_sum), 0)"
)


def _scoped(table: sql.Identifier, tenant: bool) -> sql.Composable:
    cond = sql.SQL("tenant = %(tenant)s AND ") if tenant else sql.SQL("")
    return sql.SQL("FROM {table} WHERE {cond}hour >= %(start)s AND hour < %(end)s").format(
        table=table, cond=cond
    )


# requests, events, errors, tokens, latency_count, latency_ms_sum, latency_hist
DASH_TOTALS_ALL = sql.SQL(
    "SELECT coalesce(sum(events) FILTER (WHERE event = {request}), 0), {sums}, {hist} {src}"
).format(
    request=sql.Literal(REQUEST_EVENT),
    sums=_SUMS,
    hist=hist_sum("latency_hist"),
    src=_scoped(ROLLUP_ALL_HOURLY, False),
)
DASH_TOTALS_TENANT = sql.SQL("SELECT coalesce(sum(requests), 0), {sums}, {hist} {src}").format(
    sums=_SUMS, hist=hist_sum("latency_hist"), src=_scoped(ROLLUP_TENANT_HOURLY, True)
)

# bucket, requests, events, errors
_BUCKET = sql.SQL("width_bucket(hour, %(edges)s::timestamptz[]) AS bucket")
DASH_SERIES_ALL = sql.SQL(
    "SELECT {bucket}, coalesce(sum(events) FILTER (WHERE event = {request}), 0), sum(events), sum(errors)"
    " {src} GROUP BY bucket ORDER BY bucket"
).format(bucket=_BUCKET, request=sql.Literal(REQUEST_EVENT), src=_scoped(ROLLUP_ALL_HOURLY, False))
DASH_SERIES_TENANT = sql.SQL(
    "SELECT {bucket}, sum(requests), sum(events), sum(errors) {src} GROUP BY bucket ORDER BY bucket"
).format(bucket=_BUCKET, src=_scoped(ROLLUP_TENANT_HOURLY, True))

# tenant, bucket, requests: the per-tenant chart on the staff dashboard.
DASH_SERIES_BY_TENANT = sql.SQL(
    "SELECT tenant, {bucket}, sum(requests) {src} GROUP BY tenant, bucket"
).format(bucket=_BUCKET, src=_scoped(ROLLUP_TENANT_HOURLY, False))

# tenant, requests, events, errors, tokens, latency_count, latency_ms_sum (no histogram:
# merging one per tenant-hour over every tenant would triple the cost of this query)
DASH_TOP_TENANTS = sql.SQL(
    "SELECT tenant, sum(requests), {sums} {src} GROUP BY tenant ORDER BY 3 DESC, tenant LIMIT %(limit)s"
).format(sums=_SUMS, src=_scoped(ROLLUP_TENANT_HOURLY, False))

# event, events, errors, tokens, latency_count, latency_ms_sum
_BY_EVENT = "SELECT event, {sums} {src} GROUP BY event ORDER BY 2 DESC, event"
DASH_EVENTS_ALL = sql.SQL(_BY_EVENT).format(sums=_SUMS, src=_scoped(ROLLUP_ALL_HOURLY, False))
DASH_EVENTS_TENANT = sql.SQL(_BY_EVENT).format(sums=_SUMS, src=_scoped(ROLLUP_HOURLY, True))

# route, events, errors, tokens, latency_count, latency_ms_sum, latency_hist
_BY_ROUTE = "SELECT route, {sums}, {hist} {src} AND latency_count > 0 GROUP BY route ORDER BY 2 DESC, route"
DASH_ROUTES_ALL = sql.SQL(_BY_ROUTE).format(
    sums=_SUMS, hist=hist_sum("latency_hist"), src=_scoped(ROLLUP_ALL_HOURLY, False)
)
DASH_ROUTES_TENANT = sql.SQL(_BY_ROUTE).format(
    sums=_SUMS, hist=hist_sum("latency_hist"), src=_scoped(ROLLUP_HOURLY, True)
)

# Distinct users. Params: months (date[]) with firsts and lens (int[]): the span of each
# month's hours inside the range (hour index from 0, count). bit_count(substring(...)) is
# ~10x cheaper than AND-ing a 744-bit mask per row.
_ACTIVE = sql.SQL(
    "FROM {user_month} u"
    " JOIN unnest(%(months)s::date[], %(firsts)s::int[], %(lens)s::int[]) AS m(month, first_hour, hours_n)"
    " USING (month)"
    " WHERE u.month = ANY(%(months)s::date[])"
    " AND bit_count(substring(u.hours FROM m.first_hour + 1 FOR m.hours_n)) > 0"
).format(user_month=ROLLUP_USER_MONTH)
DASH_ACTIVE_USERS_ALL = sql.SQL(
    "SELECT count(*) FROM (SELECT DISTINCT u.tenant, u.user_id {active}) x"
).format(active=_ACTIVE)
DASH_ACTIVE_USERS_TENANT = sql.SQL(
    "SELECT count(DISTINCT u.user_id) {active} AND u.tenant = %(tenant)s"
).format(active=_ACTIVE)
DASH_ACTIVE_USERS_BY_TENANT = sql.SQL(
    "SELECT u.tenant, count(DISTINCT u.user_id) {active}"
    " AND u.tenant = ANY(%(tenants)s::text[]) GROUP BY u.tenant"
).format(active=_ACTIVE)
# Per chart bucket (params also buckets int[] and splits bool[]): a user has one row per
# month, so only a bucket that spans two months (`split`) needs a DISTINCT.
DASH_ACTIVE_USERS_SERIES = sql.SQL(
    """
    WITH active AS (
        SELECT m.bucket, m.split, u.user_id
        FROM {user_month} u
        JOIN unnest(%(buckets)s::int[], %(months)s::date[], %(firsts)s::int[], %(lens)s::int[],
                    %(splits)s::bool[]) AS m(bucket, month, first_hour, hours_n, split) USING (month)
        WHERE u.month = ANY(%(months)s::date[]) AND u.tenant = %(tenant)s
          AND bit_count(substring(u.hours FROM m.first_hour + 1 FOR m.hours_n)) > 0
    )
    SELECT bucket, count(*) FROM active WHERE NOT split GROUP BY bucket
    UNION ALL
    SELECT bucket, count(DISTINCT user_id) FROM active WHERE split GROUP BY bucket
    """
).format(user_month=ROLLUP_USER_MONTH)

# Raw events of one tenant and range, oldest first, for the streamed CSV export.
EXPORT_EVENTS = sql.SQL(
    "SELECT occurred_at, event_id, user_id, event, route, method, status, latency_ms, tokens, properties"
    " FROM {events} WHERE tenant = %(tenant)s AND occurred_at >= %(start)s AND occurred_at < %(end)s"
    " ORDER BY occurred_at, event_id"
).format(events=EVENTS_TABLE)

# Dashboard reads are short aggregates: JIT would only add its compile time, and hashing
# the distinct users of a month must not spill to disk.
DASH_SESSION_SETUP = sql.SQL("SET LOCAL jit = off; SET LOCAL work_mem = '32MB'")
