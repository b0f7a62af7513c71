"""/healthz and /metrics report Redis, the worker heartbeat, the queue and task failures."""

import re
import uuid

import pytest
from django.conf import settings
from django.test import Client as HttpClient
from django.test import override_settings

from . import probe_tasks
from .support import port_is_free, wait_for

pytestmark = [
    pytest.mark.redis,
    pytest.mark.django_db(databases=[settings.DEFAULT_DB_ALIAS, settings.STATS_DB_ALIAS]),
    pytest.mark.timeout(120),
]
TOKEN = "jobs-scrape-token-0123456789"


def _metrics() -> str:
    with override_settings(METRICS_TOKEN=TOKEN):
        response = HttpClient(HTTP_HOST="localhost").get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    return response.content.decode()


def _sample(text: str, name: str, labels: str = "") -> float | None:
    match = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", text, re.M)
    return float(match.group(1)) if match else None


def _healthz() -> tuple[int, dict]:
    response = HttpClient(HTTP_HOST="localhost").get("/healthz")
    return response.status_code, response.json()


def test_healthz_reports_redis_and_a_live_worker(jobs_worker, redis_clean, tenants):
    wait_for(lambda: _healthz()[1]["jobs"]["worker"] == "ok", timeout_s=10, message="a heartbeat")
    status, body = _healthz()
    assert status == 200
    assert body["jobs"] == {"redis": "ok", "worker": "ok"}
    assert body["degraded"] == []


def test_healthz_calls_a_silent_worker_failed_without_failing_the_check(jobs_worker, tenants):
    with override_settings(JOBS_HEARTBEAT_MAX_AGE_S=0.0):
        status, body = _healthz()
    assert status == 200 and body["status"] == "ok"
    assert body["jobs"] == {"redis": "ok", "worker": "fail"}
    assert body["degraded"] == ["jobs.worker"]


def test_healthz_with_redis_unreachable_still_serves(jobs_redis, tenants):
    closed = next(port for port in range(6431, 6460) if port_is_free(port))
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{closed}/0"):
        status, body = _healthz()
        metrics = _metrics()
    assert status == 200 and body["status"] == "ok"
    assert body["jobs"] == {"redis": "fail", "worker": "fail"}
    assert _sample(metrics, "jobs_redis_up") == 0.0


def test_metrics_count_task_failures_by_task_name(jobs_worker, redis_clean, tenants):
    probe = uuid.uuid4().hex
    probe_tasks.probe_fail.apply_async(args=[probe])
    wait_for(
        lambda: _sample(_metrics(), "jobs_task_failures_total", '{task="tests.probe_fail"}') == 1.0,
        timeout_s=30,
        message=f"the failure to be counted:\n{jobs_worker.log()}",
    )
    wait_for(
        lambda: _sample(_metrics(), "jobs_worker_heartbeat_age_seconds") is not None,
        timeout_s=10,
        message="a worker heartbeat",
    )
