"""Usage events: a bounded in-memory queue per process, drained by one flusher thread
that hands batches to a BatchWriter (COPY into the `stats` database, on its own connection).

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

The flusher runs no DDL: partitions are `storage`'s, made by `stats_partitions` and after
`migrate_stats`; an event of a month without one lands in the DEFAULT partition.
"""

from __future__ import annotations

import contextlib
import logging
import os
import statistics
import threading
import time
from collections import deque
from typing import Any

from .batch import NON_TRANSIENT_ATTEMPTS, Batch, backoff_s
from .encoding import LineEncoder, QueuedEvent
from .scope import current_request, default_tenant_id
from .writer import BatchWriter, DuplicateEventsError, TransientWriteError, WriteError

logger = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT_S = 5.0  # below gunicorn's graceful_timeout (10 s)
IDLE_TICK_S = 0.05  # how often an idle flusher looks at the queue's size
DROP_REASONS = ("queue_full", "db_error", "invalid")


class Collector:
    """A bounded queue and its flusher thread. One per process (`ingest.process`); tests
    and the benchmark may build their own with other limits or another `writer`."""

    def __init__(
        self,
        *,
        enabled: bool = True,
        batch_size: int = 5000,
        flush_interval_s: float = 1.0,
        queue_max: int = 200_000,
        alias: str = "stats",
        writer: BatchWriter | None = None,
        start_thread: bool = True,
    ) -> None:
        self.enabled = enabled
        self.batch_size = max(1, int(batch_size))
        self.flush_interval_s = max(0.001, float(flush_interval_s))
        self.queue_max = max(1, int(queue_max))
        self.writer = writer if writer is not None else BatchWriter(alias=alias)
        self.start_thread = start_thread  # without one, flush() writes on the calling thread
        self._reset_state()

    def _reset_state(self) -> None:
        self._queue: deque[QueuedEvent] = deque()
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
        self._encoder = LineEncoder()
        self._pending: Batch | None = None  # the batch being written (or retried)
        self._next: Batch | None = None  # taken and serialised while _pending is written
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
        tenant_id: Any = None,
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
            if tenant_id is None or user_id is None:
                scope = current_request.get()
                if scope is not None:
                    if tenant_id is None:
                        tenant_id = scope.tenant_id
                    if user_id is None:
                        user_id = scope.user_id()
                elif tenant_id is None:
                    tenant_id = default_tenant_id()
            queue = self._queue
            size = len(queue)
            # Appends from several threads may overshoot the bound by a few; drops are exact.
            if size >= self.queue_max:
                with self._drop_lock:
                    self.dropped["queue_full"] += 1
                return
            # The layout of encoding.queued_event(), built inline: this is the hot path.
            queue.append(
                (
                    time.time(),
                    event,
                    tenant_id,
                    user_id,
                    route,
                    method,
                    status,
                    latency_ms,
                    tokens,
                    properties,
                )
            )
            if size == self.batch_size - 1:  # a full batch: write it now, not at the next idle tick
                self._wake.set()
        except Exception:  # the caller's request matters more than one event
            with contextlib.suppress(Exception):
                self._count_dropped("invalid", 1)

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

    def after_fork_in_child(self) -> Any:
        """A forked child starts empty: the parent flushes what it queued, and the parent's
        thread, locks and connection are not ours (closing that socket would break the
        parent). Returns the parent's connection, for the caller to keep referenced."""
        inherited = self.writer.detach()
        self._reset_state()
        return inherited

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
                self.writer.close()
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
        return self._thread is not None and self._thread.is_alive()

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
                        delay = backoff_s(attempt)
                        if self._stopping:
                            delay = min(delay, max(0.0, self._stop_deadline - time.monotonic()))
                        self._sleep(delay)
                    continue
                if self._next is not None or self._batch_due():
                    self._take_batch()
                    continue
                if self._stopping:
                    return
                queue = self._queue
                if queue:
                    age = time.time() - queue[0][0]
                    self._sleep(min(IDLE_TICK_S, max(0.0, self.flush_interval_s - age)))
                else:
                    self._sleep(IDLE_TICK_S)
            except Exception as exc:  # keep the thread alive whatever happens
                self.last_error = f"{type(exc).__name__}: {exc}"
                logger.exception("usage_stats flusher error")
                self._sleep(backoff_s(1))

    def _sleep(self, seconds: float) -> None:
        self._wake.wait(seconds)
        self._wake.clear()

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

    def _pop_batch(self) -> Batch:
        # Popping and counting happen under the lock flush() reads them with (callers hold
        # _state_lock), or a flush could see the events neither queued nor taken and return
        # before they are written.
        queue = self._queue
        n = min(len(queue), self.batch_size)
        items = [queue.popleft() for _ in range(n)]
        self.taken_total += n
        return Batch(items)

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

    def _settle(self, batch: Batch, *, written: int = 0, duplicates: int = 0) -> None:
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
                time.sleep(min(backoff_s(1), max(0.0, deadline - time.monotonic())))

    def _serialise(self, batch: Batch) -> None:
        """Turn the batch's events into COPY lines (under _write_lock: one encoder)."""
        if batch.items is None:
            return
        batch.lines, invalid = self._encoder.lines(batch.items)
        batch.items = None
        if invalid:  # settled with the batch, as dropped
            self._count_dropped("invalid", invalid)

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
            self._serialise(batch)
            try:
                result = self.writer.write(
                    batch.lines,
                    may_exist=batch.maybe_committed,
                    after_sent=None if batch.maybe_committed else self._serialise_ahead,
                )
            except WriteError as exc:
                self.last_error = str(exc)
                if isinstance(exc, TransientWriteError | DuplicateEventsError):
                    # The COPY may have committed before the connection broke: the retry must
                    # not double count, so it goes through the ON CONFLICT path.
                    batch.maybe_committed = True
                    return False
                batch.failures_non_transient += 1
                logger.warning("usage_stats: batch of %d failed: %s", len(batch.lines), self.last_error)
                if batch.failures_non_transient >= NON_TRANSIENT_ATTEMPTS:
                    self._count_dropped("db_error", len(batch.lines))
                    self._settle(batch)
                    return True
                return False
            if result.invalid:
                self._count_dropped("invalid", result.invalid)
            self.flush_latencies_ms.append((time.perf_counter() - started) * 1000)
            self.last_flush_at = time.time()
            self._settle(batch, written=result.written, duplicates=result.duplicates)
            return True
