"""PgBouncer, probe data and gunicorn helpers for the pooler tests."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from django.db import connections

from tests.ops.server import gunicorn

ROOT = Path(__file__).resolve().parents[2]
POOL_SIZE = 2
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})


@dataclass
class PgBouncer:
    port: int
    admin_password: str

    def url(self, alias: str) -> str:
        """A DATABASE_URL for a test database alias, routed through this PgBouncer."""
        settings_dict = connections[alias].settings_dict
        user = quote(settings_dict["USER"], safe="")
        password = quote(settings_dict["PASSWORD"], safe="")
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

        conn = psycopg2.connect(
            host="127.0.0.1",
            port=self.port,
            dbname="pgbouncer",
            user="postgres",
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


def main_and_stats_ports() -> tuple[int, int]:
    return tuple(int(connections[alias].settings_dict["PORT"] or 5432) for alias in ("default", "stats"))


@dataclass
class Probe:
    """A tenant with a committed task whose title exists nowhere else, and a signed-in session."""

    slug: str
    host: str
    title: str
    task_id: int
    session_key: str


@dataclass
class AppServer:
    port: int
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def gunicorn_through(pgbouncer: PgBouncer, *, pooler: str, tmp_dir: Path) -> Iterator[AppServer]:
    """gunicorn (2 workers x 4 threads: 8 requests at once, each thread its own database
    connection) whose main and stats databases are reached only through PgBouncer.
    `pooler` is DB_POOLER: "pgbouncer-transaction", or "" for stock django-tenants."""
    with gunicorn(
        database_url=pgbouncer.url("default"),
        stats_database_url=pgbouncer.url("stats"),
        log_dir=tmp_dir,
        workers=2,
        threads=4,
        extra_env={"DB_POOLER": pooler, "CONN_MAX_AGE": "60", "LOG_LEVEL": "WARNING"},
    ) as server:
        yield AppServer(port=server.port, log_path=server.log_path)
