"""Shared fixtures: two provisioned tenants (acme, globex) in the real test database,
test clients bound to their hosts, a private PgBouncer; and the test tiers
(tests/support/tiers.py), assigned to every collected test."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context

from tenants.services import public_tenant_ensure
from tests.support.pgbouncer import PgBouncer, PgBouncerUnavailable, pgbouncer_running
from tests.support.tenants import PASSWORD, TenantInfo, tenant_ensure
from tests.support.tiers import TIERS, inferred_tier, most_demanding
from tests.support.workload import Probe

__all__ = ["PASSWORD", "TenantInfo"]

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_use_migrations,
    django_db_keepdb,
    django_db_createdb,
    django_db_modify_db_settings,
):
    """Always create BOTH throwaway databases.

    pytest-django only sets up the aliases the collected tests ask for; a run that
    asks for `default` alone would leave the `stats` alias (and the collector, and
    live servers started from these settings) pointing at the real stats database.
    """
    from django.test.utils import setup_databases, teardown_databases

    from core.db import roles
    from usage_stats import shutdown
    from usage_stats.dashboards.readers import readers_close

    keepdb = django_db_keepdb and not django_db_createdb
    # The test databases are created, migrated and dropped by the owner role; the tests
    # themselves run as the app role, like the web app.
    with django_db_blocker.unblock(), roles.owner_process():
        db_cfg = setup_databases(
            verbosity=request.config.option.verbose,
            interactive=False,
            aliases={settings.DEFAULT_DB_ALIAS, settings.STATS_DB_ALIAS},
            serialized_aliases=set(),  # no test uses serialized_rollback
            keepdb=keepdb,
        )
    yield
    # The usage-stats flusher keeps its own connection to the stats test database:
    # flush and close it before the databases are dropped.
    shutdown(timeout_s=5)
    readers_close()  # the dashboards' reader threads' connections (live-server tests)
    if not keepdb:
        test_database = connection.settings_dict["NAME"]
        with django_db_blocker.unblock(), roles.owner_process():
            teardown_databases(db_cfg, verbosity=request.config.option.verbose)
            _tenant_roles_drop(test_database)


def _tenant_roles_drop(database: str) -> None:
    """Roles are cluster-wide: drop the dropped test database's tenant roles."""
    from core.db import roles

    with connection._nodb_cursor() as cursor:
        roles.database_tenant_roles_drop(database=database, cursor=cursor)


@pytest.fixture(scope="session")
def tenants(django_db_setup, django_db_blocker) -> dict[str, TenantInfo]:
    """acme and globex, provisioned once per session and committed."""
    with django_db_blocker.unblock():
        public_tenant_ensure()
        found = {
            "acme": tenant_ensure("acme", "Acme Corporation"),
            "globex": tenant_ensure("globex", "Globex Industries"),
        }
        connection.set_schema_to_public()
    return found


@pytest.fixture
def acme(tenants, db) -> TenantInfo:
    return _fresh(tenants["acme"])


@pytest.fixture
def globex(tenants, db) -> TenantInfo:
    return _fresh(tenants["globex"])


def _fresh(info: TenantInfo) -> TenantInfo:
    # The session's tenant objects are shared: a test that changed one in memory (a subdomain
    # change, rolled back in the database) must not hand the change to the next test.
    info.tenant.refresh_from_db()
    return info


@pytest.fixture(autouse=True)
def _public_schema_after_each_test() -> Iterator[None]:
    """A request leaves the connection on its tenant's schema; start every test on public."""
    yield
    connection.set_schema_to_public()


# --- PgBouncer -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pgbouncer(django_db_setup) -> Iterator[PgBouncer]:
    """A private PgBouncer (transaction mode, 2 server connections per database) in front of
    the test databases, for the session."""
    try:
        with pgbouncer_running(runs_dir=ROOT / ".data" / "pgbouncer-tests") as running:
            yield running
    except PgBouncerUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def probes(tenants, django_db_blocker) -> Iterator[dict[str, Probe]]:
    """A committed task with a title found nowhere else, and a signed-in session, per tenant."""
    from tasks_app.models import Task
    from tasks_app.services import task_create

    run = uuid.uuid4().hex[:10]
    found: dict[str, Probe] = {}
    with django_db_blocker.unblock():
        for slug in ("acme", "globex"):
            info = tenants[slug]
            with schema_context(info.tenant.schema_name):
                task = task_create(actor=info.owner(), title=f"pool-probe-{slug}-{run}")
            session_key = info.login().cookies["sessionid"].value
            found[slug] = Probe(slug, info.host, task.title, task.id, session_key)
    yield found
    with django_db_blocker.unblock():
        for slug, probe in found.items():
            with schema_context(tenants[slug].tenant.schema_name):
                Task.objects.filter(id=probe.task_id).delete()


# --- Tiers -----------------------------------------------------------------------------------

# The global timeout (pyproject) counts fixtures too: the first PgBouncer test of a session
# may install PgBouncer (scripts/pgbouncer.sh allows 300 s for that).
_TIER_TIMEOUTS_S = {"pgbouncer": 420}


def pytest_collection_modifyitems(config, items) -> None:
    """One tier marker per test (tests/support/tiers.py); tiers with slow set-up get a
    longer timeout unless the test sets its own."""
    for item in items:
        tier = most_demanding(tier for tier in TIERS if item.get_closest_marker(tier))
        if tier is None:
            tier = inferred_tier(item)
            item.add_marker(tier)
        if tier in _TIER_TIMEOUTS_S and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(_TIER_TIMEOUTS_S[tier]))
