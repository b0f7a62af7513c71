"""A real PgBouncer (transaction mode, 2 server connections per database) in front of the
test databases, and probe data in acme and globex."""

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connections
from django_tenants.utils import schema_context

from tests.ops.server import free_port

from .support import LOOPBACK_HOSTS, POOL_SIZE, ROOT, PgBouncer, Probe, main_and_stats_ports


@pytest.fixture(scope="session")
def pgbouncer(django_db_setup) -> Iterator[PgBouncer]:
    """A private PgBouncer on a free loopback port, started (and installed if missing) by
    scripts/pgbouncer.sh, stopped at the end of the session."""
    for alias in ("default", "stats"):
        if connections[alias].settings_dict["HOST"] not in LOOPBACK_HOSTS:
            pytest.skip("the PgBouncer tests front the embedded loopback clusters (scripts/pg.sh)")
    runs_dir = ROOT / ".data" / "pgbouncer-tests"
    _remove_dead_runs(runs_dir)
    port = free_port()
    run_dir = runs_dir / str(port)
    main_port, stats_port = main_and_stats_ports()
    routes = ""
    if stats_port != main_port:  # stats on its own cluster (make test-split-stats)
        routes = f"{connections['stats'].settings_dict['NAME']}={stats_port}"
    env = {
        **os.environ,
        "PGBOUNCER_PORT": str(port),
        "PGBOUNCER_DIR": str(run_dir),
        "PGBOUNCER_POOL_SIZE": str(POOL_SIZE),
        "PG_PORT": str(main_port),
        "PGBOUNCER_ROUTES": routes,
    }
    script = [str(ROOT / "scripts" / "pgbouncer.sh")]
    started = subprocess.run([*script, "start"], env=env, capture_output=True, text=True, timeout=300)
    if started.returncode != 0:
        pytest.fail(f"scripts/pgbouncer.sh start failed:\n{started.stderr}")
    try:
        yield PgBouncer(port=port, admin_password=connections["default"].settings_dict["PASSWORD"])
    finally:
        subprocess.run([*script, "stop"], env=env, capture_output=True, timeout=30)
        shutil.rmtree(run_dir, ignore_errors=True)


def _remove_dead_runs(runs_dir: Path) -> None:
    """Folders of earlier sessions that were killed before stopping their PgBouncer."""
    for run_dir in runs_dir.glob("*"):
        pidfile = run_dir / "pgbouncer.pid"
        try:
            os.kill(int(pidfile.read_text().strip()), 0)
        except (OSError, ValueError):
            shutil.rmtree(run_dir, ignore_errors=True)  # no live PgBouncer behind it


@pytest.fixture(scope="session")
def probes(tenants, django_db_blocker) -> Iterator[dict[str, Probe]]:
    from tasks_app.models import Task
    from tasks_app.services import task_create

    run = uuid.uuid4().hex[:10]
    found: dict[str, Probe] = {}
    with django_db_blocker.unblock():
        for slug in ("acme", "globex"):
            info = tenants[slug]
            with schema_context(info.tenant.schema_name):
                task = task_create(actor=info.owner(), title=f"pool-probe-{slug}-{run}")
            session_key = info.login().cookies["sessionid"].value
            found[slug] = Probe(slug, info.host, task.title, task.id, session_key)
    yield found
    with django_db_blocker.unblock():
        for slug, probe in found.items():
            with schema_context(tenants[slug].tenant.schema_name):
                Task.objects.filter(id=probe.task_id).delete()
