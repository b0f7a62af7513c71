"""The beat schedule's jobs, run by real `celery beat` and `celery worker` processes."""

import datetime as dt
import random
import time

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone
from django_tenants.utils import schema_context

from tenants.tasks import schema_batches
from tests.support.live_server import committed
from tests.usage_stats.dash_support import insert, random_events, stats_connect, tenant_ids, unique_tenant

from .conftest import worker_env
from .support import celery_process, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.django_db, pytest.mark.timeout(240)]


def _stats_scalar(query: str, params) -> int:
    conn = stats_connect(autocommit=True)
    try:
        with conn.cursor() as cursor:
            cursor.execute(query, params)
            return int(cursor.fetchone()[0] or 0)
    finally:
        conn.close()


def test_two_beats_each_rolling_up_every_half_second_count_every_event_once(
    jobs_redis, redis_clean, probe_tables, tmp_path
):
    """Beat run twice (or restarted): the rollups are asked for over and over, at the same
    time by two worker processes, while events keep arriving; each event counts once."""
    rng = random.Random(20261201)
    tenants = [unique_tenant("beat") for _ in range(2)]
    base = dt.datetime(2003, 5, 6, tzinfo=dt.UTC)  # hours of 2003 belong to this test
    env = worker_env(jobs_redis, JOBS_ROLLUP_INTERVAL_S="0.5")
    with (
        celery_process("worker", env=env, log_dir=tmp_path, args=["--concurrency", "2"]) as worker,
        celery_process("beat", env=env, log_dir=tmp_path),
        celery_process("beat", env=env, log_dir=tmp_path),
    ):
        conn = stats_connect(autocommit=True)
        try:
            for _ in range(5):
                insert(random_events(rng, tenants=tenants, base=base, hours=3, n=200), conn=conn)
                time.sleep(0.7)
        finally:
            conn.close()
        handed_out = _stats_scalar("SELECT max(seq) FROM usage_event", [])
        wait_for(
            lambda: _stats_scalar("SELECT max(seq) FROM usage_rollup_state", []) >= handed_out,
            timeout_s=60,
            message=f"the rollup watermark to reach {handed_out}:\n{worker.log()}",
        )
        time.sleep(2)  # more runs on top: they must add nothing
        runs = worker.log_path.read_text().count("usage_stats.stats_rollup[")
    assert runs >= 8, "both beats should have asked for many rollups"
    rolled_up = _stats_scalar(
        "SELECT sum(events) FROM usage_rollup_tenant_hourly WHERE tenant_id = ANY(%s::uuid[])",
        [list(tenant_ids(tenants).values())],
    )
    raw = _stats_scalar(
        "SELECT count(*) FROM usage_event WHERE tenant_id = ANY(%s::uuid[])",
        [list(tenant_ids(tenants).values())],
    )
    assert raw == 1000
    assert rolled_up == raw


def _sessions(schema: str, *, expired: int, live: int) -> list[str]:
    keys = []
    with schema_context(schema):
        for index in range(expired + live):
            store = SessionStore()
            store["n"] = index
            store.create()
            if index < expired:
                Session.objects.filter(session_key=store.session_key).update(
                    expire_date=timezone.now() - dt.timedelta(days=1)
                )
            keys.append(store.session_key)
    return keys


def _session_count(schema: str, keys: list[str]) -> int:
    with schema_context(schema):
        return Session.objects.filter(session_key__in=keys).count()


def test_expired_sessions_are_purged_in_every_schema_in_spread_batches(
    jobs_redis, redis_clean, probe_tables, tmp_path
):
    schemas = [probe_tables[label] for label in ("public", "acme", "globex")]
    keys = {schema: committed(_sessions, schema, expired=3, live=2) for schema in schemas}
    env = worker_env(jobs_redis, JOBS_SESSION_PURGE_BATCH="1", JOBS_SESSION_PURGE_SPREAD_S="3")
    with celery_process("worker", env=env, log_dir=tmp_path) as worker:
        # Every schema there is gets a batch (earlier tests may have left tenants of their own).
        from tenants.tasks import schema_batches, sessions_purge_fanout

        every = committed(lambda: len(schema_batches(batch_size=1)))

        def batches_done() -> int:
            return sum(
                "succeeded" in line and "tenants.sessions_purge_batch[" in line
                for line in worker.log_path.read_text().splitlines()
            )

        started = time.monotonic()
        sessions_purge_fanout.apply_async()
        wait_for(
            lambda: (
                all(committed(_session_count, s, keys[s]) == 2 for s in schemas) and batches_done() >= every
            ),
            timeout_s=60,
            message=f"expired sessions to go:\n{worker.log()}",
        )
        elapsed = time.monotonic() - started
    # One batch per schema, spread over 3 s: the last one cannot start at once.
    assert elapsed >= 3 * (every - 1) / every - 0.5


def test_schema_batches_start_with_public_and_cover_every_tenant(tenants):
    batches = schema_batches(batch_size=1)
    flat = [name for batch in batches for name in batch]
    assert flat[0] == settings.PUBLIC_SCHEMA_NAME
    assert {t.tenant.schema_name for t in tenants.values()} <= set(flat)
    assert all(len(batch) == 1 for batch in batches)
    assert len(flat) == len(set(flat))
