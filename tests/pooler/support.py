"""PgBouncer, probe data and gunicorn helpers for the pooler tests."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connections

ROOT = Path(__file__).resolve().parents[2]
POOL_SIZE = 2
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
    port = free_port()
    log_path = tmp_dir / f"gunicorn-{pooler or 'stock'}-{port}.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "saas.settings.test",
        "DATABASE_URL": pgbouncer.url("default"),
        "STATS_DATABASE_URL": pgbouncer.url("stats"),
        "DB_POOLER": pooler,
        "CONN_MAX_AGE": "60",
        "LOG_LEVEL": "WARNING",
    }
    command = [
        sys.executable, "-m", "gunicorn", "saas.wsgi",
        "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4",
        "--timeout", "30", "--graceful-timeout", "5",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = AppServer(port=port, log_path=log_path)
    try:
        _wait_until_serving(process, port, server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _wait_until_serving(process: subprocess.Popen, port: int, server: AppServer) -> None:
    import http.client

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{server.log_tail()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz", headers={"Host": "localhost"})
            if conn.getresponse().status == 200:
                conn.close()
                return
            conn.close()
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"gunicorn did not become healthy on port {port}:\n{server.log_tail()}")
