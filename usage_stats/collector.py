"""Usage events: a bounded in-memory queue per process, drained by one flusher thread
that writes batches with COPY into the `stats` database on its own connection.

`record()` costs the calling thread a tuple and a deque append; validation and
serialisation happen on the flusher thread. Nothing here raises into a request.

Memory bound: the queue (`queue_max` events) plus at most two batches taken off it: the
one being written and the next, serialised ahead while PostgreSQL ingests the first. A
batch keeps its COPY lines until it is settled (retries reuse them); a write joins them
into one buffer for its duration.

Loss bound: events live in memory until their batch is committed. A clean exit, a
SIGTERM through gunicorn (`worker_exit`) or `atexit` flushes within SHUTDOWN_TIMEOUT_S;
SIGKILL or a crash loses what is in memory (at most the queue, normally one flush
interval's worth). Every event that is not written is counted in `dropped_total`.
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import json
import logging
import os
import random
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings

from . import sql

logger = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT_S = 5.0  # below gunicorn's graceful_timeout (10 s)
STATEMENT_TIMEOUT = "30s"
APPLICATION_NAME = "usage_stats_flusher"
IDLE_TICK_S = 0.05  # how often an idle flusher looks at the queue's size
BACKOFF_BASE_S = 0.1
BACKOFF_CAP_S = 5.0
NON_TRANSIENT_ATTEMPTS = 5  # then the batch is dropped as db_error
PARTITION_CHECK_EVERY_S = 6 * 3600
COPY_CHUNK_BYTES = 1 << 16
DROP_REASONS = ("queue_full", "db_error", "invalid")
_INT4 = 2**31 - 1
_INT8 = 2**63 - 1
_UUID_VARIANT = 1 << 63  # RFC 9562 variant bits of the event_id's counter half
_NULL = "\\N"  # COPY text NULL
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})


class RequestScope:
    """What record() may read about the current request (set by the middleware)."""

    __slots__ = ("request", "tenant")

    def __init__(self, tenant: str, request: Any) -> None:
        self.tenant = tenant
        self.request = request

    def user_id(self) -> int | None:
        """The signed-in user's id if the request has already loaded the user (session or
        API token); never a query on the caller's behalf."""
        for attr in ("user", "auth"):
            candidate = self.request.__dict__.get(attr)
            if candidate is None:
                continue
            user = getattr(candidate, "__dict__", {}).get("_wrapped", candidate)  # SimpleLazyObject
            if getattr(user, "is_authenticated", False) is True and isinstance(
                getattr(user, "pk", None), int
            ):
                return user.pk
        return None


current_request: contextvars.ContextVar[RequestScope | None] = contextvars.ContextVar(
    "usage_stats_request", default=None
)


def _default_tenant() -> str:
    try:
        from django.db import connection

        return getattr(connection, "schema_name", None) or "public"
    except Exception:
        return "public"


def _is_transient(exc: BaseException) -> bool:
    """Connection-level trouble: reconnect and retry the same batch (forever, with backoff)."""
    import psycopg2
    from django.db import utils as db_utils

    transient = (psycopg2.OperationalError, psycopg2.InterfaceError)
    transient_dj = (db_utils.OperationalError, db_utils.InterfaceError)
    # pytest-django refuses connections outside DB tests with RuntimeError: wait it out.
    return isinstance(exc, transient + transient_dj + (RuntimeError, OSError))


def _is_unique_violation(exc: BaseException) -> bool:
    import psycopg2.errors

    return isinstance(exc, psycopg2.errors.UniqueViolation) or isinstance(
        exc.__cause__, psycopg2.errors.UniqueViolation
    )


def _is_data_error(exc: BaseException) -> bool:
    import psycopg2

    return isinstance(exc, psycopg2.DataError | psycopg2.IntegrityError) and not _is_unique_violation(exc)


# COPY text format: backslash, tab, newline and carriage return must be escaped.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class InvalidEvent(ValueError):
    pass


def _text(value: Any, max_len: int, *, required: bool = False) -> str:
    if value is None:
        if required:
            raise InvalidEvent("missing")
        return _NULL
    if not isinstance(value, str) or len(value) > max_len or (required and not value):
        raise InvalidEvent("bad text")
    return _copy_escape(value)


def _copy_escape(value: str) -> str:
    if value.isprintable() and "\\" not in value:  # the common case, checked in C
        return value
    if "\x00" in value:  # PostgreSQL text cannot hold NUL
        raise InvalidEvent("NUL")
    return value.translate(_COPY_ESCAPES)


def _int(value: Any, low: int, high: int) -> str:
    if type(value) is not int or not low <= value <= high:
        raise InvalidEvent("bad int")
    return str(value)


def _properties_text(properties: Any) -> str:
    if not isinstance(properties, dict):
        raise InvalidEvent("properties must be a dict")
    try:
        props = json.dumps(properties, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidEvent("properties not JSON") from exc
    if len(props) > sql.MAX_PROPERTIES_BYTES or "\\u0000" in props:  # jsonb refuses \u0000
        raise InvalidEvent("properties too large or NUL")
    return _copy_escape(props)


class _Serializer:
    """Turns queued tuples into COPY text lines (bytes). Flusher thread only."""

    def __init__(self) -> None:
        self.new_process()

    def new_process(self) -> None:
        # event_id: a random per-process prefix (UUIDv8 layout) and a counter, so ids are
        # unique without a syscall per event, and a retried batch keeps its ids.
        prefix = bytearray(os.urandom(8))
        prefix[6] = (prefix[6] & 0x0F) | 0x80  # version 8
        self._id_prefix = prefix.hex()
        self._id_counter = 0
        self._second = -1
        self._second_text = ""
        # (tenant, event, route, method) -> their escaped, tab-joined COPY text. Routes are
        # URL names, so the distinct combinations are few; the bound guards odd callers.
        self._labels: dict[tuple, str] = {}

    def line(self, item: tuple) -> bytes:
        """One COPY line, or InvalidEvent (nothing half-written). The flusher's hot loop:
        one f-string, no helper calls for the common values."""
        ts, event, tenant, user_id, route, method, status, latency_ms, tokens, properties = item
        if latency_ms is None:
            latency = _NULL
        elif type(latency_ms) in (int, float) and 0 <= latency_ms < 1e9:  # NaN and infinities fail
            latency = repr(float(latency_ms))
        else:
            raise InvalidEvent("bad latency")
        props = _NULL if properties is None else _properties_text(properties)
        try:
            labels = self._labels[(tenant, event, route, method)]
        except (KeyError, TypeError):  # TypeError: an unhashable value, rejected below
            labels = self._labels_text(tenant, event, route, method)
        second = int(ts)
        if second != self._second:  # timestamps cost a strftime once per second
            self._second = second
            self._second_text = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(second))
        self._id_counter += 1
        text = (
            # The variant bit keeps the counter's hex 16 digits long without padding.
            f"{self._id_prefix}{_UUID_VARIANT | self._id_counter:x}\t"
            f"{self._second_text}.{str(int((ts - second) * 1e6) + 1_000_000)[1:]}+00\t{labels}\t"
            f"{_NULL if user_id is None else _int(user_id, -_INT8, _INT8)}\t"
            f"{_NULL if status is None else _int(status, 0, 32767)}\t{latency}\t"
            f"{_NULL if tokens is None else _int(tokens, -_INT4, _INT4)}\t{props}\n"
        )
        try:
            return text.encode()
        except UnicodeEncodeError as exc:  # lone surrogates
            raise InvalidEvent("not UTF-8") from exc

    def _labels_text(self, tenant: Any, event: Any, route: Any, method: Any) -> str:
        text = "\t".join(
            (
                _text(tenant, sql.MAX_TENANT_LEN, required=True),
                _text(event, sql.MAX_EVENT_LEN, required=True),
                _text(route, sql.MAX_ROUTE_LEN),
                _text(method, sql.MAX_METHOD_LEN),
            )
        )
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:  # lone surrogates: never cache a line that cannot encode
            raise InvalidEvent("not UTF-8") from exc
        if len(self._labels) >= 4096:
            self._labels.clear()
        self._labels[(tenant, event, route, method)] = text
        return text


class _LineSource:
    """A file-like object for copy_expert: serialising continues while PostgreSQL ingests
    the chunks already sent (two cores, two processes)."""

    def __init__(self, lines: Iterable[bytes]) -> None:
        self._lines = iter(lines)

    def read(self, size: int = -1) -> bytes:
        parts: list[bytes] = []
        total = 0
        limit = size if size and size > 0 else COPY_CHUNK_BYTES
        for line in self._lines:
            parts.append(line)
            total += len(line)
            if total >= limit:
                break
        return b"".join(parts)


class _SendThenPrepare:
    """A file-like object for copy_expert: the whole batch in one read, so psycopg2 hands
    it to the socket in one call (each call releases the GIL, and taking it back from a
    busy thread can cost a switch interval while PostgreSQL waits). The next read, once
    the data is sent, runs `after_sent`: Python works while PostgreSQL ingests."""

    def __init__(self, data: bytes, after_sent: Callable[[], None]) -> None:
        self._data = data
        self._after_sent: Callable[[], None] | None = after_sent

    def read(self, size: int = -1) -> bytes:
        data, self._data = self._data, b""
        if not data and self._after_sent is not None:
            after_sent, self._after_sent = self._after_sent, None
            after_sent()
        return data


class _Batch:
    """Events taken off the queue, serialised once (ahead of their write when the flusher
    is busy); the lines are kept for retries."""

    def __init__(self, items: list[tuple]) -> None:
        self.items: list[tuple] | None = items  # None once serialised into `lines`
        self.lines: list[bytes] = []
        self.size = len(items)
        self.attempts = 0
        self.failures_non_transient = 0
        self.maybe_committed = False  # a COPY whose outcome we never heard

    def uncounted(self) -> int:
        """Events of this batch in no counter yet (serialising counts the invalid ones)."""
        return self.size if self.items is not None else len(self.lines)


class Collector:
    """A bounded queue and its flusher thread. One per process (`collector()`); tests and
    the benchmark may build their own with other limits."""

    def __init__(
        self,
        *,
        enabled: bool = True,
        batch_size: int = 5000,
        flush_interval_s: float = 1.0,
        queue_max: int = 200_000,
        partition_months_ahead: int = 3,
        alias: str = "stats",
        manage_partitions: bool = True,
        start_thread: bool = True,
    ) -> None:
        self.enabled = enabled
        self.batch_size = max(1, int(batch_size))
        self.flush_interval_s = max(0.001, float(flush_interval_s))
        self.queue_max = max(1, int(queue_max))
        self.partition_months_ahead = partition_months_ahead
        self.alias = alias
        self.manage_partitions = manage_partitions
        # Without a thread (benchmarks, tests of the write path) flush() writes inline.
        self.start_thread = start_thread
        self._reset_state()

    def _reset_state(self) -> None:
        self._queue: deque[tuple] = deque()
        self._drop_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._progress = threading.Condition(self._state_lock)
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = False
        self._stopping = False
        self._drain_requests = 0
        self._stop_deadline = 0.0
        self._conn = None
        self._serializer = _Serializer()
        self._pending: _Batch | None = None  # the batch being written (or retried)
        self._next: _Batch | None = None  # taken and serialised while _pending is written
        self._partitions_checked_at = 0.0
        # Counters (the flusher writes them; snapshot() reads them).
        self.taken_total = 0  # events taken off the queue into a batch
        self.done_total = 0  # taken events whose fate is settled (written or dropped)
        self.written_total = 0
        self.duplicates_skipped_total = 0
        self.dropped: dict[str, int] = dict.fromkeys(DROP_REASONS, 0)
        self.batches_total = 0
        self.retries_total = 0
        self.flush_latencies_ms: deque[float] = deque(maxlen=101)
        self.last_error: str | None = None
        self.last_flush_at: float | None = None

    # --- request threads -------------------------------------------------------

    def record(
        self,
        event: str,
        *,
        tenant: str | None = None,
        user_id: int | None = None,
        route: str | None = None,
        method: str | None = None,
        status: int | None = None,
        latency_ms: float | None = None,
        tokens: int | None = None,
        properties: dict[str, Any] | None = None,
    ) -> None:
        """Queue one event; never raises. See the module docstring for the loss bound."""
        try:
            if not self.enabled:
                return
            if not self._started:
                self.start()
            if tenant is None or user_id is None:
                scope = current_request.get()
                if scope is not None:
                    if tenant is None:
                        tenant = scope.tenant
                    if user_id is None:
                        user_id = scope.user_id()
                elif tenant is None:
                    tenant = _default_tenant()
            queue = self._queue
            size = len(queue)
            # Appends from several threads may overshoot the bound by a few; drops are exact.
            if size >= self.queue_max:
                with self._drop_lock:
                    self.dropped["queue_full"] += 1
                return
            queue.append(
                (time.time(), event, tenant, user_id, route, method, status, latency_ms, tokens, properties)
            )
            if size == self.batch_size - 1:  # a full batch: write it now, not at the next idle tick
                self._wake.set()
        except Exception:  # the caller's request matters more than one event
            try:
                with self._drop_lock:
                    self.dropped["invalid"] += 1
            except Exception:  # noqa: S110
                pass

    # --- control ---------------------------------------------------------------

    def start(self) -> None:
        """Start the flusher thread of this process (idempotent)."""
        with self._state_lock:
            if self._started or not self.enabled:
                return
            self._started = True
            if not self.start_thread:
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="usage-stats-flusher", daemon=True)
            self._thread.start()

    def after_fork_in_child(self) -> None:
        """A forked child starts empty: the parent flushes what it queued, and the parent's
        thread, locks and connection are not ours (closing that socket would break the parent)."""
        if self._conn is not None:
            _INHERITED_CONNECTIONS.append(self._conn)
        self._reset_state()

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Write everything queued before this call; True when it all settled in time."""
        if not self.enabled:
            return True
        deadline = time.monotonic() + timeout_s
        with self._progress:
            target = self.taken_total + len(self._queue)
            self._drain_requests += 1
        try:
            if not self._thread_alive() and not self._stopping:
                self._started = False
                self.start()
            self._wake.set()
            with self._progress:
                while self.done_total < target and self._thread_alive():
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._progress.wait(min(remaining, 0.05))
                    self._wake.set()  # cut a retry backoff short
        finally:
            with self._progress:
                self._drain_requests -= 1
        if self.done_total < target and not self._thread_alive():
            self._drain_inline(deadline)
        return self.done_total >= target

    def stop(self, timeout_s: float = SHUTDOWN_TIMEOUT_S) -> bool:
        """Flush within `timeout_s` and stop the flusher. Events still unwritten after the
        deadline are counted as dropped (db_error) and logged, never silently lost."""
        deadline = time.monotonic() + timeout_s
        self._stop_deadline = deadline
        self._stopping = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(max(0.0, deadline - time.monotonic()))
        if thread is None or not thread.is_alive():
            self._drain_inline(deadline)
        # A write still running past the deadline (a hung server) is not waited for: its batch
        # is reported lost too, so nothing can vanish without a count.
        locked = self._write_lock.acquire(timeout=0.5)
        try:
            batches = [b for b in (self._pending, self._next) if b is not None]
            lost = len(self._queue) + sum(b.uncounted() for b in batches)
            self._pending = self._next = None
            if lost:
                self._queue.clear()
                self._count_dropped("db_error", lost)
                logger.error("usage_stats: %d events not written before shutdown: %s", lost, self.last_error)
            if locked:
                self._close_connection()
        finally:
            if locked:
                self._write_lock.release()
        self._started = False
        self._stopping = False
        return lost == 0

    def snapshot(self) -> dict[str, Any]:
        """Counters for /stats/health, /healthz and metrics."""
        if self.enabled and not self._started:
            self.start()  # a worker that has recorded nothing yet still has a live flusher
        latencies = list(self.flush_latencies_ms)
        taken = (self._pending, self._next)
        queued = len(self._queue) + sum(batch.size for batch in taken if batch is not None)
        return {
            "enabled": self.enabled,
            "alive": self._thread_alive(),
            "pid": os.getpid(),
            "queued": queued,
            "queue_max": self.queue_max,
            "queued_total": self.taken_total + len(self._queue),
            "written_total": self.written_total,
            "duplicates_skipped_total": self.duplicates_skipped_total,
            "dropped_total": dict(self.dropped),
            "batches_total": self.batches_total,
            "retries_total": self.retries_total,
            "flush_latency_ms": latencies[-1] if latencies else None,
            "flush_latency_p50_ms": statistics.median(latencies) if latencies else None,
            "last_error": self.last_error,
            "last_flush_at": self.last_flush_at,
        }

    # --- flusher thread ----------------------------------------------------------

    def _thread_alive(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def _run(self) -> None:
        attempt = 0
        while True:
            try:
                if self._stopping and time.monotonic() >= self._stop_deadline:
                    return
                if self._pending is not None:
                    if self._write_pending():
                        attempt = 0
                    else:
                        attempt += 1
                        delay = self._backoff_s(attempt)
                        if self._stopping:
                            delay = min(delay, max(0.0, self._stop_deadline - time.monotonic()))
                        self._sleep(delay)
                    continue
                if self._next is not None or self._batch_due():
                    self._take_batch()
                    continue
                if self._stopping:
                    return
                self._maybe_manage_partitions()
                queue = self._queue
                if queue:
                    age = time.time() - queue[0][0]
                    self._sleep(min(IDLE_TICK_S, max(0.0, self.flush_interval_s - age)))
                else:
                    self._sleep(IDLE_TICK_S)
            except Exception as exc:  # keep the thread alive whatever happens
                self.last_error = f"{type(exc).__name__}: {exc}"
                logger.exception("usage_stats flusher error")
                self._sleep(self._backoff_s(1))

    def _sleep(self, seconds: float) -> None:
        self._wake.wait(seconds)
        self._wake.clear()

    @staticmethod
    def _backoff_s(attempt: int) -> float:
        ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** min(attempt, 16))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def _batch_due(self) -> bool:
        queue = self._queue
        size = len(queue)
        return size > 0 and (
            self._stopping
            or self._drain_requests > 0
            or size >= self.batch_size
            or time.time() - queue[0][0] >= self.flush_interval_s
        )

    def _take_batch(self) -> None:
        """The batch serialised ahead, if any, becomes the pending one; else the queue's head."""
        with self._write_lock:
            if self._pending is not None:
                return
            with self._state_lock:
                if self._next is not None:
                    self._pending, self._next = self._next, None
                else:
                    self._pending = self._pop_batch()

    def _pop_batch(self) -> _Batch:
        # Popping and counting happen under the lock flush() reads them with (callers hold
        # _state_lock), or a flush could see the events neither queued nor taken and return
        # before they are written.
        queue = self._queue
        n = min(len(queue), self.batch_size)
        items = [queue.popleft() for _ in range(n)]
        self.taken_total += n
        return _Batch(items)

    def _serialise_ahead(self) -> None:
        """Runs once a COPY's data is sent (under _write_lock): take and serialise the next
        batch while PostgreSQL ingests this one, so the next COPY starts with rows ready."""
        try:
            if self._next is not None or not self._batch_due():
                return
            with self._state_lock:
                batch = self._next = self._pop_batch()
            self._serialise(batch)
        except Exception as exc:  # never fail the COPY in flight; the write path finishes it
            self.last_error = f"serialise ahead: {type(exc).__name__}: {exc}"
            logger.exception("usage_stats: serialising ahead failed")

    def _settle(self, batch: _Batch, *, written: int = 0, duplicates: int = 0) -> None:
        with self._progress:
            self.written_total += written
            self.duplicates_skipped_total += duplicates
            self.done_total += batch.size
            self.batches_total += 1
            self._pending = None
            self._progress.notify_all()

    def _count_dropped(self, reason: str, n: int) -> None:
        with self._drop_lock:
            self.dropped[reason] += n

    def _drain_inline(self, deadline: float) -> None:
        """Write on the calling thread (no flusher alive: shutdown, or a dead thread)."""
        while time.monotonic() < deadline:
            if self._pending is None:
                if not self._queue and self._next is None:
                    return
                self._take_batch()
            if not self._write_pending():
                time.sleep(min(self._backoff_s(1), max(0.0, deadline - time.monotonic())))

    def _serialise(self, batch: _Batch) -> None:
        """Turn the batch's events into COPY lines (under _write_lock: one serialiser)."""
        items = batch.items
        if items is None:
            return
        line = self._serializer.line
        lines = []
        invalid = 0
        for item in items:
            try:
                lines.append(line(item))
            except Exception:
                invalid += 1
        batch.lines, batch.items = lines, None
        if invalid:  # settled with the batch, as dropped
            self._count_dropped("invalid", invalid)

    _finish_serialising = _serialise  # the name the tests use

    def _write_pending(self) -> bool:
        """One attempt at the pending batch. True when it is settled."""
        with self._write_lock:
            batch = self._pending
            if batch is None:
                return True
            started = time.perf_counter()
            batch.attempts += 1
            if batch.attempts > 1:
                self.retries_total += 1
            try:
                raw = self._connection()
                if batch.maybe_committed:
                    self._serialise(batch)
                    written, duplicates = self._insert_skipping_duplicates(raw, batch.lines)
                else:
                    written, duplicates = self._copy_resilient(raw, batch), 0
            except Exception as exc:
                self._serialise(batch)
                self.last_error = f"{type(exc).__name__}: {str(exc).strip()[:500]}"
                if _is_transient(exc):
                    # The COPY may have committed before the connection broke: the retry must
                    # not double count, so it goes through the ON CONFLICT path.
                    batch.maybe_committed = True
                    self._close_connection()
                    return False
                if _is_unique_violation(exc):
                    batch.maybe_committed = True
                    return False
                batch.failures_non_transient += 1
                logger.warning("usage_stats: batch of %d failed: %s", len(batch.lines), self.last_error)
                if batch.failures_non_transient >= NON_TRANSIENT_ATTEMPTS:
                    self._count_dropped("db_error", len(batch.lines))
                    self._settle(batch)
                    return True
                return False
            self.flush_latencies_ms.append((time.perf_counter() - started) * 1000)
            self.last_flush_at = time.time()
            self._settle(batch, written=written, duplicates=duplicates)
            return True

    def _copy_resilient(self, raw, batch: _Batch) -> int:
        """COPY the batch; if PostgreSQL rejects some row's data, find it by bisection."""
        self._serialise(batch)
        try:
            source = _SendThenPrepare(b"".join(batch.lines), self._serialise_ahead)
            with raw.cursor() as cursor:
                cursor.copy_expert(sql.COPY_EVENTS, source, size=COPY_CHUNK_BYTES)
            return len(batch.lines)
        except Exception as exc:
            if not _is_data_error(exc):
                raise
            return self._copy_bisect(raw, batch.lines)

    def _copy_bisect(self, raw, lines: list[bytes]) -> int:
        try:
            with raw.cursor() as cursor:
                cursor.copy_expert(sql.COPY_EVENTS, _LineSource(iter(lines)), size=COPY_CHUNK_BYTES)
            return len(lines)
        except Exception as exc:
            if not _is_data_error(exc):
                raise
            if len(lines) == 1:
                self._count_dropped("invalid", 1)
                return 0
            middle = len(lines) // 2
            return self._copy_bisect(raw, lines[:middle]) + self._copy_bisect(raw, lines[middle:])

    def _insert_skipping_duplicates(self, raw, lines: list[bytes]) -> tuple[int, int]:
        """Stage the batch and insert only the event_ids not stored yet, in one transaction.
        Returns (events now stored, of which were already there). Bisects out bad rows."""
        try:
            with raw.cursor() as cursor:
                cursor.execute("BEGIN")
                try:
                    cursor.execute(sql.CREATE_STAGING_TABLE)
                    cursor.copy_expert(sql.COPY_STAGING, _LineSource(iter(lines)), size=COPY_CHUNK_BYTES)
                    cursor.execute(sql.INSERT_FROM_STAGING)
                    inserted = cursor.rowcount
                    cursor.execute("COMMIT")
                except Exception:
                    if not raw.closed:
                        cursor.execute("ROLLBACK")
                    raise
        except Exception as exc:
            if not _is_data_error(exc):
                raise
            if len(lines) == 1:
                self._count_dropped("invalid", 1)
                return 0, 0
            middle = len(lines) // 2
            a = self._insert_skipping_duplicates(raw, lines[:middle])
            b = self._insert_skipping_duplicates(raw, lines[middle:])
            return a[0] + b[0], a[1] + b[1]
        return len(lines), len(lines) - inserted

    # --- connection ----------------------------------------------------------------

    def _connection(self):
        """The flusher's own psycopg2 connection (autocommit), opened on demand."""
        wrapper = self._conn
        if wrapper is not None and (wrapper.connection is None or wrapper.connection.closed):
            self._close_connection()
            wrapper = None
        if wrapper is None:
            from django.db import connections

            wrapper = connections.create_connection(self.alias)
            wrapper.inc_thread_sharing()  # used under _write_lock by the flusher or at shutdown
            try:
                wrapper.ensure_connection()
                raw = wrapper.connection
                raw.autocommit = True
                # Behind a transaction pooler a session-level SET would leak onto a
                # server connection other clients share; set these per role there.
                if not settings.DB_POOLER:
                    with raw.cursor() as cursor:
                        cursor.execute(
                            sql.FLUSHER_SESSION_SETUP,
                            {"statement_timeout": STATEMENT_TIMEOUT, "application_name": APPLICATION_NAME},
                        )
            except Exception:
                with contextlib.suppress(Exception):
                    wrapper.close()
                raise
            self._conn = wrapper
        return wrapper.connection

    def _close_connection(self) -> None:
        wrapper, self._conn = self._conn, None
        if wrapper is None:
            return
        with contextlib.suppress(Exception):  # a broken connection has nothing left to close
            wrapper.close()

    def _maybe_manage_partitions(self) -> None:
        """Keep the next months' partitions in place from every process, cheaply."""
        if not self.manage_partitions:
            return
        now = time.monotonic()
        if self._partitions_checked_at and now - self._partitions_checked_at < PARTITION_CHECK_EVERY_S:
            return
        self._partitions_checked_at = now
        from .partitions import partitions_ensure

        try:
            with self._write_lock:
                partitions_ensure(conn=self._connection(), months_ahead=self.partition_months_ahead)
        except Exception as exc:
            self._partitions_checked_at = now - PARTITION_CHECK_EVERY_S + 60  # try again in a minute
            self.last_error = f"partitions: {type(exc).__name__}: {exc}"
            if not _is_transient(exc):
                logger.warning("usage_stats: partition maintenance failed: %s", exc)


# Connections inherited over fork(): kept referenced so they are never closed (and never
# send a Terminate message on the parent's socket) by the child.
_INHERITED_CONNECTIONS: list[Any] = []

_collector: Collector | None = None
_collector_lock = threading.Lock()


def collector() -> Collector:
    """The process's collector, configured from settings on first use."""
    global _collector
    if _collector is None:
        with _collector_lock:
            if _collector is None:
                from django.conf import settings

                _collector = Collector(
                    enabled=getattr(settings, "USAGE_STATS_ENABLED", True),
                    batch_size=getattr(settings, "USAGE_STATS_BATCH_SIZE", 5000),
                    flush_interval_s=getattr(settings, "USAGE_STATS_FLUSH_INTERVAL_S", 1.0),
                    queue_max=getattr(settings, "USAGE_STATS_QUEUE_MAX", 200_000),
                    partition_months_ahead=getattr(settings, "USAGE_STATS_PARTITION_MONTHS_AHEAD", 3),
                    alias=getattr(settings, "STATS_DB_ALIAS", "stats"),
                )
    return _collector


def record(
    event: str,
    *,
    tenant: str | None = None,
    user_id: int | None = None,
    route: str | None = None,
    method: str | None = None,
    status: int | None = None,
    latency_ms: float | None = None,
    tokens: int | None = None,
    properties: dict[str, Any] | None = None,
) -> None:
    """Queue one usage event. Never raises into the caller.

    `tenant` defaults to the current request's tenant schema (or the default connection's
    schema, `public` outside a request), `user_id` to the request's signed-in user when the
    request has already loaded it.
    """
    with contextlib.suppress(Exception):  # settings unavailable: nowhere to count it
        (_collector or collector()).record(
            event,
            tenant=tenant,
            user_id=user_id,
            route=route,
            method=method,
            status=status,
            latency_ms=latency_ms,
            tokens=tokens,
            properties=properties,
        )


def flush(timeout_s: float = 10.0) -> bool:
    """Write every event queued so far, synchronously (tests). True when all settled."""
    return collector().flush(timeout_s)


def shutdown(timeout_s: float = SHUTDOWN_TIMEOUT_S) -> bool:
    """Flush and stop this process's flusher (atexit, gunicorn worker_exit)."""
    if _collector is None:
        return True
    try:
        return _collector.stop(timeout_s)
    except Exception:
        logger.exception("usage_stats shutdown failed")
        return False


def snapshot() -> dict[str, Any]:
    """Counters of this process: enabled, alive, pid, queued, queued_total, written_total,
    dropped_total {queue_full, db_error, invalid}, flush_latency_ms (last),
    flush_latency_p50_ms, last_error, last_flush_at (unix seconds)."""
    return collector().snapshot()


def normalise_method(method: str | None) -> str | None:
    """HTTP methods are client-chosen: anything unusual becomes OTHER."""
    if method is None:
        return None
    return method if method in _METHODS else "OTHER"


def reset_after_fork() -> None:
    """Forget the parent's queue, thread and connection (called in a forked child)."""
    if _collector is not None:
        _collector.after_fork_in_child()


os.register_at_fork(after_in_child=reset_after_fork)
atexit.register(shutdown)
