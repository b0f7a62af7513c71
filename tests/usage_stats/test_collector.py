"""The collector against the real stats database, through its public API (record,
flush, snapshot, stop, and the BatchWriter it is given): flush triggers, the queue bound,
hostile input, retries that must not double count, flush racing the flusher."""

import threading
import time
import uuid

import pytest

import usage_stats
from usage_stats.ingest import process
from usage_stats.ingest.batch import NON_TRANSIENT_ATTEMPTS
from usage_stats.ingest.encoding import NO_TENANT
from usage_stats.ingest.writer import BatchWriter, PermanentWriteError, TransientWriteError, WriteResult

pytestmark = pytest.mark.django_db(databases=["default", "stats"])


def test_size_triggered_flush_writes_when_the_batch_is_full(collector_factory, stats_db, marker):
    collector = collector_factory(batch_size=50, flush_interval_s=3600)
    for i in range(49):
        collector.record("test.size", tenant_id=marker, tokens=i)
    time.sleep(0.5)
    assert stats_db.count("tenant_id = %s", [marker]) == 0, "49 events and an hour's interval: no flush yet"

    collector.record("test.size", tenant_id=marker, tokens=49)

    assert stats_db.wait_count("tenant_id = %s", [marker], 50) == 50
    assert collector.snapshot()["written_total"] == 50
    tokens = [
        row[0] for row in stats_db.rows("SELECT tokens FROM usage_event WHERE tenant_id = %s", [marker])
    ]
    assert sorted(tokens) == list(range(50))


def test_time_triggered_flush_writes_a_lone_event_after_the_interval(collector_factory, stats_db, marker):
    collector = collector_factory(batch_size=1_000_000, flush_interval_s=0.3)
    started = time.monotonic()
    collector.record("test.time", tenant_id=marker, route="tasks:list")

    assert stats_db.wait_count("tenant_id = %s", [marker], 1) == 1
    assert time.monotonic() - started >= 0.3
    snap = collector.snapshot()
    assert snap["written_total"] == 1
    assert snap["queued"] == 0
    assert snap["last_flush_at"] is not None
    assert snap["flush_latency_ms"] is not None


def test_a_full_queue_drops_new_events_and_counts_them_exactly(collector_factory, stats_db, marker):
    collector = collector_factory(queue_max=100, batch_size=1_000_000, flush_interval_s=3600)
    for i in range(160):
        collector.record("test.full", tenant_id=marker, tokens=i)

    snap = collector.snapshot()
    assert snap["dropped_total"] == {"queue_full": 60, "db_error": 0, "invalid": 0}
    assert snap["queued"] == 100

    assert collector.flush(timeout_s=10)
    # The oldest 100 are kept: a full queue refuses new events, it never evicts queued ones.
    tokens = [
        row[0] for row in stats_db.rows("SELECT tokens FROM usage_event WHERE tenant_id = %s", [marker])
    ]
    assert sorted(tokens) == list(range(100))
    assert collector.snapshot()["written_total"] == 100


def test_record_defaults_the_tenant_to_the_nil_id_outside_a_request_and_a_tenant(stats_db, marker):
    usage_stats.record("test.default_tenant", route=marker)
    assert usage_stats.flush()
    assert stats_db.rows("SELECT tenant_id::text, user_id FROM usage_event WHERE route = %s", [marker]) == [
        (NO_TENANT, None)
    ]


def test_record_defaults_the_tenant_to_the_connections_tenant_in_a_tenant_job(acme, stats_db, marker):
    """A Celery task run in a tenant (tenant-schemas-celery) sets the connection's tenant."""
    from django.db import connection
    from django_tenants.utils import tenant_context

    from tenants.models import Client

    client = Client.objects.get(schema_name="acme")
    with tenant_context(client):
        assert connection.tenant.uuid == client.uuid
        usage_stats.record("test.job_tenant", route=marker)
    assert usage_stats.flush()
    assert stats_db.rows("SELECT tenant_id FROM usage_event WHERE route = %s", [marker]) == [(client.uuid,)]


HOSTILE = [
    'it\'s "quoted"',
    "'); DROP TABLE usage_event; --",
    "\\N",
    "back\\slash\\.",
    "tab\there\nnew\rline",
    "$$; SELECT pg_sleep(10); $$",
    "ünïcødé ✓ 🚀",
]


def test_hostile_strings_are_stored_verbatim_never_executed(stats_db, marker):
    for i, text in enumerate(HOSTILE):
        usage_stats.record(
            text[:64],
            tenant_id=marker,
            route=text,
            method=text[:10],
            user_id=i,
            properties={"text": text, text: [text]},
        )
    assert usage_stats.flush()

    rows = stats_db.rows(
        "SELECT user_id, tenant_id::text, event, route, method, properties FROM usage_event"
        " WHERE tenant_id = %s ORDER BY user_id",
        [marker],
    )
    assert [row[0] for row in rows] == list(range(len(HOSTILE)))
    for (_, tenant, event, route, method, properties), text in zip(rows, HOSTILE, strict=True):
        assert (tenant, event, route, method) == (marker, text[:64], text, text[:10])
        assert properties == {"text": text, text: [text]}
    assert stats_db.rows("SELECT to_regclass('usage_event') IS NOT NULL") == [(True,)]


INVALID = [
    {"event": "x" * 1_000_000},  # 1 MB event name
    {"route": "r" * 1_000_000},
    {"tenant_override": "t" * 64},
    {"tenant_override": "acme"},  # a schema name is not a tenant id
    {"tenant_override": 12},
    {"route": "nul\x00byte"},
    {"event": "nul\x00"},
    {"method": "'); DROP TABLE usage_event; --"},  # longer than 10 characters
    {"properties": {"big": "p" * 1_000_000}},
    {"properties": {"nul": "a\x00b"}},
    {"properties": {"nan": float("nan")}},
    {"properties": {"obj": object()}},
    {"properties": ["not", "a", "dict"]},
    {"route": "lone \ud800 surrogate"},
    {"status": "200"},
    {"status": 70000},
    {"user_id": "1; DROP TABLE usage_event"},
    {"user_id": True},
    {"user_id": 2**70},
    {"latency_ms": float("inf")},
    {"latency_ms": -1},
    {"tokens": 2**40},
    {"event": ""},
    {"event": None},
]


def test_invalid_fields_are_rejected_whole_and_counted(stats_db, marker):
    collector = process.collector()
    usage_stats.flush()
    invalid_before = collector.snapshot()["dropped_total"]["invalid"]
    for case in INVALID:
        fields = {"event": "test.invalid", "tenant_id": marker}
        fields.update(case)
        if "tenant_override" in fields:
            fields["tenant_id"] = fields.pop("tenant_override")
        event = fields.pop("event")
        usage_stats.record(event, **fields)
    usage_stats.record("test.valid", tenant_id=marker)
    assert usage_stats.flush()

    assert collector.snapshot()["dropped_total"]["invalid"] - invalid_before == len(INVALID)
    # Nothing half-written: only the one valid event of this tenant is stored.
    assert stats_db.rows("SELECT event FROM usage_event WHERE tenant_id = %s", [marker]) == [("test.valid",)]


def test_record_never_raises_even_with_nonsense_arguments(marker):
    usage_stats.record(None)  # type: ignore[arg-type]
    usage_stats.record(b"bytes", tenant_id=object())  # type: ignore[arg-type]
    usage_stats.record("test.kwargs", tenant_id=marker, properties={1: {2: {3: "deep"}}})
    assert usage_stats.flush()


def test_snapshot_has_the_documented_keys():
    snap = usage_stats.snapshot()
    for key in (
        "enabled",
        "alive",
        "pid",
        "queued",
        "queued_total",
        "written_total",
        "dropped_total",
        "flush_latency_ms",
        "flush_latency_p50_ms",
        "last_error",
        "last_flush_at",
    ):
        assert key in snap
    assert set(snap["dropped_total"]) == {"queue_full", "db_error", "invalid"}
    assert snap["alive"] is True


class AckLostWriter(BatchWriter):
    """Commits the first batch, then reports the connection broken: as if the server's
    acknowledgement never arrived."""

    def __init__(self) -> None:
        super().__init__(alias="stats")
        self.calls: list[bool] = []

    def write(self, lines, *, may_exist=False, after_sent=None) -> WriteResult:
        self.calls.append(may_exist)
        result = super().write(lines, may_exist=may_exist, after_sent=after_sent)
        if len(self.calls) == 1:
            raise TransientWriteError("OperationalError: server closed the connection unexpectedly")
        return result


def test_a_retried_batch_whose_first_copy_committed_is_not_counted_twice(collector_factory, stats_db, marker):
    writer = AckLostWriter()
    collector = collector_factory(batch_size=1_000_000, flush_interval_s=3600, writer=writer)
    for i in range(20):
        collector.record("test.retry", tenant_id=marker, tokens=i)

    assert collector.flush(timeout_s=10)

    assert writer.calls == [False, True], "the retry goes through the duplicate-safe path"
    tokens = [
        row[0] for row in stats_db.rows("SELECT tokens FROM usage_event WHERE tenant_id = %s", [marker])
    ]
    assert sorted(tokens) == list(range(20))
    snap = collector.snapshot()
    assert (snap["written_total"], snap["duplicates_skipped_total"], snap["retries_total"]) == (20, 20, 1)
    assert "server closed" in snap["last_error"]


class WrittenBehindItsBackWriter(BatchWriter):
    """Stores each fast-path batch once before the real COPY: the COPY then meets ids
    that already exist (a unique violation)."""

    def write(self, lines, *, may_exist=False, after_sent=None) -> WriteResult:
        if not may_exist:
            super().write(lines)
        return super().write(lines, may_exist=may_exist, after_sent=after_sent)


def test_the_plain_copy_path_falls_back_when_ids_already_exist(collector_factory, stats_db, marker):
    collector = collector_factory(
        batch_size=1_000_000, flush_interval_s=3600, writer=WrittenBehindItsBackWriter(alias="stats")
    )
    for i in range(10):
        collector.record("test.dup", tenant_id=marker, tokens=i)

    assert collector.flush(timeout_s=10)

    assert stats_db.count("tenant_id = %s", [marker]) == 10
    snap = collector.snapshot()
    assert snap["duplicates_skipped_total"] == 10
    assert snap["dropped_total"] == {"queue_full": 0, "db_error": 0, "invalid": 0}


class BadRowWriter(BatchWriter):
    """Adds a row that passes the encoder but that PostgreSQL refuses (a bad uuid)."""

    def write(self, lines, *, may_exist=False, after_sent=None) -> WriteResult:
        fields = lines[0].split(b"\t")
        fields[0] = b"not-a-uuid"
        return super().write([*lines[:4], b"\t".join(fields), *lines[4:]], may_exist=may_exist)


def test_a_row_postgres_rejects_is_isolated_and_counted(collector_factory, stats_db, marker):
    collector = collector_factory(batch_size=1_000_000, flush_interval_s=3600, writer=BadRowWriter())
    for i in range(9):
        collector.record("test.bisect", tenant_id=marker, tokens=i)

    assert collector.flush(timeout_s=10)

    assert stats_db.count("tenant_id = %s", [marker]) == 9
    snap = collector.snapshot()
    assert snap["dropped_total"]["invalid"] == 1
    assert snap["written_total"] == 9


class RefusingWriter(BatchWriter):
    def __init__(self) -> None:
        super().__init__(alias="stats")
        self.attempts = 0

    def write(self, lines, *, may_exist=False, after_sent=None) -> WriteResult:
        self.attempts += 1
        raise PermanentWriteError('UndefinedTable: relation "usage_event" does not exist')


def test_a_batch_that_keeps_failing_is_dropped_and_counted_after_bounded_attempts(collector_factory, marker):
    writer = RefusingWriter()
    collector = collector_factory(batch_size=1_000_000, flush_interval_s=3600, writer=writer)
    for i in range(7):
        collector.record("test.refused", tenant_id=marker, tokens=i)

    assert collector.flush(timeout_s=30), "a dropped batch is settled"

    assert writer.attempts == NON_TRANSIENT_ATTEMPTS
    snap = collector.snapshot()
    assert snap["dropped_total"] == {"queue_full": 0, "db_error": 7, "invalid": 0}
    assert snap["written_total"] == 0
    assert "UndefinedTable" in snap["last_error"]


class GatedWriter(BatchWriter):
    """Holds every write until the gate opens."""

    def __init__(self, gate: threading.Event) -> None:
        super().__init__(alias="stats")
        self.gate = gate

    def write(self, lines, *, may_exist=False, after_sent=None) -> WriteResult:
        assert self.gate.wait(30)
        return super().write(lines, may_exist=may_exist, after_sent=after_sent)


def test_flush_returns_only_once_everything_queued_before_it_is_written(collector_factory, stats_db, marker):
    """flush() racing the flusher taking a batch must not miss that batch (it once did:
    the popped events were neither queued nor counted as taken for a moment)."""
    for attempt in range(5):
        tenant = str(uuid.uuid4())
        gate = threading.Event()
        collector = collector_factory(
            batch_size=5000, flush_interval_s=3600, queue_max=20_000, writer=GatedWriter(gate)
        )
        for i in range(20_000):  # the first full batch is taken, and held at the gate
            collector.record("test.flush_race", tenant_id=tenant, tokens=i)
        # Open the gate as flush() starts: the flusher then takes the next batches while
        # flush() reads how much is queued and taken.
        opener = threading.Timer(attempt * 0.002, gate.set)
        opener.start()
        assert collector.flush(timeout_s=30)
        opener.join()
        assert stats_db.count("tenant_id = %s", [tenant]) == 20_000, f"attempt {attempt}"
        assert collector.snapshot()["written_total"] == 20_000
        collector.stop(timeout_s=5)


def test_stop_flushes_and_a_stopped_collector_starts_again(collector_factory, stats_db, marker):
    collector = collector_factory(batch_size=1_000_000, flush_interval_s=3600)
    for i in range(30):
        collector.record("test.stop", tenant_id=marker, tokens=i)

    assert collector.stop(timeout_s=5)
    assert stats_db.count("tenant_id = %s", [marker]) == 30
    assert collector.snapshot()["written_total"] == 30

    collector.record("test.stop", tenant_id=marker, tokens=30)
    assert collector.flush(timeout_s=10)
    assert stats_db.count("tenant_id = %s", [marker]) == 31


def test_stop_past_a_hung_write_counts_everything_unwritten_as_dropped(collector_factory, marker):
    gate = threading.Event()  # never opened before stop: a server that does not answer
    collector = collector_factory(batch_size=10, flush_interval_s=3600, writer=GatedWriter(gate))
    for i in range(25):  # two batches taken (one held at the gate, one serialised ahead) or queued
        collector.record("test.hung", tenant_id=marker, tokens=i)
    try:
        started = time.monotonic()
        assert collector.stop(timeout_s=0.3) is False
        assert time.monotonic() - started < 3, "stop() does not wait for a hung write"
        snap = collector.snapshot()
        assert snap["dropped_total"]["db_error"] == 25
        assert snap["written_total"] == 0
    finally:
        gate.set()
