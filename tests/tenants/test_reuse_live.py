"""A subdomain signed up again after a purge, through HTTP against gunicorn: sign up X, make
50 requests (to a page the second organisation never opens), ask for an export, delete X,
purge (grace 0), sign up X again. The new owner's dashboard, raw event export, export page
and audit list show none of the first organisation's."""

import time
import uuid
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connections

from tenants.models import Client
from tenants.services import tenant_delete
from tenants.tasks import tenants_purge_grace_ended
from tests.support.gunicorn import database_url, gunicorn
from tests.support.signup import csrf_token, owner_session, signup_and_follow
from tests.support.tenants import run_export_job, tenant_delete_now
from usage_stats.rollups.rollup import rollup_run

pytestmark = [pytest.mark.live, pytest.mark.timeout(300)]

# The page only the first organisation opens, and its route as usage events name it.
OLD_ONLY_PATH, OLD_ONLY_ROUTE = "/tasks/new/", "task_create"
# The owner admin's audit records of exports (the first organisation asked for one).
EXPORTED_RECORDS = "/admin/audit/auditrecord/?action__exact=tenant.exported"


def _stats_rows(tenant_id: uuid.UUID) -> int:
    """The tenant's rows in every stats table with a tenant_id column."""
    total = 0
    with connections[settings.STATS_DB_ALIAS].cursor() as cursor:
        cursor.execute(
            "SELECT table_schema, table_name FROM information_schema.columns"
            " WHERE column_name = 'tenant_id' AND table_schema NOT IN ('pg_catalog', 'information_schema')"
        )
        for schema, table in cursor.fetchall():
            cursor.execute(f'SELECT count(*) FROM "{schema}"."{table}" WHERE tenant_id = %s', [tenant_id])
            total += cursor.fetchone()[0]
    return total


def _wait_for_events(tenant_id: uuid.UUID, count: int) -> None:
    """gunicorn's workers write their events within a flush interval or so."""
    deadline = time.monotonic() + 30
    while _stats_rows(tenant_id) < count:
        assert time.monotonic() < deadline, f"fewer than {count} events of {tenant_id} arrived"
        time.sleep(0.2)


def _get(server, session: requests.Session, host: str, path: str) -> requests.Response:
    response = session.get(server.url(path), headers=server.headers(host), timeout=30)
    assert response.status_code == 200, (path, response.status_code)
    return response


def test_a_purged_subdomain_signed_up_again_sees_none_of_the_old_data(
    tenants, django_db_blocker, tmp_path: Path
):
    slug = f"reuse-{uuid.uuid4().hex[:6]}"
    host = f"{slug}.{settings.BASE_DOMAIN}"
    with (
        gunicorn(
            database_url=database_url(settings.DEFAULT_DB_ALIAS),
            stats_database_url=database_url(settings.STATS_DB_ALIAS),
            log_dir=tmp_path,
            workers=2,
            extra_env={"USAGE_STATS_ENABLED": "true", "USAGE_STATS_FLUSH_INTERVAL_S": "0.2"},
        ) as server,
        django_db_blocker.unblock(),
    ):
        try:
            assert signup_and_follow(server, slug)[-1] == ("stylesheet", 200)
            old = Client.objects.get(slug=slug)
            owner = owner_session(server, slug)
            for _ in range(50):
                _get(server, owner, host, OLD_ONLY_PATH)
            export_page = owner.post(
                server.url("/export/"),
                headers={**server.headers(host), "Referer": server.url("/export/")},
                data={"csrfmiddlewaretoken": csrf_token(_get(server, owner, host, "/export/"))},
                timeout=30,
            )
            assert export_page.status_code == 200
            old_export = run_export_job(old.schema_name)
            assert old_export.state == "done" and Path(old_export.result_path).exists()
            assert old_export.task_id in _get(server, owner, host, "/export/").text
            assert 'id="result_list"' in _get(server, owner, host, EXPORTED_RECORDS).text
            # The first organisation's figures exist, then go with it.
            _wait_for_events(old.uuid, 50)
            rollup_run()
            assert OLD_ONLY_ROUTE in _get(server, owner, host, "/usage/?range=7d").text

            tenant_delete(actor=_system(), tenant=old, confirm_slug=slug)
            # Every worker closes the host within the routing bound (1 s, tenants/routing.py).
            deadline = time.monotonic() + 1.0
            while (
                status := requests.get(server.url("/"), headers=server.headers(host), timeout=30).status_code
            ) != 423 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert status == 423
            assert tenants_purge_grace_ended() >= 1
            assert not Client.objects.filter(pk=old.pk).exists()
            assert _stats_rows(old.uuid) == 0
            assert not Path(old_export.result_path).exists()

            assert signup_and_follow(server, slug)[-1] == ("stylesheet", 200)
            new = Client.objects.get(slug=slug)
            assert new.uuid != old.uuid and new.schema_name == old.schema_name
            owner = owner_session(server, slug)
            _get(server, owner, host, "/")
            _wait_for_events(new.uuid, 1)
            rollup_run()
            dashboard = _get(server, owner, host, "/usage/?range=7d").text
            assert OLD_ONLY_ROUTE not in dashboard
            raw = _get(server, owner, host, "/usage/?range=7d&export=raw").text
            assert OLD_ONLY_ROUTE not in raw
            exports = _get(server, owner, host, "/export/").text
            assert old_export.task_id not in exports
            download = owner.get(
                server.url(f"/export/download/{old_export.task_id}/"),
                headers=server.headers(host),
                timeout=30,
            )
            assert download.status_code == 404
            assert 'id="result_list"' not in _get(server, owner, host, EXPORTED_RECORDS).text
        finally:
            leftover = Client.objects.filter(slug=slug).first()
            if leftover is not None:
                tenant_delete_now(leftover)


def _system():
    from audit.actors import actor_system

    return actor_system()
