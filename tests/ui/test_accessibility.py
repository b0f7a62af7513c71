"""axe-core in Debian's Chromium over every page a person meets, at 1280 px and 390 px
(and 1280 px in dark mode): 0 serious or critical violations. Also, on a phone no page
scrolls sideways and the filter card leaves room for tasks; at 1280 px no admin change
list cuts a column off. Screenshots go to tests/artifacts/a11y/.

axe-core comes from axe-playwright-python (PyPI), which ships axe.min.js: no CDN, no npm.
One browser and one server for the module; each signed-in context is reused page to page.
"""

import datetime as dt
import json
import os
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import schema_context

from tests.support.chromium import CHROMIUM, chromium
from tests.support.live_server import committed, live_server
from tests.support.tenants import PASSWORD

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "a11y"
BLOCKING = {"serious", "critical"}
# (viewport width, height): every page at both, in light mode; DARK_PAGES again in dark mode.
VIEWS = [(1280, 900), (390, 844)]
DARK_PAGES = {
    "public-landing",
    "public-signup-errors",
    "tasks-list",
    "task-detail",
    "task-edit",
    "settings",
    "usage",
    "owner-admin-tasks",
    "staff-admin-organisations",
    "staff-usage-dashboard",
    "error-404-tenant",
    "error-423-suspended",
}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.live,
    pytest.mark.timeout(400),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="`make test` installs chromium with apt"),
]


@pytest.fixture(scope="module")
def site(tenants, django_db_blocker):
    """The live server with error views mounted, a task, a suspended tenant and a staff member."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    mark = uuid.uuid4().hex[:6]
    staff_email = f"a11y-staff-{mark}@example.com"
    suspended_slug = f"a11y-susp-{mark}"
    acme = tenants["acme"]

    def setup():
        from audit.actors import actor_system
        from tasks_app.services import task_create
        from tenants.services import tenant_provision, tenant_suspend

        with schema_context(settings.PUBLIC_SCHEMA_NAME):
            get_user_model().objects.create_user(staff_email, PASSWORD, is_staff=True, is_superuser=True)
        suspended = tenant_provision(
            slug=suspended_slug,
            name="Paused Ltd",
            owner_email=f"o@{suspended_slug}.example",
            owner_password=None,
        )
        tenant_suspend(actor=actor_system(), tenant=suspended.tenant, reason="a11y test")
        with schema_context(acme.tenant.schema_name):
            owner = acme.owner()
            today = timezone.localdate()
            task = task_create(
                actor=owner,
                title=f"Accessible task {mark}",
                description="Check every page with axe.\nTwice.",
                due_date=today - dt.timedelta(days=2),
                assignee=owner,
            )
            task_create(actor=owner, title=f"Due soon {mark}", due_date=today + dt.timedelta(days=3))
        return task.pk, suspended.tenant.pk

    def teardown():
        with schema_context(settings.PUBLIC_SCHEMA_NAME), connections["default"].cursor() as cursor:
            cursor.execute("DELETE FROM accounts_user WHERE email = %s", [staff_email])

    with django_db_blocker.unblock():
        task_id, suspended_pk = committed(setup)
        urls = override_settings(
            ROOT_URLCONF="tests.security.error_urls", PUBLIC_SCHEMA_URLCONF="tests.ui.error_urls_public"
        )
        with urls, live_server() as server:
            yield {
                "port": server.port,
                "task_id": task_id,
                "staff_email": staff_email,
                "suspended_host": f"{suspended_slug}.{settings.BASE_DOMAIN}",
                "suspended_pk": suspended_pk,
                "acme": acme,
            }
        committed(teardown)


@pytest.fixture(scope="module")
def browser(site):
    with chromium() as running:
        yield running


def _pages(site) -> list[tuple[str, str, str, str]]:
    """(name, who, host, path): who is anon, owner or staff."""
    acme, task = site["acme"].host, site["task_id"]
    base = settings.BASE_DOMAIN
    pages = [
        ("public-landing", "anon", base, "/"),
        ("public-signup", "anon", base, "/signup/"),
        ("public-signup-errors", "anon", base, "POST /signup/"),
        ("tenant-sign-in", "anon", acme, "/accounts/login/"),
        ("tasks-list", "owner", acme, "/"),
        ("tasks-list-filtered-empty", "owner", acme, "/?q=nothing-matches-this"),
        ("task-detail", "owner", acme, f"/tasks/{task}/"),
        ("task-new", "owner", acme, "/tasks/new/"),
        ("task-edit", "owner", acme, f"/tasks/{task}/edit/"),
        ("task-delete", "owner", acme, f"/tasks/{task}/delete/"),
        ("people", "owner", acme, "/accounts/members/"),
        ("people-invite", "owner", acme, "/accounts/members/invite/"),
        ("settings", "owner", acme, "/accounts/settings/"),
        ("password-change", "owner", acme, "/accounts/password/"),
        ("usage", "owner", acme, "/usage/"),
        ("export", "owner", acme, "/export/"),
        ("owner-admin", "owner", acme, "/admin/"),
        ("owner-admin-tasks", "owner", acme, "/admin/tasks_app/task/"),
        ("owner-admin-task", "owner", acme, f"/admin/tasks_app/task/{task}/change/"),
        ("owner-admin-people", "owner", acme, "/admin/accounts/user/"),
        ("owner-admin-tokens", "owner", acme, "/admin/accounts/apitoken/"),
        ("staff-admin-sign-in", "anon", base, "/admin/login/"),
        ("staff-admin", "staff", base, "/admin/"),
        ("staff-admin-organisations", "staff", base, "/admin/tenants/client/"),
        ("staff-admin-organisation", "staff", base, f"/admin/tenants/client/{site['suspended_pk']}/change/"),
        ("staff-admin-domains", "staff", base, "/admin/tenants/domain/"),
        ("staff-usage-dashboard", "staff", base, "/admin/usage/"),
        ("staff-usage-tenant", "staff", base, "/admin/usage/tenant/acme/"),
        ("error-404-tenant", "owner", acme, "/no-such-page/"),
        ("error-404-public", "anon", base, "/no-such-page/"),
        ("error-404-unknown-host", "anon", f"nobody.{base}", "/"),
        ("error-405", "owner", acme, f"/tasks/{task}/complete/"),
        ("error-423-suspended", "anon", site["suspended_host"], "/"),
        ("error-403-csrf", "anon", base, "POST /signup/ no-csrf"),
    ]
    for status in (400, 403, 410, 429, 500):
        pages.append((f"error-{status}-tenant", "owner", acme, f"/status/{status}/"))
        pages.append((f"error-{status}-public", "anon", base, f"/status/{status}/"))
    return pages


def _sign_in(page, url: str, email: str, submit: str) -> None:
    page.goto(url)
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click(submit)
    page.wait_for_load_state()


def _open(page, base: str, path: str) -> None:
    if path.startswith("POST "):
        target = path.split()[1]
        page.goto(base + target)
        if path.endswith("no-csrf"):
            page.context.clear_cookies()
            page.evaluate(
                "document.querySelectorAll('input[name=csrfmiddlewaretoken]').forEach(e => e.remove())"
            )
        page.fill("#id_name", "\u200b")
        page.fill("#id_slug", "acme")
        page.fill("#id_owner_email", "not-an-email")
        page.fill("#id_owner_password", "password")
        page.click("button[type=submit]")
        page.wait_for_load_state()
    else:
        page.goto(base + path)


def _blocking(axe, page) -> list[dict]:
    results = axe.run(page, options={"resultTypes": ["violations"]})
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
            "help": v["help"],
        }
        for v in results.response["violations"]
        if v["impact"] in BLOCKING
    ]


@pytest.mark.parametrize(("width", "height"), VIEWS, ids=[f"{w}px" for w, _h in VIEWS])
def test_every_page_has_no_serious_accessibility_violation(site, browser, width, height):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    port = site["port"]
    contexts = {}
    for who in ("anon", "owner", "staff"):
        context = browser.new_context(viewport={"width": width, "height": height}, color_scheme="light")
        page = context.new_page()
        page.set_default_timeout(15_000)
        contexts[who] = page
    acme = site["acme"]
    _sign_in(
        contexts["owner"],
        f"http://{acme.host}:{port}/accounts/login/",
        acme.owner_email,
        "button[type=submit]",
    )
    _sign_in(
        contexts["staff"],
        f"http://{settings.BASE_DOMAIN}:{port}/admin/login/",
        site["staff_email"],
        "input[type=submit]",
    )

    problems: dict[str, list] = {}
    layout: dict[str, str] = {}
    for name, who, host, path in _pages(site):
        page = contexts[who]
        _open(page, f"http://{host}:{port}", path)
        if blocking := _blocking(axe, page):
            problems[name] = blocking
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
        if name in DARK_PAGES and width >= 1280:
            page.emulate_media(color_scheme="dark")
            page.wait_for_timeout(400)  # the admin's colour transitions (0.15 s) settle first
            if blocking := _blocking(axe, page):
                problems[f"{name} (dark)"] = blocking
            page.screenshot(path=str(ARTIFACTS / f"{name}-{width}-dark.png"), full_page=True)
            page.emulate_media(color_scheme="light")
        phone_page = width < 600 and not name.startswith(("owner-admin", "staff-"))
        if phone_page and not page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"):
            layout[name] = "scrolls sideways on a phone"
        if width >= 1280:
            cut = page.evaluate(
                "(() => { const r = document.querySelector('#changelist .results');"
                " return r ? r.scrollWidth > r.clientWidth + 1 : false })()"
            )
            if cut:
                layout[name] = "a change-list column is cut off at 1280 px"
        if name == "tasks-list" and width < 600:
            filters = page.evaluate("document.querySelector('.filters').getBoundingClientRect().height")
            if filters > height * 0.5:
                layout[name] = f"the filter card is {filters:.0f} px high on a {height} px screen"
            labels = page.evaluate(
                "[...document.querySelectorAll('tr.task-row td[data-label]')].slice(0, 3)"
                ".map(td => getComputedStyle(td, '::before').content)"
            )
            if not labels or any(label in ("none", "normal", '""') for label in labels):
                layout[name] = f"phone rows lose their column labels: {labels}"
    for page in contexts.values():
        page.context.close()
    (ARTIFACTS / f"violations-{width}.json").write_text(json.dumps(problems, indent=1))
    assert problems == {}, json.dumps(problems, indent=1)[:6000]
    assert layout == {}, layout


def test_skip_link_favicon_and_dark_mode(site, browser):
    port, acme = site["port"], site["acme"]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="dark")
    page = context.new_page()
    page.goto(f"http://{acme.host}:{port}/accounts/login/")
    first = "document.querySelector('a[href], button, input:not([type=hidden]), select, textarea')"
    assert page.evaluate(f"{first}.textContent") == "Skip to content"  # the first stop of Tab
    page.focus("a.skip-link")
    assert page.evaluate("document.querySelector('a.skip-link').getBoundingClientRect().top") >= 0  # shown
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    icon = page.evaluate("document.querySelector('link[rel=icon]').getAttribute('href')")
    loaded = page.evaluate(f"fetch({json.dumps(icon)}).then(r => [r.status, r.headers.get('content-type')])")
    assert loaded == [200, "image/svg+xml"]
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(17, 20, 27)"  # the dark palette of static/css/app.css
    context.close()
