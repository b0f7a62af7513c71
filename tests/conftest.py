"""Shared fixtures: two provisioned tenants (acme, globex) in the real test database,
and test clients bound to their hosts."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from tenants.models import Client
from tenants.services import public_tenant_ensure, tenant_provision

PASSWORD = "correct-horse-battery-staple"


@dataclass
class TenantInfo:
    tenant: Client
    host: str
    owner_email: str
    password: str = PASSWORD

    @property
    def slug(self) -> str:
        return self.tenant.slug

    def client(self) -> HttpClient:
        """An anonymous HTTP client for this tenant's host."""
        return HttpClient(HTTP_HOST=self.host)

    def owner(self):
        from accounts.models import User

        with schema_context(self.tenant.schema_name):
            return User.objects.get(email=self.owner_email)

    def login(self, email: str | None = None) -> HttpClient:
        """An HTTP client signed in (session stored in this tenant's schema)."""
        from accounts.models import User

        client = self.client()
        with schema_context(self.tenant.schema_name):
            client.force_login(User.objects.get(email=email or self.owner_email))
        return client


def _ensure_tenant(slug: str, name: str) -> TenantInfo:
    email = f"owner@{slug}.example"
    tenant = Client.objects.filter(slug=slug).first()
    if tenant is None:
        result = tenant_provision(slug=slug, name=name, owner_email=email, owner_password=PASSWORD)
        tenant = result.tenant
    return TenantInfo(tenant=tenant, host=f"{slug}.{settings.BASE_DOMAIN}", owner_email=email)


@pytest.fixture(scope="session")
def tenants(django_db_setup, django_db_blocker) -> dict[str, TenantInfo]:
    """acme and globex, provisioned once per session and committed."""
    with django_db_blocker.unblock():
        public_tenant_ensure()
        found = {
            "acme": _ensure_tenant("acme", "Acme Corporation"),
            "globex": _ensure_tenant("globex", "Globex Industries"),
        }
        connection.set_schema_to_public()
    return found


@pytest.fixture
def acme(tenants, db) -> TenantInfo:
    return tenants["acme"]


@pytest.fixture
def globex(tenants, db) -> TenantInfo:
    return tenants["globex"]


@pytest.fixture(autouse=True)
def _public_schema_after_each_test() -> Iterator[None]:
    """A request leaves the connection on its tenant's schema; start every test on public."""
    yield
    connection.set_schema_to_public()
