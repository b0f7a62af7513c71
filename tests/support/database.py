"""Take a test database offline and back, from the owner role's connection to `postgres`."""

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

import psycopg2
from django.db import connections
from psycopg2 import sql

T = TypeVar("T")


def rows(query: str, params: list | None = None) -> list[tuple]:
    """Every row of `query` on the test's own default connection (its schema, its role)."""
    with connections["default"].cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def connect(alias: str = "default", *, dbname: str | None = None, autocommit: bool = True):
    """A psycopg2 connection of its own to the alias's server (its database unless named)."""
    params = connections[alias].settings_dict
    conn = psycopg2.connect(
        dbname=dbname or params["NAME"],
        user=params["USER"],
        password=params["PASSWORD"],
        host=params["HOST"],
        port=params["PORT"],
        connect_timeout=5,
    )
    conn.autocommit = autocommit
    return conn


def owner_credentials(alias: str = "default") -> tuple[str, str]:
    """(user, password) of the owner role (DATABASE_OWNER_URL, written by scripts/pg.sh), or
    the alias's own when none is configured. The app role may not take a database offline."""
    import environ

    name = (
        "STATS_DATABASE_OWNER_URL" if alias == "stats" and os.environ.get("STATS_DATABASE_OWNER_URL") else ""
    )
    url = os.environ.get(name or "DATABASE_OWNER_URL", "")
    params = connections[alias].settings_dict
    if not url:
        return params["USER"], params["PASSWORD"]
    owner = environ.Env.db_url_config(url)
    return owner["USER"], owner["PASSWORD"]


def owner_connect(alias: str = "default", *, dbname: str | None = None, autocommit: bool = True):
    """Like connect(), as the owner role (tests that inspect or take over a database)."""
    params = connections[alias].settings_dict
    user, password = owner_credentials(alias)
    conn = psycopg2.connect(
        dbname=dbname or params["NAME"],
        user=user,
        password=password,
        host=params["HOST"],
        port=params["PORT"],
        connect_timeout=5,
    )
    conn.autocommit = autocommit
    return conn


def superuser_connection(alias: str = "default"):
    """The owner role on the `postgres` database: it owns the test databases and may end
    the app role's connections (pg_signal_backend); no superuser is needed."""
    return owner_connect(alias, dbname="postgres")


@contextmanager
def database_outage(alias: str) -> Iterator[str]:
    """Refuse new connections to the alias's test database and end every open one but
    this thread's own (it holds the test's transaction)."""
    name = connections[alias].settings_dict["NAME"]
    assert name.startswith("test"), f"refusing to take {name!r} offline: not a test database"
    connections[alias].ensure_connection()
    own_pid = connections[alias].connection.info.backend_pid
    admin = superuser_connection(alias)
    try:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(sql.Identifier(name)))
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid() AND pid <> %s",
                [name, own_pid],
            )
        yield name
    finally:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(sql.Identifier(name)))
        admin.close()


def in_fresh_thread(func: Callable[[], T]) -> T:
    """Run func in a new thread, with its own database connections (closed afterwards)."""

    def run() -> T:
        try:
            return func()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=60)
