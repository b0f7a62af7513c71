"""The handle on a provisioned test tenant, and the password every test person has."""

from dataclasses import dataclass

from django.conf import settings
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from tenants.models import Client
from tenants.services import tenant_provision

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
