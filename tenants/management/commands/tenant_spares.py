from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tenants.selectors import spare_schemas_count
from tenants.services import spare_schemas_drop_all, spare_schemas_refill


class Command(BaseCommand):
    help = (
        "Show the spare tenant schemas kept ready for sign-ups (TENANT_SPARE_SCHEMAS), or make "
        "them now (--refill) or drop them all (--drop)."
    )

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--refill", action="store_true", help="make spares up to the setting now")
        action.add_argument("--drop", action="store_true", help="drop every spare schema and its role")
        parser.add_argument("--count", type=int, help="with --refill: keep this many instead")

    def handle(self, *args, refill: bool, drop: bool, count: int | None, **options):
        if count is not None and (not refill or count < 0):
            raise CommandError("--count needs --refill and a number of at least 0.")
        if drop:
            dropped = spare_schemas_drop_all()
            self.stdout.write(self.style.SUCCESS(f"Dropped {len(dropped)} spare schema(s)."))
            return
        if refill:
            result = spare_schemas_refill(count=count)
            if result.busy:
                self.stdout.write("Another refill is running; it makes the spares.")
            self.stdout.write(
                self.style.SUCCESS(
                    f"Made {len(result.made)}, dropped {len(result.dropped)} of an older template; "
                    f"{result.ready} ready."
                )
            )
            return
        current, stale = spare_schemas_count()
        self.stdout.write(
            f"{current} spare schema(s) ready (TENANT_SPARE_SCHEMAS = {settings.TENANT_SPARE_SCHEMAS}), "
            f"{stale} of an older template."
        )
