from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from audit.actors import actor_cli
from tenants.services import EXPORT_FORMATS, tenant_export

from ._lifecycle import error_text, tenant_or_error


class Command(BaseCommand):
    help = (
        "Export a tenant's data: json (Django fixtures, loaddata-compatible, no sessions) "
        "or sql (pg_dump of its schema)."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--format", dest="fmt", choices=EXPORT_FORMATS, default="json")
        parser.add_argument("--output", "-o", help="File to write (default: <slug>-<UTC time>.<format>)")

    def handle(self, *args, slug: str, fmt: str, output: str | None, **options):
        tenant = tenant_or_error(slug)
        path = Path(output or f"{tenant.slug}-{timezone.now():%Y%m%dT%H%M%SZ}.{fmt}")
        if path.exists():
            raise CommandError(f"{path} already exists; choose another --output.")
        try:
            tenant_export(actor=actor_cli(), tenant=tenant, path=path, fmt=fmt)
        except ValidationError as exc:
            path.unlink(missing_ok=True)
            raise CommandError(error_text(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(f"Exported {tenant.slug} to {path} ({path.stat().st_size:,} bytes).")
        )
