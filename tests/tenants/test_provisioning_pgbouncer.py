"""Sign-up creates tenants inside web requests, i.e. through the pooler in production: the
whole provisioning (template clone, tenant row, domain, owner) must work there too."""

import os
import subprocess
import sys
import uuid

import pytest
from django_tenants.utils import schema_context

from accounts.models import User
from tenants.models import Client
from tests.support.gunicorn import ROOT
from tests.support.tenants import tenant_delete_now

pytestmark = pytest.mark.pgbouncer


def test_provision_tenant_through_pgbouncer(pgbouncer, tenants, django_db_blocker):
    slug = f"pool{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "saas.settings.test",
        "DATABASE_URL": pgbouncer.url("default"),
        "STATS_DATABASE_URL": pgbouncer.url("stats"),
        "DB_POOLER": "pgbouncer-transaction",
    }
    command = [sys.executable, "manage.py", "provision_tenant", slug, "--name", "Pooled Ltd"]
    command += ["--owner-email", f"owner@{slug}.example", "--owner-password", "pooled-pass-2024-x"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"Created tenant {slug}" in done.stdout
    with django_db_blocker.unblock():
        tenant = Client.objects.get(slug=slug)
        try:
            with schema_context(slug):
                assert list(User.objects.values_list("email", flat=True)) == [f"owner@{slug}.example"]
            with schema_context("acme"):
                assert not User.objects.filter(email=f"owner@{slug}.example").exists()
        finally:
            tenant_delete_now(tenant)
