"""Reads for tenants."""

from .models import Client, Domain, SpareSchema
from .template import template_migrations_key


def tenant_get(*, slug: str) -> Client | None:
    """The tenant with this slug; never the public site."""
    return Client.objects.real().filter(slug=slug).first()


def domain_list(*, tenant: Client) -> list[Domain]:
    return list(Domain.objects.filter(tenant=tenant).order_by("-is_primary", "domain"))


def spare_schemas_count() -> tuple[int, int]:
    """(spares of the running code's migrations, spares of other ones) (services/spares.py)."""
    current = SpareSchema.objects.filter(migrations_key=template_migrations_key()).count()
    return current, SpareSchema.objects.count() - current
