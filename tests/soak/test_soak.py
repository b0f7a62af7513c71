"""`make soak`: 50 clients for 60 s against gunicorn on loopback, across 20 tenants.

Reports requests, errors (must be 0), p50/p95/p99, the peak number of the server's
PostgreSQL connections (must stay within the documented bound) and usage events
recorded against requests made (must be equal once the server has stopped, which
flushes every worker's queue). SOAK_CLIENTS and SOAK_DURATION_S shorten a trial run.
"""

import json
import os
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.support.database import in_fresh_thread, superuser_connection
from tests.support.gunicorn import database_url, gunicorn

from .load import Load, login_sessions
from .monitor import APP_NAME, ConnectionMonitor
from .seed import soak_tenants_ensure

CLIENTS = int(os.environ.get("SOAK_CLIENTS", "50"))
DURATION_S = float(os.environ.get("SOAK_DURATION_S", "60"))

pytestmark = [
    pytest.mark.soak,
    pytest.mark.live,
    pytest.mark.django_db(databases=[settings.DEFAULT_DB_ALIAS, settings.STATS_DB_ALIAS]),
    # The load runs for DURATION_S; set-up (seeding, gunicorn) and the drain need minutes more.
    pytest.mark.timeout(int(DURATION_S) + 300),
]
TENANTS = 20
WORKERS = 2
THREADS = 4
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def connection_bound(*, workers: int, threads: int, aliases: int = 2) -> int:
    """The documented ceiling (README): each request thread holds at most one persistent
    connection per database alias, and each worker's usage-stats flusher one more."""
    return workers * threads * aliases + workers


def request_events_since(started_at: float) -> int:
    from django.db import connections

    with connections[settings.STATS_DB_ALIAS].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM usage_event WHERE event IN ('request', 'api.call')"
            " AND occurred_at >= to_timestamp(%s)",
            [started_at],
        )
        return cursor.fetchone()[0]


def test_soak(tmp_path):
    seeded = in_fresh_thread(lambda: soak_tenants_ensure(TENANTS))
    with_app_name = f"?application_name={APP_NAME}"
    dbnames = [
        settings.DATABASES[settings.DEFAULT_DB_ALIAS]["NAME"],
        settings.DATABASES[settings.STATS_DB_ALIAS]["NAME"],
    ]
    server_started = time.time()
    with gunicorn(
        database_url=database_url(settings.DEFAULT_DB_ALIAS) + with_app_name,
        stats_database_url=database_url(settings.STATS_DB_ALIAS) + with_app_name,
        log_dir=tmp_path,
        workers=WORKERS,
        threads=THREADS,
    ) as server:
        cookies = login_sessions(server, seeded)
        monitor = ConnectionMonitor(connect=superuser_connection, dbnames=dbnames, since=server_started - 1)
        monitor.start()
        result = Load(
            server=server, tenants=seeded, cookies=cookies, clients=CLIENTS, duration_s=DURATION_S
        ).run()
        monitor.stop()
        server_log = server.log()
    # The server has stopped (SIGTERM): every worker flushed its queue on the way out.
    events = in_fresh_thread(lambda: request_events_since(result.started_at))

    bound = connection_bound(workers=WORKERS, threads=THREADS)
    report = {
        **result.summary(),
        "clients": CLIENTS,
        "duration_s": DURATION_S,
        "tenants": TENANTS,
        "workers": WORKERS,
        "threads": THREADS,
        "peak_pg_connections": monitor.peak,
        "peak_pg_connections_app": monitor.peak_app,
        "peak_pg_connections_flushers": monitor.peak_flushers,
        "pg_connection_bound": bound,
        "connection_samples": monitor.samples,
        "events_recorded": events,
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "soak.json").write_text(json.dumps(report, indent=2))
    print("\nsoak:", json.dumps(report, indent=2))

    errors = result.errors()
    assert result.requests > CLIENTS
    assert not errors, f"{len(errors)} errors, first: {errors[:5]}\n{server_log}"
    assert monitor.samples > 0
    assert monitor.peak <= bound
    assert events == result.requests
