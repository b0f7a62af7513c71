"""Properties of the dashboards, searched by hypothesis:

- no period, date or zone anybody can type is a 5xx on any dashboard or export (each bad
  one is a 400 with a message);
- in every IANA zone, each chart bucket (local day, or hour) and the period's totals and
  distinct users equal a count of the raw events whose local time falls in it, DST days,
  UTC+05:30, +05:45, +10:30/+11, -03:30/-02:30 and +12:45/+13:45 included.
"""

import bisect
import datetime as dt
import uuid
import zoneinfo

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client as HttpClient
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from usage_stats.dashboards import selectors
from usage_stats.dashboards.periods import MAX_DATE, MIN_DATE, day_start, period_resolve
from usage_stats.rollups.rollup import rollup_run

from .dash_support import Ev, insert, tenant_id

pytestmark = pytest.mark.django_db(databases=["default", "stats"])

SPECIAL_ZONES = (
    "UTC",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "America/St_Johns",
    "Pacific/Chatham",
    "Europe/Paris",
    "America/New_York",
    "Pacific/Kiritimati",
    "America/Santiago",  # DST changes at midnight
    "Asia/Tehran",
)
ALL_ZONES = sorted(zoneinfo.available_timezones())
zones = st.sampled_from(SPECIAL_ZONES) | st.sampled_from(ALL_ZONES)
FAST = hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


# --- No 5xx -------------------------------------------------------------------------------

dates_typed = (
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)).map(dt.date.isoformat)
    | st.sampled_from(["9999-12-31", "0001-01-01", "1999-12-31", "2100-01-01", "2024-02-30", ""])
    | st.text(max_size=12)
)
params = st.fixed_dictionaries(
    {},
    optional={
        "range": st.sampled_from(["24h", "7d", "30d", "custom", "1y", ""]) | st.text(max_size=8),
        "start": dates_typed,
        "end": dates_typed,
        "tz": zones
        | st.sampled_from(["", "Mars/Olympus", "../../etc/passwd", "utc", "Etc/GMT+14"])
        | st.text(max_size=80),
        "export": st.sampled_from(
            ["", "raw", "series", "events", "routes", "tenants", "tenants_created", "x"]
        ),
    },
)


@pytest.fixture
def clients(acme):
    with schema_context(settings.PUBLIC_SCHEMA_NAME):
        user, _ = get_user_model().objects.get_or_create(
            email="staff-props@example.com", defaults={"is_staff": True, "is_superuser": True}
        )
    staff = HttpClient(HTTP_HOST=settings.BASE_DOMAIN, raise_request_exception=False)
    staff.force_login(user)
    owner = acme.login()
    owner.raise_request_exception = False
    return [(owner, "/usage/"), (staff, "/admin/usage/"), (staff, "/admin/usage/tenant/acme/")]


@FAST
@given(query=params)
def test_no_period_date_or_zone_is_a_server_error(clients, query):
    for client, url in clients:
        response = client.get(url, query)
        if response.streaming:
            b"".join(response.streaming_content)
        assert response.status_code in (200, 400), (url, query, response.status_code)
        if response.status_code == 400:
            assert b'role="alert"' in response.content, (url, query)


@pytest.mark.parametrize(
    "query",
    [
        {"range": "custom", "start": "9999-12-31", "end": "9999-12-31"},
        {"range": "custom", "start": "0001-01-01", "end": "0001-01-01", "tz": "Asia/Tokyo"},
        {"range": "custom", "start": "0001-01-01", "end": "0001-01-01", "tz": "Asia/Tokyo", "export": "raw"},
    ],
)
def test_the_reported_overflows_are_400s_with_a_message(clients, query):
    for client, url in clients:
        response = client.get(url, query)
        assert response.status_code == 400, url
        assert "out of range" in response.content.decode()


# --- Exact local days ---------------------------------------------------------------------


def _bucket_of(period, moment: dt.datetime) -> int | None:
    if not period.start <= moment < period.end:
        return None
    return bisect.bisect_right(period.edges, moment) - 1


@FAST
@given(
    zone=zones,
    first=st.dates(min_value=dt.date(2019, 1, 1), max_value=dt.date(2031, 12, 25)),
    days=st.integers(1, 9),
    seconds=st.lists(st.integers(-86400, 10 * 86400), max_size=60),
    users=st.lists(st.integers(1, 6), min_size=60, max_size=60),
)
def test_every_bucket_equals_the_raw_events_of_its_local_day_or_hour(zone, first, days, seconds, users):
    tz = zoneinfo.ZoneInfo(zone)
    last = first + dt.timedelta(days=days - 1)
    period = period_resolve(key="custom", tz_name=zone, start_date=first, end_date=last)
    # Each local day runs from the first instant with its date to the next one.
    if period.bucket == "day":
        for index, edge in enumerate(period.edges):
            day = first + dt.timedelta(days=index)
            assert edge == day_start(day, tz)
            assert edge.astimezone(tz).date() == day
            assert (edge - dt.timedelta(microseconds=1)).astimezone(tz).date() < day
    # Events anywhere near the period, and on both sides of every edge.
    start = period.start
    moments = [start + dt.timedelta(seconds=s) for s in seconds]
    for edge in (*period.edges, period.end):
        moments += [edge - dt.timedelta(seconds=1), edge, edge + dt.timedelta(seconds=1)]
    label = f"exact-{uuid.uuid4().hex[:12]}"
    events = [
        Ev(label, moment, user_id=users[i % len(users)], latency_ms=10.0) for i, moment in enumerate(moments)
    ]
    insert(events)
    assert not rollup_run(wait_s=30).blocked_by
    tenant = uuid.UUID(tenant_id(label))

    expected = [0] * len(period.edges)
    expected_users: list[set[int]] = [set() for _ in period.edges]
    for event in events:
        index = _bucket_of(period, event.occurred_at)
        if index is not None:
            expected[index] += 1
            expected_users[index].add(event.user_id)
    series = selectors.usage_series(period=period, tenant_id=tenant)
    assert [point.requests for point in series] == expected, (zone, first, days)
    assert sum(point.events for point in series) == sum(expected)
    # A local day's bucket is exactly the events whose local date is that day.
    if period.bucket == "day":
        by_date = [sum(e.occurred_at.astimezone(tz).date() == first + dt.timedelta(days=i) for e in events)
                   for i in range(days)]  # fmt: skip
        assert expected == by_date
    assert selectors.usage_active_users_series(period=period, tenant_id=tenant) == [
        len(found) for found in expected_users
    ]
    assert selectors.usage_active_users(period=period, tenant_id=tenant) == len(set().union(*expected_users))
    by_route = selectors.usage_event_routes(period=period, tenant_id=tenant)
    assert sum(row.figures.latency_count for row in by_route) == sum(expected)


def test_every_zone_in_use_is_a_whole_number_of_quarter_hours_from_utc_on_accepted_dates():
    """The design rests on it: local midnights are on UTC quarter-hours (day_start raises
    otherwise). Every day of 2000-2035 in the zones named above, and the 1st and 15th of
    each month of 2000-2035 plus MAX_DATE in every zone."""
    for name in SPECIAL_ZONES:
        tz = zoneinfo.ZoneInfo(name)
        day = MIN_DATE
        while day.year < 2036:
            day_start(day, tz)
            day += dt.timedelta(days=1)
    for name in ALL_ZONES:
        tz = zoneinfo.ZoneInfo(name)
        for year in range(MIN_DATE.year, 2036):
            for month in range(1, 13):
                for day_of_month in (1, 15):
                    day_start(dt.date(year, month, day_of_month), tz)
        assert day_start(MAX_DATE, tz)
