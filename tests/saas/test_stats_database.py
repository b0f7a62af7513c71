"""The stats database can live on its own PostgreSQL server.

`make test-split-stats` runs the whole suite with STATS_DATABASE_URL on a second embedded
cluster (`scripts/pg.sh start-stats`, port 54330) and STATS_CLUSTER=separate, which makes
this test insist that the two aliases really reach two different clusters.
"""

import os

import pytest
from django.db import connections

import usage_stats
from tenants.models import Client

pytestmark = pytest.mark.django_db(databases=["default", "stats"])


def _server_identity(alias: str) -> tuple[int, int, str]:
    """(cluster system identifier, server port, database) as the server itself reports them."""
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT system_identifier FROM pg_control_system()), inet_server_port(),"
            " current_database()"
        )
        return cursor.fetchone()


def test_stats_alias_reaches_the_configured_server():
    main_cluster, main_port, main_db = _server_identity("default")
    stats_cluster, stats_port, stats_db = _server_identity("stats")
    assert stats_db != main_db
    assert stats_port == int(connections["stats"].settings_dict["PORT"])
    if os.environ.get("STATS_CLUSTER") == "separate":
        assert stats_cluster != main_cluster, "STATS_CLUSTER=separate but stats shares the main cluster"
        assert stats_port != main_port


def test_collector_writes_to_the_stats_server(tenants):
    marker = f"pooler.split.{os.getpid()}"
    acme_id = Client.objects.get(schema_name="acme").uuid
    usage_stats.record(marker, tenant_id=acme_id, route="pooler-test")
    assert usage_stats.flush(timeout_s=10)
    with connections["stats"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM usage_event WHERE event = %s AND tenant_id = %s", [marker, acme_id]
        )
        assert cursor.fetchone()[0] == 1
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT to_regclass('public.usage_event') IS NULL")
        assert cursor.fetchone()[0] is True
