"""`migrate` for a schema-per-tenant project with a separate stats database.

django-tenants turns `migrate` into `migrate_schemas`, which only knows the tenant
alias. This keeps that, with this project's faster migrate_schemas, and sends
`migrate --database=stats` to `migrate_stats`. The `tenants` app is listed before
`django_tenants` so these commands win; `core.checks` fails the start-up if not.
"""

from typing import Any

from django.conf import settings
from django.core.management import call_command

from tenants.management.commands.migrate_schemas import Command as MigrateSchemasCommand


class Command(MigrateSchemasCommand):
    help = (
        "Migrate the public and tenant schemas (as migrate_schemas), "
        "or the stats database with --database=stats (as migrate_stats)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if options.get("database") == settings.STATS_DB_ALIAS:
            call_command(
                "migrate_stats",
                interactive=options.get("interactive", False),
                verbosity=options.get("verbosity", 1),
                stdout=self.stdout._out,
                stderr=self.stderr._out,
            )
            return
        super().handle(*args, **options)
