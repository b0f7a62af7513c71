"""/metrics under gunicorn with several workers: one scrape counts every worker's requests,
and a killed worker's counts are kept."""

import os
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.support.gunicorn import METRICS_TOKEN, database_url, gunicorn

pytestmark = [
    pytest.mark.live,
    pytest.mark.django_db(databases=[settings.DEFAULT_DB_ALIAS, settings.STATS_DB_ALIAS]),
]

REQUESTS = 60


def _requests_total(server, route: str) -> float:
    headers = server.headers("localhost", Authorization=f"Bearer {METRICS_TOKEN}")
    response = requests.get(server.url("/metrics"), headers=headers, timeout=10)
    assert response.status_code == 200, response.text[:300]
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in response.text.splitlines()
        if line.startswith("http_requests_total{") and f'route="{route}"' in line
    )


def test_metrics_add_up_every_workers_requests(tenants, tmp_path: Path):
    prometheus_dir = tmp_path / "prometheus"
    with gunicorn(
        database_url=database_url(settings.DEFAULT_DB_ALIAS),
        stats_database_url=database_url(settings.STATS_DB_ALIAS),
        log_dir=tmp_path,
        workers=3,
        extra_env={"PROMETHEUS_MULTIPROC_DIR": str(prometheus_dir)},
    ) as server:
        url, headers = server.url("/accounts/login/"), server.headers("acme.localhost")
        # Fresh connections in parallel, so the kernel spreads them over the workers.
        with ThreadPoolExecutor(max_workers=6) as pool:
            statuses = list(
                pool.map(
                    lambda _: requests.get(url, headers=headers, timeout=10).status_code, range(REQUESTS)
                )
            )
        assert statuses == [200] * REQUESTS
        workers_with_samples = {p.name for p in prometheus_dir.glob("counter_*.db")}
        assert len(workers_with_samples) >= 2, "the load should have reached several workers"
        assert _requests_total(server, "accounts:login") == REQUESTS

        # A worker killed outright: its counts stay in the total, its replacement adds to it.
        victim = server.worker_pids()[0]
        os.kill(victim, signal.SIGKILL)
        server.wait_for_workers(3, gone=victim)
        for _ in range(5):
            assert requests.get(url, headers=headers, timeout=10).status_code == 200
        assert _requests_total(server, "accounts:login") == REQUESTS + 5
