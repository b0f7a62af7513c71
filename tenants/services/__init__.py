"""Writes for tenants. Views, commands and both admins call these; nothing else creates,
changes or removes a tenant or a domain.

- provisioning.py: `tenant_provision`, `tenants_bulk_create`, `public_tenant_ensure`;
- lifecycle.py: `tenant_suspend`, `tenant_reactivate`, `tenant_rename`, `tenant_export`,
  `tenant_delete`;
- domains.py: `domain_add`, `domain_set_primary`, `domain_remove`.
"""

from .domains import domain_add, domain_normalize, domain_remove, domain_set_primary, domain_validate
from .lifecycle import (
    EXPORT_EXCLUDE,
    EXPORT_FORMATS,
    tenant_delete,
    tenant_export,
    tenant_reactivate,
    tenant_rename,
    tenant_suspend,
)
from .provisioning import (
    SLUG_MAX_LEN,
    SLUG_MIN_LEN,
    BulkCreateResult,
    ProvisionedTenant,
    public_tenant_ensure,
    tenant_host,
    tenant_provision,
    tenant_provision_check,
    tenant_slug_validate,
    tenants_bulk_create,
)

__all__ = [
    "EXPORT_EXCLUDE",
    "EXPORT_FORMATS",
    "SLUG_MAX_LEN",
    "SLUG_MIN_LEN",
    "BulkCreateResult",
    "ProvisionedTenant",
    "domain_add",
    "domain_normalize",
    "domain_remove",
    "domain_set_primary",
    "domain_validate",
    "public_tenant_ensure",
    "tenant_delete",
    "tenant_export",
    "tenant_host",
    "tenant_provision",
    "tenant_provision_check",
    "tenant_reactivate",
    "tenant_rename",
    "tenant_slug_validate",
    "tenant_suspend",
    "tenants_bulk_create",
]
