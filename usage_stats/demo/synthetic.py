"""Realistic synthetic usage events, written by PostgreSQL itself (INSERT … SELECT
generate_series): `manage.py stats_generate` and `make bench` use it."""

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connections

from usage_stats.storage import partitions

from . import sql


@dataclass(frozen=True)
class Kind:
    event: str
    route: str = ""  # "" = no route
    method: str = ""  # "" = not an HTTP request (status stays NULL)
    weight: int = 1
    median_ms: float = 0.0  # 0 = no latency
    sigma: float = 0.5
    error_rate: float = 0.0  # 5xx for requests, {"failed": true} for other events
    token_max: int = 0


# What usage_stats.ingest.middleware and the apps record, with plausible weights (sum 100).
CATALOGUE: tuple[Kind, ...] = (
    Kind("request", "task_list GET", "GET", 26, 28, 0.5, 0.002),
    Kind("request", "task_detail GET", "GET", 13, 22, 0.5, 0.002),
    Kind("request", "task_create GET", "GET", 4, 25, 0.4, 0.002),
    Kind("request", "task_create POST", "POST", 5, 48, 0.6, 0.006),
    Kind("request", "task_complete POST", "POST", 5, 35, 0.5, 0.004),
    Kind("request", "accounts:login GET", "GET", 3, 15, 0.4, 0.001),
    Kind("request", "accounts:login POST", "POST", 4, 180, 0.3, 0.004),
    Kind("request", "usage GET", "GET", 2, 45, 0.5, 0.01),
    Kind("api.call", "tasks.list GET", "GET", 10, 32, 0.6, 0.004),
    Kind("api.call", "tasks.update PATCH", "PATCH", 4, 55, 0.6, 0.01),
    Kind("task.created", weight=9),
    Kind("task.completed", weight=7),
    Kind("user.signed_in", weight=3),
    Kind("task.updated", weight=5),
)


@dataclass(frozen=True)
class GenerateResult:
    events: int
    start: dt.datetime
    end: dt.datetime
    tenants: int


def _slots(catalogue: Sequence[Kind]) -> dict[str, list]:
    """The catalogue expanded to one array entry per unit of weight."""
    slots: dict[str, list] = {
        k: [] for k in ("kinds", "routes", "methods", "medians", "sigmas", "error_rates", "token_max")
    }
    for kind in catalogue:
        for _ in range(kind.weight):
            slots["kinds"].append(kind.event)
            slots["routes"].append(kind.route)
            slots["methods"].append(kind.method)
            slots["medians"].append(kind.median_ms)
            slots["sigmas"].append(kind.sigma)
            slots["error_rates"].append(kind.error_rate)
            slots["token_max"].append(kind.token_max)
    return slots


def user_pool(tenant_rank: int, tenants: int) -> int:
    """How many users a tenant has: the biggest (rank 0) 2,000, then fewer."""
    if tenant_rank == 0:
        return 2000
    return max(10, int(400 * (1 - tenant_rank / max(tenants, 2))))


def events_generate(
    *,
    events: int,
    days: int,
    tenants: Sequence[uuid.UUID],
    big_share: float = 0.1,
    end: dt.datetime | None = None,
    using: str | None = None,
    chunk_rows: int = 100_000,
    progress: Callable[[int, int], None] | None = None,
) -> GenerateResult:
    """Insert `events` synthetic events over the `days` days before `end` (default: the
    next full hour). The first tenant gets `big_share` of the rows. Monthly partitions
    for the range are created first."""
    if events < 1:
        raise ValueError("events must be at least 1")
    if days < 1:
        raise ValueError("days must be at least 1")
    if not tenants:
        raise ValueError("at least one tenant is needed")
    if not 0 <= big_share < 1:
        raise ValueError("big_share must be in [0, 1)")
    using = using or settings.STATS_DB_ALIAS
    if end is None:
        end = dt.datetime.now(dt.UTC)
    # Whole days ending at `end`: start is `days` days earlier.
    start = end - dt.timedelta(days=days)
    conn = connections[using]
    months = []
    month = partitions.month_start(start.date())
    while month < end:
        months.append(month)
        month = partitions.month_start(month.date(), add_months=1)
    partitions.partition_months_ensure(conn=conn, months=months)
    params: dict[str, Any] = {
        **_slots(CATALOGUE),
        "start": start,
        "end": end,
        "span_s": (end - start).total_seconds(),
        "total": events,
        "tenants": [str(t) for t in tenants],
        "pools": [user_pool(rank, len(tenants)) for rank in range(len(tenants))],
        "big_share": big_share if len(tenants) > 1 else 0.0,
    }
    done = 0
    while done < events:
        last = min(done + chunk_rows, events)
        with conn.cursor() as cursor:
            cursor.execute(sql.GENERATE_EVENTS, {**params, "first": done + 1, "last": last})
        done = last
        if progress is not None:
            progress(done, events)
    with conn.cursor() as cursor:
        cursor.execute(sql.DEMO_COUNT_ADD, {"events": events})
    return GenerateResult(events=events, start=start, end=end, tenants=len(tenants))


def events_exist(*, using: str | None = None) -> bool:
    with connections[using or settings.STATS_DB_ALIAS].cursor() as cursor:
        cursor.execute(sql.EVENTS_EXIST)
        return bool(cursor.fetchone()[0])
