"""BatchWriter against the real stats database: the fast COPY, the duplicate-safe path,
bisection of refused rows, and how failures are classified."""

import os
import socket

import psycopg2
import pytest
from django.db import connections

from usage_stats.ingest.encoding import LineEncoder, queued_event
from usage_stats.ingest.writer import (
    BatchWriter,
    DuplicateEventsError,
    LineSource,
    PermanentWriteError,
    SendThenPrepare,
    WriteResult,
    is_transient,
    is_unique_violation,
)


def _lines(encoder: LineEncoder, tenant: str, tokens: range) -> list[bytes]:
    return [encoder.line(queued_event("test.writer", tenant_id=tenant, tokens=i)) for i in tokens]


def _bad_uuid(line: bytes) -> bytes:
    fields = line.split(b"\t")
    fields[0] = b"not-a-uuid"  # passes nothing in Python; PostgreSQL refuses it
    return b"\t".join(fields)


@pytest.fixture
def writer():
    made = BatchWriter(alias="stats")
    yield made
    made.close()


@pytest.mark.django_db(databases=["default", "stats"])
def test_a_retry_of_a_committed_batch_stores_only_the_new_events(writer, stats_db, marker):
    encoder = LineEncoder()
    first = _lines(encoder, marker, range(20))
    assert writer.write(first) == WriteResult(written=20, duplicates=0, invalid=0)

    # The acknowledgement never arrived: the same lines (same ids) come again, with more.
    retried = first + _lines(encoder, marker, range(20, 25))
    assert writer.write(retried, may_exist=True) == WriteResult(written=25, duplicates=20, invalid=0)

    tokens = [
        row[0] for row in stats_db.rows("SELECT tokens FROM usage_event WHERE tenant_id = %s", [marker])
    ]
    assert sorted(tokens) == list(range(25))


@pytest.mark.django_db(databases=["default", "stats"])
def test_the_fast_path_refuses_ids_already_stored_and_stores_nothing(writer, stats_db, marker):
    lines = _lines(LineEncoder(), marker, range(10))
    writer.write(lines)

    with pytest.raises(DuplicateEventsError) as raised:
        writer.write(lines)

    assert is_unique_violation(raised.value.__cause__)  # UniqueViolation; on Citus an XX000 saying so
    assert stats_db.count("tenant_id = %s", [marker]) == 10
    assert writer.write(lines, may_exist=True) == WriteResult(written=10, duplicates=10, invalid=0)


@pytest.mark.django_db(databases=["default", "stats"])
@pytest.mark.parametrize("may_exist", [False, True])
def test_refused_rows_are_bisected_out_on_both_paths(writer, stats_db, marker, may_exist):
    lines = _lines(LineEncoder(), marker, range(9))
    lines[2:2] = [_bad_uuid(lines[0]), _bad_uuid(lines[1])]  # rows 2 and 3 of 11

    assert writer.write(lines, may_exist=may_exist) == WriteResult(written=9, duplicates=0, invalid=2)
    assert stats_db.count("tenant_id = %s", [marker]) == 9


@pytest.mark.django_db(databases=["default", "stats"])
def test_after_sent_runs_once_the_data_is_sent(writer, marker):
    calls = []
    writer.write(_lines(LineEncoder(), marker, range(3)), after_sent=lambda: calls.append(1))
    assert calls == [1]


def test_a_refused_connection_is_permanent_not_waited_out():
    """pytest-django refuses database access here with a RuntimeError: the writer reports
    it as a permanent failure (the collector retries a few times, then drops and counts)."""
    writer = BatchWriter(alias="stats")
    with pytest.raises(PermanentWriteError) as raised:
        writer.write([b"x\n"])
    assert isinstance(raised.value.__cause__, RuntimeError)
    assert not is_transient(RuntimeError("Database access not allowed"))
    assert not is_transient(OSError("bare"))


@pytest.mark.django_db(databases=["default", "stats"])
def test_a_broken_socket_surfaces_as_a_transient_operational_error():
    """psycopg2 wraps socket trouble as OperationalError, so no OSError needs catching."""
    params = connections["stats"].get_connection_params()
    conn = psycopg2.connect(**params)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1")
        # Shut the socket under libpq's feet (a dup of its descriptor, so libpq keeps its own).
        with socket.socket(fileno=os.dup(conn.fileno())) as sock:
            sock.shutdown(socket.SHUT_RDWR)
        with pytest.raises(psycopg2.Error) as raised, conn.cursor() as cursor:
            cursor.execute("SELECT 1")
        assert isinstance(raised.value, psycopg2.OperationalError)
        assert is_transient(raised.value)
    finally:
        conn.close()


def test_line_source_hands_out_whole_lines_in_chunks_of_about_size():
    lines = [b"a" * 10 + b"\n"] * 5  # 11 bytes each
    source = LineSource(lines)
    assert source.read(20) == lines[0] * 2  # stops once the chunk reaches the size
    assert source.read(100) == lines[0] * 3
    assert source.read(100) == b""


def test_send_then_prepare_sends_everything_at_once_then_runs_after_sent_once():
    calls = []
    source = SendThenPrepare(b"row1\nrow2\n", lambda: calls.append(len(calls)))
    assert source.read(8) == b"row1\nrow2\n"  # one read, whatever size psycopg2 asks for
    assert calls == []
    assert source.read(8) == b""
    assert source.read(8) == b""
    assert calls == [0]
