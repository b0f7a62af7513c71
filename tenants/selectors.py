"""Reads for tenants."""

from .models import Client, Domain


def tenant_get(*, slug: str) -> Client | None:
    """The tenant with this slug; never the public site."""
    return Client.objects.real().filter(slug=slug).first()


def domain_list(*, tenant: Client) -> list[Domain]:
    return list(Domain.objects.filter(tenant=tenant).order_by("-is_primary", "domain"))
