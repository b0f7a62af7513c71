from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audit.actors import actor_cli
from tenants.services import tenant_restore

from ._lifecycle import error_text, tenant_or_error


class Command(BaseCommand):
    help = "Restore a deleted tenant before its purge: its hosts open again, with all its data."

    def add_arguments(self, parser):
        parser.add_argument("slug")

    def handle(self, *args, slug: str, **options):
        tenant = tenant_or_error(slug)
        try:
            tenant_restore(actor=actor_cli(), tenant=tenant)
        except ValidationError as exc:
            raise CommandError(error_text(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"Restored {slug}."))
