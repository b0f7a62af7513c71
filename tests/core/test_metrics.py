"""/metrics: staff-only on the base domain, counts requests by route and status class."""

import re

import pytest
from django.test import Client as HttpClient
from django.test import override_settings
from django_tenants.utils import schema_context

from accounts.models import User


def _sample(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def _delta(before: str, after: str, **labels: str) -> float:
    return _sample(after, "http_requests_total", **labels) - _sample(before, "http_requests_total", **labels)


@pytest.fixture
def staff_client(tenants, db) -> HttpClient:
    with schema_context("public"):
        staff, _ = User.objects.get_or_create(
            email="metrics-staff@example.com", defaults={"is_staff": True, "is_superuser": True}
        )
    client = HttpClient(HTTP_HOST="localhost")
    client.force_login(staff)
    return client


def test_metrics_refuses_anonymous_and_tenant_users(acme):
    assert HttpClient(HTTP_HOST="localhost").get("/metrics").status_code == 403
    # A tenant owner is staff of their own schema, not of the platform: the URL does not exist there.
    assert acme.login().get("/metrics").status_code == 404


def test_metrics_counts_requests_by_route_and_status_class(staff_client, acme):
    before = staff_client.get("/metrics").content.decode()
    for _ in range(3):
        acme.client().get("/accounts/login/")
    acme.client().get("/missing/")
    after = staff_client.get("/metrics")
    assert after.status_code == 200
    assert after["Content-Type"].startswith("text/plain")
    text = after.content.decode()
    labels = {"site": "tenant", "route": "accounts:login", "method": "GET", "status": "2xx"}
    assert (
        _sample(text, "http_requests_total", **labels) - _sample(before, "http_requests_total", **labels) == 3
    )
    unmatched = {"site": "tenant", "route": "unmatched", "status": "4xx"}
    assert (
        _sample(text, "http_requests_total", **unmatched)
        - _sample(before, "http_requests_total", **unmatched)
        == 1
    )
    # No tenant names and no raw paths in labels: cardinality stays bounded.
    assert "acme" not in text
    assert "/missing/" not in text
    assert re.search(r"^http_request_duration_seconds_bucket\{", text, re.M)


@override_settings(METRICS_TOKEN="scrape-token-0123456789")
def test_metrics_accepts_the_scrape_token(tenants, db):
    client = HttpClient(HTTP_HOST="localhost")
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token-0123456789")
    assert response.status_code == 200
    assert b"http_requests_total" in response.content
