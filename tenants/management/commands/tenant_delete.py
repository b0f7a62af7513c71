from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audit.actors import actor_cli
from tenants.services import tenant_delete

from ._lifecycle import error_text, tenant_or_error


class Command(BaseCommand):
    help = (
        "Delete a tenant: drop its schema and all its data, and its domains. Needs --confirm <slug> "
        "or the slug typed at the prompt. Usage stats are kept unless --purge-stats."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--confirm", metavar="SLUG", help="The tenant's slug again, to confirm")
        parser.add_argument("--purge-stats", action="store_true", help="Also delete its usage stats")
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive")

    def handle(self, *args, slug: str, confirm: str | None, purge_stats: bool, interactive: bool, **options):
        tenant = tenant_or_error(slug)
        if confirm is None:
            if not interactive:
                raise CommandError(f"Refusing to delete without --confirm {tenant.slug}.")
            self.stdout.write(
                f"This drops the schema {tenant.schema_name!r} and every row of {tenant.name!r}; "
                "it cannot be undone."
            )
            confirm = input(f"Type the slug ({tenant.slug}) to confirm: ")
        try:
            tenant_delete(actor=actor_cli(), tenant=tenant, confirm_slug=confirm, purge_stats=purge_stats)
        except ValidationError as exc:
            raise CommandError(error_text(exc)) from None
        kept = "purged" if purge_stats else "kept"
        self.stdout.write(self.style.SUCCESS(f"Deleted {slug}: schema dropped, usage stats {kept}."))
