"""/healthz: 200 while both databases answer, 503 naming the part that is down."""

import pytest
from django.conf import settings
from django.test import Client as HttpClient

from tests.support.database import database_outage, in_fresh_thread

pytestmark = pytest.mark.django_db(databases=[settings.DEFAULT_DB_ALIAS, settings.STATS_DB_ALIAS])

HOSTS = ["localhost", "acme.localhost", "nope.localhost", "10.1.2.3", "evil.example"]


@pytest.mark.parametrize("host", HOSTS)
def test_healthz_is_ok_on_any_host(tenants, host):
    response = HttpClient(HTTP_HOST=host).get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["stats_database"] == "ok"
    # The collector runs in tests (USAGE_STATS_ENABLED): a live thread is "ok", nothing else.
    assert body["checks"]["collector"] == ("ok" if settings.USAGE_STATS_ENABLED else "disabled")
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("alias", "part"),
    [(settings.DEFAULT_DB_ALIAS, "database"), (settings.STATS_DB_ALIAS, "stats_database")],
)
def test_healthz_fails_when_a_database_is_down(tenants, alias, part):
    # Requests run in another thread: its connections are not the test's own, so the
    # outage reaches them as it would reach a server process.
    def probe():
        return HttpClient(HTTP_HOST="localhost").get("/healthz")

    with database_outage(alias):
        response = in_fresh_thread(probe)
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "fail"
        assert body["failed"] == [part]
        assert body["checks"][part] == "fail"
        # Names the part, never the driver's message (hosts, users, database names).
        assert b"test_" not in response.content
        assert b"connection" not in response.content.lower()
    # Back without restarting anything.
    assert in_fresh_thread(probe).status_code == 200
