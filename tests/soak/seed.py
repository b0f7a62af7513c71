"""Tenants for load and fault tests: each with an owner, an API token and a secret task.

Used in-process by the soak test (test databases) and as
`python -m tests.soak.seed COUNT` against a private cluster, printing JSON.
"""

import json
import sys
from dataclasses import asdict, dataclass

PASSWORD = "soak-load-pass-2024-x"


@dataclass(frozen=True)
class SeededTenant:
    slug: str
    host: str
    email: str
    token: str
    secret: str  # title of a task only this tenant has


def soak_tenants_ensure(count: int) -> list[SeededTenant]:
    """`count` tenants named soak01, soak02, ..., committed (created once, reused after)."""
    from django.db import connection
    from django_tenants.utils import schema_context

    from accounts.models import User
    from accounts.services import api_token_create
    from tasks_app.models import Task
    from tenants.models import Client
    from tenants.services import public_tenant_ensure, tenant_host, tenant_provision

    public_tenant_ensure()
    slugs = [f"soak{i:02d}" for i in range(1, count + 1)]
    seeded = []
    for slug in slugs:
        email = f"owner@{slug}.example"
        if not Client.objects.filter(slug=slug).exists():
            tenant_provision(slug=slug, name=f"Tenant {slug}", owner_email=email, owner_password=PASSWORD)
        with schema_context(slug):
            owner = User.objects.filter(role="owner").order_by("pk").first()
            owner.set_password(PASSWORD)
            owner.save(update_fields=["password"])
            _, raw = api_token_create(user=owner, name="soak")
            secret = f"{slug}-secret-task"
            if not Task.objects.filter(title=secret).exists():
                Task.objects.create(title=secret, created_by=owner)
        seeded.append(
            SeededTenant(slug=slug, host=tenant_host(slug), email=owner.email, token=raw, secret=secret)
        )
    connection.set_schema_to_public()
    return seeded


if __name__ == "__main__":
    import django

    django.setup()
    tenants = soak_tenants_ensure(int(sys.argv[1]))
    print(json.dumps([asdict(t) for t in tenants]))
