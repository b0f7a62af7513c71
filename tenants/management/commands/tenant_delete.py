from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audit.actors import actor_cli
from tenants.services import tenant_delete

from ._lifecycle import error_text, tenant_or_error


class Command(BaseCommand):
    help = (
        "Delete a tenant: its hosts answer the suspended page at once and its data is kept for "
        "TENANT_DELETION_GRACE_DAYS, when the scheduled purge drops it (tenant_restore undoes "
        "the deletion until then). Needs --confirm <slug> or the slug typed at the prompt."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--confirm", metavar="SLUG", help="The tenant's slug again, to confirm")
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive")

    def handle(self, *args, slug: str, confirm: str | None, interactive: bool, **options):
        tenant = tenant_or_error(slug)
        if confirm is None:
            if not interactive:
                raise CommandError(f"Refusing to delete without --confirm {tenant.slug}.")
            self.stdout.write(
                f"This closes {tenant.name!r} now and drops the schema {tenant.schema_name!r} with "
                "every row when its grace period ends."
            )
            confirm = input(f"Type the slug ({tenant.slug}) to confirm: ")
        try:
            tenant = tenant_delete(actor=actor_cli(), tenant=tenant, confirm_slug=confirm)
        except ValidationError as exc:
            raise CommandError(error_text(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Deleted {slug}: its hosts answer the suspended page; purged after "
                f"{tenant.purge_due_at:%Y-%m-%d %H:%M} UTC unless restored (tenant_restore {slug})."
            )
        )
