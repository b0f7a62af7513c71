"""Usage events as the stats database holds them, for tests of the code that records them.

Services record events on commit; a test in a transaction runs those callbacks with
pytest-django's `django_capture_on_commit_callbacks(execute=True)`, then reads here.
"""

import pytest

import usage_stats
from tests.usage_stats.conftest import StatsDB

# The flusher thread writes the events: Django lets a thread open a connection only to the
# databases the running test declares, so a test that reads events declares both.
with_stats_database = pytest.mark.django_db(databases=["default", "stats"])


def _tenant_id(schema_name: str) -> str:
    """Events are keyed by the tenant's uuid; tests name tenants by schema."""
    from tenants.models import Client

    return str(Client.objects.get(schema_name=schema_name).uuid)


def task_ids_with_event(event: str, *, tenant: str, task_ids: list[int]) -> list[int]:
    """Of `task_ids`, those with an `event` usage event in `tenant` (flushed first), sorted."""
    assert usage_stats.flush(timeout_s=10)
    rows = StatsDB().rows(
        "SELECT DISTINCT (properties->>'task_id')::bigint FROM usage_event"
        " WHERE event = %s AND tenant_id = %s AND (properties->>'task_id')::bigint = ANY(%s)",
        [event, _tenant_id(tenant), task_ids],
    )
    return sorted(row[0] for row in rows)


def user_events(event: str, *, tenant: str, user_id: int) -> list[dict]:
    """The properties of every `event` usage event of one user in `tenant` (flushed first)."""
    assert usage_stats.flush(timeout_s=10)
    rows = StatsDB().rows(
        "SELECT properties FROM usage_event WHERE event = %s AND tenant_id = %s AND user_id = %s",
        [event, _tenant_id(tenant), user_id],
    )
    return [row[0] for row in rows]
