from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_migrate


class UsageStatsConfig(AppConfig):
    name = "usage_stats"
    verbose_name = "Usage stats"

    def ready(self) -> None:
        from core import probes

        from .ingest.process import snapshot

        probes.collector_snapshot_register(snapshot)
        # Sent once per app that has models (this one has none): the check is cheap and idempotent.
        post_migrate.connect(_partitions_after_migrate, dispatch_uid="usage_stats_partitions")
        user_logged_in.connect(_signed_in_record, dispatch_uid="usage_stats_signed_in")


def _signed_in_record(sender, request, user, **kwargs) -> None:
    """Every successful sign-in (web form, admin) is a `user.signed_in` event."""
    from . import record

    record("user.signed_in", user_id=user.pk)


def _partitions_after_migrate(sender, using: str, **kwargs) -> None:
    """`migrate --database=stats` leaves the current and next months' partitions in place."""
    from django.conf import settings
    from django.db import connections

    from core.db import roles

    from .ingest.sql import EVENTS_TABLE_NAME
    from .storage.partitions import events_table_exists, partitions_ensure

    if using != settings.STATS_DB_ALIAS or not events_table_exists(conn=connections[using]):
        return
    # The app, flusher and dashboard roles' privileges (core/db/roles.py), before any read.
    roles.stats_grants_ensure(using=using, events_table=EVENTS_TABLE_NAME)
    partitions_ensure(conn=connections[using], months_ahead=settings.USAGE_STATS_PARTITION_MONTHS_AHEAD)
