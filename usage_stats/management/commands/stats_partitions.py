"""`manage.py stats_partitions [--months-ahead N] [--retain-months K]`"""

import psycopg2
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connections

from usage_stats.storage.partitions import partitions_maintain


class Command(BaseCommand):
    help = (
        "Create the monthly partitions of the usage events table for the current month and the "
        "next N (moving any of their rows out of the DEFAULT partition); with --retain-months K, "
        "drop every month older than the current month and the K before it. Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--months-ahead",
            type=int,
            default=None,
            help="months to create after the current one (default: USAGE_STATS_PARTITION_MONTHS_AHEAD)",
        )
        parser.add_argument(
            "--retain-months",
            type=int,
            default=None,
            help="keep the current month and the K months before it; drop older partitions",
        )

    def handle(self, *args, months_ahead: int | None, retain_months: int | None, **options) -> None:
        if months_ahead is None:
            months_ahead = settings.USAGE_STATS_PARTITION_MONTHS_AHEAD
        if not 0 <= months_ahead <= 120:
            raise CommandError("--months-ahead must be between 0 and 120.")
        if retain_months is not None and retain_months < 1:
            raise CommandError("--retain-months must be at least 1.")
        try:
            changes = partitions_maintain(
                conn=connections[settings.STATS_DB_ALIAS],
                months_ahead=months_ahead,
                retain_months=retain_months,
            )
        except (DatabaseError, psycopg2.Error) as exc:
            raise CommandError(f"Could not maintain partitions: {exc}") from exc
        verbosity = options.get("verbosity", 1)
        for name in changes.created:
            moved = " (rows moved from DEFAULT)" if name in changes.moved_from_default else ""
            self.stdout.write(f"created {name}{moved}")
        for name in changes.dropped:
            self.stdout.write(f"dropped {name}")
        if verbosity and not (changes.created or changes.dropped):
            self.stdout.write("partitions up to date")
