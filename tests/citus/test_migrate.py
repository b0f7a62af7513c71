"""migrate_schemas on the cluster: a new tenant app's migrations (a table, then a column and an
index on it) reach every tenant schema on both workers, the template (still local) and so
every tenant provisioned afterwards; and migrating back removes them everywhere."""

import os
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django.db import connection

from tenants.services import tenant_provision
from tests.support.citus import coordinator_rows, tenants_by_node, worker_connection
from tests.support.gunicorn import ROOT, database_url
from tests.support.tenants import PASSWORD

pytestmark = [pytest.mark.citus, pytest.mark.timeout(600)]


def _manage(*args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "TEST_DB_NAME"}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.citus.settings_probe",
        DATABASE_URL=database_url("default"),
        STATS_DATABASE_URL=database_url("stats"),
    )
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=500
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _probe_columns_on_workers() -> dict[str, set[str]]:
    """schema -> what its `citus_probe_note` shard has on the worker holding it: columns, plus
    'index' if the rank index is there."""
    found: dict[str, set[str]] = {}
    for node, schemas in tenants_by_node().items():
        with worker_connection(node) as conn, conn.cursor() as cursor:
            cursor.execute(
                """
                SELECT n.nspname, a.attname FROM pg_class c
                JOIN pg_namespace n ON n.oid = c.relnamespace
                JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                WHERE c.relname ~ '^citus_probe_note_[0-9]+$' AND n.nspname = ANY(%s)
                UNION ALL
                SELECT schemaname, 'index' FROM pg_indexes
                WHERE indexname ~ '^citus_probe_note_rank_idx_[0-9]+$' AND schemaname = ANY(%s)
                """,
                [schemas, schemas],
            )
            for schema, what in cursor.fetchall():
                found.setdefault(schema, set()).add(what)
    return found


def test_a_migration_adds_a_column_and_an_index_to_every_tenant_on_both_workers(tenants, django_db_blocker):
    with django_db_blocker.unblock():
        # Tenants on both workers: provision until each worker holds at least one.
        run = uuid.uuid4().hex[:6]
        for i in range(6):
            if all(len(schemas) >= 1 for schemas in tenants_by_node().values()):
                break
            tenant_provision(
                slug=f"mig{run}{i}", name="Mig", owner_email=f"o@mig{run}{i}.example", owner_password=PASSWORD
            )
        by_node = tenants_by_node()
        assert len(by_node) == 2 and all(by_node.values()), by_node
        schemas = {schema for found in by_node.values() for schema in found}

        out = _manage("migrate_schemas", "--tenant", "--noinput", "-v", "1")
        assert "0 failed" in out, out
        on_workers = _probe_columns_on_workers()
        migrated = {s for s, what in on_workers.items() if {"rank", "text", "index"} <= what}
        assert schemas <= migrated, on_workers
        template = settings.TENANT_TEMPLATE_SCHEMA
        assert coordinator_rows(
            "SELECT count(*) FROM pg_indexes WHERE schemaname = %s"
            " AND indexname = 'citus_probe_note_rank_idx'",
            [template],
        ) == [(1,)]
        assert coordinator_rows(
            "SELECT count(*) FROM citus_schemas WHERE schema_name::text = %s", [template]
        ) == [(0,)]

        # A tenant provisioned now is copied from the migrated template: it has the new table too.
        new = tenant_provision(
            slug=f"mig{run}new", name="New", owner_email=f"o@mig{run}new.example", owner_password=PASSWORD
        ).tenant
        assert {"rank", "text", "index"} <= _probe_columns_on_workers()[new.schema_name]

        # Back to the previous migration: the column and index go, on every worker.
        _manage("migrate_schemas", "--tenant", "--noinput", "citus_probe", "0001")
        on_workers = _probe_columns_on_workers()
        assert all(what == {"id", "text"} for what in on_workers.values()), on_workers
        _manage("migrate_schemas", "--tenant", "--noinput", "citus_probe", "zero")
        assert _probe_columns_on_workers() == {}
        # Django keeps the content types and permissions of an unapplied app: drop them from
        # the template, so later copies hold exactly what the code's migrations make.
        with connection.cursor() as cursor:
            cursor.execute(
                f'DELETE FROM "{template}".auth_permission WHERE content_type_id IN'
                f' (SELECT id FROM "{template}".django_content_type WHERE app_label = %s)',
                ["citus_probe"],
            )
            cursor.execute(
                f'DELETE FROM "{template}".django_content_type WHERE app_label = %s',
                ["citus_probe"],
            )
