"""The third pass of `make test-citus` (scripts/test-citus.sh) runs the isolation suite and the
tasks tests with DB_POOLER=pgbouncer-transaction through PgBouncer in front of the
coordinator: this makes sure that is what they ran against."""

import os

import pytest
from django.conf import settings
from django.db import connection

from tests.support.citus import citus_enabled

pytestmark = pytest.mark.citus


def test_the_suite_runs_through_pgbouncer_to_the_coordinator(db):
    if os.environ.get("DB_POOLER") != "pgbouncer-transaction":
        pytest.skip("only in the PgBouncer pass of make test-citus")
    assert settings.DATABASES["default"]["ENGINE"] == "core.db.backends.tenant_pooled"
    with connection.cursor() as cursor:
        cursor.execute("SELECT inet_server_port()")
        server_port = cursor.fetchone()[0]
    assert int(connection.settings_dict["PORT"]) != server_port, "connected straight to PostgreSQL"
    assert server_port == int(os.environ["CITUS_PORT"])
    assert citus_enabled()
