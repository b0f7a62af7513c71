"""Why DB_POOLER=pgbouncer-transaction exists: stock django-tenants behind a PgBouncer in
transaction mode answers requests from another tenant's schema; the pooled backend does not.
Both are measured in the same run, against the same PgBouncer (2 server connections per
database) in front of the dev database:

- statements: two connections, one on each of two tenants, interleave `SELECT current_schema()`
  through PgBouncer. Stock django-tenants sets the search_path once per session (its own
  transaction), so the next statement may run on a server connection set for the other
  tenant; the pooled backend states the path inside every transaction.
- requests: gunicorn (2 workers x 4 threads) through the PgBouncer, 8 clients alternating the
  two tenants' signed-in task lists, every answer classified as right tenant, cross-tenant
  (the other tenant's probe task on the page) or error (5xx, a redirect to sign-in because
  the session was looked up in the other schema, a dropped connection).

The test suite asserts only the pooled backend (tests/core/db/). If stock django-tenants ever
stops mixing tenants here, the stock figures say so ([target ...: MISSED]) and the pooled
backend may no longer be needed.
"""

import tempfile
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection, connections
from django_tenants.postgresql_backend import base as stock_backend
from django_tenants.utils import schema_context

from core.db.backends.tenant_pooled import base as pooled_backend
from tasks_app.models import Task
from tasks_app.services import task_create
from tenants.models import Client
from tenants.selectors import tenant_get
from tenants.services import tenant_provision
from tests.support.database import owner_credentials
from tests.support.pgbouncer import gunicorn_through, pgbouncer_running
from tests.support.workload import Probe, WorkloadResult, run_workload

ROOT = Path(__file__).resolve().parent.parent
SLUGS = ("poolbencha", "poolbenchb")  # letters only, like the other bench tenants
INTERLEAVED_STATEMENTS = 200
CLIENTS = 8
TOTAL_REQUESTS = 2000
POOLED, STOCK = "pgbouncer-transaction", ""


def run(report) -> None:
    tenants = [_tenant_ensure(slug) for slug in SLUGS]
    run_id = uuid.uuid4().hex[:8]
    with pgbouncer_running(runs_dir=ROOT / ".data" / "pgbouncer-bench") as pgbouncer:
        wrong = {
            name: _interleaved_wrong_schema(backend, pgbouncer, tenants)
            for name, backend in (("pooled", pooled_backend), ("stock", stock_backend))
        }
        report.add(
            "pooler.statements_wrong_schema",
            wrong["pooled"],
            f"of {INTERLEAVED_STATEMENTS}",
            baseline=wrong["stock"],
            baseline_name="stock django-tenants",
            target="0",
            ok=wrong["pooled"] == 0,
        )
        report.add(
            "pooler.stock_statements_wrong_schema",
            wrong["stock"],
            f"of {INTERLEAVED_STATEMENTS}",
            target="> 0 (stock mixes tenants)",
            ok=wrong["stock"] > 0,
        )
        results: dict[str, WorkloadResult] = {}
        # Stock django-tenants as the owner role: the app role may read no tenant's tables, and
        # stock switches no role; before per-tenant roles the app could read them all.
        stock_as = {
            "settings_module": "bench.pooler_settings_stock",
            "credentials": owner_credentials("default"),
        }
        for name, pooler in (("pooled", POOLED), ("stock", STOCK)):
            # Fresh sign-ins per run: answering from the wrong schema also signs people out.
            probes = _probes(tenants, run_id)
            try:
                with gunicorn_through(
                    pgbouncer,
                    pooler=pooler,
                    tmp_dir=Path(tempfile.mkdtemp(prefix=f"pooler-demo-{name}-")),
                    extra_env={"DEBUG": "false", "USAGE_STATS_ENABLED": "false"},
                    **(stock_as if name == "stock" else {"settings_module": "saas.settings.dev"}),
                ) as app:
                    results[name] = run_workload(
                        port=app.port, probes=probes, clients=CLIENTS, total_requests=TOTAL_REQUESTS
                    )
            finally:
                _probes_delete(tenants, probes)
            print(f"  [{name}] {results[name].summary()}", flush=True)
    pooled, stock = results["pooled"], results["stock"]
    for figure in ("right_tenant", "cross_tenant", "errors"):
        report.add(
            f"pooler.requests_{figure}",
            getattr(pooled, figure),
            f"of {pooled.requests}",
            baseline=getattr(stock, figure),
            baseline_name=f"stock django-tenants (of {stock.requests})",
            **({} if figure == "right_tenant" else {"target": "0", "ok": getattr(pooled, figure) == 0}),
        )
    report.add(
        "pooler.stock_requests_wrong",
        stock.cross_tenant + stock.errors,
        f"of {stock.requests}",
        target="> 0 (stock mixes tenants)",
        ok=stock.cross_tenant + stock.errors > 0,
        error_kinds=dict(stock.error_kinds),
    )


def _tenant_ensure(slug: str) -> Client:
    tenant = tenant_get(slug=slug)
    if tenant is None:
        tenant = tenant_provision(
            slug=slug,
            name=f"Pooler bench {slug[-1].upper()}",
            owner_email=f"owner@{slug}.example",
            owner_password=None,
        ).tenant
    connection.set_schema_to_public()
    return tenant


def _interleaved_wrong_schema(backend, pgbouncer, tenants: list[Client]) -> int:
    """Statements the first tenant's connection ran in another schema, out of
    INTERLEAVED_STATEMENTS, when its statements alternate with the second tenant's."""
    wrappers = []
    for index, tenant in enumerate(tenants):
        alias = f"pooler_demo_{index}"
        wrapper = backend.DatabaseWrapper(pgbouncer.settings_dict("default"), alias)
        wrapper.set_tenant(tenant)
        connections[alias] = wrapper
        wrappers.append((alias, wrapper))
    (_, first), (_, second) = wrappers
    wrong = 0
    try:
        # Cursors opened in this order: each one's session-level SET (stock) is its own
        # transaction, so the first cursor's server connection is the second's by now.
        first_cursor, second_cursor = first.cursor(), second.cursor()
        for _ in range(INTERLEAVED_STATEMENTS):
            second_cursor.execute("SELECT current_schema()")
            second_cursor.fetchone()
            first_cursor.execute("SELECT current_schema()")
            wrong += first_cursor.fetchone()[0] != tenants[0].schema_name
        first_cursor.close()
        second_cursor.close()
    finally:
        for alias, wrapper in wrappers:
            wrapper.close()
            del connections[alias]
    return wrong


def _probes(tenants: list[Client], run_id: str) -> dict[str, Probe]:
    """A task with a title found nowhere else and a new signed-in session, per tenant."""
    found = {}
    for tenant in tenants:
        with schema_context(tenant.schema_name):
            owner = get_user_model().objects.get(email=f"owner@{tenant.slug}.example")
            task = task_create(
                actor=owner, title=f"pooler-demo-{tenant.slug}-{run_id}-{uuid.uuid4().hex[:6]}"
            )
            session = SessionStore()
            session[SESSION_KEY] = str(owner.pk)
            session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
            session[HASH_SESSION_KEY] = owner.get_session_auth_hash()
            session.create()
        host = f"{tenant.slug}.{settings.BASE_DOMAIN}"
        found[tenant.slug] = Probe(tenant.slug, host, task.title, task.id, session.session_key)
    connection.set_schema_to_public()
    return found


def _probes_delete(tenants: list[Client], probes: dict[str, Probe]) -> None:
    for tenant in tenants:
        with schema_context(tenant.schema_name):
            Task.objects.filter(id=probes[tenant.slug].task_id).delete()
    connection.set_schema_to_public()
