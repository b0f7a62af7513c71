"""Usage-event ingest: record() → queue → flusher → COPY into the partitioned events table,
beside a naive INSERT per event and a raw COPY of pre-built rows (the limit), all in the
same run against the dev stats database. Also the per-call cost of record().

The benchmark's events carry their own tenant values and are deleted afterwards.
"""

import gc
import json
import statistics
import time
import uuid

from django.conf import settings
from django.db import connections

from usage_stats.demo import sql as demo_sql
from usage_stats.ingest import process, sql
from usage_stats.ingest.collector import Collector
from usage_stats.ingest.encoding import LineEncoder
from usage_stats.ingest.scope import RequestScope, current_request
from usage_stats.ingest.writer import LineSource

END_TO_END_EVENTS = 500_000
RAW_COPY_EVENTS = 500_000
NAIVE_EVENTS = 20_000
RECORD_CALLS = 200_000
RUNS = 3
BATCH_SIZE = 5000


class _FakeRequest:
    """What the middleware's request scope needs: a request with no user loaded."""


def _events(n: int, tenant: str):
    """A realistic mix: mostly request events, some domain events with small properties."""
    routes = ("task_list", "tasks:task_detail", "accounts:login", "api-1.0.0:task_list", "unresolved")
    for i in range(n):
        if i % 10 == 0:
            yield ("task.created", {"tenant_id": tenant, "user_id": i % 97 + 1, "properties": {"task_id": i}})
        else:
            yield (
                "request",
                {
                    "tenant_id": tenant,
                    "user_id": i % 97 + 1 if i % 3 else None,
                    "route": routes[i % len(routes)],
                    "method": "GET" if i % 4 else "POST",
                    "status": 200 if i % 50 else 404,
                    "latency_ms": 3.5 + (i % 200) / 10,
                },
            )


def _raw_connection():
    wrapper = connections.create_connection(settings.STATS_DB_ALIAS)
    wrapper.ensure_connection()
    raw = wrapper.connection
    raw.autocommit = True
    with raw.cursor() as cursor:
        cursor.execute(
            sql.FLUSHER_SESSION_SETUP, {"statement_timeout": "0", "application_name": "bench_ingest"}
        )
    return wrapper, raw


def _delete(raw, tenant: str) -> None:
    with raw.cursor() as cursor:
        cursor.execute("DELETE FROM usage_event WHERE tenant_id = %s", [tenant])


def _count(raw, tenant: str) -> int:
    with raw.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM usage_event WHERE tenant_id = %s", [tenant])
        return cursor.fetchone()[0]


def _bench_tenant() -> str:
    """A tenant id of the benchmark's own (its rows are deleted afterwards)."""
    return str(uuid.uuid4())


def record_call_us() -> float:
    """Median per-call cost of usage_stats.record() inside a request scope (µs)."""
    import usage_stats

    saved = process._collector  # the bench swaps the process's collector for its own
    token = current_request.set(RequestScope(uuid.uuid4(), _FakeRequest()))
    try:
        samples = []
        for _ in range(7):
            bench_collector = Collector(queue_max=RECORD_CALLS + 1, start_thread=False)
            process._collector = bench_collector
            started = time.perf_counter()
            for _ in range(RECORD_CALLS):
                usage_stats.record("request", route="task_list", method="GET", status=200, latency_ms=12.5)
            samples.append((time.perf_counter() - started) / RECORD_CALLS * 1e6)
            assert bench_collector.snapshot()["queued"] == RECORD_CALLS
        return statistics.median(samples)
    finally:
        current_request.reset(token)
        process._collector = saved


def end_to_end(raw) -> float:
    """events/s from the first record() to the last event committed."""
    tenant = _bench_tenant()
    events = list(_events(END_TO_END_EVENTS, tenant))
    bench = Collector(batch_size=BATCH_SIZE, flush_interval_s=1.0, queue_max=END_TO_END_EVENTS + 1)
    bench.start()
    record = bench.record
    try:
        gc.collect()  # no collection of the set-up's garbage inside the timed window
        started = time.perf_counter()
        for event, fields in events:
            record(event, **fields)
        assert bench.flush(timeout_s=600), bench.snapshot()
        elapsed = time.perf_counter() - started
        snap = bench.snapshot()
        assert snap["written_total"] == END_TO_END_EVENTS, snap
        assert sum(snap["dropped_total"].values()) == 0, snap
        assert _count(raw, tenant) == END_TO_END_EVENTS
    finally:
        bench.stop()
        _delete(raw, tenant)
    return END_TO_END_EVENTS / elapsed


def flusher_only(raw) -> float:
    """events/s for the flusher alone: the same events queued first, then timed from the
    flusher's start to the last commit. The gap to end_to_end is GIL contention with a
    producer that does nothing but call record(), which real request threads do not."""
    tenant = _bench_tenant()
    bench = Collector(
        batch_size=BATCH_SIZE, flush_interval_s=1.0, queue_max=END_TO_END_EVENTS + 1, start_thread=False
    )
    for event, fields in _events(END_TO_END_EVENTS, tenant):  # queue without a flusher thread...
        bench.record(event, **fields)
    bench.start_thread = True
    try:
        gc.collect()  # no collection of the set-up's garbage inside the timed window
        started = time.perf_counter()
        assert bench.flush(timeout_s=600), bench.snapshot()  # ...then time the flusher it starts
        elapsed = time.perf_counter() - started
        assert _count(raw, tenant) == END_TO_END_EVENTS
    finally:
        bench.stop()
        _delete(raw, tenant)
    return END_TO_END_EVENTS / elapsed


def raw_copy(raw) -> float:
    """events/s for COPY of rows already serialised (the same rows, the same batch size)."""
    tenant = _bench_tenant()
    serializer = LineEncoder()
    now = time.time()
    lines = []
    for i, (event, fields) in enumerate(_events(RAW_COPY_EVENTS, tenant)):
        item = (
            now + i * 2e-6,  # distinct times, as record() stamps them: the same index work
            event,
            fields["tenant_id"],
            fields.get("user_id"),
            fields.get("route"),
            fields.get("method"),
            fields.get("status"),
            fields.get("latency_ms"),
            None,
            fields.get("properties"),
        )
        lines.append(serializer.line(item))
    chunks = [b"".join(lines[i : i + BATCH_SIZE]) for i in range(0, len(lines), BATCH_SIZE)]
    try:
        gc.collect()  # no collection of the set-up's garbage inside the timed window
        started = time.perf_counter()
        with raw.cursor() as cursor:
            for chunk in chunks:
                cursor.copy_expert(sql.COPY_EVENTS, LineSource([chunk]), size=1 << 16)
        elapsed = time.perf_counter() - started
        assert _count(raw, tenant) == RAW_COPY_EVENTS
    finally:
        _delete(raw, tenant)
    return RAW_COPY_EVENTS / elapsed


def naive_insert(raw) -> float:
    """events/s for one INSERT statement per event (autocommit), like the seed."""
    tenant = _bench_tenant()
    rows = []
    for event, fields in _events(NAIVE_EVENTS, tenant):
        props = fields.get("properties")
        rows.append(
            (
                uuid.uuid4(),
                time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime()),
                fields["tenant_id"],
                event,
                fields.get("route"),
                fields.get("method"),
                fields.get("user_id"),
                fields.get("status"),
                fields.get("latency_ms"),
                None,
                None if props is None else json.dumps(props),
            )
        )
    try:
        gc.collect()  # no collection of the set-up's garbage inside the timed window
        started = time.perf_counter()
        with raw.cursor() as cursor:
            for row in rows:
                cursor.execute(demo_sql.INSERT_EVENT, [str(row[0]), *row[1:]])
        elapsed = time.perf_counter() - started
        assert _count(raw, tenant) == NAIVE_EVENTS
    finally:
        _delete(raw, tenant)
    return NAIVE_EVENTS / elapsed


def run(report) -> None:
    wrapper, raw = _raw_connection()
    try:
        from usage_stats.storage.partitions import partitions_ensure

        partitions_ensure(conn=raw, months_ahead=settings.USAGE_STATS_PARTITION_MONTHS_AHEAD)
        per_call = record_call_us()
        report.add("ingest.record_call", per_call, "µs/call", target="≤2 µs", ok=per_call <= 2.0)

        naive = statistics.median(naive_insert(raw) for _ in range(RUNS))
        e2e_runs, raw_runs, flusher_runs = [], [], []
        for _ in range(RUNS):  # interleaved, so machine noise hits all alike
            e2e_runs.append(end_to_end(raw))
            raw_runs.append(raw_copy(raw))
            flusher_runs.append(flusher_only(raw))
        e2e, limit = statistics.median(e2e_runs), statistics.median(raw_runs)
        flusher = statistics.median(flusher_runs)

        report.add("ingest.naive_insert_per_event", naive, "events/s")
        report.add("ingest.raw_copy_prebuilt", limit, "events/s")
        report.add(
            "ingest.record_to_copy_end_to_end",
            e2e,
            "events/s",
            baseline=naive,
            baseline_name="naive INSERT per event",
            target="≥100,000 events/s",
            ok=e2e >= 100_000,
            runs=e2e_runs,
        )
        report.add(
            "ingest.end_to_end_vs_raw_copy",
            e2e,
            "events/s",
            baseline=limit,
            baseline_name="raw COPY of pre-built rows",
            target="≥0.8x raw COPY",
            ok=e2e >= 0.8 * limit,
            raw_copy_runs=raw_runs,
        )
        report.add(
            "ingest.flusher_only_vs_raw_copy",
            flusher,
            "events/s",
            baseline=limit,
            baseline_name="raw COPY of pre-built rows",
            runs=flusher_runs,
        )
        with raw.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) usage_event")  # the benchmark's deleted rows
    finally:
        wrapper.close()
