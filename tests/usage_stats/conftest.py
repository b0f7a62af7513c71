"""Fixtures for the stats pipeline: read the stats test database on a separate autocommit
connection (the flusher commits on its own connection, so the test's transaction never
holds its rows), and take that database offline for real."""

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg2
import pytest
from django.db import connections

from tests.support.database import database_outage

STATS_ALIAS = "stats"


class StatsDB:
    def __init__(self) -> None:
        params = connections[STATS_ALIAS].settings_dict
        self.name = params["NAME"]
        assert self.name.startswith("test"), self.name
        self._params = {
            "dbname": self.name,
            "user": params["USER"],
            "password": params["PASSWORD"],
            "host": params["HOST"],
            "port": params["PORT"],
            "connect_timeout": 5,
        }

    def _connect(self, dbname: str | None = None):
        conn = psycopg2.connect(**{**self._params, "dbname": dbname or self.name})
        conn.autocommit = True
        return conn

    def rows(self, query: str, params=None) -> list[tuple]:
        conn = self._connect()
        try:
            with conn.cursor() as cursor:
                cursor.execute(query, params)
                return cursor.fetchall() if cursor.description else []
        finally:
            conn.close()

    def count(self, where: str, params=None) -> int:
        return self.rows(f"SELECT count(*) FROM usage_event WHERE {where}", params)[0][0]

    def wait_count(self, where: str, params, expected: int, timeout_s: float = 10.0) -> int:
        """Poll until `expected` rows match (the flusher writes in the background)."""
        deadline = time.monotonic() + timeout_s
        while True:
            found = self.count(where, params)
            if found >= expected or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    @contextmanager
    def outage(self) -> Iterator[None]:
        """The database really refuses connections: ALLOW_CONNECTIONS false and every
        other backend terminated (from a superuser connection to `postgres`)."""
        with database_outage(STATS_ALIAS):
            yield


@pytest.fixture(autouse=True)
def _usage_events_flushed_inside_db_tests(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test with database access starts and leaves with no event queued: pytest-django
    refuses new connections outside such tests (a RuntimeError), which the collector rightly
    treats as a failure, not as something to wait out. Set up after pytest-django's own
    fixtures, so this runs while the databases are open to the test. Flushing first too
    writes what session fixtures queued before the test body can take locks on the events
    table inside its own transaction (a rollup does), which the flusher's COPY would wait on."""
    import usage_stats

    in_db_test = request.node.get_closest_marker("django_db") is not None
    if in_db_test:
        assert usage_stats.flush(timeout_s=10), usage_stats.snapshot()["last_error"]
    yield
    if in_db_test:
        assert usage_stats.flush(timeout_s=10), usage_stats.snapshot()["last_error"]


@pytest.fixture
def stats_db(tenants) -> StatsDB:
    return StatsDB()


@pytest.fixture
def marker() -> str:
    """A tenant id no other test uses, to find this test's events."""
    return str(uuid.uuid4())


@pytest.fixture
def collector_factory() -> Iterator[Callable[..., object]]:
    """Collectors with test-sized limits, writing to the stats test database; stopped after."""
    from usage_stats.ingest.collector import Collector

    made = []

    def make(**options):
        collector = Collector(**options)
        made.append(collector)
        return collector

    yield make
    for collector in made:
        collector.stop(timeout_s=5)
