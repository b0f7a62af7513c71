"""Spare tenant schemas (tenants/services/spares.py): copied ahead with their role and
grants, taken by a sign-up, never taken from an older template, dropped by the refill."""

import io
import threading

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.test import Client as HttpClient
from django.test import override_settings
from django_tenants.utils import schema_context, schema_exists

from accounts.models import User
from core.db import roles
from tasks_app.models import Task
from tenants.models import Client, Domain, SpareSchema
from tenants.selectors import tenant_get
from tenants.services import spare_schemas_drop_all, spare_schemas_refill, tenant_provision
from tenants.services.spares import SPARE_PREFIX
from tenants.tasks import spare_schemas_refill_job
from tests.support.roles import role_exists, rows, sequences_without_usage, tables_without_every_privilege
from tests.support.tenants import PASSWORD, tenant_delete_now

from .conftest import unique_slug


@pytest.fixture
def spares_on(tenants, db):
    with override_settings(TENANT_SPARE_SCHEMAS=2):
        yield
    spare_schemas_drop_all()


def test_the_refill_copies_spares_with_their_role_and_grants(spares_on):
    refill = spare_schemas_refill()

    assert len(refill.made) == 2 and refill.ready == 2
    for name in refill.made:
        assert name.startswith(SPARE_PREFIX) and schema_exists(name)
        role = roles.tenant_role_of(name)
        assert role_exists(role)
        assert tables_without_every_privilege(role, name) == []
        assert sequences_without_usage(role, name) == []
    assert sorted(SpareSchema.objects.values_list("schema_name", flat=True)) == sorted(refill.made)
    # Already full: the next run makes nothing (the job says how many it made).
    assert spare_schemas_refill_job() == 0


def test_a_sign_up_takes_a_spare_and_its_people_work_in_it(spares_on):
    ready = spare_schemas_refill().made
    slug = unique_slug("spareco")

    tenant = tenant_provision(
        slug=slug, name="Spare Co", owner_email=f"o@{slug}.example", owner_password=PASSWORD
    )
    connection.set_schema_to_public()

    assert tenant.tenant.schema_name == ready[0]
    assert list(SpareSchema.objects.values_list("schema_name", flat=True)) == [ready[1]]
    # Signed in on the subdomain, the owner creates and lists tasks: the request runs as the
    # spare's role, so its grants are complete.
    client = HttpClient(HTTP_HOST=f"{slug}.localhost")
    with schema_context(ready[0]):
        client.force_login(User.objects.get(email=f"o@{slug}.example"))
    created = client.post("/tasks/new/", {"title": "First task in a spare", "description": ""})
    assert created.status_code == 302
    page = client.get("/")
    assert page.status_code == 200 and "First task in a spare" in page.content.decode()
    with schema_context(ready[0]):
        assert Task.objects.filter(title="First task in a spare").count() == 1
    # And nothing of another tenant's: the role sees acme's tables as little as before.
    assert rows("SELECT has_schema_privilege(%s, 'acme', 'USAGE')", [roles.tenant_role_of(ready[0])]) == [
        (False,)
    ]


def test_a_spare_of_an_older_template_is_never_taken_and_the_refill_replaces_it(spares_on):
    old = spare_schemas_refill(count=1).made[0]
    SpareSchema.objects.filter(schema_name=old).update(migrations_key="an older template")
    slug = unique_slug("fresh")

    tenant = tenant_provision(
        slug=slug, name="Fresh", owner_email=f"o@{slug}.example", owner_password=PASSWORD
    )
    connection.set_schema_to_public()
    assert tenant.tenant.schema_name == slug  # copied from the template, as without spares

    refill = spare_schemas_refill()
    assert refill.dropped == [old] and len(refill.made) == 2
    assert not schema_exists(old) and not role_exists(roles.tenant_role_of(old))


def test_a_failed_sign_up_puts_its_spare_back(spares_on):
    ready = spare_schemas_refill(count=1).made
    slug = unique_slug("broken")
    # The host is taken by another tenant's extra domain: the insert fails after the spare
    # was taken, and the transaction's rollback returns it.
    Domain.objects.create(domain=f"{slug}.localhost", tenant=tenant_get(slug="acme"), is_primary=False)

    with pytest.raises(ValidationError):
        tenant_provision(slug=slug, name="Broken", owner_email=f"o@{slug}.example", owner_password=PASSWORD)

    connection.set_schema_to_public()
    assert list(SpareSchema.objects.values_list("schema_name", flat=True)) == ready
    assert not Client.objects.filter(slug=slug).exists()


def test_concurrent_sign_ups_take_different_spares(tenants, django_db_blocker):
    """Two sign-ups at once, committed: SKIP LOCKED hands each its own spare, neither waits."""
    made: list[str] = []
    with django_db_blocker.unblock(), override_settings(TENANT_SPARE_SCHEMAS=2):
        try:
            ready = set(spare_schemas_refill().made)
            barrier = threading.Barrier(2)
            schemas: list[str] = []
            errors: list[BaseException] = []

            def sign_up() -> None:
                slug = unique_slug("race")
                made.append(slug)
                try:
                    barrier.wait()
                    provisioned = tenant_provision(
                        slug=slug, name="Race", owner_email=f"o@{slug}.example", owner_password=PASSWORD
                    )
                    schemas.append(provisioned.tenant.schema_name)
                except BaseException as exc:  # reported below
                    errors.append(exc)
                finally:
                    connections.close_all()

            threads = [threading.Thread(target=sign_up) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert errors == []
            assert set(schemas) == ready
        finally:
            connection.set_schema_to_public()
            for slug in made:
                tenant = Client.objects.filter(slug=slug).first()
                if tenant is not None:
                    tenant_delete_now(tenant)
            spare_schemas_drop_all()


def test_the_command_shows_refills_and_drops_spares(spares_on):
    out = io.StringIO()
    call_command("tenant_spares", "--refill", "--count", "1", stdout=out)
    assert "Made 1, dropped 0 of an older template; 1 ready." in out.getvalue()
    out = io.StringIO()
    call_command("tenant_spares", stdout=out)
    assert "1 spare schema(s) ready (TENANT_SPARE_SCHEMAS = 2), 0 of an older template." in out.getvalue()
    call_command("tenant_spares", "--drop", stdout=io.StringIO())
    assert not SpareSchema.objects.exists()
    with pytest.raises(CommandError, match="--count needs --refill"):
        call_command("tenant_spares", "--count", "3")
