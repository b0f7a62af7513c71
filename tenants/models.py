import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_tenants.models import DomainMixin, TenantMixin

from core.db.roles import owner_role, tenant_role_create, tenant_role_drop


class ClientQuerySet(models.QuerySet["Client"]):
    def real(self) -> "ClientQuerySet":
        """Organisations only: every tenant but the public site (the base domain)."""
        return self.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)


class Client(TenantMixin):
    """An organisation. Its schema is named after the slug it was created with (`acme` ->
    schema `acme`), or `t_<hex>` when a sign-up took a spare schema (tenants/services/spares.py)."""

    # The organisation's identity, never reused: everything kept outside its own schema (usage
    # events and rollups, audit records, the email index, exports) is keyed by it. The slug and
    # schema name are only routing labels and may be renamed or, after a purge, reused.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=30, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set while the tenant is suspended: its hosts answer 423 and its data stays.
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspended_reason = models.CharField(max_length=200, blank=True, default="")
    # Set when the organisation is deleted: its hosts answer the suspended page and its data
    # stays until the grace period (TENANT_DELETION_GRACE_DAYS) ends and the purge drops it;
    # staff can restore it until then. Its slug and hosts stay reserved meanwhile.
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = ClientQuerySet.as_manager()

    auto_create_schema = True
    # Deleting the row must never silently drop a schema; deletion is explicit.
    auto_drop_schema = False

    class Meta:
        ordering = ["name"]
        # What staff and people call a tenant; "client" is django-tenants' word.
        verbose_name = "organisation"
        verbose_name_plural = "organisations"

    def __str__(self) -> str:
        return self.name

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def purge_due_at(self) -> dt.datetime | None:
        """When the scheduled purge may drop a deleted organisation (None if not deleted)."""
        if self.deleted_at is None:
            return None
        return self.deleted_at + dt.timedelta(days=settings.TENANT_DELETION_GRACE_DAYS)

    def create_schema(self, check_if_exists: bool = False, sync_schema: bool = True, verbosity: int = 1):
        """Clone the migrated template schema instead of running every migration (tenants/template.py).

        django-tenants calls this from save() for a new tenant, inside the caller's transaction.
        """
        from django_tenants.utils import schema_exists

        from .template import schema_create_from_template

        if check_if_exists and schema_exists(self.schema_name):
            return False
        # The owner role creates the schema and the tenant's role (core/db/roles.py).
        with owner_role():
            if not sync_schema:
                created = super().create_schema(
                    check_if_exists=check_if_exists, sync_schema=False, verbosity=verbosity
                )
                tenant_role_create(schema_name=self.schema_name)
                return created
            schema_create_from_template(schema_name=self.schema_name)
        return True

    def _drop_schema(self, force_drop: bool = False) -> None:
        """DROP SCHEMA ... CASCADE as the owner role, then the tenant's role, in the caller's
        transaction (the schema's drop takes the role's grants with it)."""
        with owner_role():
            super()._drop_schema(force_drop)
            if force_drop or self.auto_drop_schema:
                tenant_role_drop(schema_name=self.schema_name)


class SpareSchema(models.Model):
    """A tenant schema copied from the template ahead of a sign-up, with its role and grants
    (tenants/services/spares.py). `migrations_key` names the migrations it was copied at (the
    code's migration graph): a spare of other code is never taken, and the refill drops it."""

    schema_name = models.CharField(max_length=63, unique=True)
    migrations_key = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.schema_name


class Domain(DomainMixin):
    """A host name that routes to a tenant; exactly one per tenant is primary.

    A domain with `redirect_until` is an old host kept after a change of subdomain: until
    then it answers with a redirect to the tenant's primary domain, and stays reserved.
    """

    redirect_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["domain"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"], condition=Q(is_primary=True), name="tenants_domain_one_primary"
            ),
        ]

    def __str__(self) -> str:
        return self.domain

    def validate_constraints(self, exclude=None):
        # save() demotes the previous primary in the same transaction; checking the one-primary
        # constraint against the stored rows would refuse every change of primary in a form.
        super().validate_constraints(exclude={*(exclude or ()), "is_primary"})
