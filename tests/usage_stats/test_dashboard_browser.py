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


def _assert_charts(page) -> None:
    assert page.locator("svg.chart").count() >= 3
    assert page.locator("svg.chart rect.bar").count() > 10
    assert page.locator("svg.chart circle.point").count() > 10
    hover = page.locator("svg.chart rect.bar title").first.text_content()
    assert "requests" in hover
    assert page.locator("[data-card=requests]").inner_text() not in ("0", "")


def test_staff_and_tenant_dashboards_draw_charts(browser, tenants, committed_usage, staff_email):
    with live_server() as server:
        port = server.port
        base = f"http://{settings.BASE_DOMAIN}:{port}"
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(15_000)

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
        page.screenshot(path=str(SCREENSHOTS / "staff-dashboard.png"), full_page=True)

        page.locator("table[data-table=tenants] a", has_text="acme").click()
        page.wait_for_url(re.compile(r".*/admin/usage/tenant/acme/\?.*tz=Europe%2FBerlin.*"))
        _assert_charts(page)
        page.screenshot(path=str(SCREENSHOTS / "staff-drill-down-acme.png"), full_page=True)
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
        assert "globex" not in page.content()
        page.screenshot(path=str(SCREENSHOTS / "tenant-dashboard-acme.png"), full_page=True)
        # A phone-width screen still shows the charts (they scale with the page).
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(SCREENSHOTS / "tenant-dashboard-acme-phone.png"), full_page=True)
        context.close()
