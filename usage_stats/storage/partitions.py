"""Monthly partitions of the events table (UTC months).

`stats_partitions` and the post_migrate hook of `migrate_stats` keep the current month
and the next N in place; web processes never run this DDL. A DEFAULT partition catches
anything else, so an insert is never refused. Creating a month whose rows already sit in DEFAULT
moves them into the new partition. Every function takes a DB-API connection to the stats
database (a Django connection or a raw psycopg2 one) and runs in one transaction.
"""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from core.db import roles

from . import sql

PARTITION_NAME_LEN = len(sql.PARTITION_PREFIX) + 6
# A Django DatabaseWrapper of the stats alias, or a raw psycopg2 connection to it.
Connection = Any


@dataclass
class PartitionChanges:
    created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    moved_from_default: list[str] = field(default_factory=list)


def month_start(day: dt.date, *, add_months: int = 0) -> dt.datetime:
    """The first instant (UTC) of `day`'s month shifted by `add_months`."""
    index = day.year * 12 + (day.month - 1) + add_months
    return dt.datetime(index // 12, index % 12 + 1, 1, tzinfo=dt.UTC)


def partition_name(start: dt.datetime) -> str:
    return f"{sql.PARTITION_PREFIX}{start.year:04d}{start.month:02d}"


def partition_month(name: str) -> dt.datetime | None:
    """The month a partition holds, or None if the name is not one of ours."""
    digits = name[len(sql.PARTITION_PREFIX) :]
    if not name.startswith(sql.PARTITION_PREFIX) or len(name) != PARTITION_NAME_LEN or not digits.isdigit():
        return None
    year, month = int(digits[:4]), int(digits[4:])
    if not 1 <= month <= 12:
        return None
    return dt.datetime(year, month, 1, tzinfo=dt.UTC)


def partitions_list(*, conn: Connection) -> list[str]:
    """Names of the monthly partitions, oldest first."""
    with _raw(conn).cursor() as cursor:
        cursor.execute(sql.PARTITION_NAMES, {"parent": "usage_event"})
        return [name for (name,) in cursor.fetchall() if partition_month(name) is not None]


def _raw(conn: Connection) -> Any:
    """The psycopg2 connection behind a Django connection (or `conn` itself)."""
    from django.db.backends.base.base import BaseDatabaseWrapper

    if isinstance(conn, BaseDatabaseWrapper):
        conn.ensure_connection()
        return conn.connection
    return conn


@contextmanager
def _transaction(raw: Any) -> Iterator[None]:
    """One transaction on a psycopg2 connection; joins the caller's if one is open."""
    owner_sql = roles.set_local_role_sql(roles.owner_role_name())
    if not raw.autocommit:
        if not owner_sql:
            yield
            return
        with raw.cursor() as cursor:
            cursor.execute(owner_sql)
            yield
            cursor.execute("SET LOCAL role TO DEFAULT")
        return
    # In autocommit mode psycopg2's commit()/rollback() are no-ops: say it in SQL. Partition
    # DDL runs as the owner role (core/db/roles.py), whichever process runs it.
    with raw.cursor() as cursor:
        cursor.execute("BEGIN; " + owner_sql)
        try:
            yield
        except BaseException:
            if not raw.closed:
                cursor.execute("ROLLBACK")
            raise
        cursor.execute("COMMIT")


def events_table_exists(*, conn: Connection) -> bool:
    with _raw(conn).cursor() as cursor:
        cursor.execute(sql.EVENTS_TABLE_EXISTS)
        return cursor.fetchone()[0]


def partitions_ensure(
    *, conn: Connection, months_ahead: int, today: dt.date | None = None
) -> PartitionChanges:
    """Create the current month and the next `months_ahead`, plus every month that has
    rows waiting in DEFAULT (moving them). Idempotent; safe to run from many processes."""
    today = today or dt.datetime.now(dt.UTC).date()
    wanted = [month_start(today, add_months=k) for k in range(max(months_ahead, 0) + 1)]
    return partition_months_ensure(conn=conn, months=wanted, include_default=True)


def partition_months_ensure(
    *, conn: Connection, months: list[dt.datetime], include_default: bool = False
) -> PartitionChanges:
    """Create the given monthly partitions (month starts, UTC) if missing."""
    changes = PartitionChanges()
    existing = set(partitions_list(conn=conn))
    missing = [m for m in months if partition_name(m) not in existing]
    if not missing and not (include_default and _default_not_empty(conn)):
        return changes  # the usual case: no lock, two catalog reads
    raw = _raw(conn)
    with _transaction(raw), raw.cursor() as cursor:
        cursor.execute(sql.PARTITIONS_LOCK, {"key": sql.PARTITIONS_LOCK_KEY})
        existing = set(partitions_list(conn=conn))  # another process may have won the lock first
        wanted = {m for m in months if partition_name(m) not in existing}
        if include_default:
            cursor.execute(sql.DEFAULT_PARTITION_MONTHS)
            for (naive_month,) in cursor.fetchall():
                start = naive_month.replace(tzinfo=dt.UTC)
                if partition_name(start) not in existing:
                    wanted.add(start)
        for start in sorted(wanted):
            name = partition_name(start)
            bounds = {"start": start, "end": month_start(start.date(), add_months=1)}
            cursor.execute(sql.DEFAULT_PARTITION_HAS_ROWS, bounds)
            if cursor.fetchone()[0]:
                for statement in sql.partition_create_from_default(name):
                    cursor.execute(statement, bounds)
                changes.moved_from_default.append(name)
            else:
                cursor.execute(sql.partition_create(name), bounds)
            changes.created.append(name)
    return changes


def _default_not_empty(conn: Connection) -> bool:
    with _raw(conn).cursor() as cursor:
        cursor.execute(sql.DEFAULT_PARTITION_NOT_EMPTY)
        return cursor.fetchone()[0]


def partitions_drop_older(*, conn: Connection, retain_months: int, today: dt.date | None = None) -> list[str]:
    """Drop every monthly partition that ends before the first day of the month
    `retain_months` months ago: the current month and the `retain_months` before it stay."""
    if retain_months < 1:
        raise ValueError("retain_months must be at least 1")
    today = today or dt.datetime.now(dt.UTC).date()
    cutoff = month_start(today, add_months=-retain_months)
    dropped = []
    raw = _raw(conn)
    with _transaction(raw), raw.cursor() as cursor:
        cursor.execute(sql.PARTITIONS_LOCK, {"key": sql.PARTITIONS_LOCK_KEY})
        for name in partitions_list(conn=conn):
            month = partition_month(name)
            if month is not None and month < cutoff:
                cursor.execute(sql.partition_drop(name))
                dropped.append(name)
    return dropped


def partitions_maintain(
    *, conn: Connection, months_ahead: int, retain_months: int | None = None, today: dt.date | None = None
) -> PartitionChanges:
    """What `manage.py stats_partitions` does: ensure ahead (draining DEFAULT), then retention."""
    changes = partitions_ensure(conn=conn, months_ahead=months_ahead, today=today)
    if retain_months is not None:
        changes.dropped = partitions_drop_older(conn=conn, retain_months=retain_months, today=today)
    return changes
