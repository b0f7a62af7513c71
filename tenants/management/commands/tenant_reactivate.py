from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audit.actors import actor_cli
from tenants.services import tenant_reactivate

from ._lifecycle import error_text, tenant_or_error


class Command(BaseCommand):
    help = "Reactivate a suspended tenant: its hosts serve it again from the next request."

    def add_arguments(self, parser):
        parser.add_argument("slug")

    def handle(self, *args, slug: str, **options):
        try:
            tenant = tenant_reactivate(actor=actor_cli(), tenant=tenant_or_error(slug))
        except ValidationError as exc:
            raise CommandError(error_text(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"Reactivated {tenant.slug}."))
