"""The pooled backend through a real PgBouncer in transaction mode, statement by statement.

Two Django connections (as two request threads would hold) share PgBouncer's server
connections. PgBouncer hands the most recently freed server connection to the next
transaction, so interleaving two clients' statements would reproduce a leak
deterministically; stock django-tenants does leak that way (shown by `make bench`,
bench/pooler_demo.py).
"""

from collections.abc import Iterator

import pytest
from django.db import DatabaseError, IntegrityError, connections, transaction
from django.test.utils import CaptureQueriesContext
from psycopg2 import sql as pgsql

from core.db.backends.tenant_pooled import base as pooled_backend
from core.db.roles import tenant_role_of
from tasks_app.models import Task

pytestmark = pytest.mark.pgbouncer

CURRENT_SCHEMA = "SELECT current_schema()"


@pytest.fixture
def open_through_pgbouncer(pgbouncer, tenants, django_db_blocker) -> Iterator:
    """Factory: a connection of the given backend module, registered under a new alias,
    reaching the test database only through PgBouncer; closed and unregistered afterwards."""
    opened = []

    def open_(backend, slug: str | None):
        alias = f"pooler_test_{len(opened)}"
        wrapper = backend.DatabaseWrapper(pgbouncer.settings_dict("default"), alias)
        if slug is None:
            wrapper.set_schema_to_public()
        else:
            wrapper.set_tenant(tenants[slug].tenant)
        connections[alias] = wrapper
        opened.append(alias)
        return wrapper

    with django_db_blocker.unblock():
        yield open_
        for alias in opened:
            connections[alias].close()
            del connections[alias]


def current_schema(wrapper, cursor=None) -> str:
    if cursor is not None:
        cursor.execute(CURRENT_SCHEMA)
        return cursor.fetchone()[0]
    with wrapper.cursor() as fresh:
        fresh.execute(CURRENT_SCHEMA)
        return fresh.fetchone()[0]


def test_interleaved_autocommit_statements_stay_in_their_tenant(open_through_pgbouncer):
    acme = open_through_pgbouncer(pooled_backend, "acme")
    globex = open_through_pgbouncer(pooled_backend, "globex")
    acme_cursor = acme.cursor()
    globex_cursor = globex.cursor()
    for _ in range(20):
        assert current_schema(globex, globex_cursor) == "globex"
        assert current_schema(acme, acme_cursor) == "acme"


def test_orm_queries_find_only_their_tenants_rows(open_through_pgbouncer, probes):
    acme = open_through_pgbouncer(pooled_backend, "acme")
    globex = open_through_pgbouncer(pooled_backend, "globex")
    titles = {probe.slug: probe.title for probe in probes.values()}
    for _ in range(5):
        for wrapper, own, other in ((acme, "acme", "globex"), (globex, "globex", "acme")):
            assert Task.objects.using(wrapper.alias).filter(title=titles[own]).exists()
            assert not Task.objects.using(wrapper.alias).filter(title=titles[other]).exists()
            assert titles[own] in list(Task.objects.using(wrapper.alias).values_list("title", flat=True))


def test_public_schema_connection_sees_public(open_through_pgbouncer):
    public = open_through_pgbouncer(pooled_backend, None)
    globex = open_through_pgbouncer(pooled_backend, "globex")
    public_cursor = public.cursor()
    assert current_schema(globex) == "globex"
    assert current_schema(public, public_cursor) == "public"


def test_search_path_is_stated_once_per_transaction_and_on_every_autocommit_statement(
    open_through_pgbouncer,
):
    acme = open_through_pgbouncer(pooled_backend, "acme")
    # The tenant's own role travels with its search_path (core/db/roles.py).
    prefix = f'SET LOCAL ROLE "{tenant_role_of("acme")}"; SET LOCAL search_path = "acme", "public"; '
    with CaptureQueriesContext(acme) as autocommit_queries:
        for _ in range(3):
            current_schema(acme)
    assert all(q["sql"].startswith(prefix) for q in autocommit_queries)

    with CaptureQueriesContext(acme) as atomic_queries, transaction.atomic(using=acme.alias):
        for _ in range(3):
            assert current_schema(acme) == "acme"
    stated = [q["sql"] for q in atomic_queries if q["sql"].startswith(prefix)]
    assert len(stated) == 1
    # Nothing was set on the session: a plain connection to the same pool still has the default.
    captured = autocommit_queries.captured_queries + atomic_queries.captured_queries
    assert not any("SET search_path" in q["sql"] or "SET ROLE" in q["sql"] for q in captured)


def test_every_pooled_statement_runs_as_its_tenants_role(open_through_pgbouncer):
    """Behind PgBouncer, interleaved, in autocommit and in a transaction: each client's
    statements run as its own tenant's role, which cannot read the other's schema."""
    acme = open_through_pgbouncer(pooled_backend, "acme")
    globex = open_through_pgbouncer(pooled_backend, "globex")
    for _ in range(2):
        for wrapper, slug, other in ((acme, "acme", "globex"), (globex, "globex", "acme")):
            with wrapper.cursor() as cursor:
                cursor.execute("SELECT current_user")
                assert cursor.fetchone()[0] == tenant_role_of(slug)
                with pytest.raises(DatabaseError, match=f"permission denied for schema {other}"):
                    cursor.execute(f"SELECT count(*) FROM {other}.tasks_app_task")
    with transaction.atomic(using=acme.alias), acme.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tasks_app_task")
        with globex.cursor() as other_cursor:
            other_cursor.execute("SELECT current_user")
            assert other_cursor.fetchone()[0] == tenant_role_of("globex")
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == tenant_role_of("acme")


def test_transaction_holds_its_tenant_while_another_client_runs(open_through_pgbouncer):
    acme = open_through_pgbouncer(pooled_backend, "acme")
    globex = open_through_pgbouncer(pooled_backend, "globex")
    with transaction.atomic(using=acme.alias):
        assert current_schema(acme) == "acme"
        with transaction.atomic(using=globex.alias):
            assert current_schema(globex) == "globex"
            assert current_schema(acme) == "acme"
        assert current_schema(globex) == "globex"  # autocommit, a third server transaction
        assert current_schema(acme) == "acme"
    assert current_schema(acme) == "acme"


def test_tenant_switch_and_savepoint_rollback_inside_a_transaction(open_through_pgbouncer, tenants):
    wrapper = open_through_pgbouncer(pooled_backend, "acme")
    with transaction.atomic(using=wrapper.alias):
        assert current_schema(wrapper) == "acme"
        wrapper.set_tenant(tenants["globex"].tenant)
        assert current_schema(wrapper) == "globex"
        with pytest.raises(IntegrityError), transaction.atomic(using=wrapper.alias):
            wrapper.set_tenant(tenants["acme"].tenant)
            assert current_schema(wrapper) == "acme"
            with wrapper.cursor() as cursor:
                cursor.execute("CREATE TEMP TABLE pooler_probe (id int PRIMARY KEY) ON COMMIT DROP")
                cursor.execute("INSERT INTO pooler_probe VALUES (1), (1)")
        # ROLLBACK TO SAVEPOINT undid the SET LOCAL to acme; the backend must state it again.
        assert current_schema(wrapper) == "acme"
        wrapper.set_tenant(tenants["globex"].tenant)
        assert current_schema(wrapper) == "globex"


def test_parameters_percent_signs_composed_sql_and_executemany(open_through_pgbouncer):
    wrapper = open_through_pgbouncer(pooled_backend, "globex")
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT %s || '%%' || current_schema()", ["50"])
        assert cursor.fetchone() == ("50%globex",)
        cursor.execute("SELECT '100%' || current_schema()")
        assert cursor.fetchone() == ("100%globex",)
        cursor.execute(pgsql.SQL("SELECT {} || current_schema()").format(pgsql.Literal("x-")))
        assert cursor.fetchone() == ("x-globex",)
    with transaction.atomic(using=wrapper.alias), wrapper.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE pooler_rows (n int, s text) ON COMMIT DROP")
        cursor.executemany("INSERT INTO pooler_rows VALUES (%s, current_schema())", [(1,), (2,), (3,)])
        cursor.execute("SELECT count(*), min(s), max(s) FROM pooler_rows")
        assert cursor.fetchone() == (3, "globex", "globex")


def test_server_side_cursors_are_off_and_iterator_still_works(open_through_pgbouncer, probes):
    wrapper = open_through_pgbouncer(pooled_backend, "acme")
    assert wrapper.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] is True
    titles = set(Task.objects.using(wrapper.alias).values_list("title", flat=True).iterator(chunk_size=1))
    assert probes["acme"].title in titles
    assert probes["globex"].title not in titles


def test_pool_has_two_server_connections_per_database(pgbouncer, open_through_pgbouncer):
    wrapper = open_through_pgbouncer(pooled_backend, "acme")
    current_schema(wrapper)
    config = {row["key"]: row["value"] for row in pgbouncer.show("CONFIG")}
    assert config["pool_mode"] == "transaction"
    assert config["default_pool_size"] == "2"
    assert config["max_db_connections"] == "2"


def test_statements_that_refuse_a_transaction_block_still_find_the_tenants_tables(django_db_blocker, tenants):
    # Direct to PostgreSQL, as migrations run: VACUUM cannot be prefixed with SET LOCAL.
    settings_dict = dict(connections["default"].settings_dict, CONN_MAX_AGE=0)
    wrapper = pooled_backend.DatabaseWrapper(settings_dict, "pooler_direct")
    wrapper.set_tenant(tenants["acme"].tenant)
    with django_db_blocker.unblock():
        try:
            with wrapper.cursor() as cursor:
                # Prefixed it would fail ("cannot run inside a transaction block"); with the
                # public search_path it would not find the table.
                cursor.execute("VACUUM (ANALYZE) tasks_app_task")
        finally:
            wrapper.close()
