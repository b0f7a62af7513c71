from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audit.actors import actor_cli
from tenants.services import tenant_purge, tenants_purge_due

from ._lifecycle import error_text, tenant_or_error


class Command(BaseCommand):
    help = (
        "Purge deleted tenants whose grace period has ended (what the scheduled job does), or one "
        "deleted tenant now with SLUG --confirm SLUG --force: drops its schema, domains and usage data."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", nargs="?")
        parser.add_argument("--confirm", metavar="SLUG", help="The tenant's slug again, to confirm")
        parser.add_argument("--force", action="store_true", help="Purge before the grace period ends")

    def handle(self, *args, slug: str | None, confirm: str | None, force: bool, **options):
        if slug is None:
            purged = tenants_purge_due(actor=actor_cli())
            self.stdout.write(
                self.style.SUCCESS(f"Purged {len(purged)} tenant(s): {', '.join(purged) or '-'}.")
            )
            return
        tenant = tenant_or_error(slug)
        if confirm != tenant.slug:
            raise CommandError(f"Refusing to purge without --confirm {tenant.slug}.")
        try:
            tenant_purge(actor=actor_cli(), tenant=tenant, force=force)
        except ValidationError as exc:
            raise CommandError(error_text(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"Purged {slug}: schema dropped, usage data deleted."))
