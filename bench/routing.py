"""Routing freshness under a flood of random subdomains (tenants/routing.py).

gunicorn with 4 workers (dev settings, usage stats off) is sent 10,000 requests, each for
a different random `<hex>.<BASE_DOMAIN>` host, from 8 client threads. Every answer must
be the 404 page. The database side counts what the flood cost: transactions committed in
the database (`pg_stat_database.xact_commit`; every query of a worker outside a
transaction is one) during the flood, minus what the same workers commit while idle for
as long (their job relay threads), per second per worker process. The target is at most
2: the periodic version check (TENANT_ROUTES_CHECK_S = 0.7 s) plus the rate-limited
checks of missing hosts. The request rate is printed beside it, and the idle rate is the
baseline.
"""

import http.client
import os
import threading
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection

from .server import gunicorn_serving

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 4
REQUESTS = int(os.environ.get("BENCH_ROUTING_REQUESTS", "10000"))
CLIENT_THREADS = 8
# PostgreSQL publishes a backend's counters at most once a second and at the latest 10 s
# after it goes idle; reading them sooner would miss the flood's last queries.
STATS_SETTLE_S = 11.5


def run(report) -> None:
    with _gunicorn() as port:
        _flood(port, 200)  # warm-up: every worker loads its table, bytecode, templates
        time.sleep(STATS_SETTLE_S)
        idle_started, idle_before = time.monotonic(), _transactions()
        time.sleep(10)
        idle_s, idle_count = time.monotonic() - idle_started, _transactions() - idle_before

        before = _transactions()
        started = time.monotonic()
        statuses = _flood(port, REQUESTS)
        flood_s = time.monotonic() - started
        time.sleep(STATS_SETTLE_S)
        flood_count = _transactions() - before
    if set(statuses) != {404}:
        raise RuntimeError(f"random hosts answered {sorted(set(statuses))}, not only 404")
    idle_rate = idle_count / idle_s / WORKERS
    # The settle wait is idle time too: its background queries are not the flood's.
    caused = max(flood_count - idle_rate * WORKERS * (flood_s + STATS_SETTLE_S), 0.0)
    per_process = caused / flood_s / WORKERS
    report.add("routing.flood_requests_per_s", REQUESTS / flood_s, "requests/s", workers=WORKERS)
    report.add(
        "routing.flood_queries_per_s_per_process",
        per_process,
        "queries/s",
        baseline=idle_rate,
        baseline_name="idle workers",
        target="<= 2",
        ok=per_process <= 2.0,
        requests=REQUESTS,
        flood_s=round(flood_s, 2),
        transactions_during_flood=flood_count,
    )


def _transactions() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
        )
        return int(cursor.fetchone()[0])


def _flood(port: int, count: int) -> list[int]:
    statuses: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    per_thread = [
        count // CLIENT_THREADS + (1 if i < count % CLIENT_THREADS else 0) for i in range(CLIENT_THREADS)
    ]

    def client(n: int) -> None:
        seen = []
        for _ in range(n):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                conn.request("GET", "/", headers={"Host": f"{uuid.uuid4().hex[:12]}.{settings.BASE_DOMAIN}"})
                response = conn.getresponse()
                response.read()
                seen.append(response.status)
            except OSError as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                seen.append(0)
            finally:
                conn.close()
        with lock:
            statuses.extend(seen)

    threads = [threading.Thread(target=client, args=(n,)) for n in per_thread]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        print(f"  {len(errors)} request(s) failed, first: {errors[0]}", flush=True)
    return statuses


def _gunicorn():
    return gunicorn_serving(label="routing", env={}, workers=WORKERS)
