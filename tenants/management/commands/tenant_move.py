from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audit.actors import actor_cli
from tenants.services.placement import tenant_move, tenant_node

from ._lifecycle import error_text, tenant_or_error


class Command(BaseCommand):
    help = (
        "Move a tenant's schema to another Citus worker while it stays in use (citus_schema_move); "
        "without --node, say where it is."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--node", help="Target worker as HOST:PORT, as in pg_dist_node")

    def handle(self, *args, slug: str, node: str | None, **options):
        tenant = tenant_or_error(slug)
        try:
            if not node:
                where = tenant_node(tenant=tenant)
                self.stdout.write(f"{tenant.slug} is on {where or 'the coordinator (not distributed)'}")
                return
            source, target = tenant_move(tenant=tenant, node=node, actor=actor_cli())
        except ValidationError as exc:
            raise CommandError(error_text(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"Moved {tenant.slug} from {source} to {target}."))
