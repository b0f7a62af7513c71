from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audit.actors import actor_cli
from tenants.services import EXPORT_FORMATS, tenant_import

from ._lifecycle import error_text


class Command(BaseCommand):
    help = (
        "Restore a tenant_export file (json or sql) into a new tenant --slug NEW, in one transaction: "
        "a bad or foreign file creates nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--slug", required=True, help="The new tenant's slug (its subdomain)")
        parser.add_argument("--name", default="", help="The new organisation's name (default: the slug)")
        parser.add_argument(
            "--format", dest="fmt", choices=EXPORT_FORMATS, help="json or sql (default: from the file name)"
        )

    def handle(self, *args, file: str, slug: str, name: str, fmt: str | None, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        try:
            result = tenant_import(actor=actor_cli(), path=path, slug=slug, name=name, fmt=fmt)
        except ValidationError as exc:
            raise CommandError(error_text(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(f"Imported {path} as {result.domain.domain} ({result.records:,} records).")
        )
