"""Statements for synthetic demo data (`stats_generate`, `make bench`): never run by the
production ingest, rollups or dashboards."""

from psycopg2 import sql

from usage_stats.ingest.sql import COLUMNS, EVENT_COLUMNS, EVENTS_TABLE
from usage_stats.rollups.sql import DEMO_STATE_NAME, ROLLUP_STATE

# One event per statement: the naive baseline of `make bench`, never used by the collector.
INSERT_EVENT = sql.SQL("INSERT INTO {table} ({columns}) VALUES ({values})").format(
    table=EVENTS_TABLE,
    columns=COLUMNS,
    values=sql.SQL(", ").join(sql.Placeholder() * len(EVENT_COLUMNS)),
)

# "Is there any usage yet?": request events, real or synthetic. Domain events such as
# tenant.created (written while seeding the demo tenants) do not make a dashboard look alive.
EVENTS_EXIST = sql.SQL("SELECT EXISTS (SELECT 1 FROM {events} WHERE event = 'request')").format(
    events=EVENTS_TABLE
)

# Rows first..last of `total`, spread evenly over [start, end) and then, within each UTC
# day, pushed towards the afternoon; one tenant has `big_share` of the rows and the rest
# are skewed; users come from each tenant's pool; event kinds from a weighted catalogue
# of slots (arrays indexed alike); latencies are log-normal. seq, drawn in row order,
# follows time.
GENERATE_EVENTS = sql.SQL(
    """
    INSERT INTO {events} (event_id, occurred_at, tenant_id, user_id, event, route, method, status,
                          latency_ms, tokens, properties)
    SELECT gen_random_uuid(),
           CASE WHEN warped < %(end)s THEN warped ELSE t_lin END,
           (%(tenants)s::uuid[])[tenant_index],
           CASE WHEN r_anon < 0.06 THEN NULL
                ELSE 1 + floor(r_user * r_user * (%(pools)s::int[])[tenant_index])::bigint END,
           (%(kinds)s::text[])[slot],
           nullif((%(routes)s::text[])[slot], ''),
           nullif((%(methods)s::text[])[slot], ''),
           CASE WHEN (%(methods)s::text[])[slot] = '' THEN NULL
                WHEN r_status < (%(error_rates)s::float8[])[slot]
                     THEN (ARRAY[500, 502, 503])[1 + floor(r_lat2 * 3)::int]
                WHEN r_status > 0.97 THEN (ARRAY[400, 403, 404])[1 + floor(r_lat2 * 3)::int]
                ELSE 200 END,
           CASE WHEN (%(medians)s::float8[])[slot] > 0 THEN
                (%(medians)s::float8[])[slot] * exp((%(sigmas)s::float8[])[slot]
                    * sqrt(-2 * ln(1 - r_lat1)) * cos(2 * pi() * r_lat2)) END,
           CASE WHEN (%(token_max)s::int[])[slot] > 0
                THEN 20 + floor(r_tok * (%(token_max)s::int[])[slot])::int END,
           CASE WHEN (%(methods)s::text[])[slot] = '' AND r_status < (%(error_rates)s::float8[])[slot]
                THEN '{{"failed": true}}'::jsonb END
    FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g
    CROSS JOIN LATERAL (
        SELECT ((g - 1) + random()) / %(total)s AS u, random() AS r_tenant, random() AS r_slot,
               random() AS r_user, random() AS r_anon, random() AS r_status,
               random() AS r_lat1, random() AS r_lat2, random() AS r_tok
    ) r
    CROSS JOIN LATERAL (
        SELECT %(start)s::timestamptz + make_interval(secs => u * %(span_s)s) AS t_lin,
               CASE WHEN r_tenant < %(big_share)s OR cardinality(%(tenants)s::uuid[]) = 1 THEN 1
                    ELSE 2 + floor(power((r_tenant - %(big_share)s) / (1 - %(big_share)s), 1.6)
                                   * (cardinality(%(tenants)s::uuid[]) - 1))::int END AS tenant_index,
               1 + floor(r_slot * cardinality(%(kinds)s::text[]))::int AS slot
    ) t
    CROSS JOIN LATERAL (SELECT date_trunc('day', t_lin, 'UTC') AS day_start) d
    CROSS JOIN LATERAL (SELECT extract(epoch FROM t_lin - day_start) / 86400 AS frac) f
    -- f(v) = v - A (sin 2pi(v - p) + sin 2pi p) / 2pi maps [0, 1] onto itself, densest near p.
    CROSS JOIN LATERAL (
        SELECT day_start + make_interval(
                   secs => 86400 * (frac - 0.6 * (sin(2 * pi() * (frac - 0.58)) + sin(2 * pi() * 0.58))
                                           / (2 * pi()))
               ) AS warped
    ) w
    """
).format(events=EVENTS_TABLE)

# How many demo events were written (the dashboards say their figures include them).
DEMO_COUNT_ADD = sql.SQL(
    "INSERT INTO {state} AS s (name, seq, events) VALUES ({name}, 0, %(events)s)"
    " ON CONFLICT (name) DO UPDATE SET events = s.events + excluded.events, updated_at = now()"
).format(state=ROLLUP_STATE, name=sql.Literal(DEMO_STATE_NAME))
