"""Rollups equal the raw events they summarise: after random inserts, late events for
hours already rolled up, writers that commit out of seq order, re-runs and concurrent runs."""

import datetime as dt
import random
import threading

import pytest
from django.db import connections

from usage_stats.rollups import histogram, rollup
from usage_stats.rollups.rollup import rollup_run

from .dash_support import (
    Ev,
    aggregate,
    hour_of,
    insert,
    random_events,
    raw_events,
    raw_events_in_transaction,
    stats_connect,
    tenant_id,
    tenant_ids,
    unique_tenant,
)

pytestmark = pytest.mark.django_db(databases=["default", "stats"])


def _rows(query: str, params) -> list[tuple]:
    with connections["stats"].cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def _labelled(tenants: list[str]) -> tuple[list[str], dict[str, str]]:
    ids = tenant_ids(tenants)
    return list(ids.values()), {value: label for label, value in ids.items()}


def _hourly(tenants: list[str], table: str = "usage_rollup_hourly") -> dict:
    ids, labels = _labelled(tenants)
    rows = _rows(
        "SELECT tenant_id::text, bucket, event, route, events, errors, tokens, latency_count, latency_ms_sum,"
        f" latency_hist FROM {table} WHERE tenant_id = ANY(%s::uuid[])",
        [ids],
    )
    return {
        (labels[t], h, e, r): (n, err, tok, lc, ls, hist) for t, h, e, r, n, err, tok, lc, ls, hist in rows
    }


def quarter_of(moment: dt.datetime) -> dt.datetime:
    moment = moment.astimezone(dt.UTC)
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)


def day_of(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _assert_rollups_match(events: list[Ev], tenants: list[str]) -> None:
    for table, floor in (
        ("usage_rollup_hourly", hour_of),
        ("usage_rollup_quarter", quarter_of),
        ("usage_rollup_daily", day_of),
    ):
        _assert_table_matches(events, tenants, table, floor)
    _assert_tenant_tables_match(events, tenants)


def _assert_table_matches(events: list[Ev], tenants: list[str], table: str, floor) -> None:
    # Per (tenant, hour or quarter-hour, event, route): every counter and the histogram.
    expected = aggregate(events, lambda e: (e.tenant, floor(e.occurred_at), e.event, e.route or ""))
    actual = _hourly(tenants, table)
    assert set(actual) == set(expected)
    for key, agg in expected.items():
        n, errors, tokens, latency_count, latency_sum, hist = actual[key]
        assert (n, errors, tokens, latency_count) == (
            agg.events,
            agg.errors,
            agg.tokens,
            len(agg.latencies),
        ), key
        assert latency_sum == pytest.approx(sum(agg.latencies), rel=1e-6)
        assert hist == agg.hist, key


def _assert_tenant_tables_match(events: list[Ev], tenants: list[str]) -> None:
    ids, labels = _labelled(tenants)
    # Per (tenant, hour or quarter-hour), with the request count (pages and API calls).
    for table, floor in (
        ("usage_rollup_tenant_hourly", hour_of),
        ("usage_rollup_tenant_quarter", quarter_of),
    ):
        per_tenant = aggregate(events, lambda e, floor=floor: (e.tenant, floor(e.occurred_at)))
        rows = _rows(
            "SELECT tenant_id::text, bucket, events, requests, errors, tokens, latency_count, latency_hist"
            f" FROM {table} WHERE tenant_id = ANY(%s::uuid[])",
            [ids],
        )
        assert {(labels[t], h): (n, r, e, tok, lc, hist) for t, h, n, r, e, tok, lc, hist in rows} == {
            key: (a.events, a.requests, a.errors, a.tokens, len(a.latencies), a.hist)
            for key, a in per_tenant.items()
        }
    # Distinct users: the set of (tenant, user, UTC quarter-hour) the bitmaps hold.
    expected_quarters = {
        (e.tenant, e.user_id, quarter_of(e.occurred_at)) for e in events if e.user_id is not None
    }
    rows = _rows(
        "SELECT month, tenant_id::text, user_id, quarters::text FROM usage_rollup_user_month"
        " WHERE tenant_id = ANY(%s::uuid[])",
        [ids],
    )
    actual_quarters = set()
    for month, tenant, user_id, bits in rows:
        start = dt.datetime(month.year, month.month, 1, tzinfo=dt.UTC)
        actual_quarters |= {
            (labels[tenant], user_id, start + dt.timedelta(minutes=15 * i))
            for i, bit in enumerate(bits)
            if bit == "1"
        }
    assert actual_quarters == expected_quarters


def _all_hourly(hours: list[dt.datetime]) -> dict:
    rows = _rows(
        "SELECT bucket, event, route, events, errors, tokens, latency_hist FROM usage_rollup_all_hourly"
        " WHERE bucket = ANY(%s)",
        [hours],
    )
    return {(h, e, r): (n, err, tok, hist) for h, e, r, n, err, tok, hist in rows}


def test_rollup_equals_raw_after_random_inserts_late_events_and_reruns():
    rng = random.Random(20240501)
    tenants = [unique_tenant("rollup") for _ in range(3)]
    # Hours of 2002 belong to this test alone (the all-tenant rollup is shared).
    base = dt.datetime(2002, 3, 4, 0, 0, tzinfo=dt.UTC)
    first = random_events(rng, tenants=tenants, base=base, hours=6, n=400)
    insert(first)
    rollup_run(wait_s=5)
    _assert_rollups_match(raw_events_in_transaction(tenants), tenants)

    # Late events for hours already rolled up, plus new hours, across a month boundary.
    late = random_events(rng, tenants=tenants, base=base, hours=2, n=150)
    later = random_events(
        rng, tenants=tenants, base=dt.datetime(2002, 3, 31, 22, tzinfo=dt.UTC), hours=4, n=150
    )
    insert(late + later)
    result = rollup_run(wait_s=5)
    assert result.events_added >= 300
    events = raw_events_in_transaction(tenants)
    assert len(events) == 700
    _assert_rollups_match(events, tenants)

    # The all-tenant table holds exactly these events in these hours.
    expected = aggregate(events, lambda e: (hour_of(e.occurred_at), e.event, e.route or ""))
    hours = sorted({hour for hour, _, _ in expected})
    assert _all_hourly(hours) == {key: (a.events, a.errors, a.tokens, a.hist) for key, a in expected.items()}

    # Running again adds nothing to these tenants.
    before = _hourly(tenants)
    rollup_run(wait_s=5)
    rollup_run(wait_s=5)
    assert _hourly(tenants) == before


def test_error_definition_counts_5xx_and_failed_true_only():
    tenant = unique_tenant("errors")
    at = dt.datetime(2002, 5, 6, 7, 30, tzinfo=dt.UTC)
    insert(
        [
            Ev(tenant, at, status=500),
            Ev(tenant, at, status=503),
            Ev(tenant, at, status=404),
            Ev(tenant, at, status=200),
            Ev(tenant, at, event="ai.summary", method=None, status=None, properties={"failed": True}),
            Ev(tenant, at, event="ai.summary", method=None, status=None, properties={"failed": "true"}),
            Ev(tenant, at, event="ai.summary", method=None, status=None, properties={"failed": False}),
        ]
    )
    rollup_run(wait_s=5)
    rows = _rows(
        "SELECT sum(events), sum(errors) FROM usage_rollup_hourly WHERE tenant_id = %s", [tenant_id(tenant)]
    )
    assert rows == [(7, 3)]


def test_a_write_that_commits_after_a_later_one_is_not_skipped():
    """A transaction draws seqs, a second draws larger ones and commits first: the rollup
    must not move past the first one's seqs until it has committed."""
    tenant = unique_tenant("inflight")
    at = dt.datetime(2002, 7, 8, 9, 0, tzinfo=dt.UTC)
    slow = stats_connect(autocommit=False)
    fast = stats_connect(autocommit=True)
    try:
        insert([Ev(tenant, at, tokens=1) for _ in range(5)], conn=slow)  # smaller seqs, not committed
        insert([Ev(tenant, at, tokens=10) for _ in range(7)], conn=fast)  # larger seqs, committed
        result = rollup_run(wait_s=0.2)
        assert result.blocked_by, "the open write transaction should hold the rollup back"
        assert _hourly([tenant]) == {}
        slow.commit()
        result = rollup_run(wait_s=5)
        assert not result.blocked_by
        ((n, _, tokens, *_),) = _hourly([tenant]).values()
        assert (n, tokens) == (12, 5 * 1 + 7 * 10)
    finally:
        slow.close()
        fast.close()


def test_concurrent_runs_add_each_event_once():
    """Two runs at once (committed, on their own connections) never double count."""
    tenant = unique_tenant("concurrent")
    at = dt.datetime(2002, 9, 10, 11, 0, tzinfo=dt.UTC)
    # Settle what earlier tests left pending, so the small chunks below cover only these
    # 500 events (otherwise the runs crawl through every earlier event 50 seqs at a time).
    # On its own thread and connection: this thread's may be inside the test's transaction.
    settle = threading.Thread(target=lambda: (rollup_run(wait_s=5), connections.close_all()))
    settle.start()
    settle.join(timeout=60)
    writer = stats_connect(autocommit=True)
    try:
        insert([Ev(tenant, at + dt.timedelta(minutes=i % 60), tokens=3) for i in range(500)], conn=writer)
    finally:
        writer.close()
    errors = []

    def run():
        try:
            rollup_run(wait_s=5, chunk_seqs=50)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    reader = stats_connect(autocommit=True)
    try:
        with reader.cursor() as cursor:
            cursor.execute(
                "SELECT sum(events), sum(tokens) FROM usage_rollup_hourly WHERE tenant_id = %s",
                [tenant_id(tenant)],
            )
            assert cursor.fetchone() == (500, 1500)
    finally:
        reader.close()
    assert len(raw_events([tenant])) == 500


def test_rollup_state_reports_watermark():
    insert([Ev(unique_tenant("state"), dt.datetime(2002, 11, 1, tzinfo=dt.UTC))])
    result = rollup_run(wait_s=5)
    state = rollup.rollup_state()
    assert state.watermark == result.watermark > 0
    assert state.updated_at is not None


def test_histogram_percentile_is_inside_the_bucket_of_the_true_value():
    rng = random.Random(7)
    values = [rng.lognormvariate(3, 1) for _ in range(1000)]
    hist = [0] * histogram.BUCKETS
    for value in values:
        hist[histogram.bucket_index(value)] += 1
    ordered = sorted(values)
    for q in (0.5, 0.95, 0.99):
        true_value = ordered[int(q * len(values)) - 1]
        low, high = histogram.bucket_range(histogram.bucket_index(true_value))
        assert low <= histogram.percentile(hist, q) <= high


def test_generate_and_rollup_commands(tenants):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("stats_generate", "--events", "300", "--days", "2", "--tenant", "acme", stdout=out)
    assert "300/300" in out.getvalue()
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=2, minutes=5)
    acme = tenant_id("acme")
    (raw,) = _rows(
        "SELECT count(*) FROM usage_event WHERE tenant_id = %s AND occurred_at >= %s", [acme, since]
    )[0]
    assert raw >= 300
    call_command("stats_rollup", stdout=out)
    assert "rolled up" in out.getvalue()
    hour = since.replace(minute=0, second=0, microsecond=0)
    (rolled,) = _rows(
        "SELECT sum(events) FROM usage_rollup_tenant_hourly WHERE tenant_id = %s AND bucket >= %s",
        [acme, hour],
    )[0]
    (raw_hours,) = _rows(
        "SELECT count(*) FROM usage_event WHERE tenant_id = %s AND occurred_at >= %s", [acme, hour]
    )[0]
    assert rolled == raw_hours
    call_command("stats_generate", "--events", "10", "--if-empty", stdout=out)
    assert "nothing generated" in out.getvalue()


@pytest.mark.parametrize(
    ("command", "args", "message"),
    [
        ("stats_generate", ["--events", "0"], "--events"),
        ("stats_generate", ["--events", "10", "--days", "0"], "--days"),
        ("stats_generate", ["--events", "10", "--tenant", "no-such-tenant"], "Unknown tenant"),
        ("stats_generate", ["--events", "10", "--big-share", "1.5"], "--big-share"),
        ("stats_rollup", ["--chunk", "0"], "--chunk"),
        ("stats_rollup", ["--wait", "-1"], "negative"),
    ],
)
def test_commands_refuse_bad_input(tenants, command, args, message):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=message):
        call_command(command, *args)


def test_demo_activity_is_what_the_demo_people_would_produce_and_is_labelled(tenants):
    from io import StringIO

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django_tenants.utils import schema_context

    acme = tenant_id("acme")
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=3, hours=1)
    out = StringIO()
    call_command("stats_generate", "--days", "3", "--tenant", "acme", stdout=out)
    assert "demo events of" in out.getvalue()
    with schema_context("acme"):
        people = set(get_user_model().objects.filter(is_active=True).values_list("pk", flat=True))
    rows = _rows(
        "SELECT user_id, event, route, tokens FROM usage_event WHERE tenant_id = %s AND occurred_at >= %s"
        " AND user_id IS NOT NULL",
        [acme, since],
    )
    assert rows
    assert {user for user, *_ in rows} <= people, "only the tenant's own people"
    assert all(tokens is None for *_, tokens in rows), "no feature of the product spends tokens"
    events = {event for _, event, _, _ in rows}
    assert {"request", "user.signed_in", "task.created"} <= events
    demo_kinds = {"request", "api.call", "user.signed_in", "task.created", "task.completed"}
    assert events <= demo_kinds | {"tenant.created", "user.signed_up", "task.updated", "task.deleted"}
    # Numbers that fit a few people: at most ~6 visits of ~20 events per person and day.
    per_person_day = len(rows) / len(people) / 4
    assert per_person_day < 150
    assert all(route is None or route.rsplit(" ", 1)[1] in ("GET", "POST", "PATCH") for *_, route, _ in rows)
    (demo,) = _rows("SELECT events FROM usage_rollup_state WHERE name = 'demo'", [])[0]
    assert demo >= int(out.getvalue().split()[1].replace(",", ""))  # "wrote N demo events ..."
