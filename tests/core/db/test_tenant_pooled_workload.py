"""The app on the pooled backend behind a real PgBouncer in transaction mode with 2 server
connections: 8 concurrent clients alternating acme and globex, then isolation checks.

Stock django-tenants mixes tenants behind the same PgBouncer; that is shown, beside this
backend, by `make bench` (bench/pooler_demo.py), not asserted here."""

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from django.db.models import Max
from django_tenants.utils import schema_context

from tasks_app.models import Task
from tests.support.pgbouncer import POOL_SIZE, AppServer, gunicorn_through
from tests.support.workload import WorkloadResult, run_workload

pytestmark = [pytest.mark.pgbouncer, pytest.mark.live]

CLIENTS = 8
TOTAL_REQUESTS = 2000
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def _report(name: str, result: WorkloadResult, extra: dict | None = None) -> None:
    """Keep the figures where the lead can paste them from (tests/artifacts is git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    line = {"workload": name, "summary": result.summary(), **(extra or {})}
    with (ARTIFACTS / "pgbouncer-workload.jsonl").open("a") as out:
        out.write(json.dumps(line) + "\n")
    print(f"\n[{name}] {result.summary()}")


@pytest.fixture(scope="module")
def pooled_app(pgbouncer, probes, tmp_path_factory) -> Iterator[AppServer]:
    with gunicorn_through(
        pgbouncer, pooler="pgbouncer-transaction", tmp_dir=tmp_path_factory.mktemp("pooled")
    ) as app:
        yield app


def _get(app: AppServer, host: str, path: str, session_key: str | None = None) -> tuple[int, dict, bytes]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=20)
    headers = {"Host": f"{host}:{app.port}"}
    if session_key:
        headers["Cookie"] = f"sessionid={session_key}"
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def _stats_events_since(started_at: float, route: str) -> int:
    from tenants.models import Client

    ids = [
        str(u)
        for u in Client.objects.filter(schema_name__in=["acme", "globex"]).values_list("uuid", flat=True)
    ]
    with connections["stats"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM usage_event WHERE occurred_at >= to_timestamp(%s)"
            " AND tenant_id = ANY(%s::uuid[]) AND route = %s",
            [started_at, ids, route],
        )
        return cursor.fetchone()[0]


@pytest.mark.timeout(600)  # maybe PgBouncer installed first (up to 300 s), then 2,000 requests (~35 s)
def test_pooled_backend_answers_every_request_from_the_right_tenant(
    pooled_app, pgbouncer, probes, django_db_blocker
):
    started_at = time.time()
    xacts_before = pgbouncer.transactions()
    result = run_workload(port=pooled_app.port, probes=probes, clients=CLIENTS, total_requests=TOTAL_REQUESTS)
    servers = pgbouncer.server_connections()
    xacts = pgbouncer.transactions() - xacts_before
    _report("DB_POOLER=pgbouncer-transaction", result, {"server_connections": servers, "transactions": xacts})

    assert result.requests >= TOTAL_REQUESTS
    assert result.errors == 0, f"{result.summary()}\n{pooled_app.log_tail()}"
    assert result.cross_tenant == 0, result.summary()
    assert result.right_tenant == result.requests
    # It really went through the pool: at most 2 server connections carried it all.
    assert 0 < servers <= POOL_SIZE
    assert xacts >= TOTAL_REQUESTS

    if "usage_stats.ingest.middleware.UsageStatsMiddleware" in settings.MIDDLEWARE:
        # The collector's COPY went through the same PgBouncer (STATS_DATABASE_URL).
        with django_db_blocker.unblock():
            deadline = time.monotonic() + 15
            while _stats_events_since(started_at, "task_list GET") < result.requests:
                assert time.monotonic() < deadline, "usage events did not arrive through PgBouncer"
                time.sleep(0.5)


# --- isolation checks through the pool ---------------------------------------------------


def test_session_replayed_on_another_subdomain_is_anonymous(pooled_app, probes):
    acme, globex = probes["acme"], probes["globex"]
    status, headers, body = _get(pooled_app, globex.host, "/", acme.session_key)
    assert status == 302
    assert headers["Location"].startswith("/accounts/login/")
    assert acme.title.encode() not in body
    status, _, body = _get(pooled_app, acme.host, "/", acme.session_key)
    assert status == 200
    assert acme.title.encode() in body


@pytest.fixture
def globex_only_task_id(probes, tenants, django_db_blocker) -> Iterator[int]:
    """A committed globex task whose id no acme task has (ids are per schema)."""
    with django_db_blocker.unblock():
        with schema_context("acme"):
            acme_max = Task.objects.aggregate(top=Max("id"))["top"] or 0
        with schema_context("globex"):
            globex_max = Task.objects.aggregate(top=Max("id"))["top"] or 0
            task = Task.objects.create(
                id=max(acme_max, globex_max) + 10_000,
                title=f"pool-globex-only-{uuid.uuid4().hex[:8]}",
                created_by=tenants["globex"].owner(),
            )
    yield task.id
    with django_db_blocker.unblock(), schema_context("globex"):
        Task.objects.filter(id=task.id).delete()


@pytest.mark.parametrize("path", ["/tasks/{id}/", "/api/v1/tasks/{id}"])
def test_another_tenants_task_id_is_404(pooled_app, probes, globex_only_task_id, path):
    acme, globex = probes["acme"], probes["globex"]
    status, _, _ = _get(pooled_app, globex.host, path.format(id=globex_only_task_id), globex.session_key)
    assert status == 200
    status, _, body = _get(pooled_app, acme.host, path.format(id=globex_only_task_id), acme.session_key)
    assert status == 404
    assert b"pool-globex-only" not in body


def test_unknown_host_is_404(pooled_app):
    status, _, body = _get(pooled_app, "nope.localhost", "/")
    assert status == 404
    assert b"Acme" not in body and b"Globex" not in body
