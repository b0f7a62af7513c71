"""A private, throwaway PostgreSQL cluster for fault tests that restart the server.

The shared cluster (scripts/pg.sh) serves every other test run and must never be
restarted, so a test that restarts PostgreSQL gets its own: initdb into a temp
directory, a free loopback port, trust authentication for loopback only, deleted
afterwards. Runs as the `postgres` system user when we are root, as pg.sh does.
"""

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psycopg2

from tests.support.gunicorn import free_port


def _bindir() -> Path:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    for path in reversed(candidates):
        if (path / "initdb").exists() and (path / "pg_ctl").exists():
            return path
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    raise RuntimeError("PostgreSQL server binaries not found (run scripts/pg.sh start once)")


# The roles of scripts/pg.sh (docs/operations.md#database-roles), so the app runs with
# roles on here too: the app logs in, the owner owns, each tenant gets its own role.
_ROLES_SQL = """
CREATE ROLE "{owner}" LOGIN CREATEROLE CREATEDB;
CREATE ROLE "{app}" LOGIN NOINHERIT;
CREATE ROLE "{writer}" NOLOGIN;
CREATE ROLE "{reader}" NOLOGIN;
GRANT "{owner}", "{writer}", "{reader}" TO "{app}";
GRANT pg_signal_backend, pg_read_all_stats TO "{owner}";
"""


def _role_names() -> dict[str, str]:
    from django.conf import settings

    return {
        "owner": settings.DB_OWNER_ROLE,
        "app": settings.DB_APP_ROLE,
        "writer": settings.DB_STATS_WRITER_ROLE,
        "reader": settings.DB_STATS_READER_ROLE,
    }


def _as_owner(*cmd: str, **kwargs) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        cmd = ("runuser", "-u", "postgres", "--", *cmd)
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120, **kwargs)


@dataclass
class Cluster:
    port: int
    data: Path
    bindir: Path

    def url(self, dbname: str) -> str:
        """The app role's URL (trust authentication: no password), as the app connects."""
        return f"postgres://{_role_names()['app']}@127.0.0.1:{self.port}/{dbname}"

    def connect(self, dbname: str = "postgres"):
        conn = psycopg2.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=dbname, connect_timeout=5
        )
        conn.autocommit = True
        return conn

    def pg_ctl(self, *args: str) -> None:
        _as_owner(str(self.bindir / "pg_ctl"), "-D", str(self.data), *args)

    def start(self) -> None:
        log = self.data.parent / "postgres.log"
        self.pg_ctl("-l", str(log), "-w", "-t", "60", "-o", f"-p {self.port} -k {self.data.parent}", "start")

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("-m", mode, "-w", "-t", "60", "stop")

    def restart(self, *, down_s: float = 0.0) -> None:
        """Stop (ending every session, as a crash or failover would), stay down, start."""
        self.stop("fast")
        time.sleep(down_s)
        self.start()


@contextmanager
def private_cluster(dbnames: tuple[str, ...]) -> Iterator[Cluster]:
    root = Path(tempfile.mkdtemp(prefix="taskhive-fault-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    cluster = Cluster(port=free_port(), data=root / "data", bindir=_bindir())
    try:
        _as_owner(
            str(cluster.bindir / "initdb"), "-D", str(cluster.data), "-U", "postgres",
            "--auth-local=trust", "--auth-host=trust", "-E", "UTF8", "--locale=C.UTF-8",
        )  # fmt: skip
        with (cluster.data / "postgresql.conf").open("a") as conf:
            conf.write(
                "listen_addresses = '127.0.0.1'\nmax_connections = 100\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
            )
        cluster.start()
        admin = cluster.connect()
        with admin.cursor() as cur:
            cur.execute(_ROLES_SQL.format(**_role_names()))
            for name in dbnames:
                cur.execute(f'CREATE DATABASE "{name}" OWNER "{_role_names()["owner"]}"')
        admin.close()
        yield cluster
    finally:
        with suppress(subprocess.CalledProcessError):
            cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
