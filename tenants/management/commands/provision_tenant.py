from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audit.actors import actor_cli
from tenants.services import tenant_provision

from ._lifecycle import error_text


class Command(BaseCommand):
    help = "Create a tenant: schema, primary domain <slug>.<BASE_DOMAIN> and an owner user."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="Subdomain and schema name, e.g. acme")
        parser.add_argument("--name", required=True, help="Organisation name")
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--owner-password", required=True)

    def handle(self, *args, slug: str, name: str, owner_email: str, owner_password: str, **options):
        try:
            result = tenant_provision(
                slug=slug,
                name=name,
                owner_email=owner_email,
                owner_password=owner_password,
                actor=actor_cli(),
            )
        except ValidationError as exc:
            raise CommandError(error_text(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(f"Created tenant {result.tenant.slug} at http://{result.domain.domain}/")
        )
