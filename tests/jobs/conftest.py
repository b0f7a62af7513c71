"""A private Redis for the session and a real Celery worker for each test module."""

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import connection

from core.db.roles import owner_role
from saas.celery import app as celery_app
from tests.support.gunicorn import database_url
from tests.support.live_server import committed

from .support import CeleryProcess, RedisServer, celery_process, jobs_env, redis_server

MARKER_SCHEMAS = ("public", "acme", "globex")


def _broker_point_at(url: str) -> None:
    """Send this process's jobs to `url` from now on. The pools stay open: kombu keeps them
    in a process-wide registry by URL, and hands the same ones back for that URL."""
    settings.REDIS_URL = url
    celery_app.conf.broker_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture(scope="session")
def jobs_redis(tmp_path_factory) -> Iterator[RedisServer]:
    """redis-server on a free port in 6391..6430; the test process queues to it."""
    previous = (settings.REDIS_URL, celery_app.conf.broker_url)
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        _broker_point_at(server.url)
        try:
            yield server
        finally:
            _broker_point_at(previous[1])
            settings.REDIS_URL = previous[0]


@pytest.fixture
def redis_clean(jobs_redis) -> RedisServer:
    jobs_redis.client().flushall()
    return jobs_redis


def _probe_tables(schemas: dict[str, str], *, create: bool) -> None:
    # Tables the migrations did not make: the owner role's (its default privileges grant them
    # to each schema's role, as migrations' tables are).
    with owner_role(), connection.cursor() as cursor:
        for label, schema in schemas.items():
            table = f'"{schema}".jobs_probe_marker'
            if create:
                cursor.execute(f"CREATE TABLE IF NOT EXISTS {table} (value text)")
                cursor.execute(f"TRUNCATE {table}")
                cursor.execute(f"INSERT INTO {table} VALUES (%s)", [f"marker of {label}"])
            else:
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
        if create:
            cursor.execute("CREATE TABLE IF NOT EXISTS public.jobs_probe_effect (probe text)")
        else:
            cursor.execute("DROP TABLE IF EXISTS public.jobs_probe_effect")


@pytest.fixture(scope="session")
def probe_tables(tenants, django_db_blocker) -> Iterator[dict[str, str]]:
    """One marker row per schema (public, acme, globex), committed; label -> schema."""
    schemas = {
        "public": settings.PUBLIC_SCHEMA_NAME,
        "acme": tenants["acme"].tenant.schema_name,
        "globex": tenants["globex"].tenant.schema_name,
    }
    with django_db_blocker.unblock():
        committed(_probe_tables, schemas, create=True)
    yield schemas
    with django_db_blocker.unblock():
        committed(_probe_tables, schemas, create=False)


def worker_env(redis: RedisServer, **extra: str) -> dict[str, str]:
    return jobs_env(
        database_url=database_url(settings.DEFAULT_DB_ALIAS),
        stats_database_url=database_url(settings.STATS_DB_ALIAS),
        redis_url=redis.url,
        **extra,
    )


@pytest.fixture(scope="module")
def jobs_worker(jobs_redis, probe_tables, tmp_path_factory) -> Iterator[CeleryProcess]:
    """One `celery worker` (prefork, one child) for the module, against the test databases."""
    with celery_process("worker", env=worker_env(jobs_redis), log_dir=tmp_path_factory.mktemp("celery")) as w:
        yield w
