"""Debian's Chromium, driven by Playwright, against the app on a real loopback server."""

import os
import uuid
from pathlib import Path

import pytest

from tests.support.chromium import CHROMIUM, chromium
from tests.support.tenants import PASSWORD

SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "browser"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.live,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="`make test` installs chromium with apt"),
]


@pytest.fixture
def browser(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the test itself
    # makes no database calls, the server threads do.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        yield browser


def _sign_in(page, live, host: str, email: str) -> None:
    page.goto(live.url(host, "/"))
    assert "/accounts/login/" in page.url  # anonymous people are sent to sign in
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live.url(host, "/"))


def _row(page, title: str):
    return page.locator("tr.task-row", has_text=title)


def _flash(page) -> str:
    return page.locator(".messages").inner_text()


def test_task_lifecycle_in_chromium(live, browser, tenants):
    mark = uuid.uuid4().hex[:8]
    keep = f"Browser task {mark}"
    doomed = f"Doomed task {mark}"
    xss = f"<script>window.__xss=1</script> {mark}"
    acme_host, globex_host = tenants["acme"].host, tenants["globex"].host

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    _sign_in(page, live, acme_host, tenants["acme"].owner_email)
    assert "Signed in as owner@acme.example." in _flash(page)
    assert page.locator(".brand").inner_text() == "Acme Corporation"

    for title, description in [(keep, f"needle-{mark} in the description"), (doomed, ""), (xss, "")]:
        page.click("text=New task")
        page.fill("#id_title", title)
        page.fill("#id_description", description)
        if title == keep:
            page.fill("#id_due_date", "2031-01-15")
        page.click("button:has-text('Create task')")
        page.wait_for_url(live.url(acme_host, "/"))
        assert f"Created “{title}”." in _flash(page)
    page.screenshot(path=str(SCREENSHOTS / "01-created.png"), full_page=True)

    # Escaped: the script tag shows as text and never runs.
    assert _row(page, mark).count() == 3
    assert page.locator("tr.task-row .task-title a", has_text="window.__xss").inner_text() == xss
    assert page.evaluate("window.__xss") is None

    # Form errors appear next to their field.
    page.click("text=New task")
    page.click("button:has-text('Create task')")
    assert page.locator(".field.has-error #id_title").count() == 1
    assert "This field is required." in page.locator(".field.has-error").inner_text()
    page.goto(live.url(acme_host, "/"))

    # Complete: it leaves the default (open) list and shows under Done.
    _row(page, keep).locator("button:has-text('Complete')").click()
    assert f"Completed “{keep}”." in _flash(page)
    assert _row(page, keep).count() == 0
    page.select_option("#id_status", "done")
    page.fill("#id_q", f"needle-{mark}")
    page.click("button:has-text('Apply')")
    assert page.locator("tr.task-row").count() == 1
    assert _row(page, keep).locator(".badge-done").inner_text() == "Done"
    page.screenshot(path=str(SCREENSHOTS / "02-filtered-done.png"), full_page=True)

    # Search among open tasks, then delete one after confirming.
    page.select_option("#id_status", "open")
    page.fill("#id_q", f"Doomed {mark}")
    page.click("button:has-text('Apply')")
    assert page.locator("tr.task-row").count() == 1
    _row(page, doomed).locator("text=Delete").click()
    assert "Delete this task?" in page.locator("h1").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "03-confirm-delete.png"), full_page=True)
    page.click("button:has-text('Delete task')")
    assert f"Deleted “{doomed}”." in _flash(page)
    page.goto(live.url(acme_host, f"/?status=all&q={mark}"))
    assert _row(page, doomed).count() == 0
    assert _row(page, keep).count() == 1
    acme_task_url = _row(page, keep).locator(".task-title a").get_attribute("href").split("?")[0]

    # A phone-width screen: no sideways scrolling.
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(live.url(acme_host, f"/?status=all&q={mark}"))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(SCREENSHOTS / "04-phone.png"), full_page=True)
    context.close()

    # globex never shows acme's tasks, by list, search or id.
    globex = browser.new_context(viewport={"width": 1280, "height": 900})
    other = globex.new_page()
    other.set_default_timeout(10_000)
    _sign_in(other, live, globex_host, tenants["globex"].owner_email)
    assert other.locator(".brand").inner_text() == "Globex Industries"
    other.goto(live.url(globex_host, f"/?status=all&q={mark}"))
    assert other.locator("tr.task-row").count() == 0
    assert keep not in other.content()
    assert "No tasks match." in other.content() or "No tasks yet." in other.content()
    other.goto(live.url(globex_host, acme_task_url))
    assert keep not in other.content()
    other.screenshot(path=str(SCREENSHOTS / "05-globex.png"), full_page=True)
    globex.close()
