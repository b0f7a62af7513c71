"""`make bench-citus`: the same four figures on the Citus cluster (scripts/citus.sh: coordinator
and two workers on loopback) and on the single node (scripts/pg.sh), measured in one run,
each cluster figure printed beside the single node's:

- citus.create_ms, spare_ms, copy_ms: median `tenant_provision` of CREATIONS tenants each
  way it runs (bench/provisioning.py): taking a spare schema (what a sign-up waits for;
  target <= 150 ms on the cluster), making that spare (the refill job), and copying the
  template in the call when no spare is at hand. The tenants are deleted afterwards;
- citus.task_list_p50_ms: the signed-in task list (25 tasks) of one tenant, Django's test
  client in-process, REQUESTS requests;
- citus.ingest_events_per_s: BatchWriter COPY of INGEST_EVENTS events in batches of 5,000
  for 50 tenants (the collector's path), through the coordinator;
- citus.dashboard_p95_ms: one tenant's 7-day dashboard series (after a rollup of those
  events), DASH_RUNS calls.

Each target is measured by a child process (`python -m bench.citus measure`) with that
target's DATABASE_URL and STATS_DATABASE_URL (.data/db.env, .data/citus.env), so both use
the same code and settings. The benchmark's rows are removed afterwards.
"""

import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CREATIONS = int(os.environ.get("BENCH_CITUS_CREATIONS", "15"))
REQUESTS = 200
INGEST_EVENTS = 50_000
BATCH = 5_000
DASH_RUNS = 50
EVENT = "bench.citus"


def _env_file(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            found[key] = value.strip('"')
    return found


# The cluster runs as scripts/test-citus.sh runs it: no per-tenant roles (docs/scale-out.md
# says why), none of the single node's role names, the search_path in a round trip of its own.
CLUSTER_ENV = {
    "DB_TENANT_ROLES": "false",
    "DB_OWNER_ROLE": "",
    "DB_APP_ROLE": "",
    "DB_STATS_WRITER_ROLE": "",
    "DB_STATS_READER_ROLE": "",
    "DATABASE_OWNER_URL": "",
    "STATS_DATABASE_OWNER_URL": "",
    "DB_PREFIX_SEPARATE": "true",
}


def _measure_in_child(env_file: Path, extra_env: dict[str, str] | None = None) -> dict:
    env = {**os.environ, **{k: v for k, v in _env_file(env_file).items() if k.endswith("DATABASE_URL")}}
    env.update(extra_env or {})
    env["DJANGO_SETTINGS_MODULE"] = "saas.settings.dev"
    for command in (
        ["migrate_schemas", "--shared", "--noinput", "-v", "0"],
        ["migrate_schemas", "--tenant", "--noinput", "-v", "0"],
        ["migrate_stats", "--noinput", "-v", "0"],
    ):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True)
    done = subprocess.run(
        [sys.executable, "-m", "bench.citus", "measure"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(report) -> None:
    single_env, cluster_env = ROOT / ".data" / "db.env", ROOT / ".data" / "citus.env"
    if not cluster_env.exists():
        raise RuntimeError("no .data/citus.env: start the cluster first (scripts/citus.sh start)")
    print("  measuring the single node", flush=True)
    single = _measure_in_child(single_env)
    print("  measuring the Citus cluster (coordinator + 2 workers)", flush=True)
    cluster = _measure_in_child(cluster_env, CLUSTER_ENV)
    base = "single node"
    figures = (
        ("citus.create_ms", "ms", {"target": "<= 150 ms", "ok": cluster["create_ms"] <= 150,
                                    "creations": CREATIONS, "workers_used": cluster["workers_used"],
                                    "way": "a spare schema taken (bench/provisioning.py)"}),
        ("citus.spare_ms", "ms", {"way": "making that spare: the refill job, off the request"}),
        ("citus.copy_ms", "ms", {"way": "a sign-up that finds no spare copies the template itself"}),
        ("citus.task_list_p50_ms", "ms", {"requests": REQUESTS}),
        ("citus.ingest_events_per_s", "events/s", {"events": INGEST_EVENTS}),
        ("citus.dashboard_p95_ms", "ms", {"runs": DASH_RUNS}),
    )  # fmt: skip
    for name, unit, extra in figures:
        key = name.removeprefix("citus.")
        report.add(name, cluster[key], unit, baseline=single[key], baseline_name=base, **extra)


# --- in the child ---------------------------------------------------------------------------


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _measure() -> dict:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connections
    from django.test import Client as HttpClient
    from django.test import override_settings
    from django_tenants.utils import schema_context

    from accounts.models import User
    from audit.actors import actor_system
    from tasks_app.models import Task
    from tenants.selectors import tenant_get
    from tenants.services import tenant_delete
    from tenants.services.placement import citus_enabled, tenant_node
    from usage_stats.dashboards import selectors
    from usage_stats.dashboards.periods import period_resolve
    from usage_stats.ingest.encoding import LineEncoder, queued_event
    from usage_stats.ingest.writer import BatchWriter
    from usage_stats.rollups.rollup import rollup_run

    from .provisioning import provision_timed

    made: list[str] = []
    out: dict = {}
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        try:
            timings = provision_timed(prefix="bcit", creations=CREATIONS, slugs=made)
            out.update(timings.medians())
            nodes = {str(tenant_node(tenant=tenant_get(slug=s))) for s in made} if citus_enabled() else set()
            out["workers_used"] = len(nodes)

            # Task list: the first bench tenant with 25 tasks, its owner signed in.
            tenant = tenant_get(slug=made[0])
            with schema_context(tenant.schema_name):
                owner = User.objects.get(email=f"o@{made[0]}.example")
                Task.objects.bulk_create(Task(title=f"task {n}", created_by=owner) for n in range(25))
                client = HttpClient(HTTP_HOST=f"{made[0]}.{settings.BASE_DOMAIN}")
                client.force_login(owner)
            latencies = []
            for _ in range(REQUESTS + 10):
                started = time.perf_counter()
                response = client.get("/")
                latencies.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.status_code
            out["task_list_p50_ms"] = statistics.median(latencies[10:])
        finally:
            for slug in made:
                found = tenant_get(slug=slug)
                if found is not None:
                    tenant_delete(actor=actor_system(), tenant=found, confirm_slug=slug)

    # Ingest: COPY batches through the BatchWriter, 50 tenants, spread over the last 7 days.
    tenants = [uuid.uuid4() for _ in range(50)]
    encoder = LineEncoder()
    now = time.time()
    lines = [
        encoder.line(
            queued_event(
                "request" if n % 3 else EVENT,
                ts=now - (n * 7 * 86400 / INGEST_EVENTS),
                tenant_id=tenants[n % len(tenants)],
                route="tasks:list",
                method="GET",
                status=200,
                latency_ms=float(n % 400),
            )
        )
        for n in range(INGEST_EVENTS)
    ]
    writer = BatchWriter(alias="stats")
    started = time.perf_counter()
    for i in range(0, len(lines), BATCH):
        writer.write(lines[i : i + BATCH])
    out["ingest_events_per_s"] = INGEST_EVENTS / (time.perf_counter() - started)
    try:
        rollup_run(wait_s=0.5)
        period = period_resolve(key="7d", tz_name="UTC")
        selectors.usage_series(period=period, tenant_id=tenants[0])  # warm
        dash = []
        for n in range(DASH_RUNS):
            started = time.perf_counter()
            selectors.usage_series(period=period, tenant_id=tenants[n % len(tenants)])
            dash.append((time.perf_counter() - started) * 1000)
        out["dashboard_p95_ms"] = _p(dash, 0.95)
    finally:
        with connections["stats"].cursor() as cursor:
            for statement in (
                "DELETE FROM usage_event WHERE tenant_id = ANY(%s::uuid[])",
                "DELETE FROM usage_rollup_hourly WHERE tenant_id = ANY(%s::uuid[])",
                "DELETE FROM usage_rollup_quarter WHERE tenant_id = ANY(%s::uuid[])",
                "DELETE FROM usage_rollup_tenant_hourly WHERE tenant_id = ANY(%s::uuid[])",
                "DELETE FROM usage_rollup_tenant_quarter WHERE tenant_id = ANY(%s::uuid[])",
            ):
                cursor.execute(statement, [[str(t) for t in tenants]])
    return out


if __name__ == "__main__" and sys.argv[1:] == ["measure"]:
    print(json.dumps(_measure()))
