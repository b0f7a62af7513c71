from django.db import models
from django_tenants.models import DomainMixin, TenantMixin


class Client(TenantMixin):
    """An organisation. Its schema is named after its slug (`acme` -> schema `acme`)."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=30, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    auto_create_schema = True
    # Deleting the row must never silently drop a schema; deletion is explicit.
    auto_drop_schema = False

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Domain(DomainMixin):
    """A host name that routes to a tenant; one per tenant is primary."""

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain
