"""Helpers for tenant tests that need committed data: tenants other processes can see,
and a real gunicorn serving the test database."""

import os
import tempfile
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection

from tenants.models import Client
from tenants.selectors import tenant_get
from tenants.services import tenant_provision
from tests.support.gunicorn import database_url
from tests.support.gunicorn import gunicorn as ops_gunicorn
from tests.support.tenants import PASSWORD, tenant_delete_now

ROOT = Path(__file__).resolve().parents[2]


def unique_slug(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def committed_tenants(tenants, django_db_blocker) -> Iterator[Callable[[str], Client]]:
    """A factory of committed tenants (visible to other processes), deleted after the test."""
    made: list[str] = []

    def make(prefix: str) -> Client:
        slug = unique_slug(prefix)
        with django_db_blocker.unblock():
            tenant = tenant_provision(
                slug=slug, name=f"Test {slug}", owner_email=f"owner@{slug}.example", owner_password=PASSWORD
            )
            connection.set_schema_to_public()
        made.append(slug)
        return tenant.tenant

    yield make
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        for slug in made:
            tenant = tenant_get(slug=slug)
            if tenant is not None:
                tenant_delete_now(tenant)


def subprocess_env(**overrides: str) -> dict[str, str]:
    """Environment for a child process that uses this test run's databases."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "saas.settings.test",
        "DATABASE_URL": database_url("default"),
        "STATS_DATABASE_URL": database_url("stats"),
        "USAGE_STATS_ENABLED": "false",
        **overrides,
    }
    env.pop("TEST_DB_NAME", None)
    return env


@dataclass
class Server:
    port: int

    def get(self, host: str, path: str = "/accounts/login/") -> tuple[int, str]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers={"Host": host})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()


@contextmanager
def gunicorn(*, workers: int = 2, **env: str) -> Iterator[Server]:
    """gunicorn on a free loopback port, serving this run's test database."""
    with ops_gunicorn(
        database_url=database_url("default"),
        stats_database_url=database_url("stats"),
        log_dir=Path(tempfile.mkdtemp(prefix="tenants-gunicorn-")),
        workers=workers,
        extra_env={"USAGE_STATS_ENABLED": "false", **env},
    ) as server:
        yield Server(port=server.port)
