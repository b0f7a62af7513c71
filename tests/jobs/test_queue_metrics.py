"""/metrics exports the broker's queue length (no worker in this module: jobs stay queued)."""

import uuid

import pytest
from django.conf import settings

from core.jobs import job_enqueue_on_commit

from . import probe_tasks
from .test_health import _metrics, _sample

pytestmark = [
    pytest.mark.redis,
    pytest.mark.django_db(databases=[settings.DEFAULT_DB_ALIAS, settings.STATS_DB_ALIAS]),
    pytest.mark.timeout(60),
]


def test_metrics_export_queue_length_without_a_worker(
    redis_clean, tenants, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            job_enqueue_on_commit(probe_tasks.probe_ran, uuid.uuid4().hex)
    text = _metrics()
    assert _sample(text, "jobs_redis_up") == 1.0
    assert _sample(text, "jobs_queue_length", '{queue="celery"}') == 3.0
    redis_clean.client().flushall()
