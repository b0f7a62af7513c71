"""Scheduled usage-stats jobs (saas/settings/jobs.py CELERY_BEAT_SCHEDULE).

The one place the job system reaches into this app: each task calls the service its
management command calls (`stats_rollup`, `stats_partitions`). Both are idempotent, so a
beat restarted or run twice repeats work but never counts an event twice.
"""

from celery import shared_task
from django.conf import settings
from django.db import connections

from usage_stats.rollups.rollup import rollup_run
from usage_stats.storage.partitions import partitions_maintain


@shared_task(name="usage_stats.stats_rollup")
def stats_rollup() -> int:
    """Add every settled event to the hourly rollups; leaves at once if another run is at work."""
    return rollup_run(skip_if_busy=True).events_added


@shared_task(name="usage_stats.stats_partitions")
def stats_partitions() -> dict[str, list[str]]:
    """Create the coming months' partitions and drop those past retention: the only place
    partition DDL runs once web processes stop running it."""
    retain = settings.USAGE_STATS_RETAIN_MONTHS or None
    changes = partitions_maintain(
        conn=connections[settings.STATS_DB_ALIAS],
        months_ahead=settings.USAGE_STATS_PARTITION_MONTHS_AHEAD,
        retain_months=retain,
    )
    return {"created": list(changes.created), "dropped": list(changes.dropped)}
