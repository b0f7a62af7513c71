from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audit.actors import actor_cli
from tenants.hosts import host_normalise
from tenants.models import Domain
from tenants.selectors import domain_list
from tenants.services import domain_add, domain_remove, domain_set_primary

from ._lifecycle import error_text, tenant_or_error


class Command(BaseCommand):
    help = (
        "List, add, remove or make primary a tenant's domains (e.g. a custom domain "
        "tasks.acme-corp.com). Changes take effect on the next request."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("action", choices=["list", "add", "remove", "primary"])
        parser.add_argument("host", nargs="?")
        parser.add_argument("--primary", action="store_true", help="With add: make it the primary domain")

    def handle(self, *args, slug: str, action: str, host: str | None, primary: bool, **options):
        tenant = tenant_or_error(slug)
        if action != "list" and not host:
            raise CommandError(f"{action} needs a host name.")
        try:
            if action == "add":
                domain = domain_add(actor=actor_cli(), tenant=tenant, domain=host, is_primary=primary)
                self.stdout.write(self.style.SUCCESS(f"Added {domain.domain} to {tenant.slug}."))
            elif action in ("remove", "primary"):
                domain = Domain.objects.filter(tenant=tenant, domain=host_normalise(host)).first()
                if domain is None:
                    raise CommandError(f"{tenant.slug} has no domain {host!r}.")
                if action == "remove":
                    domain_remove(actor=actor_cli(), domain=domain)
                    self.stdout.write(self.style.SUCCESS(f"Removed {domain.domain} from {tenant.slug}."))
                else:
                    domain_set_primary(actor=actor_cli(), domain=domain)
                    self.stdout.write(self.style.SUCCESS(f"{domain.domain} is now the primary domain."))
        except ValidationError as exc:
            raise CommandError(error_text(exc)) from None
        if action == "list":
            for domain in domain_list(tenant=tenant):
                self.stdout.write(f"{domain.domain}{'  (primary)' if domain.is_primary else ''}")
