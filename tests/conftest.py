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
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_use_migrations,
    django_db_keepdb,
    django_db_createdb,
    django_db_modify_db_settings,
):
    """Always create BOTH throwaway databases.

    pytest-django only sets up the aliases the collected tests ask for; a run that
    asks for `default` alone would leave the `stats` alias (and the collector, and
    live servers started from these settings) pointing at the real stats database.
    """
    from django.test.utils import setup_databases, teardown_databases

    keepdb = django_db_keepdb and not django_db_createdb
    with django_db_blocker.unblock():
        db_cfg = setup_databases(
            verbosity=request.config.option.verbose,
            interactive=False,
            aliases={settings.DEFAULT_DB_ALIAS, settings.STATS_DB_ALIAS},
            serialized_aliases=set(),  # no test uses serialized_rollback
            keepdb=keepdb,
        )
    yield
    if not keepdb:
        with django_db_blocker.unblock():
            teardown_databases(db_cfg, verbosity=request.config.option.verbose)


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


@pytest.fixture(scope="session", autouse=True)
def _usage_stats_flushed_before_databases_are_dropped(django_db_setup) -> Iterator[None]:
    """The usage-stats flusher keeps its own connection to the stats test database:
    flush and close it before pytest-django drops that database."""
    yield
    from usage_stats import shutdown

    shutdown(timeout_s=5)


@pytest.fixture(autouse=True)
def _public_schema_after_each_test() -> Iterator[None]:
    """A request leaves the connection on its tenant's schema; start every test on public."""
    yield
    connection.set_schema_to_public()
