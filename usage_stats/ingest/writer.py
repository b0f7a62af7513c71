"""BatchWriter: COPY batches of encoded event lines into the stats database on a
connection of its own (autocommit), without ever storing an event twice.

- The fast path is one COPY per batch.
- A batch whose earlier attempt may have committed (the connection broke before the
  acknowledgement, or its ids are already there) goes through a staging table and
  `INSERT … ON CONFLICT DO NOTHING`, in one transaction: `write(..., may_exist=True)`.
- A row PostgreSQL refuses (a data error) is isolated by bisection and left out, so one
  bad row costs O(log n) extra statements, not the batch.
- Failures come out as one of three WriteError classes, which say what a retry needs.

Not thread-safe: one caller at a time (the collector holds its write lock).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg2
import psycopg2.errors
from django.conf import settings
from django.db import utils as db_utils

from core.db import roles

from . import sql

STATEMENT_TIMEOUT = "30s"
APPLICATION_NAME = "usage_stats_flusher"
COPY_CHUNK_BYTES = 1 << 16


class WriteError(Exception):
    """A batch write that did not complete. str() is `DriverError: message`."""


class TransientWriteError(WriteError):
    """Connection-level trouble (refused, broken, statement timeout): the connection is
    closed and the batch may have committed. Retry it with `may_exist=True`."""


class DuplicateEventsError(WriteError):
    """Some of the batch's event ids are stored already (an earlier attempt committed).
    Retry it with `may_exist=True`."""


class PermanentWriteError(WriteError):
    """Anything else (a missing table, a permission, a refused connection attempt such as
    pytest-django's RuntimeError): a retry may not help, so the caller bounds them."""


# psycopg2 wraps socket trouble (a reset, a broken pipe) as OperationalError; Django's
# connection set-up re-raises it as django.db.utils.OperationalError. Nothing else is
# transient: a RuntimeError or a bare OSError is a bug or a refusal, never waited out.
_TRANSIENT: tuple[type[BaseException], ...] = (
    psycopg2.OperationalError,
    psycopg2.InterfaceError,
    db_utils.OperationalError,
    db_utils.InterfaceError,
)


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, _TRANSIENT)


def is_unique_violation(exc: BaseException) -> bool:
    for error in (exc, exc.__cause__):
        if isinstance(error, psycopg2.errors.UniqueViolation):
            return True
        # Citus's COPY into a distributed table passes a worker's unique violation on as an
        # internal error (XX000) carrying PostgreSQL's message (docs/scale-out.md).
        if isinstance(error, psycopg2.errors.InternalError_) and _UNIQUE_MESSAGE in str(error):
            return True
    return False


_UNIQUE_MESSAGE = "duplicate key value violates unique constraint"


def is_data_error(exc: BaseException) -> bool:
    """A row's data was refused (bad uuid, a check): bisect it out rather than retry."""
    return isinstance(exc, psycopg2.DataError | psycopg2.IntegrityError) and not is_unique_violation(exc)


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).strip()[:500]}"


@dataclass(frozen=True)
class WriteResult:
    written: int  # events of the batch stored now (duplicates included)
    duplicates: int  # of which were stored already by an earlier attempt
    invalid: int  # rows PostgreSQL refused, left out


class LineSource:
    """A file-like object for copy_expert over lines, read in chunks of about `size`."""

    def __init__(self, lines: Iterable[bytes]) -> None:
        self._lines: Iterator[bytes] = iter(lines)

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


class SendThenPrepare:
    """A file-like object for copy_expert: the whole batch in one read, so psycopg2 hands
    it to the socket in one call (each call releases the GIL, and taking it back from a
    busy thread can cost a switch interval while PostgreSQL waits). The next read, once
    the data is sent, runs `after_sent`: Python works while PostgreSQL ingests."""

    def __init__(self, data: bytes, after_sent: Callable[[], None] | None) -> None:
        self._data = data
        self._after_sent = after_sent

    def read(self, size: int = -1) -> bytes:
        data, self._data = self._data, b""
        if not data and self._after_sent is not None:
            after_sent, self._after_sent = self._after_sent, None
            after_sent()
        return data


class BatchWriter:
    """Writes batches of COPY lines (ingest.encoding) to the `alias` database."""

    def __init__(self, *, alias: str = "stats") -> None:
        self.alias = alias
        self._conn: Any = None  # a Django DatabaseWrapper of our own, opened on demand

    def write(
        self,
        lines: list[bytes],
        *,
        may_exist: bool = False,
        after_sent: Callable[[], None] | None = None,
    ) -> WriteResult:
        """Store `lines`, or raise a WriteError and store nothing new that a retry with
        `may_exist=True` would count twice. `after_sent` runs once the fast path's data
        is on the socket (the collector serialises its next batch then); it must not raise."""
        try:
            raw = self._connection()
            if may_exist:
                return self._insert_skipping_duplicates(raw, lines)
            return self._copy_resilient(raw, lines, after_sent)
        except Exception as exc:
            if is_transient(exc):
                self.close()
                raise TransientWriteError(describe(exc)) from exc
            if is_unique_violation(exc):
                raise DuplicateEventsError(describe(exc)) from exc
            raise PermanentWriteError(describe(exc)) from exc

    def close(self) -> None:
        wrapper, self._conn = self._conn, None
        if wrapper is None:
            return
        with contextlib.suppress(Exception):  # a broken connection has nothing left to close
            wrapper.close()

    def detach(self) -> Any:
        """Forget the connection without closing it (a forked child must never send a
        Terminate on its parent's socket); returns it so the caller can keep it referenced."""
        wrapper, self._conn = self._conn, None
        return wrapper

    # --- COPY -------------------------------------------------------------------

    def _copy_resilient(
        self, raw: Any, lines: list[bytes], after_sent: Callable[[], None] | None
    ) -> WriteResult:
        """COPY the batch; if PostgreSQL rejects some row's data, find it by bisection."""
        try:
            self._copy(raw, SendThenPrepare(b"".join(lines), after_sent))
            return WriteResult(written=len(lines), duplicates=0, invalid=0)
        except Exception as exc:
            if not is_data_error(exc):
                raise
            written, invalid = self._copy_bisect(raw, lines)
            return WriteResult(written=written, duplicates=0, invalid=invalid)

    def _copy(self, raw: Any, source: Any) -> None:
        """One COPY of the batch, as the flusher's role (DB_STATS_WRITER_ROLE: INSERT on
        events only) when one is set: `SET LOCAL` in a transaction of its own, so it holds
        behind a transaction pooler too (core/db/roles.py)."""
        role_sql = roles.set_local_role_sql(roles.stats_writer_role_name())
        with raw.cursor() as cursor:
            if not role_sql:
                cursor.copy_expert(sql.COPY_EVENTS, source, size=COPY_CHUNK_BYTES)
                return
            cursor.execute("BEGIN; " + role_sql)
            try:
                cursor.copy_expert(sql.COPY_EVENTS, source, size=COPY_CHUNK_BYTES)
            except Exception:
                if not raw.closed:
                    cursor.execute("ROLLBACK")
                raise
            cursor.execute("COMMIT")

    def _copy_bisect(self, raw: Any, lines: list[bytes]) -> tuple[int, int]:
        """(written, invalid) for `lines`, splitting around rows PostgreSQL refuses."""
        try:
            self._copy(raw, LineSource(lines))
            return len(lines), 0
        except Exception as exc:
            if not is_data_error(exc):
                raise
            if len(lines) == 1:
                return 0, 1
            middle = len(lines) // 2
            a = self._copy_bisect(raw, lines[:middle])
            b = self._copy_bisect(raw, lines[middle:])
            return a[0] + b[0], a[1] + b[1]

    def _insert_skipping_duplicates(self, raw: Any, lines: list[bytes]) -> WriteResult:
        """Stage the batch and insert only the event_ids not stored yet, in one transaction.
        Bisects out bad rows."""
        try:
            with raw.cursor() as cursor:
                cursor.execute("BEGIN; " + roles.set_local_role_sql(roles.stats_writer_role_name()))
                try:
                    cursor.execute(sql.CREATE_STAGING_TABLE)
                    cursor.copy_expert(sql.COPY_STAGING, LineSource(lines), size=COPY_CHUNK_BYTES)
                    cursor.execute(sql.INSERT_FROM_STAGING)
                    inserted = len(cursor.fetchall())
                    cursor.execute("COMMIT")
                except Exception:
                    if not raw.closed:
                        cursor.execute("ROLLBACK")
                    raise
        except Exception as exc:
            if not is_data_error(exc):
                raise
            if len(lines) == 1:
                return WriteResult(written=0, duplicates=0, invalid=1)
            middle = len(lines) // 2
            a = self._insert_skipping_duplicates(raw, lines[:middle])
            b = self._insert_skipping_duplicates(raw, lines[middle:])
            return WriteResult(
                written=a.written + b.written,
                duplicates=a.duplicates + b.duplicates,
                invalid=a.invalid + b.invalid,
            )
        return WriteResult(written=len(lines), duplicates=len(lines) - inserted, invalid=0)

    # --- connection ---------------------------------------------------------------

    def _connection(self) -> Any:
        """The writer's own psycopg2 connection (autocommit), opened on demand."""
        wrapper = self._conn
        if wrapper is not None and (wrapper.connection is None or wrapper.connection.closed):
            self.close()
            wrapper = None
        if wrapper is None:
            from django.db import connections

            wrapper = connections.create_connection(self.alias)
            wrapper.inc_thread_sharing()  # used by the flusher or, at shutdown, another thread
            try:
                wrapper.ensure_connection()
                raw = wrapper.connection
                raw.autocommit = True
                # Behind a transaction pooler a session-level SET would leak onto a
                # server connection other clients share; set these per role there.
                if not getattr(settings, "DB_POOLER", False):
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
