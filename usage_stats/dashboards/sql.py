"""The dashboards' reads: rollups only (rollups/sql.py names the tables), plus the raw
events of one tenant for the CSV export. Named statements composed with psycopg2.sql.

Exact local days: a period and its chart buckets start on UTC quarter-hours (every offset
in use is a multiple of 15 minutes, dashboards/periods.py). Each read sums rollup rows
with a sign `s` into chart bucket `b`, in one of two plans (periods.ReadPlan):

- per hour (charts of up to 48 hours): the whole UTC hours from the *_hourly tables and,
  for the few hours a bucket edge falls inside (UTC+05:45, say), their quarter-hours from
  the *_quarter tables instead; every sign is +1.
- per day: the UTC days from the *_daily tables, each in the bucket of the local day it
  mostly overlaps, plus or minus what lies between each local midnight and the UTC
  midnight it was matched with (at most 12 hours, none in UTC): six-hour blocks from the
  *_sixhour tables, and the hours and quarter-hours between the local midnight and the
  nearest block edge (at most 3 hours; an Asia/Kathmandu midnight, 18:15 UTC, is the 18:00
  block minus one quarter-hour). A local day is UTC day D minus what it does not have
  plus what it has of its neighbours.
  Every figure summed here is additive (counts, sums, histogram buckets), so the result is
  exact; distinct users come from the bitmaps below instead.

Params: see periods.ReadPlan.params(); tenant_id where scoped.
"""

from collections.abc import Callable
from datetime import date

from psycopg2 import sql

from usage_stats.ingest.sql import EVENTS_TABLE
from usage_stats.rollups.histogram import BUCKETS
from usage_stats.rollups.sql import (
    DEMO_STATE_NAME,
    IS_REQUEST,
    ROLLUP_ALL_DAILY,
    ROLLUP_ALL_HOURLY,
    ROLLUP_ALL_QUARTER,
    ROLLUP_ALL_SIXHOUR,
    ROLLUP_DAILY,
    ROLLUP_HOURLY,
    ROLLUP_QUARTER,
    ROLLUP_SIXHOUR,
    ROLLUP_STATE,
    ROLLUP_TENANT_DAILY,
    ROLLUP_TENANT_HOURLY,
    ROLLUP_TENANT_QUARTER,
    ROLLUP_TENANT_SIXHOUR,
    ROLLUP_USER_MONTH,
)

GRAINS = ("hour", "day")  # the two read plans


def _signed_rows(
    tables: tuple[sql.Identifier, sql.Identifier, sql.Identifier, sql.Identifier],
    columns: str,
    *,
    tenant: bool,
    grain: str,
    tenants: bool = False,
) -> sql.Composable:
    """The rows of (daily, six-hour, hourly, quarter) `tables` covering the period exactly,
    as a derived table r(b, s, columns...)."""  # fmt: skip
    daily, sixhour, hourly, quarter = tables
    cond = sql.SQL("tenant_id = %(tenant_id)s AND ") if tenant else sql.SQL("")
    if tenants:
        cond = sql.SQL("tenant_id = ANY(%(tenants)s::uuid[]) AND ")
    cols = sql.SQL(columns)
    # A few hundred (time, bucket, sign) triples at most: an index lookup each. Joined
    # from the array side, so the planner needs no estimate of a long IN list.
    fixes = sql.SQL(
        " UNION ALL SELECT c.b, c.s, {cols} FROM"
        " unnest(%({ts})s::timestamptz[], %({ts}_b)s::int[], %({ts}_s)s::int[]) AS c(t, b, s)"
        " JOIN {table} ON {cond}bucket = c.t"
    )
    if grain == "hour":
        return sql.SQL(
            "(SELECT width_bucket(bucket, %(edges)s::timestamptz[]) AS b, 1 AS s, {cols} FROM {hourly}"
            " WHERE {cond}bucket >= %(start)s AND bucket < %(end)s"
            " AND bucket <> ALL(%(split_hours)s::timestamptz[])"
            "{quarters}) r"
        ).format(
            cols=cols, hourly=hourly, cond=cond,
            quarters=fixes.format(cols=cols, table=quarter, ts=sql.SQL("fix_quarters"), cond=cond),
        )  # fmt: skip
    return sql.SQL(
        "(SELECT width_bucket(bucket, %(day_edges)s::timestamptz[]) AS b, 1 AS s, {cols} FROM {daily}"
        " WHERE {cond}bucket >= %(day_lo)s AND bucket < %(day_hi)s{blocks}{hours}{quarters}) r"
    ).format(
        cols=cols, daily=daily, cond=cond,
        blocks=fixes.format(cols=cols, table=sixhour, ts=sql.SQL("fix_sixhours"), cond=cond),
        hours=fixes.format(cols=cols, table=hourly, ts=sql.SQL("fix_hours"), cond=cond),
        quarters=fixes.format(cols=cols, table=quarter, ts=sql.SQL("fix_quarters"), cond=cond),
    )  # fmt: skip


_SUMS = sql.SQL(
    "coalesce(sum(s * events), 0), coalesce(sum(s * errors), 0), coalesce(sum(s * tokens), 0),"
    " coalesce(sum(s * latency_count), 0), coalesce(sum(s * latency_ms_sum), 0)"
)
_HIST = sql.SQL("CASE WHEN sum(s * latency_count) > 0 THEN ARRAY[{}]::integer[] END").format(
    sql.SQL(", ").join(
        sql.SQL("coalesce(sum(s * latency_hist[{i}]), 0)").format(i=sql.Literal(i))
        for i in range(1, BUCKETS + 1)
    )
)
_COUNTER_COLS = "events, errors, tokens, latency_count, latency_ms_sum"
_ALL = (ROLLUP_ALL_DAILY, ROLLUP_ALL_SIXHOUR, ROLLUP_ALL_HOURLY, ROLLUP_ALL_QUARTER)
_TENANT = (ROLLUP_TENANT_DAILY, ROLLUP_TENANT_SIXHOUR, ROLLUP_TENANT_HOURLY, ROLLUP_TENANT_QUARTER)
_FINE = (ROLLUP_DAILY, ROLLUP_SIXHOUR, ROLLUP_HOURLY, ROLLUP_QUARTER)


def _by_grain(build: Callable[[str], sql.Composed]) -> dict[str, sql.Composed]:
    return {grain: build(grain) for grain in GRAINS}


# Per chart bucket: b, requests, events, errors, tokens, latency_count, latency_ms_sum.
# The totals are their sums (dashboards/dashboard.py), so cards and chart can never
# disagree; no histogram (28 sums a row, a third of the read): the cards' percentiles come
# from the events-and-routes rows below. Each statement is a dict by read plan ("hour", "day").
DASH_SERIES_ALL = _by_grain(
    lambda grain: sql.SQL(
        "SELECT b, coalesce(sum(s * events) FILTER (WHERE {is_request}), 0), {sums}"
        " FROM {rows} GROUP BY b ORDER BY b"
    ).format(
        is_request=IS_REQUEST,
        sums=_SUMS,
        rows=_signed_rows(_ALL, f"event, {_COUNTER_COLS}", tenant=False, grain=grain),
    )
)
DASH_SERIES_TENANT = _by_grain(
    lambda grain: sql.SQL(
        "SELECT b, coalesce(sum(s * requests), 0), {sums} FROM {rows} GROUP BY b ORDER BY b"
    ).format(
        sums=_SUMS,
        rows=_signed_rows(_TENANT, f"requests, {_COUNTER_COLS}", tenant=True, grain=grain),
    )
)
# Staff: tenant_id, then its requests, events, errors, tokens, latency_count and
# latency_ms_sum over the period (the top tenants table, and which tenants the chart
# shows), read with a one-bucket plan (selectors: the local days' edges inside the period
# cancel out, so only the period's two ends add rows besides the days); then requests per
# chart bucket for the few busiest tenants only (params also tenants uuid[]). Summed here
# as bigint and float8: Decimals cost more to decode than the read.
DASH_TENANT_TOTALS = _by_grain(
    lambda grain: sql.SQL(
        "SELECT tenant_id::text, sum(s * requests)::bigint, sum(s * events)::bigint, sum(s * errors)::bigint,"
        " sum(s * tokens)::bigint, sum(s * latency_count)::bigint, sum(s * latency_ms_sum)::float8"
        " FROM {rows} GROUP BY tenant_id"
    ).format(rows=_signed_rows(_TENANT, f"tenant_id, requests, {_COUNTER_COLS}", tenant=False, grain=grain))
)
DASH_TENANTS_REQUESTS = _by_grain(
    lambda grain: sql.SQL(
        "SELECT tenant_id::text, b, sum(s * requests)::bigint FROM {rows} GROUP BY tenant_id, b"
    ).format(rows=_signed_rows(_TENANT, "tenant_id, requests", tenant=False, grain=grain, tenants=True))
)
# event, route, events, errors, tokens, latency_count, latency_ms_sum, latency_hist: the
# events-by-type and latency-per-route tables both come from these few rows.
_BY_EVENT_ROUTE = "SELECT event, route, {sums}, {hist} FROM {rows} GROUP BY event, route"
DASH_EVENT_ROUTES_ALL = _by_grain(
    lambda grain: sql.SQL(_BY_EVENT_ROUTE).format(
        sums=_SUMS,
        hist=_HIST,
        rows=_signed_rows(_ALL, f"event, route, {_COUNTER_COLS}, latency_hist", tenant=False, grain=grain),
    )
)
DASH_EVENT_ROUTES_TENANT = _by_grain(
    lambda grain: sql.SQL(_BY_EVENT_ROUTE).format(
        sums=_SUMS,
        hist=_HIST,
        rows=_signed_rows(_FINE, f"event, route, {_COUNTER_COLS}, latency_hist", tenant=True, grain=grain),
    )
)

# Distinct users. Params: months (date[]) with firsts and lens (int[]): the span of each
# month's quarter-hours inside the range (index from 0, count), and inner and edge (int[]):
# masks of the month's UTC days (bit d: day d + 1) that the span covers whole, and in part.
# A user-month row decides most users from its narrow columns (migration 0006, read by an
# index-only scan of the covering index): activity that ends before the span or starts
# after it is none; a first or last quarter-hour inside the span, or an event on a day the
# span covers whole, is some. Only a user active both before and after the span, with no
# event on its whole days and some on its part days, has its 372-byte quarter-hour bitmap
# cut (bit_count(substring(...)), ~10x cheaper than AND-ing a 2976-bit mask per row).
_SPANS = sql.SQL(
    "JOIN unnest(%(months)s::date[], %(firsts)s::int[], %(lens)s::int[], %(inner)s::int[], %(edge)s::int[])"
    " AS m(month, first_q, quarters_n, inner_days, edge_days) USING (month)"
)
_QUARTERS_ACTIVE = "bit_count(substring({q}.quarters FROM m.first_q + 1 FOR m.quarters_n)) > 0"
_NARROW = (
    "u.last_q >= {first} AND u.first_q < {first} + {count} AND (u.first_q >= {first}"
    " OR u.last_q < {first} + {count} OR (u.days & {inner}) <> 0{blocks}"
    " OR ((u.days & {edge}) <> 0 AND {bitmap}))"
)
_ACTIVE = sql.SQL(
    _NARROW.format(
        first="m.first_q",
        count="m.quarters_n",
        inner="m.inner_days",
        edge="m.edge_days",
        blocks="",
        bitmap="EXISTS (SELECT FROM {user_month} q WHERE q.tenant_id = u.tenant_id AND q.month = u.month"
        " AND q.user_id = u.user_id AND " + _QUARTERS_ACTIVE.format(q="q") + ")",
    )
).format(user_month=ROLLUP_USER_MONTH)
# A range over at most two months (params also prev_firsts int[]: the first quarter-hour
# of the month before's span, 32767 for the first month): a user is counted in the first
# month in which it is active, so without a DISTINCT (the first span runs to its month's
# end, so `prev_last_q` says whether the user is active in it). Per tenant, every tenant
# (users of different tenants are different people): the staff total is the sum, and the
# top tenants table reads its figures from the same rows.
_SPANS_PREV = sql.SQL(
    "JOIN unnest(%(months)s::date[], %(firsts)s::int[], %(lens)s::int[], %(inner)s::int[], %(edge)s::int[],"
    " %(prev_firsts)s::int[]) AS m(month, first_q, quarters_n, inner_days, edge_days, prev_first_q)"
    " USING (month)"
)
DASH_ACTIVE_USERS_BY_TENANT = sql.SQL(
    "SELECT u.tenant_id, count(*) FROM {user_month} u {spans} WHERE u.month = ANY(%(months)s::date[])"
    " AND u.prev_last_q < m.prev_first_q AND {active} GROUP BY u.tenant_id"
).format(user_month=ROLLUP_USER_MONTH, spans=_SPANS_PREV, active=_ACTIVE)
DASH_ACTIVE_USERS_TENANT = sql.SQL(
    "SELECT count(*) FROM {user_month} u {spans} WHERE u.tenant_id = %(tenant_id)s"
    " AND u.month = ANY(%(months)s::date[]) AND u.prev_last_q < m.prev_first_q AND {active}"
).format(user_month=ROLLUP_USER_MONTH, spans=_SPANS_PREV, active=_ACTIVE)
# The planner expects a few hundred of the rows the narrow filter keeps (tens of thousands
# for every tenant) and sorts them by tenant; hashing into a hundred groups is faster.
DASH_SESSION_HASH_GROUPS = sql.SQL("SET LOCAL enable_sort = off")
# Longer ranges (custom, three months or more) count distinct users.
DASH_ACTIVE_USERS_BY_TENANT_LONG = sql.SQL(
    "SELECT u.tenant_id, count(DISTINCT u.user_id) FROM {user_month} u {spans}"
    " WHERE u.month = ANY(%(months)s::date[]) AND {active} GROUP BY u.tenant_id"
).format(user_month=ROLLUP_USER_MONTH, spans=_SPANS, active=_ACTIVE)
DASH_ACTIVE_USERS_TENANT_LONG = sql.SQL(
    "SELECT count(DISTINCT u.user_id) FROM {user_month} u {spans}"
    " WHERE u.tenant_id = %(tenant_id)s AND u.month = ANY(%(months)s::date[]) AND {active}"
).format(user_month=ROLLUP_USER_MONTH, spans=_SPANS, active=_ACTIVE)

# (month, first quarter-hour, how many, whole days mask, part days mask, whole six-hour
# blocks masks lo and hi) of one month's part of a chart bucket.
BucketSpan = tuple[date, int, int, int, int, int, int]


def dash_active_users_series(buckets: list[list[BucketSpan]]) -> sql.Composed:
    """Distinct users per chart bucket for one tenant (params tenant_id, months): one
    count per bucket over the tenant's user-month rows, each row read once (not a row per
    user and bucket), the bucket's spans as literals. A bucket over two months counts a
    user in the second only if it had no event in the first (`prev_last_q`)."""
    counts = []
    for spans in buckets:
        conds = []
        for k, (month, first, count, inner, edge, blocks_lo, blocks_hi) in enumerate(spans):
            values = {"first": first, "count": count, "inner": inner, "edge": edge}
            blocks = "".join(
                f" OR (u.{column} & {{{column}}}) <> 0"
                for column, mask in (("blocks_lo", blocks_lo), ("blocks_hi", blocks_hi))
                if mask
            )
            values.update(blocks_lo=blocks_lo, blocks_hi=blocks_hi)
            narrow = _NARROW.format(
                **{key: "{" + key + "}" for key in ("first", "count", "inner", "edge")},
                blocks=blocks,
                bitmap="bit_count(substring(u.quarters FROM {first} + 1 FOR {count})) > 0",
            )
            if not edge:  # whole UTC days only: active if active on one of them
                narrow = "(u.days & {inner}) <> 0"
            prev = " AND u.prev_last_q < {prev}" if k else ""
            conds.append(
                sql.SQL("(u.month = {month} AND " + narrow + prev + ")").format(
                    month=sql.Literal(month),
                    prev=sql.Literal(spans[k - 1][1] if k else 0),
                    **{key: sql.Literal(value) for key, value in values.items()},
                )
            )
        counts.append(sql.SQL("count(*) FILTER (WHERE {})").format(sql.SQL(" OR ").join(conds)))
    return sql.SQL(
        "SELECT ARRAY[{counts}]::bigint[] FROM {user_month} u"
        " WHERE u.tenant_id = %(tenant_id)s AND u.month = ANY(%(months)s::date[])"
    ).format(counts=sql.SQL(", ").join(counts) if counts else sql.SQL("0"), user_month=ROLLUP_USER_MONTH)


# How many demo events the stats database holds (usage_stats/demo), 0 when none.
DASH_DEMO_EVENTS = sql.SQL("SELECT coalesce(max(events), 0) FROM {state} WHERE name = {name}").format(
    state=ROLLUP_STATE, name=sql.Literal(DEMO_STATE_NAME)
)

# Raw events of one tenant and range, oldest first, for the streamed CSV export.
EXPORT_EVENTS = sql.SQL(
    "SELECT occurred_at, event_id, user_id, event, route, method, status, latency_ms, tokens, properties"
    " FROM {events} WHERE tenant_id = %(tenant_id)s AND occurred_at >= %(start)s AND occurred_at < %(end)s"
    " ORDER BY occurred_at, event_id"
).format(events=EVENTS_TABLE)

# Dashboard reads are short aggregates: JIT would only add its compile time, and hashing
# the distinct users of a month must not spill to disk.
# Parallel workers cost more to start (~20 ms on a busy 2-core machine) than these reads take.
DASH_SESSION_SETUP = sql.SQL(
    "SET LOCAL jit = off; SET LOCAL work_mem = '32MB'; SET LOCAL max_parallel_workers_per_gather = 0"
)
