"""Tenants at scale, in one run against the dev database, each figure beside its baseline:

- creation: median of 50 `tenant_provision` calls with at least 1,000 tenants present,
  each way it runs (bench/provisioning.py): taking a spare schema (target 60 ms), making
  that spare (the job's work), and copying the template in the call when there is no spare
  (target 100 ms); beside creation by running the migrations (CREATE SCHEMA + migrate, the
  plain django-tenants way) and django-tenants' clone_schema. The owner's password is
  hashed with a fast hasher here; the default PBKDF2 cost, which is the same whatever the
  tenancy, is reported on its own;
- a no-op `manage.py migrate_schemas --tenant` over every tenant (a subprocess, wall time),
  beside django-tenants' standard executor, timed on a sample of schemas and extrapolated
  (BENCH_TENANTS_BASELINE_SCHEMAS=1000 times it on all);
- the signed-in task list of one tenant under `wrk` against gunicorn on loopback (2 workers,
  persistent connections, usage stats off): the cached routing, the same without per-tenant
  roles (DB_TENANT_ROLES off), stock django-tenants TenantMainMiddleware, and plain Django
  with no tenancy serving the same view.

The 1,000 `load-NNNN` tenants are created once (tenants_bulk_create) and kept; the 50
measured tenants are deleted afterwards.
"""

import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from contextlib import ExitStack
from pathlib import Path

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from django_tenants.clone import CloneSchema
from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand
from django_tenants.migration_executors.standard import StandardExecutor
from django_tenants.utils import schema_context

from audit.actors import actor_system
from core.db.roles import owner_role, tenant_role_of
from tasks_app.models import Task
from tasks_app.services import task_create
from tenants import template
from tenants.models import Client, Domain
from tenants.routing import routes_load_from_db
from tenants.selectors import tenant_get
from tenants.services import tenant_delete, tenant_provision, tenant_purge, tenants_bulk_create

from .provisioning import FAST_HASHER, provision_timed
from .server import gunicorn_serving

ROOT = Path(__file__).resolve().parent.parent
LOAD_TENANTS = 1000
CREATIONS = 50
MIGRATE_CREATIONS = 5
CLONE_CREATIONS = 3
NOOP_RUNS = 3
BASELINE_SCHEMAS = int(os.environ.get("BENCH_TENANTS_BASELINE_SCHEMAS", "40"))
HTTP_TENANT = "benchhttp"  # letters only: the plain-Django setup puts it in search_path as is
HTTP_TASKS = 25
WRK_SECONDS = int(os.environ.get("BENCH_TENANTS_WRK_SECONDS", "4"))
# Short rounds, many: each ratio is the median of per-round ratios, so a neighbour's load
# that comes and goes moves both sides of a round alike. The rounds run on several sets of
# fresh servers (WRK_SERVER_SETS x WRK_ROUNDS rounds in all).
WRK_ROUNDS = int(os.environ.get("BENCH_TENANTS_WRK_ROUNDS", "2"))
WRK_SERVER_SETS = int(os.environ.get("BENCH_TENANTS_WRK_SERVER_SETS", "8"))


def run(report) -> None:
    _load_tenants_ensure()
    total = Client.objects.real().count()
    print(f"  {total} tenants present", flush=True)
    _bench_creation(report, total)
    _bench_routes_reload(report, total)
    _bench_noop_migrate(report, total)
    _bench_http(report)


# --- set-up ------------------------------------------------------------------------------------


def _load_tenants_ensure() -> None:
    present = Client.objects.filter(slug__startswith="load-").count()
    if present >= LOAD_TENANTS:
        return
    print(f"  creating {LOAD_TENANTS - present} load tenants (once; kept for later runs)", flush=True)
    started = time.perf_counter()

    def progress(done: int, count: int, slug: str) -> None:
        if done % 100 == 0:
            print(f"    {done}/{count} tenants", flush=True)

    result = tenants_bulk_create(prefix="load", count=LOAD_TENANTS, progress=progress)
    print(f"    {len(result.created)} created in {time.perf_counter() - started:.1f} s", flush=True)


# --- creation -----------------------------------------------------------------------------------


def _bench_creation(report, total: int) -> None:
    run_id = uuid.uuid4().hex[:6]
    made: list[str] = []
    with override_settings(PASSWORD_HASHERS=FAST_HASHER):
        try:
            timings = provision_timed(prefix="bench", creations=CREATIONS, slugs=made)
            migrate_ms = [
                _timed_rolled_back(_create_by_migrating, f"benchm-{run_id}-{i}")
                for i in range(MIGRATE_CREATIONS)
            ]
            clone_ms = _clone_baseline_ms(run_id)
        finally:
            for slug in made:
                tenant = tenant_get(slug=slug)
                if tenant is not None:
                    tenant_delete(actor=actor_system(), tenant=tenant, confirm_slug=slug)
                    tenant_purge(actor=actor_system(), tenant=tenant, force=True)
    medians = timings.medians()
    migrate_median = statistics.median(migrate_ms)
    baseline_name = f"CREATE SCHEMA + migrate (median of {MIGRATE_CREATIONS})"
    report.add(
        "tenants.create_ms",
        medians["create_ms"],
        "ms",
        baseline=migrate_median,
        baseline_name=baseline_name,
        target="<= 60 ms",
        ok=medians["create_ms"] <= 60,
        tenants_present=total,
        creations=CREATIONS,
        max_ms=max(timings.create_ms),
        way="a spare schema taken (bench/provisioning.py)",
    )
    report.add("tenants.spare_make_ms", medians["spare_ms"], "ms", way="the refill job, off the request")
    report.add(
        "tenants.create_without_spare_ms",
        medians["copy_ms"],
        "ms",
        baseline=migrate_median,
        baseline_name=baseline_name,
        max_ms=max(timings.copy_ms),
        way="no spare at hand: the template copied in the call",
    )
    if clone_ms:
        report.add(
            "tenants.create_ms_vs_django_tenants_clone",
            medians["copy_ms"],
            "ms",
            baseline=statistics.median(clone_ms),
            baseline_name=f"django-tenants clone_schema + fake migrate (median of {CLONE_CREATIONS})",
        )
    started = time.perf_counter()
    for _ in range(3):
        make_password("bench-pw-1234-x")  # the default (PBKDF2) hasher
    report.add("tenants.owner_password_hash_ms", (time.perf_counter() - started) * 1000 / 3, "ms")


def _clone_baseline_ms(run_id: str) -> list[float]:
    """django-tenants' clone_schema replays the template's privileges with SET ROLE to each
    grantor, which the owner role may not always become (it is no member of the app role): then
    there is no such baseline, and the run goes on without it."""
    try:
        return [
            _timed_rolled_back(_create_by_django_tenants_clone, f"benchc-{run_id}-{i}")
            for i in range(CLONE_CREATIONS)
        ]
    except DatabaseError as exc:
        print(f"  django-tenants clone baseline unavailable: {str(exc).splitlines()[0]}", flush=True)
        return []


def _timed_rolled_back(create, slug: str) -> float:
    started = time.perf_counter()
    # The baselines make schemas outside provisioning: as the owner role, as it does.
    with transaction.atomic(), owner_role():
        create(slug)
        elapsed = (time.perf_counter() - started) * 1000
        transaction.set_rollback(True)
    connection.set_schema_to_public()
    return elapsed


def _tenant_rows(slug: str) -> None:
    """What provisioning adds besides the schema: the tenant row (schema left to the caller),
    the domain and the owner."""
    tenant = Client(schema_name=slug, slug=slug, name=slug)
    tenant.auto_create_schema = False
    tenant.save(verbosity=0)
    Domain.objects.create(domain=f"{slug}.{settings.BASE_DOMAIN}", tenant=tenant, is_primary=True)


def _owner(slug: str) -> None:
    with schema_context(slug):
        get_user_model().objects.create_user(f"o@{slug}.example", "bench-pw-1234-x", role="owner")


def _create_by_migrating(slug: str) -> None:
    _tenant_rows(slug)
    template._schema_create_by_migrating(slug)
    _owner(slug)


def _create_by_django_tenants_clone(slug: str) -> None:
    # What TenantMixin.create_schema does with TENANT_BASE_SCHEMA: clone, then fake-migrate.
    _tenant_rows(slug)
    CloneSchema().clone_schema(template.template_schema_name(), slug, "DATA")
    call_command(
        MigrateSchemasCommand(),
        schema_name=slug,
        fake=True,
        executor="standard",
        interactive=False,
        verbosity=0,
    )
    connection.set_schema_to_public()
    _owner(slug)


def _bench_routes_reload(report, total: int) -> None:
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        table = routes_load_from_db()
        timings.append((time.perf_counter() - started) * 1000)
    report.add(
        "tenants.routes_reload_ms", statistics.median(timings), "ms", domains=len(table), tenants=total
    )


# --- migrate_schemas ----------------------------------------------------------------------------


def _bench_noop_migrate(report, total: int) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "saas.settings.dev"),
    }
    command = [sys.executable, "manage.py", "migrate_schemas", "--tenant", "--noinput"]
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, timeout=600)  # settle
    walls = []
    for _ in range(NOOP_RUNS):
        started = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        walls.append(time.perf_counter() - started)
        if done.returncode != 0 or "0 to migrate" not in done.stdout:
            raise RuntimeError(f"migrate_schemas was not a no-op: {done.stdout[-500:]} {done.stderr[-500:]}")

    schemas = list(Client.objects.real().order_by("schema_name").values_list("schema_name", flat=True))
    sample = schemas[: min(BASELINE_SCHEMAS, len(schemas))]
    parser = MigrateSchemasCommand().create_parser("manage.py", "migrate_schemas")
    options = vars(parser.parse_args(["--tenant", "--executor", "standard", "--noinput", "-v", "0"]))
    started = time.perf_counter()
    StandardExecutor(args=(), options=options).run_migrations(tenants=list(sample))
    per_schema = (time.perf_counter() - started) / len(sample)
    connection.set_schema_to_public()
    wall = statistics.median(walls)
    report.add(
        "tenants.migrate_noop_s",
        wall,
        "s",
        baseline=per_schema * len(schemas),
        baseline_name=f"django-tenants standard executor ({len(sample)} timed, scaled to {len(schemas)})",
        target=f"<= 30 s over {len(schemas)} tenants",
        ok=wall <= 30 and len(schemas) >= LOAD_TENANTS,
        tenant_schemas=len(schemas),
    )


# --- HTTP ------------------------------------------------------------------------------------


def _bench_http(report) -> None:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (scripts/system_deps.sh wrk)")
    host, cookie, title = _http_tenant_ensure()
    configs = {
        "cached": "saas.settings.dev",
        "noroles": "bench.tenants_settings_noroles",
        "stock": "bench.tenants_settings_stock",
        "plain": "bench.tenants_settings_plain",
    }
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in configs}
    names = list(configs)
    for server_set in range(WRK_SERVER_SETS):
        # Fresh servers for each set: two identical gunicorns can differ by 10 % for their
        # whole life (where their workers and backends land), so one set per run measured
        # its servers more than the set-ups.
        order = names[server_set % len(names) :] + names[: server_set % len(names)]
        with ExitStack() as stack:
            ports = {name: stack.enter_context(_gunicorn(configs[name])) for name in order}
            for name, port in ports.items():
                body = _get(port, host, cookie)
                if title not in body:
                    raise RuntimeError(f"{name}: the task list did not render the bench tasks")
                _wrk(port, host, cookie, seconds=2)  # warm-up: connections, caches, bytecode
            for round_ in range(WRK_ROUNDS):
                for name in order[round_ % len(order) :] + order[: round_ % len(order)]:
                    results[name].append(_wrk(ports[name], host, cookie, seconds=WRK_SECONDS))
    rps = {name: statistics.median(r for r, _ in runs) for name, runs in results.items()}
    p50 = {name: statistics.median(p for _, p in runs) for name, runs in results.items()}
    plain = "plain Django, no tenancy"

    def paired(name: str, base: str) -> float:
        return statistics.median(a[1] / b[1] for a, b in zip(results[name], results[base], strict=True))

    ratio = paired("cached", "plain")
    roles_ratio = paired("cached", "noroles")
    report.add(
        "tenants.http_cached_p50_ms",
        p50["cached"],
        "ms",
        baseline=p50["plain"],
        baseline_name=plain,
        target="<= 1.15x no-tenancy",
        ok=ratio <= 1.15,
        page="signed-in task list",
        paired_ratio=ratio,
    )
    # Per-tenant PostgreSQL roles (core/db/roles.py) against the same run without them.
    report.add(
        "tenants.http_roles_p50_ms",
        p50["cached"],
        "ms",
        baseline=p50["noroles"],
        baseline_name="the same routing without per-tenant roles (DB_TENANT_ROLES off)",
        target="<= 1.05x without roles",
        ok=roles_ratio <= 1.05,
        page="signed-in task list",
        paired_ratio=roles_ratio,
    )
    rounds = WRK_ROUNDS * WRK_SERVER_SETS
    print(f"  (ratios within each round, median of {rounds}: {ratio:.2f}x, roles {roles_ratio:.2f}x)")
    report.add("tenants.http_stock_p50_ms", p50["stock"], "ms", baseline=p50["plain"], baseline_name=plain)
    report.add("tenants.http_cached_rps", rps["cached"], "req/s", baseline=rps["plain"], baseline_name=plain)
    report.add("tenants.http_stock_rps", rps["stock"], "req/s", baseline=rps["plain"], baseline_name=plain)


def _http_tenant_ensure() -> tuple[str, str, str]:
    tenant = tenant_get(slug=HTTP_TENANT)
    if tenant is None:
        # Its schema is named after it (no spare): the plain-Django set-up uses the name.
        with override_settings(TENANT_SPARE_SCHEMAS=0):
            tenant = tenant_provision(
                slug=HTTP_TENANT,
                name="Bench HTTP",
                owner_email="owner@benchhttp.example",
                owner_password=None,
            ).tenant
    with schema_context(tenant.schema_name):
        owner = get_user_model().objects.get(email="owner@benchhttp.example")
        for i in range(HTTP_TASKS - Task.objects.count()):
            task_create(actor=owner, title=f"Bench task {i:02d}", description="A task the benchmark lists.")
        session = SessionStore()
        session[SESSION_KEY] = str(owner.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = owner.get_session_auth_hash()
        session.create()
    connection.set_schema_to_public()
    title = "Bench task"
    return (
        f"{HTTP_TENANT}.{settings.BASE_DOMAIN}",
        f"{settings.SESSION_COOKIE_NAME}={session.session_key}",
        title,
    )


def _gunicorn(settings_module: str):
    env = {
        "DJANGO_SETTINGS_MODULE": settings_module,
        "BENCH_PLAIN_SCHEMA": HTTP_TENANT,
        "BENCH_TENANT_ROLE": tenant_role_of(HTTP_TENANT),
    }
    return gunicorn_serving(label=settings_module, env=env, workers=2)


def _get(port: int, host: str, cookie: str) -> str:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", headers={"Host": host, "Cookie": cookie})
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status != 200:
            raise RuntimeError(f"task list answered {response.status}")
        return response.read().decode()


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _wrk(port: int, host: str, cookie: str, *, seconds: int) -> tuple[float, float]:
    """(requests/s, p50 latency in ms) of one wrk run; fails on any non-2xx answer."""
    done = subprocess.run(
        ["wrk", "-t1", "-c4", f"-d{seconds}s", "--latency", "-H", f"Host: {host}", "-H", f"Cookie: {cookie}",
         f"http://127.0.0.1:{port}/"],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    )  # fmt: skip
    out = done.stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE).groups()
    return rps, float(value) * _UNITS_MS[unit]
