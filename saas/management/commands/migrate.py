"""`migrate` that understands both databases.

django-tenants replaces `migrate` with `migrate_schemas`, which only knows the
tenant alias, so `migrate --database=stats` used to crash. This dispatches:
the stats alias goes to Django's own migrate, anything else to migrate_schemas.
"""

from django.conf import settings
from django.core.management.commands.migrate import Command as DjangoMigrateCommand

from tenants.management.commands.migrate_schemas import Command as MigrateSchemasCommand


class Command(MigrateSchemasCommand):
    help = (
        "Migrate the public and tenant schemas (via migrate_schemas), "
        "or the stats database with --database=stats."
    )

    def run_from_argv(self, argv):
        if _wants_stats(argv):
            return DjangoMigrateCommand().run_from_argv(argv)
        return super().run_from_argv(argv)

    def execute(self, *args, **options):
        if options.get("database") == settings.STATS_DB_ALIAS:
            return DjangoMigrateCommand(stdout=self.stdout._out, stderr=self.stderr._out).execute(
                *args, **options
            )
        return super().execute(*args, **options)


def _wants_stats(argv: list[str]) -> bool:
    alias = settings.STATS_DB_ALIAS
    for i, arg in enumerate(argv):
        if arg == f"--database={alias}":
            return True
        if arg == "--database" and i + 1 < len(argv) and argv[i + 1] == alias:
            return True
    return False
