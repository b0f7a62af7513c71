"""The stats database by privilege (core/db/roles.py): the flusher's role may only insert
events, the dashboards' role may only read, and partition DDL runs as the owner role."""

import psycopg2
import pytest
from django.db import DatabaseError
from django.test import override_settings

from core.db import roles
from tests.support.database import connect
from usage_stats.dashboards.selectors import _stats_cursor
from usage_stats.ingest.encoding import LineEncoder, queued_event
from usage_stats.ingest.writer import BatchWriter, PermanentWriteError, WriteResult

pytestmark = pytest.mark.django_db(databases=["default", "stats"])

INSUFFICIENT_PRIVILEGE = "42501"

# What the flusher must never do: read events, change or drop the schema.
NOT_FOR_THE_FLUSHER = [
    "SELECT count(*) FROM usage_event",
    "SELECT event_id FROM usage_event_default LIMIT 1",
    "DELETE FROM usage_event",
    "UPDATE usage_event SET tokens = 0",
    "TRUNCATE usage_event",
    "CREATE TABLE public.flusher_made (id int)",
    "ALTER TABLE usage_event ADD COLUMN flusher_column int",
    "DROP TABLE usage_event",
]


def _as_role(role: str | None, statement: str) -> str | None:
    """Run `statement` as `role` (the app connects, then SET LOCAL ROLE, as the code does;
    None: the app role itself);
    the SQLSTATE of the refusal, or None when it ran. Always rolled back."""
    conn = connect("stats", autocommit=False)
    try:
        with conn.cursor() as cursor:
            if role is not None:
                cursor.execute(roles.set_local_role_sql(role))
            try:
                cursor.execute(statement)
            except psycopg2.Error as exc:
                return exc.pgcode
            return None
    finally:
        conn.rollback()
        conn.close()


def test_the_roles_are_configured():
    assert roles.stats_writer_role_name() and roles.stats_reader_role_name() and roles.owner_role_name()


@pytest.mark.parametrize("statement", NOT_FOR_THE_FLUSHER)
def test_the_flusher_role_cannot_read_events_or_run_ddl(statement):
    assert _as_role(roles.stats_writer_role_name(), statement) == INSUFFICIENT_PRIVILEGE


def test_the_flusher_role_may_insert_events():
    insert = (
        "INSERT INTO usage_event (event_id, occurred_at, tenant_id, event)"
        " VALUES (gen_random_uuid(), now(), gen_random_uuid(), 'test.roles')"
    )
    assert _as_role(roles.stats_writer_role_name(), insert) is None


def test_the_flusher_writes_as_its_role(stats_db, marker):
    """The writer really switches to DB_STATS_WRITER_ROLE: pointed at the read-only role,
    its COPY is refused; with the writer role it stores the batch."""
    encoder = LineEncoder()
    lines = [encoder.line(queued_event("test.roles", tenant_id=marker, tokens=i)) for i in range(3)]
    writer = BatchWriter(alias="stats")
    try:
        with override_settings(DB_STATS_WRITER_ROLE=roles.stats_reader_role_name()):
            with pytest.raises(PermanentWriteError, match="permission denied"):
                writer.write(lines)
            with pytest.raises(PermanentWriteError, match="permission denied"):
                writer.write(lines, may_exist=True)
        assert writer.write(lines) == WriteResult(written=3, duplicates=0, invalid=0)
        assert writer.write(lines, may_exist=True) == WriteResult(written=3, duplicates=3, invalid=0)
    finally:
        writer.close()
    assert stats_db.count("tenant_id = %s", [marker]) == 3


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO usage_event (event_id, occurred_at, tenant_id, event)"
        " VALUES (gen_random_uuid(), now(), gen_random_uuid(), 'test.roles')",
        "DELETE FROM usage_event",
        "CREATE TABLE public.dashboard_made (id int)",
    ],
)
def test_the_dashboards_cannot_write(statement):
    with pytest.raises(DatabaseError, match="permission denied"), _stats_cursor() as cursor:
        cursor.execute(statement)


def test_the_dashboards_read_as_the_reader_role():
    with _stats_cursor() as cursor:
        cursor.execute("SELECT current_user, count(*) >= 0 FROM usage_event")
        assert cursor.fetchone() == (roles.stats_reader_role_name(), True)


def test_partitions_belong_to_the_owner_and_the_app_cannot_make_one():
    assert _as_role(None, "CREATE TABLE public.app_made (id int)") == INSUFFICIENT_PRIVILEGE
    conn = connect("stats")
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT DISTINCT pg_get_userbyid(c.relowner) FROM pg_inherits i"
                " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'usage_event'::regclass"
            )
            assert [row[0] for row in cursor.fetchall()] == [roles.owner_role_name()]
    finally:
        conn.close()
