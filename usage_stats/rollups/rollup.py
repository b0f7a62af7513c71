"""Hourly and quarter-hourly rollups of the usage events: resumable, and every event counted exactly once.

A run adds the events with `watermark < seq <= settled` to the rollup tables
(rollups/sql.py) and moves the watermark to `settled` in the same
transaction, in chunks of seq. A crash rolls back one chunk; the next run resumes at the
stored watermark. A second run at the same time waits for the state row's lock and then
finds nothing left to add, so re-running is idempotent.

Why the upper bound has to be "settled" rather than max(seq): seq comes from a sequence,
and a sequence value is drawn when a row is written, not when it commits. A COPY that drew
seq 100..200 can commit after one that drew 201..300 and was already rolled up; moving
the watermark to 300 would skip 100..200 forever. Re-scanning a safety window with
idempotent recomputation was the alternative, but it needs a window long enough for any
writer (unknowable), and recomputing an hour from raw events would wipe the rollups of
months whose raw partitions retention has dropped. So this module only adds ranges that
can no longer change:

1. read the last value the sequence has handed out (`handed_out`);
2. list the transactions that hold a write lock on the events table right now; any
   transaction that drew a seq <= handed_out took that lock first and still holds it
   unless it has ended;
3. wait (briefly: a COPY takes milliseconds) until every one of them has ended. Then
   every row with seq <= handed_out is committed (and visible to the next statement) or
   rolled back, so `settled = handed_out`. If one is still running when the wait is over,
   this run does not advance, and says which transaction blocks it.

This relies on the sequence being uncached (migration 0002 sets CACHE 1): a cached
sequence gives each session a block of values it may use much later, after larger ones.
Late events (an old occurred_at, a new seq) simply add to the hour they belong to.
"""

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connections, transaction

from . import histogram, sql

logger = logging.getLogger(__name__)

DEFAULT_CHUNK_SEQS = 250_000
DEFAULT_WAIT_S = 5.0
_POLL_S = 0.02


@dataclass(frozen=True)
class RollupResult:
    events_added: int
    watermark: int
    chunks: int
    # Write transactions still running when the wait ended; the run stopped short of them.
    blocked_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class RollupState:
    watermark: int
    events: int
    updated_at: dt.datetime | None


def rollup_settled_seq(*, using: str, wait_s: float) -> tuple[int | None, tuple[str, ...]]:
    """The highest seq below which no event can still appear, or (None, blockers)."""
    with connections[using].cursor() as cursor:
        cursor.execute(sql.ROLLUP_SEQ_HANDED_OUT)
        handed_out = int(cursor.fetchone()[0])
        cursor.execute(sql.ROLLUP_WRITERS_IN_FLIGHT)
        writers = [row[0] for row in cursor.fetchall()]
        deadline = time.monotonic() + max(wait_s, 0.0)
        while writers:
            cursor.execute(sql.ROLLUP_VXIDS_RUNNING, {"vxids": writers})
            if cursor.fetchone()[0] == 0:
                break
            if time.monotonic() >= deadline:
                return None, tuple(writers)
            time.sleep(_POLL_S)
    return handed_out, ()


def rollup_run(
    *,
    using: str | None = None,
    chunk_seqs: int = DEFAULT_CHUNK_SEQS,
    wait_s: float = DEFAULT_WAIT_S,
    progress: Callable[[int, int], None] | None = None,
    skip_if_busy: bool = False,
) -> RollupResult:
    """Add every settled event not yet rolled up. Safe to run any time, from anywhere,
    concurrently with writers and with other runs (which it waits for, unless
    `skip_if_busy`: then it stops as soon as another run holds the state)."""
    if chunk_seqs < 1:
        raise ValueError("chunk_seqs must be at least 1")
    using = using or settings.STATS_DB_ALIAS
    settled, blockers = rollup_settled_seq(using=using, wait_s=wait_s)
    if blockers:
        logger.warning("usage rollup waits for write transactions still running: %s", ", ".join(blockers))
    added = chunks = 0
    watermark = rollup_state(using=using).watermark
    start = watermark
    while settled is not None:
        with transaction.atomic(using=using), connections[using].cursor() as cursor:
            cursor.execute(sql.ROLLUP_SESSION_SETUP)
            cursor.execute(sql.ROLLUP_STATE_ENSURE, {"name": sql.ROLLUP_STATE_NAME})
            lock = sql.ROLLUP_STATE_LOCK_SKIP if skip_if_busy else sql.ROLLUP_STATE_LOCK
            cursor.execute(lock, {"name": sql.ROLLUP_STATE_NAME})
            row = cursor.fetchone()
            if row is None:  # another run is at work
                break
            watermark = int(row[0])  # another run may have moved it meanwhile
            if watermark >= settled:
                break
            hi = min(watermark + chunk_seqs, settled)
            events = _rollup_range(cursor, lo=watermark, hi=hi)
            cursor.execute(
                sql.ROLLUP_STATE_ADVANCE, {"seq": hi, "events": events, "name": sql.ROLLUP_STATE_NAME}
            )
        watermark = hi
        added += events
        chunks += 1
        if progress is not None:
            progress(watermark - start, settled - start)
    return RollupResult(events_added=added, watermark=watermark, chunks=chunks, blocked_by=blockers)


def _rollup_range(cursor: Any, *, lo: int, hi: int) -> int:
    """Add the events with lo < seq <= hi to every rollup table; returns how many."""
    cursor.execute(sql.ROLLUP_DELTA_CREATE, {"lo": lo, "hi": hi, "bounds": list(histogram.BOUNDS_MS)})
    cursor.execute(sql.ROLLUP_DELTA_EVENTS)
    events = int(cursor.fetchone()[0])
    if events:
        for upsert in sql.ROLLUP_UPSERTS:
            cursor.execute(upsert)
        cursor.execute(sql.ROLLUP_USERS_UPSERT, {"lo": lo, "hi": hi})
        cursor.execute(sql.ROLLUP_USERS_PREV_UPDATE, {"lo": lo, "hi": hi})
    cursor.execute(sql.ROLLUP_DELTA_DROP)
    return events


def rollup_rebuild(
    *,
    using: str | None = None,
    chunk_seqs: int = DEFAULT_CHUNK_SEQS,
    wait_s: float = DEFAULT_WAIT_S,
    progress: Callable[[int, int], None] | None = None,
) -> RollupResult:
    """Empty the rollups and add every stored event again (after changing the histogram
    bounds, say). Hours whose raw partitions were dropped are lost: they cannot be rebuilt."""
    using = using or settings.STATS_DB_ALIAS
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute(sql.ROLLUP_STATE_ENSURE, {"name": sql.ROLLUP_STATE_NAME})
        cursor.execute(sql.ROLLUP_STATE_LOCK, {"name": sql.ROLLUP_STATE_NAME})
        cursor.execute(sql.ROLLUP_RESET)
    return rollup_run(using=using, chunk_seqs=chunk_seqs, wait_s=wait_s, progress=progress)


def rollup_state(*, using: str | None = None) -> RollupState:
    """The watermark, how many events the rollups hold, and when they last moved."""
    using = using or settings.STATS_DB_ALIAS
    with connections[using].cursor() as cursor:
        cursor.execute(sql.ROLLUP_STATE_READ, {"name": sql.ROLLUP_STATE_NAME})
        row = cursor.fetchone()
    if row is None:
        return RollupState(watermark=0, events=0, updated_at=None)
    return RollupState(watermark=int(row[0]), events=int(row[1]), updated_at=row[2])
