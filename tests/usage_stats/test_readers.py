"""A dashboard page's reads side by side (usage_stats/dashboards/readers.py): the page
shows the same figures as when they run one after another, they really run on the
readers' threads, a failing read fails the page, and closing the readers leaves no
connection behind. Each page is built on a thread of its own outside the test's
transaction (only then do the reads go to the pool), over committed events."""

import datetime as dt
import threading
import time

import pytest
from django.db import DatabaseError, connections

from tests.support.database import in_fresh_thread
from usage_stats.dashboards import selectors
from usage_stats.dashboards.dashboard import Dashboard, dashboard_build
from usage_stats.dashboards.periods import period_resolve
from usage_stats.dashboards.readers import readers_close
from usage_stats.rollups.rollup import rollup_run

from .dash_support import Ev, insert, stats_connect, tenant_id, unique_tenant

pytestmark = pytest.mark.django_db(databases=["default", "stats"])

DAY = dt.date(2006, 9, 10)  # no other test has events on these days


@pytest.fixture(scope="module")
def committed_tenants(django_db_setup, django_db_blocker) -> tuple[str, str]:
    """Two tenants' committed events over two days, rolled up."""
    busy, quiet = unique_tenant("readers-busy"), unique_tenant("readers-quiet")
    start = dt.datetime.combine(DAY, dt.time(), tzinfo=dt.UTC)
    events = [
        Ev(busy if i % 4 else quiet, start + dt.timedelta(minutes=20 * i), user_id=1 + i % 5,
           status=500 if i % 13 == 0 else 200, latency_ms=5 + i % 90)
        for i in range(80)
    ]  # fmt: skip
    with django_db_blocker.unblock():
        conn = stats_connect(autocommit=True)
        try:
            insert(events, conn=conn)
        finally:
            conn.close()
        in_fresh_thread(lambda: rollup_run(wait_s=30))
    return busy, quiet


def _period():
    return period_resolve(
        key="custom", tz_name="Asia/Kathmandu", start_date=DAY, end_date=DAY + dt.timedelta(days=1)
    )


def _page(settings, readers: int, tenant: str | None) -> Dashboard:
    settings.STATS_DASHBOARD_READERS = readers
    return in_fresh_thread(lambda: dashboard_build(period=_period(), tenant_id=tenant and tenant_id(tenant)))


def _shown(page: Dashboard) -> tuple:
    return (page.cards, [title for title, _ in page.charts], {key: t.rows for key, t in page.tables.items()})


@pytest.mark.parametrize("scope", ["staff", "owner"])
def test_a_page_read_side_by_side_shows_what_it_shows_read_one_after_another(
    settings, monkeypatch, committed_tenants, scope
):
    busy, _ = committed_tenants
    tenant = None if scope == "staff" else busy
    threads: list[str] = []
    original = selectors.usage_event_routes

    def recorded(**kwargs):
        threads.append(threading.current_thread().name)
        return original(**kwargs)

    monkeypatch.setattr(selectors, "usage_event_routes", recorded)
    together = _page(settings, 4, tenant)
    in_a_row = _page(settings, 1, tenant)
    readers_close()
    assert _shown(together) == _shown(in_a_row)
    assert dict(together.cards)["Requests"] == ("80" if tenant is None else "60")
    # Side by side it ran on a reader thread; one after another, in the page's own.
    assert threads[0].startswith("dashboard-read") and not threads[1].startswith("dashboard-read")


def test_a_failing_read_fails_the_page(settings, monkeypatch, committed_tenants):
    def broken(**kwargs):
        raise DatabaseError("the stats database went away")

    monkeypatch.setattr(selectors, "usage_active_users_by_tenant", broken)
    with pytest.raises(DatabaseError, match="went away"):
        _page(settings, 4, None)
    readers_close()


def _own_stats_backends() -> int:
    with connections["stats"].cursor() as cursor:
        # Activity is read once per transaction unless the snapshot is dropped.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND usename = current_user AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_closing_the_readers_leaves_no_stats_connection_open(settings, committed_tenants):
    readers_close()
    before = _own_stats_backends()
    _page(settings, 4, None)
    assert _own_stats_backends() > before  # the readers keep theirs between pages
    readers_close()
    deadline = time.monotonic() + 5
    while _own_stats_backends() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _own_stats_backends() == before
