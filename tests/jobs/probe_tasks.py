"""Tasks the job tests queue; the test worker loads them with `--include`.

They report what they saw to Redis (REDIS_URL), which the test reads back."""

import os
import time

from celery import shared_task
from django.db import connection

from core.jobs import job_once, redis_client
from core.tenancy import public_schema


@shared_task(bind=True, name="tests.probe_schema")
def probe_schema(self, probe: str) -> None:
    """Record the schema this task runs in and the value of its schema's marker row."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM jobs_probe_marker")
        marker = cursor.fetchone()[0]
    redis_client().hset(f"probe:{probe}", mapping={"schema": connection.schema_name, "marker": marker})


@shared_task(bind=True, name="tests.probe_ran")
def probe_ran(self, probe: str) -> None:
    redis_client().incr(f"probe:ran:{probe}")


@shared_task(bind=True, name="tests.probe_effect_once")
def probe_effect_once(self, probe: str, sleep_s: float, sleep_after_commit_s: float = 0.0) -> None:
    """Insert one effect row per job, however often it is delivered; the first start sleeps
    mid-transaction (or after commit) so a test can kill the process at that moment."""
    client = redis_client()
    if client.incr(f"probe:starts:{probe}") > 1:
        sleep_s = sleep_after_commit_s = 0.0
    client.set(f"probe:pid:{probe}", os.getpid())
    with job_once(key=self.request.id, task_name=self.name) as first:
        if first:
            # A shared table, in the job's transaction: reached on the public schema, as the
            # app role, since the tenant's own database role cannot (core/db/roles.py).
            with public_schema(), connection.cursor() as cursor:
                cursor.execute("INSERT INTO public.jobs_probe_effect (probe) VALUES (%s)", [probe])
            time.sleep(sleep_s)
    client.incr(f"probe:finished:{probe}")
    if first and sleep_after_commit_s:
        client.set(f"probe:committed:{probe}", os.getpid())
        time.sleep(sleep_after_commit_s)


@shared_task(bind=True, name="tests.probe_fail")
def probe_fail(self, probe: str) -> None:
    redis_client().incr(f"probe:ran:{probe}")
    raise RuntimeError("probe_fail fails on purpose")
