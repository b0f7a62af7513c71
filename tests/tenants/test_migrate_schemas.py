"""migrate_schemas: up-to-date schemas are skipped, the rest run in worker processes, one
broken tenant does not stop the others, and the run ends with a summary and a non-zero exit."""

import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand

from core.db.roles import owner_role
from tenants.migration_state import schemas_up_to_date

from .conftest import ROOT, subprocess_env


def test_noop_run_skips_every_schema(tenants, db, capsys):
    call_command("migrate_schemas", "--tenant")
    out = capsys.readouterr().out
    assert "0 to migrate" in out
    assert "0 migrated" in out and "0 failed" in out
    # `migrate` dispatches to the same command.
    call_command("migrate", "--shared")
    assert "0 migrated, 1 up to date (skipped), 0 failed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--executor", "subprocess"], "--executor must be one of"),
        (["--workers", "0"], "--workers must be at least 1"),
        (["--schema", "nosuch"], 'Schema "nosuch" does not exist'),
    ],
)
def test_bad_options_are_refused(tenants, db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("migrate_schemas", *args)


def _unapply_tasks_app(schema: str) -> None:
    with owner_role():
        _unapply(schema)


def _unapply(schema: str) -> None:
    call_command(
        MigrateSchemasCommand(),
        "tasks_app",
        "zero",
        schema_name=schema,
        executor="standard",
        interactive=False,
        verbosity=0,
    )


def test_broken_tenant_does_not_stop_the_others(committed_tenants, django_db_blocker):
    """Three tenants lack tasks_app's migrations; in one, a stray table makes them fail."""
    first, second, broken = (committed_tenants("mig") for _ in range(3))
    with django_db_blocker.unblock():
        for tenant in (first, second, broken):
            _unapply_tasks_app(tenant.schema_name)
        with owner_role(), connection.cursor() as cursor:
            cursor.execute(f'CREATE TABLE "{broken.schema_name}".tasks_app_task (id integer)')
        connection.set_schema_to_public()

    run = subprocess.run(
        [sys.executable, "manage.py", "migrate_schemas", "--tenant", "--workers", "2"],
        cwd=ROOT,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "3 to migrate (multiprocessing, 2 workers)" in run.stdout
    assert "3/3 schemas" in run.stdout
    assert "2 migrated" in run.stdout and "1 failed" in run.stdout
    assert f"FAILED {broken.schema_name}: ProgrammingError: relation" in run.stderr
    assert "already exists" in run.stderr
    assert f"1 schema(s) failed to migrate: {broken.schema_name}" in run.stderr
    assert "Traceback" not in run.stderr

    with django_db_blocker.unblock():
        current = schemas_up_to_date(schema_names=[first.schema_name, second.schema_name, broken.schema_name])
    assert current == {first.schema_name, second.schema_name}
