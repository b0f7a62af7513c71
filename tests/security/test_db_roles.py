"""Isolation enforced by PostgreSQL itself (core/db/roles.py): inside a tenant's request the
statements run as that tenant's role, which can read nothing of another tenant and no
public-only table, whatever SQL the code sends and whatever the search_path says."""

import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.throttle.models import LoginFailure
from core.db import roles
from tasks_app.models import Task
from tenants.models import Client, Domain
from tests.support.factories import unique

INSUFFICIENT_PRIVILEGE = "42501"
UNDEFINED_TABLE = "42P01"


@pytest.fixture
def globex_task(globex):
    with schema_context("globex"):
        return Task.objects.create(title=unique("globex-secret"), created_by=globex.owner())


@override_settings(ROOT_URLCONF="tests.security.role_urls")
def test_an_acme_request_cannot_read_globex_or_public_only_tables(acme, globex_task):
    found = acme.login().get("/db-probe/").json()

    assert found["whoami"] == {"rows": [[f"{roles.tenant_role_of('acme')} acme"]]}
    assert "rows" in found["own_tasks"]
    for name in ("other_tenant", "public_tenants", "public_domains", "public_failures"):
        assert found[name]["error"] == INSUFFICIENT_PRIVILEGE, (name, found[name])
        assert "permission denied" in found[name]["message"]
    # The search_path left on globex (a routing bug): globex's schema is invisible to acme's
    # role, so its tables are not found at all, let alone read.
    for name in ("left_on_globex", "left_on_globex_users"):
        assert found[name]["error"] == UNDEFINED_TABLE, (name, found[name])
    assert globex_task.title not in str(found)


@override_settings(ROOT_URLCONF="tests.security.role_urls")
def test_the_public_site_runs_as_the_app_role_and_reaches_no_tenant(tenants, db):
    from django.test import Client as HttpClient

    found = HttpClient(HTTP_HOST="localhost").get("/db-probe/")
    # The public site has its own URL conf: the probe is not there at all.
    assert found.status_code == 404
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == roles.app_role_name()
    denied = pytest.raises(DatabaseError, match="permission denied for schema acme")
    with denied, connection.cursor() as cursor:
        cursor.execute("SELECT * FROM acme.tasks_app_task")


def test_the_app_role_is_no_superuser_and_owns_nothing(tenants, db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolinherit FROM pg_roles"
            " WHERE rolname = session_user"
        )
        assert cursor.fetchone() == (False, False, False, False)
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relowner = (SELECT oid FROM pg_roles WHERE rolname = session_user)"
            " AND n.nspname NOT LIKE 'pg\\_%%'"
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE pg_get_userbyid(nspowner) = session_user")
        assert cursor.fetchone()[0] == 0


@pytest.mark.parametrize("model", [Client, Domain, LoginFailure])
def test_view_on_site_from_a_tenant_host_cannot_probe_public_only_tables(acme, model):
    """/admin/r/<content type>/<id>/ on acme's owner admin: the same 404 whether the row
    exists or not, and no query of the public table."""
    with schema_context("public"):
        existing = model.objects.order_by("pk").values_list("pk", flat=True).first()
        if existing is None:
            existing = LoginFailure.objects.create(
                scope="acme", email="x@example.com", ip="127.0.0.1", failed_at=timezone.now()
            ).pk
    with schema_context("acme"):
        content_type = ContentType.objects.get_for_model(model)
    client = acme.login()
    present = client.get(f"/admin/r/{content_type.pk}/{existing}/")
    absent = client.get(f"/admin/r/{content_type.pk}/987654321/")
    assert present.status_code == absent.status_code == 404
    assert _without_request_id(present.content) == _without_request_id(absent.content)


def _without_request_id(page: bytes) -> bytes:
    return re.sub(rb"[0-9a-f]{32}|[0-9a-f-]{36}", b"<id>", page)


def test_view_on_site_still_works_for_the_tenants_own_models(acme):
    with schema_context("acme"):
        content_type = ContentType.objects.get_for_model(Task)
        task = Task.objects.create(title=unique("own"), created_by=acme.owner())
    response = acme.login().get(f"/admin/r/{content_type.pk}/{task.pk}/")
    # Tasks have no get_absolute_url: Django's shortcut answers 404 by design, not a 500.
    assert response.status_code in (302, 404)
