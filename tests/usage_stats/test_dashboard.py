"""The dashboards over a known event set: their numbers equal aggregates computed by hand,
a tenant owner sees only their own tenant whatever the parameters, members and
non-staff are kept out, and each CSV export matches its table."""

import csv
import datetime as dt
import io
import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from tenants.models import Client
from usage_stats.rollups.rollup import rollup_run

from .dash_support import Ev, aggregate, assert_within_one_bucket, insert, nearest_rank, stats_connect

pytestmark = pytest.mark.django_db(databases=["default", "stats"])

DAY = dt.datetime(2003, 4, 5, tzinfo=dt.UTC)
RANGE = {"range": "custom", "start": "2003-04-05", "end": "2003-04-06", "tz": "UTC"}


def _at(hours: float) -> dt.datetime:
    return DAY + dt.timedelta(hours=hours)


def _known_events() -> list[Ev]:
    """Two days of acme and globex. Latencies sit well inside histogram buckets and are
    exact in float4, so every sum and bucket is predictable."""
    events = []
    acme_latencies = [3, 7, 12, 25, 25, 50, 90, 150, 400, 1200]
    for i, latency in enumerate(acme_latencies):
        events.append(Ev("acme", _at(1 + i), route="task_list", latency_ms=latency, user_id=1 + i % 3))
    for i in range(6):
        status = 500 if i < 2 else 200
        events.append(
            Ev(
                "acme",
                _at(30 + i),
                route="task_create",
                method="POST",
                status=status,
                latency_ms=60,
                user_id=4,
            )
        )
    events += [
        Ev("acme", _at(2.5), event="api.call", route="api:list", latency_ms=20, user_id=2),
        Ev(
            "acme",
            _at(3),
            event="task.created",
            route=None,
            method=None,
            status=None,
            latency_ms=None,
            user_id=1,
        ),
        Ev("acme", _at(40), event="task.created", route=None, method=None, status=None, latency_ms=None),
    ]
    for tokens, failed in ((1000, False), (2500, True), (700, False)):
        events.append(
            Ev(
                "acme",
                _at(20),
                event="ai.summary",
                route="ai_summary",
                method=None,
                status=None,
                latency_ms=900,
                tokens=tokens,
                user_id=5,
                properties={"failed": True} if failed else None,
            )
        )
    # globex: different sizes everywhere, so a leak would show.
    for i in range(23):
        events.append(
            Ev(
                "globex",
                _at(5 + i),
                route="task_detail",
                status=503 if i % 5 == 0 else 200,
                latency_ms=33,
                user_id=9,
            )
        )
    events.append(
        Ev("globex", _at(6), event="ai.summary", route="ai_summary", method=None, status=None, tokens=99999)
    )
    events.append(Ev("acme", _at(8), event="user.signed_up", route=None, method=None, status=None,
                     latency_ms=None, user_id=6))  # fmt: skip
    events.append(Ev("globex", _at(9), event="user.signed_up", route=None, method=None, status=None,
                     latency_ms=None, user_id=9))  # fmt: skip
    # Outside the range: must not count.
    events.append(Ev("acme", DAY - dt.timedelta(minutes=1), latency_ms=5))
    events.append(Ev("acme", _at(48), latency_ms=5))
    return events


@pytest.fixture
def staff_client(tenants):
    with schema_context(settings.PUBLIC_SCHEMA_NAME):
        user = get_user_model().objects.create_user(
            "staff-usage@example.com", "pw-123456789", is_staff=True, is_superuser=True
        )
    client = HttpClient(HTTP_HOST=settings.BASE_DOMAIN)
    client.force_login(user)
    return client


@pytest.fixture
def known(tenants):
    events = _known_events()
    insert(events)
    assert not rollup_run(wait_s=30).blocked_by
    in_range = [e for e in events if DAY <= e.occurred_at < _at(48)]
    return in_range


class _Page(HTMLParser):
    """Cards (data-card) and tables (data-table) of a dashboard page, as text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.cards: dict[str, str] = {}
        self.tables: dict[str, list[list[str]]] = {}
        self._card = None
        self._table = None
        self._cell = None
        self._row = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-card" in attrs:
            self._card = attrs["data-card"]
            self.cards[self._card] = ""
        elif tag == "table" and "data-table" in attrs:
            self._table = attrs["data-table"]
            self.tables[self._table] = []
        elif self._table and tag == "tr":
            self._row = []
        elif self._row is not None and tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag == "span" and self._card:
            self._card = None
        elif self._table and tag in ("td", "th") and self._cell is not None:
            self._row.append(self._cell.strip())
            self._cell = None
        elif self._table and tag == "tr":
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._card:
            self.cards[self._card] += data
        if self._cell is not None:
            self._cell += data


def _num(text: str) -> float:
    return float(re.sub(r"[^0-9.\-]", "", text))


def _page(response) -> _Page:
    assert response.status_code == 200, response.content[:500]
    return _Page(response.content.decode())


def _expected_cards(events: list[Ev]) -> dict:
    total = aggregate(events, lambda e: "all")["all"]
    return {
        "requests": total.requests,
        "api-calls": sum(e.event == "api.call" for e in events),
        "events": total.events,
        "errors": total.errors,
        "error-rate": round(100 * total.errors / total.events, 2),
        "active-users": len({(e.tenant, e.user_id) for e in events if e.user_id is not None}),
        "latencies": total.latencies,
    }


def _assert_cards(page: _Page, events: list[Ev]) -> None:
    expected = _expected_cards(events)
    assert "tokens" not in page.cards  # the product has no feature that spends tokens
    for key in ("requests", "api-calls", "events", "errors", "error-rate", "active-users"):
        assert _num(page.cards[key]) == expected[key], key
    assert_within_one_bucket(_num(page.cards["latency-p50"]), nearest_rank(expected["latencies"], 0.5))
    assert_within_one_bucket(_num(page.cards["latency-p95"]), nearest_rank(expected["latencies"], 0.95))


def _assert_tables(page: _Page, events: list[Ev]) -> None:
    # Events by type.
    by_event = aggregate(events, lambda e: e.event)
    rows = {row[1]: row[2:] for row in page.tables["events"][1:]}  # by technical name
    assert set(rows) == set(by_event)
    for name, agg in by_event.items():
        count, errors, rate = rows[name]
        assert (_num(count), _num(errors)) == (agg.events, agg.errors)
        assert _num(rate) == round(100 * agg.errors / agg.events, 2)
    # Latency per route: counts, average and percentiles within one bucket.
    timed = [e for e in events if e.latency_ms is not None]
    by_route = aggregate(timed, lambda e: e.route or "")
    rows = {row[1]: row[2:] for row in page.tables["routes"][1:]}
    assert set(rows) == set(by_route)
    for route, agg in by_route.items():
        count, errors, _rate, avg, p50, p95, p99 = rows[route]
        assert (_num(count), _num(errors)) == (len(agg.latencies), agg.errors)
        assert _num(avg) == pytest.approx(sum(agg.latencies) / len(agg.latencies), abs=0.05)
        for text, q in ((p50, 0.5), (p95, 0.95), (p99, 0.99)):
            assert_within_one_bucket(_num(text), nearest_rank(agg.latencies, q))
    # Per hour: requests, events and errors.
    per_hour = aggregate(events, lambda e: e.occurred_at.strftime("%Y-%m-%d %H:00"))
    series = page.tables["series"][1:]
    assert len(series) == 48
    for row in series:
        agg = per_hour.get(row[0])
        expected = (agg.requests, agg.events, agg.errors) if agg else (0, 0, 0)
        assert tuple(_num(cell) for cell in row[1:4]) == expected, row


def test_owner_dashboard_equals_hand_computed_aggregates(acme, known):
    owner = acme.login()
    page = _page(owner.get("/usage/", RANGE))
    acme_events = [e for e in known if e.tenant == "acme"]
    _assert_cards(page, acme_events)
    _assert_tables(page, acme_events)
    # Active users per hour: distinct users of each hour.
    users = {}
    for e in acme_events:
        if e.user_id is not None:
            users.setdefault(e.occurred_at.strftime("%Y-%m-%d %H:00"), set()).add(e.user_id)
    for row in page.tables["series"][1:]:
        assert _num(row[4]) == len(users.get(row[0], ())), row


# Each card of both dashboards as a count over the raw events of the period.
RAW_CARDS = {
    "requests": "count(*) FILTER (WHERE event IN ('request', 'api.call'))",
    "api-calls": "count(*) FILTER (WHERE event = 'api.call')",
    "events": "count(*)",
    "errors": """count(*) FILTER (WHERE status >= 500 OR properties @> '{"failed": true}')""",
    "error-rate": """round(100.0 * count(*) FILTER (WHERE status >= 500 OR properties @> '{"failed": true}')
                     / count(*), 2)""",
    "active-users": "count(DISTINCT (tenant_id, user_id)) FILTER (WHERE user_id IS NOT NULL)",
    "signups": "count(*) FILTER (WHERE event = 'user.signed_up')",
    "latency-p50": "percentile_disc(0.5) WITHIN GROUP (ORDER BY latency_ms)",
    "latency-p95": "percentile_disc(0.95) WITHIN GROUP (ORDER BY latency_ms)",
}


def _raw_cards(tenant: str | None) -> dict[str, float]:
    from .dash_support import tenant_id

    scope = "" if tenant is None else "AND tenant_id = %(tenant_id)s"
    columns = ", ".join(RAW_CARDS.values())
    with connections["stats"].cursor() as cursor:  # the test's own: it sees the test's events
        cursor.execute(
            f"SELECT {columns} FROM usage_event"
            f" WHERE occurred_at >= %(start)s AND occurred_at < %(end)s {scope}",
            {"start": DAY, "end": _at(48), "tenant_id": tenant_id(tenant) if tenant else None},
        )
        return dict(zip(RAW_CARDS, (float(v) for v in cursor.fetchone()), strict=True))


@pytest.mark.parametrize("who", ["owner", "staff"])
def test_every_card_equals_a_count_of_the_raw_events(acme, known, staff_client, who):
    """Not the hand-computed aggregate of the test's events: the raw table itself, so a card
    that double counts or leaves events out cannot pass."""
    client, url, tenant = (
        (acme.login(), "/usage/", "acme") if who == "owner" else (staff_client, "/admin/usage/", None)
    )
    page = _page(client.get(url, RANGE))
    raw = _raw_cards(tenant)
    for card in ("requests", "api-calls", "events", "errors", "error-rate", "active-users", "signups"):
        assert _num(page.cards[card]) == raw[card], card
    for card in ("latency-p50", "latency-p95"):
        assert_within_one_bucket(_num(page.cards[card]), raw[card])
    others = {"tenants-created"} if who == "staff" else set()
    assert set(page.cards) == set(RAW_CARDS) | others
    if who == "staff":
        created = Client.objects.real().filter(created_at__gte=DAY, created_at__lt=_at(48)).count()
        assert _num(page.cards["tenants-created"]) == created


def test_owner_dashboard_draws_charts_with_hover_titles(acme, known):
    html = acme.login().get("/usage/", RANGE).content.decode()
    assert html.count("<svg") >= 4
    assert re.search(r'<rect class="bar"[^>]*><title>2003-04-05 01:00 · 1 requests', html)
    assert "<script" not in html  # no JavaScript, and nothing loaded from elsewhere:
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_staff_dashboard_equals_hand_computed_aggregates_across_tenants(tenants, known, staff_client):
    response = staff_client.get("/admin/usage/", RANGE)
    page = _page(response)
    _assert_cards(page, known)
    _assert_tables(page, known)
    tenants_table = {row[0]: row[1:] for row in page.tables["tenants"][1:]}
    for slug in ("acme", "globex"):
        agg = aggregate([e for e in known if e.tenant == slug], lambda e: "all")["all"]
        requests, events, errors, _rate, _avg, users = tenants_table[slug]
        assert (_num(requests), _num(events), _num(errors)) == (
            agg.requests,
            agg.events,
            agg.errors,
        )
        assert _num(users) == len({e.user_id for e in known if e.tenant == slug and e.user_id})
    # Tenants are listed busiest first and link to their drill-down.
    assert list(tenants_table)[:2] == ["globex", "acme"]  # 25 events, then 23
    assert 'href="/admin/usage/tenant/acme/?' in response.content.decode()


def test_staff_drill_down_shows_one_tenant(tenants, known, staff_client):
    page = _page(staff_client.get("/admin/usage/tenant/globex/", RANGE))
    _assert_cards(page, [e for e in known if e.tenant == "globex"])
    assert staff_client.get("/admin/usage/tenant/no-such-tenant/", RANGE).status_code == 404


def test_signups_and_tenants_created_in_range(tenants, known, staff_client):
    insert(
        [
            Ev("acme", _at(10), event="user.signed_up", user_id=2003),
            Ev("acme", _at(60), event="user.signed_up", user_id=2004),  # after the range
        ]
    )
    assert not rollup_run(wait_s=30).blocked_by
    Client.objects.filter(schema_name="globex").update(created_at=_at(12))
    page = _page(staff_client.get("/admin/usage/", RANGE))
    assert _num(page.cards["signups"]) == 3  # one in each tenant's known events, and this one
    assert _num(page.cards["tenants-created"]) == 1
    assert [row[0] for row in page.tables["tenants_created"][1:]] == ["globex"]
    owner_page = _page(tenants["acme"].login().get("/usage/", RANGE))
    assert _num(owner_page.cards["signups"]) == 2
    assert "tenants-created" not in owner_page.cards


@pytest.mark.parametrize(
    "extra",
    [
        {"tenant": "globex"},
        {"schema": "globex"},
        {"tenant_id": "2"},
        {"t": "globex", "host": "globex.localhost"},
        {"export": "raw", "tenant": "globex"},
    ],
)
def test_owner_cannot_see_another_tenant_by_any_parameter(acme, known, extra):
    owner = acme.login()
    response = owner.get("/usage/", {**RANGE, **extra})
    if extra.get("export") == "raw":
        body = b"".join(response.streaming_content).decode()
        assert "globex" not in body
        assert body.count("\n") - 1 == len([e for e in known if e.tenant == "acme"])
        return
    page = _page(response)
    _assert_cards(page, [e for e in known if e.tenant == "acme"])
    assert "99999" not in response.content.decode()  # globex's token count


def test_owner_cannot_use_another_tenants_host_or_the_staff_dashboard(acme, globex, known):
    owner = acme.login()
    # The session belongs to acme's schema: on globex's host it is nobody.
    foreign = HttpClient(HTTP_HOST=globex.host)
    foreign.cookies = owner.cookies
    response = foreign.get("/usage/", RANGE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    # The staff dashboard lives on the base domain only.
    response = owner.get("/admin/usage/", RANGE)
    assert response.status_code in (302, 403, 404)
    assert b"data-card" not in response.content


def test_member_gets_403_and_anonymous_is_sent_to_sign_in(acme, known):
    with schema_context("acme"):
        get_user_model().objects.create_user("member-usage@acme.example", "pw-123456789", role="member")
    member = acme.login("member-usage@acme.example")
    response = member.get("/usage/", RANGE)
    assert response.status_code == 403
    assert b"task_list" not in response.content
    assert member.get("/usage/", {**RANGE, "export": "raw"}).status_code == 403
    anonymous = acme.client().get("/usage/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_staff_dashboard_needs_a_staff_sign_in(tenants, known):
    base = HttpClient(HTTP_HOST=settings.BASE_DOMAIN)
    response = base.get("/admin/usage/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    with schema_context(settings.PUBLIC_SCHEMA_NAME):
        user = get_user_model().objects.create_user("not-staff@example.com", "pw-123456789")
    base.force_login(user)
    response = base.get("/admin/usage/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_admin_index_links_to_the_usage_dashboard(staff_client):
    response = staff_client.get("/admin/")
    assert response.status_code == 200
    assert 'href="/admin/usage/"' in response.content.decode()


@pytest.mark.parametrize("key", ["series", "events", "routes", "tenants", "tenants_created"])
def test_csv_export_matches_the_table(tenants, known, staff_client, key):
    page = _page(staff_client.get("/admin/usage/", RANGE))
    response = staff_client.get("/admin/usage/", {**RANGE, "export": key})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    table = page.tables.get(key, [])
    assert rows[0] == (table[0] if table else rows[0])
    shown = [[cell.replace(",", "").replace("\u2014", "") for cell in row] for row in table[1:]]
    assert rows[1:] == shown


def test_owner_csv_export_matches_the_table(acme, known):
    owner = acme.login()
    page = _page(owner.get("/usage/", RANGE))
    response = owner.get("/usage/", {**RANGE, "export": "routes"})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [page.tables["routes"][0]] + [
        [cell.replace(",", "").replace("\u2014", "") for cell in row] for row in page.tables["routes"][1:]
    ]


def test_raw_export_streams_every_event_of_the_tenant_and_range(acme, known):
    response = acme.login().get("/usage/", {**RANGE, "export": "raw"})
    assert response.status_code == 200
    assert response.streaming
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    expected = {e.event_id for e in known if e.tenant == "acme"}
    assert {row["event_id"] for row in rows} == expected
    assert [row["occurred_at"] for row in rows] == sorted(row["occurred_at"] for row in rows)


def test_time_zone_moves_events_into_local_days(acme, tenants):
    # 23:30 UTC on 2003-06-01 is 01:30 on 2003-06-02 in Paris (UTC+2).
    insert([Ev("acme", dt.datetime(2003, 6, 1, 23, 30, tzinfo=dt.UTC), latency_ms=5)])
    rollup_run(wait_s=5)
    owner = acme.login()
    params = {"range": "custom", "start": "2003-05-31", "end": "2003-06-03"}
    utc = {
        row[0]: row[1] for row in _page(owner.get("/usage/", {**params, "tz": "UTC"})).tables["series"][1:]
    }
    paris = {
        row[0]: row[1]
        for row in _page(owner.get("/usage/", {**params, "tz": "Europe/Paris"})).tables["series"][1:]
    }
    assert (utc["2003-06-01"], utc["2003-06-02"]) == ("1", "0")
    assert (paris["2003-06-01"], paris["2003-06-02"]) == ("0", "1")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"tz": "Mars/Olympus"}, "Unknown time zone"),
        ({"range": "1y"}, "valid choice"),
        ({"range": "custom"}, "needs both a start and an end"),
        ({"range": "custom", "start": "2003-04-06", "end": "2003-04-05"}, "before the start"),
        ({"range": "custom", "start": "2000-01-01", "end": "2003-01-01"}, "at most"),
        ({"range": "custom", "start": "yesterday", "end": "2003-01-01"}, "valid date"),
        ({"export": "nope"}, "no table called"),
    ],
)
def test_bad_input_is_a_clear_400(acme, params, message):
    response = acme.login().get("/usage/", params)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_raw_export_needs_a_tenant_on_the_staff_dashboard(staff_client):
    response = staff_client.get("/admin/usage/", {"export": "raw"})
    assert response.status_code == 400
    assert "one tenant at a time" in response.content.decode()


def test_default_ranges_render_for_owner_and_staff(acme, staff_client):
    owner = acme.login()
    for key in ("24h", "7d", "30d"):
        assert owner.get("/usage/", {"range": key, "tz": "Asia/Kolkata"}).status_code == 200
        assert staff_client.get("/admin/usage/", {"range": key}).status_code == 200


def _rollup_state(sql: str = "SELECT seq, events, updated_at FROM usage_rollup_state WHERE name = 'events'"):
    conn = stats_connect(autocommit=True)
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchone() if cursor.description else None
    finally:
        conn.close()


def test_a_dashboard_read_never_rolls_up_and_says_how_fresh_it_is(acme, staff_client):
    """Rollups are the scheduled job's (Celery beat): a page view writes nothing to the stats
    database, however stale the figures, and tells the reader how old they are."""
    # Committed on its own connection: a rollup run here would sit in the test's transaction.
    _rollup_state(
        "UPDATE usage_rollup_state SET updated_at = now() - interval '3 minutes' WHERE name = 'events'"
    )
    insert([Ev(acme.slug, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5))])
    before = _rollup_state()
    owner = acme.login()
    page = owner.get("/usage/", {"range": "24h"}).content.decode()
    assert staff_client.get("/admin/usage/", {"range": "24h"}).status_code == 200
    assert _rollup_state() == before  # no run, not even a "nothing to do" one
    assert "updated 3 min ago" in page, page[:3000]
    assert "not being refreshed" not in page

    # Figures the schedule has not refreshed for a long time say so.
    _rollup_state(
        "UPDATE usage_rollup_state SET updated_at = now() - interval '2 hours' WHERE name = 'events'"
    )
    try:
        stale = owner.get("/usage/", {"range": "24h"}).content.decode()
    finally:
        _rollup_state("UPDATE usage_rollup_state SET updated_at = now() WHERE name = 'events'")
    assert "updated 2 h ago" in stale
    assert "not being refreshed" in stale


def test_pages_say_when_their_figures_include_demo_data(acme, known, staff_client):
    from usage_stats.demo.activity import demo_count_add

    with connections["stats"].cursor() as cursor:
        cursor.execute("SELECT coalesce(max(events), 0) FROM usage_rollup_state WHERE name = 'demo'")
        before = cursor.fetchone()[0]
    if before == 0:
        assert b"data-demo" not in acme.login().get("/usage/", RANGE).content
    demo_count_add(events=1234)
    for response in (acme.login().get("/usage/", RANGE), staff_client.get("/admin/usage/", RANGE)):
        html = response.content.decode()
        assert "data-demo" in html and "Demo data." in html
        assert f"{before + 1234:,}" in html
