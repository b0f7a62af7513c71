from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audit.actors import actor_cli
from tenants.services import tenant_host, tenant_subdomain_change

from ._lifecycle import error_text, tenant_or_error


class Command(BaseCommand):
    help = (
        "Change a tenant's subdomain: NEW.<BASE_DOMAIN> becomes its host, and the old one redirects "
        "there for TENANT_DELETION_GRACE_DAYS. Its schema, data and usage history stay."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("new_slug")

    def handle(self, *args, slug: str, new_slug: str, **options):
        tenant = tenant_or_error(slug)
        try:
            tenant_subdomain_change(actor=actor_cli(), tenant=tenant, slug=new_slug)
        except ValidationError as exc:
            raise CommandError(error_text(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"{slug} is now {tenant_host(new_slug)}."))
