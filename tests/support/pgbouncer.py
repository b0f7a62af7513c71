"""A private PgBouncer in transaction mode (2 server connections per database) in front of
the embedded clusters, and gunicorn reaching its databases only through it.

Used by the pooler tests (tests/core/db/conftest.py) and by `make bench` (bench/pooler_demo.py).
"""

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from django.db import connections

from tests.support.gunicorn import ROOT, free_port, gunicorn
from tests.support.tiers import needs_tier

POOL_SIZE = 2
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})
SCRIPT = ROOT / "scripts" / "pgbouncer.sh"


class PgBouncerUnavailable(Exception):
    """The databases are not the embedded loopback clusters PgBouncer is set up to front."""


@dataclass
class PgBouncer:
    port: int
    admin_password: str

    def url(self, alias: str, *, credentials: tuple[str, str] | None = None) -> str:
        """A DATABASE_URL for a database alias, routed through this PgBouncer, as the alias's
        user or as `credentials` (user, password)."""
        settings_dict = connections[alias].settings_dict
        user, password = credentials or (settings_dict["USER"], settings_dict["PASSWORD"])
        user, password = quote(user, safe=""), quote(password, safe="")
        return f"postgres://{user}:{password}@127.0.0.1:{self.port}/{settings_dict['NAME']}"

    def settings_dict(self, alias: str) -> dict:
        """A copy of the alias's connection settings pointing at this PgBouncer."""
        settings_dict = dict(connections[alias].settings_dict)
        settings_dict.update(HOST="127.0.0.1", PORT=self.port, CONN_MAX_AGE=0)
        settings_dict["OPTIONS"] = dict(settings_dict.get("OPTIONS", {}))
        return settings_dict

    def show(self, what: str) -> list[dict]:
        """Rows of PgBouncer's admin console `SHOW <what>`."""
        import psycopg2

        # The app role is one of the console's stats_users (scripts/pgbouncer.sh).
        settings_dict = connections["default"].settings_dict
        conn = psycopg2.connect(
            host="127.0.0.1",
            port=self.port,
            dbname="pgbouncer",
            user=settings_dict["USER"],
            password=self.admin_password,
        )
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                cursor.execute(f"SHOW {what}")
                names = [col.name for col in cursor.description]
                return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            conn.close()

    def server_connections(self, alias: str = "default") -> int:
        """Server connections PgBouncer holds to the alias's database."""
        name = connections[alias].settings_dict["NAME"]
        return sum(
            int(row["sv_active"] + row["sv_idle"] + row["sv_used"] + row["sv_tested"] + row["sv_login"])
            for row in self.show("POOLS")
            if row["database"] == name
        )

    def transactions(self, alias: str = "default") -> int:
        """Transactions PgBouncer has carried to the alias's database so far."""
        name = connections[alias].settings_dict["NAME"]
        return sum(int(row["total_xact_count"]) for row in self.show("STATS") if row["database"] == name)


def main_and_stats_ports() -> tuple[int, int]:
    return tuple(int(connections[alias].settings_dict["PORT"] or 5432) for alias in ("default", "stats"))


@needs_tier("pgbouncer")
@contextmanager
def pgbouncer_running(*, runs_dir: Path) -> Iterator[PgBouncer]:
    """A PgBouncer on a free loopback port in front of the `default` and `stats` databases,
    started (and installed if missing) by scripts/pgbouncer.sh, stopped on exit."""
    for alias in ("default", "stats"):
        if connections[alias].settings_dict["HOST"] not in LOOPBACK_HOSTS:
            raise PgBouncerUnavailable("PgBouncer fronts the embedded loopback clusters only (scripts/pg.sh)")
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
    started = subprocess.run([str(SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=300)
    if started.returncode != 0:
        raise RuntimeError(f"scripts/pgbouncer.sh start failed:\n{started.stderr}")
    try:
        yield PgBouncer(port=port, admin_password=connections["default"].settings_dict["PASSWORD"])
    finally:
        subprocess.run([str(SCRIPT), "stop"], env=env, capture_output=True, timeout=30)
        shutil.rmtree(run_dir, ignore_errors=True)


def _remove_dead_runs(runs_dir: Path) -> None:
    """Folders of earlier runs that were killed before stopping their PgBouncer."""
    for run_dir in runs_dir.glob("*"):
        pidfile = run_dir / "pgbouncer.pid"
        try:
            os.kill(int(pidfile.read_text().strip()), 0)
        except (OSError, ValueError):
            shutil.rmtree(run_dir, ignore_errors=True)  # no live PgBouncer behind it


@dataclass
class AppServer:
    port: int
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def gunicorn_through(
    pgbouncer: PgBouncer,
    *,
    pooler: str,
    tmp_dir: Path,
    settings_module: str = "saas.settings.test",
    extra_env: dict[str, str] | None = None,
    credentials: tuple[str, str] | None = None,
) -> Iterator[AppServer]:
    """gunicorn (2 workers x 4 threads: 8 requests at once, each thread its own database
    connection) whose main and stats databases are reached only through PgBouncer.
    `pooler` is DB_POOLER: "pgbouncer-transaction", or "" for stock django-tenants."""
    with gunicorn(
        database_url=pgbouncer.url("default", credentials=credentials),
        stats_database_url=pgbouncer.url("stats"),
        log_dir=tmp_dir,
        workers=2,
        threads=4,
        settings_module=settings_module,
        extra_env={"DB_POOLER": pooler, "CONN_MAX_AGE": "60", "LOG_LEVEL": "WARNING", **(extra_env or {})},
    ) as server:
        yield AppServer(port=server.port, log_path=server.log_path)
