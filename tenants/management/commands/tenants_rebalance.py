from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.services.placement import tenants_by_node, tenants_rebalance


class Command(BaseCommand):
    help = "Spread tenant schemas evenly over the Citus workers (Citus's rebalancer) and show the result."

    def add_arguments(self, parser):
        parser.add_argument(
            "--show", action="store_true", help="Only show how many tenants each worker holds"
        )

    def handle(self, *args, show: bool, **options):
        try:
            if not show:
                moved = tenants_rebalance()
                self.stdout.write(self.style.SUCCESS(f"Rebalanced: {moved} tenant schema(s) moved."))
            for node, schemas in tenants_by_node().items():
                self.stdout.write(f"{node}: {len(schemas)} tenant schema(s)")
        except ValidationError as exc:
            raise CommandError(error_text(exc)) from None


def error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)
