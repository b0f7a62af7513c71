"""`migrate_stats`: Django's migrate on the stats database alias.

django-tenants' migrate_schemas only knows the tenant alias; the stats database has
migrations of its own (usage_stats/migrations, literal DDL) and is migrated by name:

    manage.py migrate_stats            # == manage.py migrate --database=stats
"""

from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser
from django.core.management.commands.migrate import Command as DjangoMigrateCommand

from core.db import roles


class Command(DjangoMigrateCommand):
    help = "Apply the usage_stats migrations to the stats database (the `stats` alias)."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(database=settings.STATS_DB_ALIAS)

    def handle(self, *args: Any, **options: Any) -> None:
        options["database"] = settings.STATS_DB_ALIAS
        # As the owner role; the post_migrate handler (usage_stats/apps.py) grants the app,
        # flusher and dashboard roles their privileges.
        with roles.owner_process():
            super().handle(*args, **options)
