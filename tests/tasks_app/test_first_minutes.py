"""What a new user meets first: the empty list, the read-only task page, due dates in
words, buttons that say which task, text that shows what it says, sign-up in one round."""

import datetime as dt
import re
import uuid

import pytest
from django.test import Client as HttpClient
from django.utils import timezone
from django_tenants.utils import schema_context

from core.text import MESSAGE_BIDI, MESSAGE_INVISIBLE
from tasks_app.models import Task
from tenants.services import tenant_provision
from tests.support.factories import make_person, make_task, unique
from tests.support.tenants import PASSWORD, TenantInfo


@pytest.fixture
def fresh(tenants, db) -> TenantInfo:
    slug = f"new-{uuid.uuid4().hex[:6]}"
    result = tenant_provision(
        slug=slug, name="Brand New Ltd", owner_email=f"o@{slug}.example", owner_password=PASSWORD
    )
    return TenantInfo(tenant=result.tenant, host=result.domain.domain, owner_email=f"o@{slug}.example")


def test_a_new_organisations_empty_list_invites_the_first_task(fresh):
    page = fresh.login().get("/").content.decode()
    assert "No tasks yet." in page
    assert "Create your first task" in page
    assert "No tasks match" not in page


def test_a_filtered_empty_list_still_says_nothing_matches(acme):
    make_task(acme)
    page = acme.login().get("/", {"q": uuid.uuid4().hex}).content.decode()
    assert "No tasks match" in page and "Create your first task" not in page


def test_the_task_page_is_read_only_and_edit_is_its_own_page(acme):
    task = make_task(acme, title=unique("view"), description="Line one\nline two")
    client = acme.login()
    page = client.get(f"/tasks/{task.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<form" not in html.split("<main", 1)[1].split("form-actions", 1)[0]  # no edit fields
    assert 'name="title"' not in html
    assert "Line one\nline two" in html
    assert f'href="/tasks/{task.pk}/edit/' in html
    assert client.post(f"/tasks/{task.pk}/", {"title": "x"}).status_code == 405
    assert 'name="title"' in client.get(f"/tasks/{task.pk}/edit/").content.decode()


def test_due_dates_are_relative_with_the_date_on_hover_and_overdue_in_words(acme):
    today = timezone.localdate()
    title = unique("due")
    make_task(acme, title=f"{title} late", due_date=today - dt.timedelta(days=2))
    make_task(acme, title=f"{title} soon", due_date=today + dt.timedelta(days=3))
    make_task(acme, title=f"{title} now", due_date=today)
    html = acme.login().get("/", {"q": title}).content.decode()
    late = (today - dt.timedelta(days=2)).strftime("%-d %b %Y")
    assert re.search(
        rf'<time datetime="[0-9-]+" title="Due {late}" class="overdue">2 days overdue</time>', html
    )
    assert ">in 3 days</time>" in html and ">today</time>" in html


def test_row_buttons_name_their_task(acme):
    title = unique("named")
    make_task(acme, title=title)
    html = acme.login().get("/", {"q": title}).content.decode()
    assert f'Complete<span class="visually-hidden"> “{title}”</span>' in html
    assert f'Delete<span class="visually-hidden"> “{title}”</span>' in html


def test_phone_rows_keep_their_column_labels(acme):
    make_task(acme)
    html = acme.login().get("/").content.decode()
    for label in ("Assignee", "Due", "Status"):
        assert f'data-label="{label}"' in html


def test_navigation_marks_the_current_page(acme):
    client = acme.login()
    assert re.search(r'<a href="/" aria-current="page">Tasks</a>', client.get("/").content.decode())
    people = client.get("/accounts/members/").content.decode()
    assert re.search(r'href="/accounts/members/" aria-current="page">People', people)
    assert 'href="/" aria-current' not in people


@pytest.mark.parametrize(
    ("title", "message"), [("\u200b\u200b", MESSAGE_INVISIBLE), ("\u202egnp.exe", MESSAGE_BIDI)]
)
def test_invisible_or_reversed_titles_are_refused_in_the_ui_and_the_owner_admin(acme, title, message):
    client = acme.login()
    before = _count()
    response = client.post("/tasks/new/", {"title": title, "description": ""})
    assert response.status_code == 400
    assert message in response.content.decode()
    admin = client.post("/admin/tasks_app/task/add/", {"title": title, "status": "open", "description": ""})
    assert admin.status_code == 200 and message in admin.content.decode()
    assert _count() == before


def _count() -> int:
    with schema_context("acme"):
        return Task.objects.count()


def test_people_names_are_checked_in_the_owner_admin(acme):
    # Owners no longer add people in the admin (they invite them); they can still rename them.
    person = make_person(acme, full_name="Pat")
    response = acme.login().post(
        f"/admin/accounts/user/{person.pk}/change/",
        {"email": person.email, "full_name": "\u3164", "role": "member", "is_active": "on"},
    )
    assert response.status_code == 200
    assert MESSAGE_INVISIBLE in response.content.decode()
    with schema_context("acme"):
        person.refresh_from_db()
    assert person.full_name == "Pat"


def test_signup_shows_every_error_at_once_and_the_password_rules_up_front(tenants, db):
    public = HttpClient(HTTP_HOST="localhost")
    form = public.get("/signup/").content.decode()
    assert "Your password must contain at least 8 characters." in form
    response = public.post(
        "/signup/",
        {"name": "\u202eevil", "slug": "acme", "owner_email": "not-an-email", "owner_password": "password"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"name", "slug", "owner_email", "owner_password"}
    assert MESSAGE_BIDI in html
    assert "This subdomain is already taken." in html
    assert "This password is too common." in html


def test_the_staff_admin_is_branded_and_names_organisations(tenants, db):
    from accounts.models import User

    staff = User.objects.create_superuser(f"{unique('staff')}@example.com", PASSWORD)
    client = HttpClient(HTTP_HOST="localhost")
    client.force_login(staff)
    index = client.get("/admin/").content.decode()
    assert "Taskhive staff" in index and "Django administration" not in index
    assert "Organisations" in index and "Clients" not in index
    listing = client.get("/admin/tenants/client/").content.decode()
    assert "Select organisation to change" in listing
    created = timezone.localtime(tenants["acme"].tenant.created_at)
    assert created.strftime("%-d %b %Y") in listing  # the app's date format, not "Nov. 20, 2026"
    name = client.post(f"/admin/tenants/client/{tenants['acme'].tenant.pk}/change/", {"name": "\u200b"})
    assert MESSAGE_INVISIBLE in name.content.decode()


def test_the_owner_admin_is_under_the_organisations_name(acme):
    index = acme.login().get("/admin/").content.decode()
    assert "Acme Corporation admin" in index
    assert "API tokens" in index and "Api tokens" not in index


def test_favicon_on_every_host(acme):
    for client in (acme.client(), HttpClient(HTTP_HOST="localhost")):
        response = client.get("/favicon.ico")
        assert response.status_code == 301 and response["Location"] == "/static/favicon.svg"
    page = acme.client().get("/accounts/login/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
