"""Requests and domain actions produce usage events with the right tenant, route and status."""

import datetime as dt
import uuid

import pytest
from django.conf import settings
from django.test import Client as HttpClient
from django.utils import timezone
from django_tenants.utils import schema_context

import usage_stats
from accounts.models import User
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
        ("accounts:login", "GET", 200),
        ("unresolved", "GET", 404),
        ("task_list", "GET", 200),
    ]
    assert acme_events[2][3] == owner.pk, "the signed-in user is recorded"
    assert all(latency > 0 for *_, latency in acme_events)
    globex_events = _request_events(stats_db, since, "globex")
    assert [(r, m, s, u) for r, m, s, u, _ in globex_events] == [("task_list", "GET", 302, None)]


def test_base_domain_requests_are_recorded_as_public(tenants, stats_db):
    since = timezone.now()
    client = HttpClient(HTTP_HOST=settings.BASE_DOMAIN)
    assert client.get("/").status_code == 200
    assert client.post("/signup/", {"slug": "Bad Slug!"}).status_code == 400
    assert usage_stats.flush()
    assert [(r, m, s) for r, m, s, _, _ in _request_events(stats_db, since, "public")] == [
        ("landing", "GET", 200),
        ("signup", "POST", 400),
    ]


def test_unknown_hosts_are_not_recorded(tenants, stats_db):
    usage_stats.flush()
    before = collector().snapshot()["queued_total"]
    response = HttpClient(HTTP_HOST=f"nobody-{uuid.uuid4().hex[:8]}.{settings.BASE_DOMAIN}").get("/")
    assert response.status_code == 404
    assert collector().snapshot()["queued_total"] == before


def test_odd_methods_are_bucketed_and_api_calls_are_counted(acme, stats_db):
    since = timezone.now()
    acme.client().generic("BREW", "/accounts/login/")
    response = acme.client().get("/api/v1/tasks")
    assert response.status_code in (401, 403, 404)
    assert usage_stats.flush()
    events = stats_db.rows(
        "SELECT event, method, status FROM usage_event WHERE tenant_id = %s AND occurred_at >= %s"
        " ORDER BY occurred_at, event",
        [tenant_id("acme"), since],
    )
    assert events[0][:2] == ("request", "OTHER")
    assert ("api.call", "GET", response.status_code) in events
    assert ("request", "GET", response.status_code) in events


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
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/accounts/members/invite/",
            {"email": email, "full_name": "", "role": "member", "password": "a-long-enough-passphrase-42"},
        )
    assert response.status_code == 201
    assert usage_stats.flush()

    with schema_context("acme"):
        invited_id = User.objects.get(email=email).pk
    events = stats_db.rows(
        "SELECT event, user_id FROM usage_event WHERE tenant_id = %s AND occurred_at >= %s"
        " AND event LIKE 'user.%%' ORDER BY occurred_at",
        [tenant_id("acme"), since],
    )
    assert events == [("user.signed_in", acme.owner().pk), ("user.signed_up", invited_id)]
