"""/stats/health: the collector's counters, for staff on the base domain only."""

import pytest
from django.conf import settings
from django.test import Client as HttpClient

from accounts.models import User

pytestmark = pytest.mark.django_db(databases=["default", "stats"])


def _base_client() -> HttpClient:
    return HttpClient(HTTP_HOST=settings.BASE_DOMAIN)


def test_staff_see_the_collector_counters(tenants):
    staff = User.objects.create_user("health-staff@example.com", "pw-health-0123", is_staff=True)
    client = _base_client()
    client.force_login(staff)

    response = client.get("/stats/health/")

    assert response.status_code == 200
    body = response.json()
    assert body["enabled"] is True
    assert body["alive"] is True
    assert set(body["dropped_total"]) == {"queue_full", "db_error", "invalid"}
    assert {"queued", "queued_total", "written_total", "flush_latency_ms", "last_error"} <= set(body)
    assert response["Cache-Control"].startswith("max-age=0")


def test_anonymous_and_non_staff_users_get_nothing(tenants):
    anonymous = _base_client().get("/stats/health/")
    assert anonymous.status_code == 302
    assert "/admin/login/" in anonymous["Location"]

    member = User.objects.create_user("health-member@example.com", "pw-health-0123", is_staff=False)
    client = _base_client()
    client.force_login(member)
    response = client.get("/stats/health/")
    assert response.status_code == 302
    assert b"written_total" not in response.content


def test_tenant_hosts_do_not_serve_it(acme):
    client = acme.login()  # a tenant owner is staff of that tenant's admin, not of the site
    assert client.get("/stats/health/").status_code == 404
