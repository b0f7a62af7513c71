import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audit.actors import actor_cli
from core.progress import ProgressBar
from tenants.services import tenants_bulk_create

from ._lifecycle import error_text


class Command(BaseCommand):
    help = (
        "Provision many tenants <prefix>-0001 ... for load tests and benchmarks (owners get "
        "unusable passwords). Existing ones are skipped, so it can be re-run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--prefix", default="load")
        parser.add_argument("--start", type=int, default=1, help="First number (default 1)")

    def handle(self, *args, count: int, prefix: str, start: int, **options):
        if count < 1 or start < 0:
            raise CommandError("--count must be at least 1 and --start at least 0.")
        started = time.perf_counter()
        bar = ProgressBar(self.stdout, label="provisioning", unit="tenants")

        def progress(done: int, total: int, slug: str) -> None:
            if options["verbosity"] >= 1:
                bar.update(done, total)

        try:
            result = tenants_bulk_create(
                prefix=prefix, count=count, start=start, progress=progress, actor=actor_cli()
            )
        except ValidationError as exc:
            raise CommandError(error_text(exc)) from None
        finally:
            bar.finish()
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"{len(result.created)} created, {len(result.existing)} already there, "
            f"{len(result.failed)} failed in {elapsed:.1f} s"
        )
        for slug, error in result.failed.items():
            self.stderr.write(f"  FAILED {slug}: {error}")
        if result.failed:
            raise CommandError(f"{len(result.failed)} tenant(s) could not be created.")
