"""The dashboards' reads: rollups only (rollups/sql.py names the tables), plus the raw
events of one tenant for the CSV export. Named statements composed with psycopg2.sql.

Exact local days: a period and its chart buckets start on UTC quarter-hours (every offset
in use is a multiple of 15 minutes, dashboards/periods.py). Each read takes the whole UTC
hours from the *_hourly tables and, for the few hours a bucket edge falls inside (local
midnight in UTC+05:45, say), the quarter-hours from the *_quarter tables instead:
params `split_hours` (those hours, timestamptz[]) and `split_quarters` (their quarter-hours
inside the period). In whole-hour zones both are empty and no quarter row is read.

Params: start, end (UTC, end exclusive); tenant_id where scoped; edges: the timestamptz
lower bounds of the chart buckets (width_bucket numbers them from 1).
"""

from psycopg2 import sql

from usage_stats.ingest.sql import EVENTS_TABLE
from usage_stats.rollups.sql import (
    IS_REQUEST,
    ROLLUP_ALL_HOURLY,
    ROLLUP_ALL_QUARTER,
    ROLLUP_HOURLY,
    ROLLUP_QUARTER,
    ROLLUP_TENANT_HOURLY,
    ROLLUP_TENANT_QUARTER,
    ROLLUP_USER_MONTH,
    hist_sum,
)

_SUMS = sql.SQL(
    "coalesce(sum(events), 0), coalesce(sum(errors), 0), coalesce(sum(tokens), 0),"
    " coalesce(sum(latency_count), 0), coalesce(sum(latency_ms_sum), 0)"
)


def _rows(hourly: sql.Identifier, quarter: sql.Identifier, columns: str, *, tenant: bool) -> sql.Composable:
    """The rollup rows covering [start, end) exactly: whole hours, and quarter-hours for the
    split hours. A derived table named r with `columns` and `bucket`."""
    cond = sql.SQL("tenant_id = %(tenant_id)s AND ") if tenant else sql.SQL("")
    cols = sql.SQL(columns)
    return sql.SQL(
        "(SELECT bucket, {cols} FROM {hourly} WHERE {cond}bucket >= %(start)s AND bucket < %(end)s"
        " AND bucket <> ALL(%(split_hours)s::timestamptz[])"
        " UNION ALL"
        " SELECT bucket, {cols} FROM {quarter} WHERE {cond}bucket = ANY(%(split_quarters)s::timestamptz[])) r"
    ).format(cols=cols, hourly=hourly, quarter=quarter, cond=cond)


_COUNTER_COLS = "events, errors, tokens, latency_count, latency_ms_sum"
_BUCKET = sql.SQL("width_bucket(bucket, %(edges)s::timestamptz[]) AS b")

# Per chart bucket: b, requests, events, errors, tokens, latency_count, latency_ms_sum,
# latency_hist. The totals are their sums (dashboards/selectors.py), so cards and chart
# can never disagree.
DASH_SERIES_ALL = sql.SQL(
    "SELECT {bucket}, coalesce(sum(events) FILTER (WHERE {is_request}), 0), {sums}, {hist}"
    " FROM {rows} GROUP BY b ORDER BY b"
).format(
    bucket=_BUCKET,
    is_request=IS_REQUEST,
    sums=_SUMS,
    hist=hist_sum("latency_hist"),
    rows=_rows(ROLLUP_ALL_HOURLY, ROLLUP_ALL_QUARTER, f"event, {_COUNTER_COLS}, latency_hist", tenant=False),
)
DASH_SERIES_TENANT = sql.SQL(
    "SELECT {bucket}, coalesce(sum(requests), 0), {sums}, {hist} FROM {rows} GROUP BY b ORDER BY b"
).format(
    bucket=_BUCKET,
    sums=_SUMS,
    hist=hist_sum("latency_hist"),
    rows=_rows(
        ROLLUP_TENANT_HOURLY, ROLLUP_TENANT_QUARTER, f"requests, {_COUNTER_COLS}, latency_hist", tenant=True
    ),
)

# tenant_id, b, requests, events, errors, tokens, latency_count, latency_ms_sum: the staff
# dashboard's per-tenant chart and its top tenants table, from one index-only scan.
DASH_SERIES_BY_TENANT = sql.SQL(
    "SELECT tenant_id, {bucket}, coalesce(sum(requests), 0), {sums} FROM {rows} GROUP BY tenant_id, b"
).format(
    bucket=_BUCKET,
    sums=_SUMS,
    rows=_rows(
        ROLLUP_TENANT_HOURLY, ROLLUP_TENANT_QUARTER, f"tenant_id, requests, {_COUNTER_COLS}", tenant=False
    ),
)

# event, route, events, errors, tokens, latency_count, latency_ms_sum, latency_hist: the
# events-by-type and latency-per-route tables both come from these few rows.
_BY_EVENT_ROUTE = "SELECT event, route, {sums}, {hist} FROM {rows} GROUP BY event, route"
DASH_EVENT_ROUTES_ALL = sql.SQL(_BY_EVENT_ROUTE).format(
    sums=_SUMS,
    hist=hist_sum("latency_hist"),
    rows=_rows(
        ROLLUP_ALL_HOURLY, ROLLUP_ALL_QUARTER, f"event, route, {_COUNTER_COLS}, latency_hist", tenant=False
    ),
)
DASH_EVENT_ROUTES_TENANT = sql.SQL(_BY_EVENT_ROUTE).format(
    sums=_SUMS,
    hist=hist_sum("latency_hist"),
    rows=_rows(ROLLUP_HOURLY, ROLLUP_QUARTER, f"event, route, {_COUNTER_COLS}, latency_hist", tenant=True),
)

# Distinct users. Params: months (date[]) with firsts and lens (int[]): the span of each
# month's quarter-hours inside the range (index from 0, count). bit_count(substring(...))
# is ~10x cheaper than AND-ing a mask per row.
_SPANS = sql.SQL(
    "JOIN unnest(%(months)s::date[], %(firsts)s::int[], %(lens)s::int[]) AS m(month, first_q, quarters_n)"
    " USING (month)"
)
_ACTIVE = sql.SQL("bit_count(substring(u.quarters FROM m.first_q + 1 FOR m.quarters_n)) > 0")
# Per tenant, every tenant (users of different tenants are different people): the staff
# total is the sum, and the top tenants table reads its figures from the same rows.
DASH_ACTIVE_USERS_BY_TENANT = sql.SQL(
    "SELECT u.tenant_id, count(DISTINCT u.user_id) FROM {user_month} u {spans}"
    " WHERE u.month = ANY(%(months)s::date[]) AND {active} GROUP BY u.tenant_id"
).format(user_month=ROLLUP_USER_MONTH, spans=_SPANS, active=_ACTIVE)
DASH_ACTIVE_USERS_TENANT = sql.SQL(
    "SELECT count(DISTINCT u.user_id) FROM {user_month} u {spans}"
    " WHERE u.tenant_id = %(tenant_id)s AND u.month = ANY(%(months)s::date[]) AND {active}"
).format(user_month=ROLLUP_USER_MONTH, spans=_SPANS, active=_ACTIVE)
# Per chart bucket (params also buckets int[] and splits bool[]): a user has one row per
# month, so only a bucket that spans two months (`split`) needs a DISTINCT.
DASH_ACTIVE_USERS_SERIES = sql.SQL(
    """
    WITH active AS (
        SELECT m.bucket, m.split, u.user_id
        FROM {user_month} u
        JOIN unnest(%(buckets)s::int[], %(months)s::date[], %(firsts)s::int[], %(lens)s::int[],
                    %(splits)s::bool[]) AS m(bucket, month, first_q, quarters_n, split) USING (month)
        WHERE u.tenant_id = %(tenant_id)s AND u.month = ANY(%(months)s::date[])
          AND {active}
    )
    SELECT bucket, count(*) FROM active WHERE NOT split GROUP BY bucket
    UNION ALL
    SELECT bucket, count(DISTINCT user_id) FROM active WHERE split GROUP BY bucket
    """
).format(user_month=ROLLUP_USER_MONTH, active=_ACTIVE)

# Raw events of one tenant and range, oldest first, for the streamed CSV export.
EXPORT_EVENTS = sql.SQL(
    "SELECT occurred_at, event_id, user_id, event, route, method, status, latency_ms, tokens, properties"
    " FROM {events} WHERE tenant_id = %(tenant_id)s AND occurred_at >= %(start)s AND occurred_at < %(end)s"
    " ORDER BY occurred_at, event_id"
).format(events=EVENTS_TABLE)

# Dashboard reads are short aggregates: JIT would only add its compile time, and hashing
# the distinct users of a month must not spill to disk.
DASH_SESSION_SETUP = sql.SQL("SET LOCAL jit = off; SET LOCAL work_mem = '32MB'")
