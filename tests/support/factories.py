"""Small helpers that create people and tasks inside a tenant's schema."""

import uuid

from django_tenants.utils import schema_context

from accounts.models import User
from tasks_app.models import Task
from tasks_app.services import task_create
from tests.support.tenants import PASSWORD, TenantInfo


def unique(prefix: str) -> str:
    """A string no other test (or earlier run against a reused database) has used."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def make_person(tenant: TenantInfo, *, email: str | None = None, role: str = "member", **extra) -> User:
    email = email or f"{unique('person')}@{tenant.slug}.example"
    with schema_context(tenant.tenant.schema_name):
        return User.objects.create_user(
            email,
            PASSWORD,
            role=role,
            is_staff=role == "owner",
            full_name=extra.pop("full_name", ""),
            **extra,
        )


def make_task(tenant: TenantInfo, *, actor: User | None = None, **fields) -> Task:
    with schema_context(tenant.tenant.schema_name):
        fields.setdefault("title", unique("task"))
        return task_create(actor=actor or tenant.owner(), **fields)
