"""Debian's Chromium, driven by Playwright, opens the staff usage dashboard (from the admin
index, then a tenant's drill-down) and a tenant owner's /usage/ on a real loopback server,
checks that the charts are drawn with data points and hover titles, and saves screenshots."""

import datetime as dt
import os
import re
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from django_tenants.utils import schema_context

from tests.support.chromium import CHROMIUM, chromium
from tests.support.live_server import committed, live_server
from tests.support.tenants import PASSWORD
from usage_stats.rollups.rollup import rollup_run

from .dash_support import Ev, insert, stats_connect

SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "usage"
QUERY = "range=custom&start=2005-06-07&end=2005-06-08&tz=Europe%2FBerlin"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.live,
    pytest.mark.django_db(databases=["default", "stats"]),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="`make test` installs chromium with apt"),
]


def _events() -> list[Ev]:
    start = dt.datetime(2005, 6, 7, tzinfo=dt.UTC)
    events = []
    for hour in range(48):
        for i in range(1 + (hour * 7) % 11):
            events.append(
                Ev(
                    "acme" if i % 3 else "globex",
                    start + dt.timedelta(hours=hour, minutes=i),
                    route=("task_list", "task_detail", "task_create")[i % 3],
                    status=500 if (hour + i) % 17 == 0 else 200,
                    latency_ms=5 + (hour * 13 + i * 29) % 400,
                    user_id=1 + i % 4,
                )
            )
    return events


@pytest.fixture
def browser(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; database work happens in
    # other threads (setup) and in the server's threads.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        yield browser


@pytest.fixture
def staff_email(tenants):
    email = f"staff-{uuid.uuid4().hex[:8]}@example.com"

    def create():
        with schema_context(settings.PUBLIC_SCHEMA_NAME):
            get_user_model().objects.create_user(email, PASSWORD, is_staff=True, is_superuser=True)

    def delete():
        # Raw SQL: the ORM's cascade would look for tenant tables (tasks) in the public schema.
        with schema_context(settings.PUBLIC_SCHEMA_NAME), connections["default"].cursor() as cursor:
            cursor.execute("DELETE FROM accounts_user WHERE email = %s", [email])

    committed(create)
    yield email
    committed(delete)


@pytest.fixture
def committed_usage(tenants):
    conn = stats_connect(autocommit=True)
    try:
        insert(_events(), conn=conn)
    finally:
        conn.close()
    committed(lambda: rollup_run(wait_s=10))


# The smallest chart text on screen, in CSS pixels: font size times the drawing's scale.
_SMALLEST_TEXT_PX = """() => {
  let smallest = Infinity, shown = 0;
  for (const svg of document.querySelectorAll('svg.chart')) {
    const box = svg.getBoundingClientRect();
    if (!box.width) continue;  // the drawing for the other screen width
    shown += 1;
    const scale = box.width / svg.viewBox.baseVal.width;
    for (const text of svg.querySelectorAll('text')) {
      smallest = Math.min(smallest, parseFloat(getComputedStyle(text).fontSize) * scale);
    }
  }
  return [smallest, shown];
}"""


def _assert_charts(page, drawing: str = "wide") -> None:
    charts = f"svg.chart-{drawing}"
    assert page.locator(charts).count() >= 3
    assert page.locator(f"{charts} rect.bar").count() > 10
    assert page.locator(f"{charts} circle.point").count() > 10
    hover = page.locator(f"{charts} rect.bar title").first.text_content()
    assert "requests" in hover
    assert page.locator("[data-card=requests]").inner_text() not in ("0", "")
    # Errors are marked where they can be seen, with their count on hover.
    marker = page.locator(f"{charts} polygon.error-marker").first
    assert marker.is_visible()
    assert "errors" in marker.locator("title").text_content()
    # Axes say their unit; latency is in milliseconds; route names are for people, the
    # technical name on hover.
    texts = page.locator(f"{charts} text.axis-label").all_text_contents()
    assert any("requests per" in text for text in texts)
    assert "latency (ms)" in texts
    names = page.locator(f"{charts} text.category").evaluate_all(
        "texts => texts.map(t => [t.lastChild.textContent, t.querySelector('title').textContent])"
    )
    assert ["Task page", "Task page (task_detail)"] in names
    smallest, shown = page.evaluate(_SMALLEST_TEXT_PX)
    assert shown >= 3, "one drawing of each chart is on screen"
    assert smallest >= 10.5, f"chart text of {smallest:.1f} px"


def _assert_whole_number_ticks(page, drawing: str) -> None:
    """Counts of people are whole numbers: no 0.5 person on the active users chart."""
    chart = page.locator("figure.usage-chart", has_text="Active users").locator(f"svg.chart-{drawing}")
    ticks = [t for t in chart.locator("text.tick").all_text_contents() if t[:1].isdigit() and ":" not in t]
    assert ticks and all(t.isdigit() for t in ticks), ticks


def test_staff_and_tenant_dashboards_draw_charts(browser, tenants, committed_usage, staff_email):
    with live_server() as server:
        port = server.port
        base = f"http://{settings.BASE_DOMAIN}:{port}"
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(15_000)
        SHOTS = SCREENSHOTS

        page.goto(f"{base}/admin/login/?next=/admin/")
        page.fill("#id_username", staff_email)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"{base}/admin/")
        page.click("text=Usage dashboard")
        page.wait_for_url(f"{base}/admin/usage/")
        page.goto(f"{base}/admin/usage/?{QUERY}")
        _assert_charts(page)
        assert page.locator("table[data-table=tenants] th[scope=row]", has_text="acme").count() == 1
        page.screenshot(path=str(SHOTS / "staff-dashboard-1280.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        _assert_charts(page, "narrow")
        page.screenshot(path=str(SHOTS / "staff-dashboard-390.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 1000})

        page.locator("table[data-table=tenants] a", has_text="acme").click()
        page.wait_for_url(re.compile(r".*/admin/usage/tenant/acme/\?.*tz=Europe%2FBerlin.*"))
        _assert_charts(page)
        page.screenshot(path=str(SHOTS / "staff-drill-down-acme-1280.png"), full_page=True)
        context.close()

        acme = tenants["acme"]
        tenant_base = f"http://{acme.host}:{port}"
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{tenant_base}/usage/?{QUERY}")
        assert "/accounts/login/" in page.url
        page.fill("#id_username", acme.owner_email)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{tenant_base}/usage/?{QUERY}")
        _assert_charts(page)
        _assert_whole_number_ticks(page, "wide")
        assert "globex" not in page.content()
        page.screenshot(path=str(SHOTS / "owner-dashboard-1280.png"), full_page=True)
        # A phone: the narrow drawings, with text as readable as on a desktop.
        page.set_viewport_size({"width": 390, "height": 844})
        _assert_charts(page, "narrow")
        _assert_whole_number_ticks(page, "narrow")
        page.screenshot(path=str(SHOTS / "owner-dashboard-390.png"), full_page=True)
        context.close()
