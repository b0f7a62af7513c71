from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.services.placement import TRANSFER_MODES, tenants_by_node, tenants_rebalance


class Command(BaseCommand):
    help = "Spread tenant schemas evenly over the Citus workers (Citus's rebalancer) and show the result."

    def add_arguments(self, parser):
        parser.add_argument(
            "--show", action="store_true", help="Only show how many tenants each worker holds"
        )
        parser.add_argument(
            "--transfer-mode",
            choices=TRANSFER_MODES,
            default="auto",
            help="auto: tenants stay writable while they move (default); block_writes: faster, writes wait",
        )

    def handle(self, *args, show: bool, transfer_mode: str, **options):
        try:
            if not show:
                moved = tenants_rebalance(transfer_mode=transfer_mode)
                self.stdout.write(self.style.SUCCESS(f"Rebalanced: {moved} tenant schema(s) moved."))
            for node, schemas in tenants_by_node().items():
                self.stdout.write(f"{node}: {len(schemas)} tenant schema(s)")
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
