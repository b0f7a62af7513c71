"""`manage.py stats_partitions`: idempotent, drains DEFAULT, and --retain-months drops
exactly the old months. Runs inside the test's transaction on the stats database."""

import datetime as dt
import io
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from usage_stats.storage.partitions import (
    month_start,
    partition_months_ensure,
    partition_name,
    partitions_list,
)

pytestmark = pytest.mark.django_db(databases=["default", "stats"])


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("stats_partitions", *args, stdout=out)
    return out.getvalue()


def _insert_event(at: dt.datetime, tenant: str) -> str:
    """The partition that received the row (asked of each partition: on Citus a distributed
    table's tableoid is a shard's, on a worker)."""
    event_id = uuid.uuid4()
    with connections["stats"].cursor() as cursor:
        cursor.execute(
            "INSERT INTO usage_event (event_id, occurred_at, tenant_id, event)"
            " VALUES (%s, %s, %s, 'test.part')",
            [event_id, at, tenant],
        )
        for name in [*partitions_list(conn=connections["stats"]), "usage_event_default"]:
            cursor.execute(f'SELECT EXISTS (SELECT 1 FROM "{name}" WHERE event_id = %s)', [event_id])
            if cursor.fetchone()[0]:
                return name
    raise AssertionError("the event is in no partition")


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def test_the_current_and_next_months_exist_and_the_command_is_idempotent():
    _run("--months-ahead", "5")
    expected = {partition_name(month_start(_today(), add_months=k)) for k in range(6)}
    assert expected <= set(partitions_list(conn=connections["stats"]))

    assert _run("--months-ahead", "5").strip() == "partitions up to date"
    assert expected <= set(partitions_list(conn=connections["stats"]))


def test_events_of_a_month_without_partition_land_in_default_and_move_out_later(marker):
    long_ago = month_start(_today(), add_months=-40) + dt.timedelta(days=3, hours=5)
    assert _insert_event(long_ago, marker) == "usage_event_default", "never refused for lack of a partition"

    output = _run("--months-ahead", "1")
    name = partition_name(month_start(long_ago.date()))
    assert f"created {name} (rows moved from DEFAULT)" in output
    with connections["stats"].cursor() as cursor:
        counts = []
        for table in (name, "usage_event_default"):
            cursor.execute(f'SELECT count(*) FROM "{table}" WHERE tenant_id = %s', [marker])
            counts.append(cursor.fetchone()[0])
        assert counts == [1, 0], "the event moved from DEFAULT to its month"


def test_retain_months_drops_exactly_the_older_months(marker):
    months = [month_start(_today(), add_months=-k) for k in range(1, 9)]  # 1..8 months ago
    partition_months_ensure(conn=connections["stats"], months=months)
    for month in months:
        assert _insert_event(month + dt.timedelta(days=1), marker) == partition_name(month)

    output = _run("--retain-months", "3")

    dropped = {line.split()[1] for line in output.splitlines() if line.startswith("dropped ")}
    too_old = {partition_name(m) for m in months[3:]}  # 4..8 months ago
    assert too_old <= dropped
    assert all(name < partition_name(months[2]) for name in dropped), "nothing recent is dropped"
    remaining = set(partitions_list(conn=connections["stats"]))
    assert not too_old & remaining
    assert {partition_name(m) for m in months[:3]} <= remaining
    assert partition_name(month_start(_today())) in remaining
    with connections["stats"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM usage_event WHERE tenant_id = %s", [marker])
        assert cursor.fetchone()[0] == 3

    assert "dropped" not in _run("--retain-months", "3"), "a second run drops nothing"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--retain-months", "0"], "at least 1"),
        (["--months-ahead", "-1"], "between 0 and 120"),
    ],
)
def test_bad_arguments_are_refused_with_a_message(args, message):
    with pytest.raises(CommandError, match=message):
        _run(*args)
