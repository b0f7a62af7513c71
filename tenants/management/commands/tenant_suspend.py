from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audit.actors import actor_cli
from tenants.services import tenant_suspend

from ._lifecycle import error_text, tenant_or_error


class Command(BaseCommand):
    help = "Suspend a tenant: its hosts answer HTTP 423 with a 'suspended' page; its data stays."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--reason", default="", help="Kept with the tenant, shown to staff only")

    def handle(self, *args, slug: str, reason: str, **options):
        try:
            tenant = tenant_suspend(actor=actor_cli(), tenant=tenant_or_error(slug), reason=reason)
        except ValidationError as exc:
            raise CommandError(error_text(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(f"Suspended {tenant.slug} (since {tenant.suspended_at:%Y-%m-%d %H:%M} UTC).")
        )
