"""Known events for the rollup and dashboard tests: written straight into the stats
database, and the aggregates they should produce, computed here in plain Python."""

import datetime as dt
import json
import math
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connections
from psycopg2.extras import execute_values

from tests.support.database import connect
from usage_stats.rollups import histogram

COLUMNS = (
    "event_id, occurred_at, tenant_id, user_id, event, route, method, status, latency_ms, tokens, properties"
)
# Test events name their tenant by a label: a real tenant's schema name (its Client.uuid is
# stored) or any other string (a uuid5 of it is stored), so tests stay readable.
LABEL_NAMESPACE = uuid.UUID("2d5c0e55-4c1b-4f0e-8d0e-3f4b8c6a9e01")


def tenant_ids(labels) -> dict[str, str]:
    """label -> the tenant_id stored for it (text)."""
    labels = sorted(set(labels))
    found: dict[str, str] = {}
    try:
        from tenants.models import Client

        found = {
            name: str(value)
            for name, value in Client.objects.filter(schema_name__in=labels).values_list(
                "schema_name", "uuid"
            )
        }
    except Exception:  # no database access in this test: labels only
        found = {}
    return {label: found.get(label) or str(uuid.uuid5(LABEL_NAMESPACE, label)) for label in labels}


def tenant_id(label: str) -> str:
    return tenant_ids([label])[label]


@dataclass
class Ev:
    tenant: str
    occurred_at: dt.datetime
    event: str = "request"
    route: str | None = "task_list"
    method: str | None = "GET"
    status: int | None = 200
    latency_ms: float | None = 10.0
    tokens: int | None = None
    user_id: int | None = None
    properties: dict | None = None
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def is_error(self) -> bool:
        failed = bool(self.properties) and self.properties.get("failed") is True
        return (self.status is not None and self.status >= 500) or failed

    def row(self, ids: dict[str, str]) -> tuple:
        return (
            self.event_id,
            self.occurred_at,
            ids[self.tenant],
            self.user_id,
            self.event,
            self.route,
            self.method,
            self.status,
            self.latency_ms,
            self.tokens,
            json.dumps(self.properties) if self.properties is not None else None,
        )


def unique_tenant(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def insert(events: list[Ev], *, conn=None) -> None:
    """Insert through the test's stats connection (rolled back with the test) or through
    a given psycopg2 connection."""
    ids = tenant_ids(e.tenant for e in events)
    rows = [e.row(ids) for e in events]
    if conn is None:
        with connections["stats"].cursor() as cursor:
            execute_values(cursor.cursor, f"INSERT INTO usage_event ({COLUMNS}) VALUES %s", rows)
    else:
        with conn.cursor() as cursor:
            execute_values(cursor, f"INSERT INTO usage_event ({COLUMNS}) VALUES %s", rows)


def stats_connect(*, autocommit: bool):
    """A separate psycopg2 connection to the stats test database."""
    return connect("stats", autocommit=autocommit)


def random_events(
    rng: random.Random, *, tenants: list[str], base: dt.datetime, hours: int, n: int
) -> list[Ev]:
    kinds = [
        ("request", "task_list", "GET"),
        ("request", "task_detail", "GET"),
        ("request", "task_create", "POST"),
        ("api.call", "api:list", "GET"),
        ("task.created", None, None),
        ("ai.summary", "ai_summary", None),
    ]
    events = []
    for _ in range(n):
        event, route, method = rng.choice(kinds)
        http = method is not None
        events.append(
            Ev(
                tenant=rng.choice(tenants),
                occurred_at=base + dt.timedelta(seconds=rng.uniform(0, hours * 3600 - 1)),
                event=event,
                route=route,
                method=method,
                status=rng.choice([200, 200, 200, 201, 302, 404, 500, 503]) if http else None,
                latency_ms=rng.lognormvariate(3.5, 1.2) if http or event == "ai.summary" else None,
                tokens=rng.randint(1, 5000) if event == "ai.summary" else None,
                user_id=rng.choice([None, 1, 2, 3, 4, 5, 6, 7]),
                properties=rng.choice(
                    [None, {"failed": True}, {"failed": False}, {"failed": "true"}, {"x": 1}]
                )
                if not http
                else None,
            )
        )
    return events


def hour_of(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def raw_events(tenants: list[str]) -> list[Ev]:
    """What the events table holds for these tenants (latency as stored: float4)."""
    conn = stats_connect(autocommit=True)
    try:
        return _raw_events(conn, tenants)
    finally:
        conn.close()


def raw_events_in_transaction(tenants: list[str]) -> list[Ev]:
    """The same through the test's own stats connection (sees its uncommitted rows)."""
    return _raw_events(connections["stats"], tenants)


def _raw_events(conn, tenants: list[str]) -> list[Ev]:
    ids = tenant_ids(tenants)
    labels = {value: label for label, value in ids.items()}
    with conn.cursor() as cursor:
        cursor.execute(
            f"SELECT {COLUMNS.replace('tenant_id', 'tenant_id::text')} FROM usage_event"
            " WHERE tenant_id = ANY(%s::uuid[])",
            [list(ids.values())],
        )
        rows = cursor.fetchall()
    events = []
    for eid, occurred_at, tid, user_id, event, route, method, status, latency, tokens, props in rows:
        tenant = labels[tid]
        if isinstance(props, str):
            props = json.loads(props)
        events.append(
            Ev(
                tenant=tenant,
                occurred_at=occurred_at,
                event=event,
                route=route,
                method=method,
                status=status,
                latency_ms=latency,
                tokens=tokens,
                user_id=user_id,
                properties=props,
                event_id=str(eid),
            )
        )
    return events


@dataclass
class Agg:
    events: int = 0
    requests: int = 0
    errors: int = 0
    tokens: int = 0
    latencies: list[float] = field(default_factory=list)

    def add(self, ev: Ev) -> None:
        self.events += 1
        self.requests += ev.event in ("request", "api.call")
        self.errors += ev.is_error
        self.tokens += ev.tokens or 0
        if ev.latency_ms is not None:
            self.latencies.append(ev.latency_ms)

    @property
    def hist(self) -> list[int] | None:
        if not self.latencies:
            return None
        counts = [0] * histogram.BUCKETS
        for latency in self.latencies:
            counts[histogram.bucket_index(latency)] += 1
        return counts


def aggregate(events: list[Ev], key) -> dict:
    groups: dict = defaultdict(Agg)
    for ev in events:
        groups[key(ev)].add(ev)
    return dict(groups)


def nearest_rank(values: list[float], q: float) -> float:
    """The smallest value with at least q of all values at or below it."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered) - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def assert_within_one_bucket(estimate: float, true_value: float) -> None:
    low, high = histogram.bucket_range(histogram.bucket_index(true_value))
    assert low <= estimate <= high, (estimate, true_value, low, high)
