"""`make run`'s promise, with real processes (gunicorn, celery worker, celery beat): a
tenant's requests reach its rollups on beat's schedule, with nobody opening a dashboard."""

import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.support.gunicorn import database_url, gunicorn
from tests.usage_stats.dash_support import stats_connect

from .conftest import worker_env
from .support import celery_process, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.live, pytest.mark.django_db, pytest.mark.timeout(240)]

ROLLUP_INTERVAL_S = 3.0
# The acceptance bound of `make run` (the default schedule rolls up every 60 s).
BOUND_S = 90.0
REQUESTS = 25


def _rolled_up_requests(tenant_id) -> int:
    conn = stats_connect(autocommit=True)
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT coalesce(sum(requests), 0) FROM usage_rollup_tenant_hourly WHERE tenant_id = %s",
                [str(tenant_id)],
            )
            return int(cursor.fetchone()[0])
    finally:
        conn.close()


def test_requests_reach_the_owners_rollups_without_a_dashboard_view(
    jobs_redis, redis_clean, probe_tables, tenants, tmp_path: Path
):
    acme = tenants["acme"]
    env = worker_env(jobs_redis, JOBS_ROLLUP_INTERVAL_S=str(ROLLUP_INTERVAL_S))
    with (
        celery_process("worker", env=env, log_dir=tmp_path) as worker,
        celery_process("beat", env=env, log_dir=tmp_path),
        gunicorn(
            database_url=env["DATABASE_URL"],
            stats_database_url=database_url(settings.STATS_DB_ALIAS),
            log_dir=tmp_path,
            extra_env={"REDIS_URL": jobs_redis.url},
        ) as server,
    ):
        # Whatever earlier tests left unrolled is counted first, so the baseline is settled.
        wait_for(lambda: "usage_stats.stats_rollup[" in worker.log(), timeout_s=30, message="a first rollup")
        time.sleep(ROLLUP_INTERVAL_S)
        before = _rolled_up_requests(acme.tenant.uuid)
        sent_at = time.monotonic()
        for _ in range(REQUESTS):
            url = server.url("/accounts/login/")
            assert requests.get(url, headers=server.headers(acme.host), timeout=10).status_code == 200
        wait_for(
            lambda: _rolled_up_requests(acme.tenant.uuid) >= before + REQUESTS,
            timeout_s=BOUND_S,
            interval_s=0.5,
            message=f"acme's requests in its rollups:\n{worker.log()}",
        )
        elapsed = time.monotonic() - sent_at
    assert elapsed <= ROLLUP_INTERVAL_S + 5  # one beat interval, the flush and a run
