"""Requests and domain actions produce usage events with the right tenant, route and status."""

import datetime as dt
import uuid

import pytest
from django.conf import settings
from django.test import Client as HttpClient
from django.utils import timezone
from django_tenants.utils import schema_context

import usage_stats
from accounts.invitations import invitation_token
from accounts.models import Invitation, User
from tasks_app.models import Task
from tenants.services import tenant_provision
from tests.usage_stats.dash_support import tenant_id
from usage_stats.ingest.process import collector

pytestmark = pytest.mark.django_db(databases=["default", "stats"])


def _request_events(stats_db, since: dt.datetime, tenant: str) -> list[tuple]:
    return stats_db.rows(
        "SELECT route, method, status, user_id, latency_ms FROM usage_event"
        " WHERE event = 'request' AND tenant_id = %s AND occurred_at >= %s ORDER BY occurred_at",
        [tenant_id(tenant), since],
    )


def test_requests_on_each_tenant_are_recorded_with_tenant_route_and_status(acme, globex, stats_db):
    since = timezone.now()
    assert acme.client().get("/accounts/login/").status_code == 200
    assert acme.client().get("/no-such-page/").status_code == 404
    assert globex.client().get("/").status_code == 302  # sign-in required
    owner = acme.owner()
    assert acme.login().get("/").status_code == 200
    assert usage_stats.flush()

    acme_events = _request_events(stats_db, since, "acme")
    assert [(r, m, s) for r, m, s, _, _ in acme_events] == [
        ("accounts:login GET", "GET", 200),
        ("unresolved GET", "GET", 404),
        ("task_list GET", "GET", 200),
    ]
    assert acme_events[2][3] == owner.pk, "the signed-in user is recorded"
    assert all(latency > 0 for *_, latency in acme_events)
    globex_events = _request_events(stats_db, since, "globex")
    assert [(r, m, s, u) for r, m, s, u, _ in globex_events] == [("task_list GET", "GET", 302, None)]


def test_base_domain_requests_are_recorded_as_public(tenants, stats_db):
    since = timezone.now()
    client = HttpClient(HTTP_HOST=settings.BASE_DOMAIN)
    assert client.get("/").status_code == 200
    assert client.post("/signup/", {"slug": "Bad Slug!"}).status_code == 400
    assert usage_stats.flush()
    assert [(r, m, s) for r, m, s, _, _ in _request_events(stats_db, since, "public")] == [
        ("landing GET", "GET", 200),
        ("signup POST", "POST", 400),
    ]


def test_unknown_hosts_are_not_recorded(tenants, stats_db):
    usage_stats.flush()
    before = collector().snapshot()["queued_total"]
    response = HttpClient(HTTP_HOST=f"nobody-{uuid.uuid4().hex[:8]}.{settings.BASE_DOMAIN}").get("/")
    assert response.status_code == 404
    assert collector().snapshot()["queued_total"] == before


def _events_since(stats_db, since: dt.datetime, tenant: str = "acme") -> list[tuple]:
    return stats_db.rows(
        "SELECT event, route, method, status FROM usage_event WHERE tenant_id = %s AND occurred_at >= %s"
        " AND event IN ('request', 'api.call') ORDER BY occurred_at, event",
        [tenant_id(tenant), since],
    )


def test_odd_methods_are_bucketed(acme, stats_db):
    since = timezone.now()
    acme.client().generic("BREW", "/accounts/login/")
    assert usage_stats.flush()
    assert _events_since(stats_db, since) == [("request", "accounts:login OTHER", "OTHER", 405)]


def test_each_api_call_is_one_event_named_by_its_operation_and_method(acme, stats_db):
    from accounts.services import api_token_create

    with schema_context("acme"):
        _token, raw = api_token_create(user=acme.owner(), name="usage-test")
    api = acme.client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    since = timezone.now()
    created = api.post("/api/v1/tasks", {"title": "from the API"}, content_type="application/json", **auth)
    assert created.status_code == 201
    task_id = created.json()["id"]
    assert api.get("/api/v1/tasks", **auth).status_code == 200
    assert api.get(f"/api/v1/tasks/{task_id}", **auth).status_code == 200
    assert (
        api.patch(
            f"/api/v1/tasks/{task_id}", {"status": "done"}, content_type="application/json", **auth
        ).status_code
        == 200
    )
    assert api.delete(f"/api/v1/tasks/{task_id}", **auth).status_code == 204
    assert api.get("/api/v1/tasks").status_code == 401
    assert usage_stats.flush()
    assert _events_since(stats_db, since) == [
        ("api.call", "tasks.create POST", "POST", 201),
        ("api.call", "tasks.list GET", "GET", 200),
        ("api.call", "tasks.get GET", "GET", 200),
        ("api.call", "tasks.update PATCH", "PATCH", 200),
        ("api.call", "tasks.delete DELETE", "DELETE", 204),
        ("api.call", "tasks.list GET", "GET", 401),
    ]  # one event per call: nothing counted twice


def test_static_files_the_favicon_and_health_probes_are_not_user_requests(acme, stats_db):
    since = timezone.now()
    client = acme.client()
    for path in ("/static/usage_stats/dashboard.css", "/favicon.ico", "/healthz", "/robots.txt"):
        client.get(path)
    assert client.get("/accounts/login/").status_code == 200
    assert usage_stats.flush()
    assert _events_since(stats_db, since) == [("request", "accounts:login GET", "GET", 200)]


def test_task_create_and_complete_record_their_events(acme, stats_db, django_capture_on_commit_callbacks):
    since = timezone.now()
    client = acme.login()
    title = f"stats {uuid.uuid4().hex[:8]}"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/tasks/new/", {"title": title})
    assert response.status_code == 302
    with schema_context("acme"):
        task = Task.objects.get(title=title)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/tasks/{task.pk}/complete/").status_code == 302
    assert usage_stats.flush()

    events = stats_db.rows(
        "SELECT event, user_id FROM usage_event WHERE tenant_id = %s AND occurred_at >= %s"
        " AND event LIKE 'task.%%' ORDER BY occurred_at",
        [tenant_id("acme"), since],
    )
    owner = acme.owner()
    assert events == [("task.created", owner.pk), ("task.completed", owner.pk)]


def test_provisioning_a_tenant_records_tenant_created_and_signed_up(
    tenants, stats_db, django_capture_on_commit_callbacks
):
    slug = f"st{uuid.uuid4().hex[:10]}"
    with django_capture_on_commit_callbacks(execute=True):
        tenant_provision(
            slug=slug, name="Stats Co", owner_email="o@stats.example", owner_password=uuid.uuid4().hex
        )
    assert usage_stats.flush()
    assert sorted(stats_db.rows("SELECT event FROM usage_event WHERE tenant_id = %s", [tenant_id(slug)])) == [
        ("tenant.created",),
        ("user.signed_up",),
    ]


def test_sign_in_and_invite_record_their_events(acme, stats_db, django_capture_on_commit_callbacks):
    since = timezone.now()
    client = acme.client()
    response = client.post("/accounts/login/", {"username": acme.owner_email, "password": acme.password})
    assert response.status_code == 302
    email = f"invited-{uuid.uuid4().hex[:8]}@acme.example"
    # Invited (the mail job is not run here: tests/accounts reads invitation mails), then accepted.
    response = client.post("/accounts/members/invite/", {"email": email, "full_name": "", "role": "member"})
    assert response.status_code == 201
    with schema_context("acme"):
        token = invitation_token(Invitation.objects.get(email=email))
    with django_capture_on_commit_callbacks(execute=True):
        accepted = acme.client().post(
            f"/accounts/invitation/{token}/",
            {"password1": "a-long-enough-passphrase-42", "password2": "a-long-enough-passphrase-42"},
        )
    assert accepted.status_code == 302
    assert usage_stats.flush()

    with schema_context("acme"):
        invited_id = User.objects.get(email=email).pk
    events = stats_db.rows(
        "SELECT event, user_id FROM usage_event WHERE tenant_id = %s AND occurred_at >= %s"
        " AND event LIKE 'user.%%' ORDER BY occurred_at",
        [tenant_id("acme"), since],
    )
    # The invitee is signed in by accepting the invitation.
    assert events[0] == ("user.signed_in", acme.owner().pk)
    assert sorted(events[1:]) == [("user.signed_in", invited_id), ("user.signed_up", invited_id)]
