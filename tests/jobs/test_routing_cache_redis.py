"""TENANT_CACHE_URL on a real Redis, shared by two gunicorn servers: a suspension made
through server A's admin is enforced by server B within TENANT_CACHE_TTL_S (the bound
documented in tenants/routing.py)."""

import re
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django_tenants.utils import schema_context

from accounts.models import User
from audit.actors import actor_system
from tenants.models import Client
from tenants.services import tenant_reactivate
from tests.support.gunicorn import database_url, gunicorn
from tests.support.live_server import committed

pytestmark = [pytest.mark.redis, pytest.mark.live, pytest.mark.django_db, pytest.mark.timeout(180)]

TTL_S = 2.0
STAFF_EMAIL = "routing-staff@example.com"
STAFF_PASSWORD = "routing-staff-pass-0123"


def _staff_ensure() -> None:
    with schema_context(settings.PUBLIC_SCHEMA_NAME):
        if not User.objects.filter(email=STAFF_EMAIL).exists():
            User.objects.create_superuser(STAFF_EMAIL, STAFF_PASSWORD)


def _admin_session(server) -> requests.Session:
    session = requests.Session()
    headers = server.headers("localhost")
    page = session.get(server.url("/admin/login/"), headers=headers, timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = session.post(
        server.url("/admin/login/?next=/admin/"),
        data={"csrfmiddlewaretoken": token, "username": STAFF_EMAIL, "password": STAFF_PASSWORD},
        headers={**headers, "Referer": server.url("/admin/login/")},
        timeout=10,
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]
    return session


def _admin_suspend(server, session: requests.Session, tenant_pk: int) -> None:
    headers = server.headers("localhost")
    changelist = server.url("/admin/tenants/client/")
    page = session.get(changelist, headers=headers, timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = session.post(
        changelist,
        data={
            "csrfmiddlewaretoken": token,
            "action": "suspend_tenants",
            "_selected_action": str(tenant_pk),
            "index": "0",
        },
        headers={**headers, "Referer": changelist},
        timeout=10,
    )
    assert response.status_code == 200, response.text[:500]


def test_suspension_through_server_a_is_enforced_by_server_b_within_the_ttl(
    jobs_redis, redis_clean, tenants, tmp_path: Path
):
    committed(_staff_ensure)
    acme = tenants["acme"].tenant
    cache_url = f"redis://127.0.0.1:{jobs_redis.port}/1"
    env = {"TENANT_CACHE_URL": cache_url, "TENANT_CACHE_TTL_S": str(TTL_S), "REDIS_URL": jobs_redis.url}
    common = {
        "database_url": database_url(settings.DEFAULT_DB_ALIAS),
        "stats_database_url": database_url(settings.STATS_DB_ALIAS),
        "log_dir": tmp_path,
        "extra_env": env,
    }
    try:
        with gunicorn(**common) as server_a, gunicorn(**common) as server_b:
            host = tenants["acme"].host
            for _ in range(6):  # both servers route acme, from the shared copy
                for server in (server_a, server_b):
                    url = server.url("/accounts/login/")
                    assert requests.get(url, headers=server.headers(host), timeout=10).status_code == 200
            assert jobs_redis.client(db=1).keys("*tenants:routes:*"), "the routing table is shared in Redis"

            session = _admin_session(server_a)
            _admin_suspend(server_a, session, acme.pk)
            suspended_at = time.monotonic()
            url_b = server_b.url("/accounts/login/")
            assert committed(lambda: Client.objects.get(pk=acme.pk).suspended_at) is not None

            # Each worker of B reloads on its own clock: until the bound both answers may
            # come; after it, only 423.
            last_200 = first_423 = None
            while time.monotonic() < suspended_at + TTL_S + 2:
                status = requests.get(url_b, headers=server_b.headers(host), timeout=10).status_code
                assert status in (200, 423)
                if status == 423:
                    first_423 = first_423 or time.monotonic()
                else:
                    last_200 = time.monotonic()
                time.sleep(0.02)
            assert first_423 is not None, server_b.log()
            assert last_200 is None or last_200 - suspended_at <= TTL_S + 0.5
            # After the bound, every request to either server is refused.
            for server in (server_a, server_b) * 5:
                url = server.url("/accounts/login/")
                assert requests.get(url, headers=server.headers(host), timeout=10).status_code == 423
    finally:
        committed(lambda: tenant_reactivate(actor=actor_system(), tenant=Client.objects.get(pk=acme.pk)))
