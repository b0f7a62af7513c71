"""Demo usage that the product itself would have produced: the events of the people each
tenant really has (sign-ins, page requests, task events and API calls) on working days,
in numbers a handful of people make, encoded and copied exactly like the collector's
(ingest.encoding, ingest.sql.COPY_EVENTS). `make run` seeds it (`stats_generate --days 14`).

It is still made up, so it is counted in the `demo` state row and the dashboards say
that their figures include demo activity (dashboards/selectors.py).
"""

from __future__ import annotations

import datetime as dt
import io
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import connections

from usage_stats.ingest import sql as ingest_sql
from usage_stats.ingest.encoding import LineEncoder, QueuedEvent, queued_event
from usage_stats.storage import partitions

from . import sql


@dataclass(frozen=True)
class Person:
    tenant_id: uuid.UUID
    user_id: int
    owner: bool


@dataclass(frozen=True)
class Page:
    route: str  # as ingest.routes names it: `<url name> <METHOD>`
    event: str  # `request`, or `api.call` for the JSON API
    median_ms: float
    status: int = 200
    domain_event: str | None = None  # what the view records on success


# One visit's pages, in order (a person opens the list, reads a task or two, adds or
# completes one). Medians are this machine's (make bench, tests/usage_stats/test_requests).
SIGN_IN = (
    Page("accounts:login GET", "request", 12),
    Page("accounts:login POST", "request", 160, 302, "user.signed_in"),
)
BROWSE = (Page("task_list GET", "request", 24), Page("task_detail GET", "request", 18))
CREATE = (
    Page("task_create GET", "request", 20),
    Page("task_create POST", "request", 42, 302, "task.created"),
)
COMPLETE = (Page("task_complete POST", "request", 30, 302, "task.completed"),)
OWNER_PAGES = (Page("usage GET", "request", 40), Page("accounts:members GET", "request", 22))
API = (Page("tasks.list GET", "api.call", 28), Page("tasks.create POST", "api.call", 38, 201, "task.created"))


def activity_people(*, tenant_ids: Sequence[uuid.UUID]) -> list[Person]:
    """The active people of these tenants, read in each tenant's schema."""
    from django.contrib.auth import get_user_model
    from django_tenants.utils import get_tenant_model, schema_context

    people = []
    for tenant in get_tenant_model().objects.filter(uuid__in=list(tenant_ids)).order_by("created_at"):
        with schema_context(tenant.schema_name):
            for user_id, role in get_user_model().objects.filter(is_active=True).values_list("pk", "role"):
                people.append(Person(tenant.uuid, int(user_id), role == "owner"))
    return people


def _visit(rng: random.Random, person: Person) -> list[Page]:
    pages = list(SIGN_IN) if rng.random() < 0.5 else []
    for _ in range(rng.randint(1, 4)):
        pages += BROWSE if rng.random() < 0.7 else BROWSE[:1]
    if rng.random() < 0.6:
        pages += CREATE
    if rng.random() < 0.5:
        pages += BROWSE[:1] + COMPLETE
    if person.owner and rng.random() < 0.3:
        pages += OWNER_PAGES[: rng.randint(1, 2)]
    return pages


def _events(rng: random.Random, person: Person, start: dt.datetime) -> list[QueuedEvent]:
    """One visit from `start`: a request event per page, a second or so apart, plus the
    domain event the view records; a rare server error (and then no domain event)."""
    events = []
    moment = start
    for page in _visit(rng, person) + (list(API) if person.owner and rng.random() < 0.2 else []):
        status = 500 if rng.random() < 0.003 else page.status
        latency = page.median_ms * rng.lognormvariate(0, 0.45)
        events.append(
            queued_event(
                page.event,
                ts=moment.timestamp(),
                tenant_id=person.tenant_id,
                user_id=person.user_id,
                route=page.route,
                method=page.route.rpartition(" ")[2],
                status=status,
                latency_ms=round(latency, 2),
            )
        )
        if page.domain_event and status < 500:
            events.append(
                queued_event(
                    page.domain_event,
                    ts=moment.timestamp() + latency / 1000,
                    tenant_id=person.tenant_id,
                    user_id=person.user_id,
                )
            )
        moment += dt.timedelta(seconds=rng.uniform(2, 40))
    return events


def activity_events(
    *, people: Sequence[Person], days: int, end: dt.datetime, seed: int = 20261201
) -> list[QueuedEvent]:
    """Each person's visits on the working days of the `days` days before `end` (UTC
    office hours, 2 to 5 visits a day; a weekend visit now and then)."""
    rng = random.Random(seed)
    events: list[QueuedEvent] = []
    first = (end - dt.timedelta(days=days)).date()
    for offset in range(days + 1):
        day = first + dt.timedelta(days=offset)
        weekend = day.weekday() >= 5
        for person in people:
            visits = (1 if rng.random() < 0.15 else 0) if weekend else rng.randint(2, 5)
            for _ in range(visits):
                start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) + dt.timedelta(
                    hours=rng.uniform(7.5, 17.5)
                )
                events += [e for e in _events(rng, person, start) if e[0] < end.timestamp()]
    return sorted(events, key=lambda e: e[0])


def activity_write(*, events: list[QueuedEvent], using: str | None = None) -> int:
    """Write through the collector's encoder and COPY; count them as demo events."""
    using = using or settings.STATS_DB_ALIAS
    if not events:
        return 0
    first = dt.datetime.fromtimestamp(events[0][0], dt.UTC).date()
    last = dt.datetime.fromtimestamp(events[-1][0], dt.UTC)
    months: list[dt.datetime] = []
    month = partitions.month_start(first)
    while month <= last:
        months.append(month)
        month = partitions.month_start(month.date(), add_months=1)
    conn = connections[using]
    partitions.partition_months_ensure(conn=conn, months=months)
    lines, _invalid = LineEncoder().lines(events)  # none: built here from known values
    with conn.cursor() as cursor:
        # The collector's COPY, on this connection: inside a caller's transaction (a test),
        # a second connection would wait for the partition locks taken above.
        cursor.cursor.copy_expert(ingest_sql.COPY_EVENTS, io.BytesIO(b"".join(lines)))
    demo_count_add(events=len(lines), using=using)
    return len(lines)


def demo_count_add(*, events: int, using: str | None = None) -> None:
    """Add to the count of demo events the dashboards mention."""
    with connections[using or settings.STATS_DB_ALIAS].cursor() as cursor:
        cursor.execute(sql.DEMO_COUNT_ADD, {"events": events})
