"""Distinct users from the narrow columns (migration 0006): a user active in two months of
a range is counted once, whichever order the rollups saw its events in (the month before's
last quarter-hour is kept up to date when a late event reaches it), in UTC and in a zone
whose local days split UTC days, for short ranges, two-month ranges and longer ones."""

import bisect
import datetime as dt
import uuid

import pytest

from usage_stats.dashboards import selectors
from usage_stats.dashboards.periods import period_resolve
from usage_stats.rollups.rollup import rollup_run

from .dash_support import Ev, insert, tenant_id

pytestmark = pytest.mark.django_db(databases=["default", "stats"])

U = dt.UTC


def _at(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, minute, tzinfo=U)


# user -> when it was active. Users 1 and 2 are active in both November and December;
# user 3 only before the short ranges; user 4 only on 1 December; user 5 only in October.
ACTIVITY = {
    1: [_at(11, 30, 12), _at(12, 1, 10)],
    2: [_at(11, 10, 9), _at(12, 1, 0, 15)],
    3: [_at(11, 29, 23, 45)],
    4: [_at(12, 1, 18, 30)],
    5: [_at(10, 20, 8)],
    6: [_at(11, 30, 18, 14), _at(11, 30, 18, 15)],  # either side of a Kathmandu midnight
}
PERIODS = [
    ("UTC", dt.date(2025, 11, 30), dt.date(2025, 12, 1)),
    ("UTC", dt.date(2025, 11, 30), dt.date(2025, 11, 30)),
    ("UTC", dt.date(2025, 12, 1), dt.date(2025, 12, 1)),
    ("Asia/Kathmandu", dt.date(2025, 11, 30), dt.date(2025, 12, 2)),
    ("Asia/Kathmandu", dt.date(2025, 12, 1), dt.date(2025, 12, 1)),
    ("America/St_Johns", dt.date(2025, 11, 29), dt.date(2025, 12, 1)),
    ("UTC", dt.date(2025, 10, 15), dt.date(2025, 12, 1)),  # three months: counted distinct
    ("Asia/Kathmandu", dt.date(2025, 10, 1), dt.date(2025, 12, 31)),
]


def _expected(period, events: list[Ev]) -> tuple[list[int], int]:
    buckets: list[set[int]] = [set() for _ in period.edges]
    for event in events:
        if period.start <= event.occurred_at < period.end:
            buckets[bisect.bisect_right(period.edges, event.occurred_at) - 1].add(event.user_id)
    return [len(users) for users in buckets], len(set().union(*buckets))


def test_users_of_two_months_count_once_whatever_order_their_events_were_rolled_up_in():
    label = f"users-{uuid.uuid4().hex[:12]}"
    events = [Ev(label, moment, user_id=user) for user, moments in ACTIVITY.items() for moment in moments]
    # December first, then the late November and October events: the December rows exist
    # before their month before is rolled up.
    for part in (
        [e for e in events if e.occurred_at.month == 12],
        [e for e in events if e.occurred_at.month < 12],
    ):
        insert(part)
        assert not rollup_run(wait_s=30).blocked_by
    tenant = uuid.UUID(tenant_id(label))
    for zone, first, last in PERIODS:
        period = period_resolve(key="custom", tz_name=zone, start_date=first, end_date=last)
        series, total = _expected(period, events)
        assert selectors.usage_active_users_series(period=period, tenant_id=tenant) == series, (zone, first)
        assert selectors.usage_active_users(period=period, tenant_id=tenant) == total, (zone, first)
        by_tenant = selectors.usage_active_users_by_tenant(period=period)
        assert by_tenant.get(tenant, 0) == total, (zone, first)
        # The staff page reads it a month at a time, side by side: the parts add up.
        parts = [
            selectors.usage_active_users_by_tenant(period=period, part=part).get(tenant, 0)
            for part in range(selectors.active_users_parts(period=period))
        ]
        assert sum(parts) == total, (zone, first, parts)
