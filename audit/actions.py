"""Every action an AuditRecord can name, in one place."""

from django.db import models


class AuditAction(models.TextChoices):
    TENANT_CREATED = "tenant.created", "Tenant created"
    TENANT_RENAMED = "tenant.renamed", "Tenant renamed"
    TENANT_SUSPENDED = "tenant.suspended", "Tenant suspended"
    TENANT_REACTIVATED = "tenant.reactivated", "Tenant reactivated"
    TENANT_EXPORTED = "tenant.exported", "Tenant exported"
    TENANT_DELETED = "tenant.deleted", "Tenant deleted"
    TENANT_RESTORED = "tenant.restored", "Tenant restored"
    TENANT_PURGED = "tenant.purged", "Tenant purged"
    TENANT_SUBDOMAIN_CHANGED = "tenant.subdomain_changed", "Tenant subdomain changed"
    TENANT_IMPORTED = "tenant.imported", "Tenant imported"
    TENANT_MOVED = "tenant.moved", "Tenant moved to another database node"
    DOMAIN_ADDED = "domain.added", "Domain added"
    DOMAIN_REMOVED = "domain.removed", "Domain removed"
    DOMAIN_PRIMARY_CHANGED = "domain.primary_changed", "Primary domain changed"
    USER_ADDED = "user.added", "Person added"
    USER_UPDATED = "user.updated", "Person's profile changed"
    USER_ROLE_CHANGED = "user.role_changed", "Person's role changed"
    USER_DEACTIVATED = "user.deactivated", "Person deactivated"
    USER_ACTIVATED = "user.activated", "Person reactivated"
    API_TOKEN_REVOKED = "api_token.revoked", "API token revoked"


class ActorKind(models.TextChoices):
    STAFF = "staff", "Staff"
    OWNER = "owner", "Owner"
    MEMBER = "member", "Member"
    SYSTEM = "system", "System"
    CLI = "cli", "Command line"
