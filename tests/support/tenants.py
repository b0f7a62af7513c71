"""The handle on a provisioned test tenant, and the password every test person has."""

from dataclasses import dataclass

from django.conf import settings
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from tenants.models import Client
from tenants.services import tenant_delete, tenant_provision, tenant_purge

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


def tenant_ensure(slug: str, name: str) -> TenantInfo:
    """The tenant `slug`, provisioned (owner owner@<slug>.example, address verified) unless it exists."""
    email = f"owner@{slug}.example"
    tenant = Client.objects.filter(slug=slug).first()
    if tenant is None:
        result = tenant_provision(
            slug=slug, name=name, owner_email=email, owner_password=PASSWORD, owner_verified=True
        )
        tenant = result.tenant
    return TenantInfo(tenant=tenant, host=f"{slug}.{settings.BASE_DOMAIN}", owner_email=email)


def run_export_job(tenant_schema: str):
    """Run the export job the admin queued, as a worker would (tests/jobs runs a real one)."""
    from core.models import JobProgress
    from tenants.exports import tenant_export_run

    progress = JobProgress.objects.filter(target_schema=tenant_schema).latest("pk")
    return tenant_export_run(progress_id=progress.pk, task_id=progress.task_id, fmt=progress.detail)


def tenant_delete_now(tenant: Client) -> None:
    """Delete and purge at once (test clean-up): schema, domains and row gone."""
    from audit.actors import actor_system

    tenant = tenant_delete(actor=actor_system(), tenant=tenant, confirm_slug=tenant.slug)
    tenant_purge(actor=actor_system(), tenant=tenant, force=True)


def tenants_drop_fast(*, prefix: str, batch: int = 20) -> int:
    """Drop every tenant whose slug starts with `prefix` (load-test clean-up): schemas a
    batch per statement, then their rows, in a few statements instead of one purge each.
    Audit records keep their uuid, as after a purge. Returns how many were dropped."""
    from django.db import connection, transaction
    from django_tenants.utils import quote_schema_name

    from audit.models import AuditRecord
    from core.db.roles import owner_role, tenant_role_drop
    from tenants.models import Domain

    connection.set_schema_to_public()
    found = list(Client.objects.filter(slug__startswith=prefix).values_list("pk", "schema_name"))
    for start in range(0, len(found), batch):
        chunk = found[start : start + batch]
        pks = [pk for pk, _schema in chunk]
        # As the owner role, like a purge; the tenants' own roles go with their schemas.
        with owner_role(), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "DROP SCHEMA IF EXISTS " + ", ".join(quote_schema_name(s) for _pk, s in chunk) + " CASCADE"
            )
            for _pk, schema in chunk:
                tenant_role_drop(schema_name=schema)
            AuditRecord.objects.filter(tenant_id__in=pks).update(tenant=None)
            Domain.objects.filter(tenant_id__in=pks).delete()
            Client.objects.filter(pk__in=pks).delete()
    return len(found)
