"""Writes for tenants. Views, commands and both admins call these; nothing else creates,
changes or removes a tenant or a domain.

- provisioning.py: `tenant_provision`, `tenants_bulk_create`, `public_tenant_ensure`;
- lifecycle.py: `tenant_suspend`, `tenant_reactivate`, `tenant_rename`, `tenant_export`;
- deletion.py: `tenant_delete` (with a grace period), `tenant_restore`, `tenant_purge`,
  `tenants_purge_due`;
- subdomain.py: `tenant_subdomain_change`, `domains_redirect_expired_remove`;
- imports.py: `tenant_import`;
- spares.py: `spare_schemas_refill`, `spare_schema_claim` (schemas copied ahead of sign-ups);
- domains.py: `domain_add`, `domain_set_primary`, `domain_remove`.
"""

from .deletion import tenant_delete, tenant_purge, tenant_restore, tenants_purge_due
from .domains import domain_add, domain_normalize, domain_remove, domain_set_primary, domain_validate
from .imports import tenant_import
from .lifecycle import (
    EXPORT_EXCLUDE,
    EXPORT_FORMATS,
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
from .spares import SpareRefill, spare_schema_claim, spare_schemas_drop_all, spare_schemas_refill
from .subdomain import domains_redirect_expired_remove, tenant_subdomain_change

__all__ = [
    "EXPORT_EXCLUDE",
    "EXPORT_FORMATS",
    "SLUG_MAX_LEN",
    "SLUG_MIN_LEN",
    "BulkCreateResult",
    "ProvisionedTenant",
    "SpareRefill",
    "domain_add",
    "domain_normalize",
    "domain_remove",
    "domain_set_primary",
    "domain_validate",
    "domains_redirect_expired_remove",
    "public_tenant_ensure",
    "spare_schema_claim",
    "spare_schemas_drop_all",
    "spare_schemas_refill",
    "tenant_delete",
    "tenant_export",
    "tenant_host",
    "tenant_import",
    "tenant_provision",
    "tenant_provision_check",
    "tenant_purge",
    "tenant_reactivate",
    "tenant_rename",
    "tenant_restore",
    "tenant_slug_validate",
    "tenant_subdomain_change",
    "tenant_suspend",
    "tenants_bulk_create",
    "tenants_purge_due",
]
