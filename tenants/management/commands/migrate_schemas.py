"""django-tenants' migrate_schemas, made for a thousand tenants.

- Schemas whose django_migrations already hold every migration of the code are skipped
  after one query per 250 schemas (tenants/migration_state.py), so a run with nothing to
  apply takes seconds instead of loading Django's migration executor per schema.
- The rest run in django-tenants' multiprocessing executor by default, with
  MIGRATION_WORKERS processes (default: one per CPU; `--executor=standard` runs in-process).
- A schema that fails does not stop the others; progress is shown as `N/M schemas`, the
  run ends with a summary (migrated, up to date, failed with schema and error) and exits
  non-zero if any schema failed.
- The tenant template schema (tenants/template.py) is migrated with the tenants; when it
  was, the spare schemas job is queued to replace the spares (tenants/services/spares.py).

Skipping is off when a run asks for something other than "apply everything" (an app label
or target migration, --fake, --fake-initial, --prune, --run-syncdb, --plan) or with
`--all-schemas`.
"""

import functools
import multiprocessing
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection, connections
from django_tenants.management.commands import SyncCommon
from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand
from django_tenants.migration_executors.base import run_migrations
from django_tenants.utils import schema_exists

from core.db import roles
from core.progress import ProgressBar
from tenants.migration_state import schemas_up_to_date
from tenants.models import Client
from tenants.services.spares import spares_enabled, spares_refill_enqueue
from tenants.template import clone_script_cache_clear, template_schema_create, template_schema_name

EXECUTORS = ("multiprocessing", "standard")
NO_SKIP_OPTIONS = ("fake", "fake_initial", "prune", "run_syncdb", "plan")


@dataclass
class MigrateSummary:
    migrated: list[str] = field(default_factory=list)
    up_to_date: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def _migrate_one(args: tuple, options: dict, codename: str, schema_name: str) -> tuple[str, str | None]:
    """Migrate one schema and report its error instead of raising, so one broken tenant
    cannot stop the others. Inside a caller's transaction (django-tenants' create_schema
    calls this command so) it runs in that transaction and raises like stock."""
    in_transaction = connection.in_atomic_block
    try:
        run_migrations(args, options, codename, schema_name, allow_atomic=in_transaction)
    except (Exception, SystemExit) as exc:  # SystemExit: migrate --check with pending migrations
        if in_transaction:
            raise
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        error = f"{type(exc).__name__}: {message}"[:500]
        # The connection may be mid-transaction or broken; the next schema gets a fresh one.
        connections.close_all()
        return schema_name, error
    finally:
        connection.set_schema_to_public()
    return schema_name, None


class Command(MigrateSchemasCommand):
    help = (
        "Migrate the public schema and every tenant schema; schemas already up to date are skipped, "
        "the rest run in parallel, failures are reported at the end."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="Processes for tenant schemas (default: MIGRATION_WORKERS, else one per CPU).",
        )
        parser.add_argument(
            "--all-schemas",
            action="store_true",
            help="Run migrate in every schema, also those whose migrations are all recorded.",
        )

    def handle(self, *args, **options):
        # Migrations run as the owner role, in this process and in its forked workers.
        with roles.owner_process():
            self._handle(*args, **options)

    def _handle(self, *args, **options):
        SyncCommon.handle(self, *args, **options)
        executor = self.executor or "multiprocessing"
        if executor not in EXECUTORS:
            raise CommandError(f"--executor must be one of: {', '.join(EXECUTORS)}.")
        workers = options["workers"]
        if workers is None:
            workers = settings.TENANT_MULTIPROCESSING_MAX_PROCESSES
        if workers < 1:
            raise CommandError("--workers must be at least 1.")
        verbosity = int(options.get("verbosity", 1))
        skip = not (
            options["all_schemas"]
            or options.get("app_label")
            or options.get("migration_name")
            or any(options.get(name) for name in NO_SKIP_OPTIONS)
        )
        # Per-schema migrate output only from -v 2: at 1,000 schemas it would bury the summary.
        child_options = {**options, "verbosity": max(verbosity - 1, 0)}
        public = settings.PUBLIC_SCHEMA_NAME
        summary = MigrateSummary()
        started = time.perf_counter()

        # The public schema first, in this process: the tenant list lives there and tenant
        # tables may reference it. If it fails, tenants are not attempted.
        if self.sync_public:
            if skip and schemas_up_to_date(schema_names=[public]):
                summary.up_to_date.append(public)
            else:
                self._record(summary, *_migrate_one(args, child_options, "standard", public), verbosity)
            if public not in summary.failed:
                roles.public_grants_ensure()
        if self.sync_tenant and public not in summary.failed:
            self._migrate_tenants(args, options, child_options, summary, skip, executor, workers, verbosity)

        elapsed = time.perf_counter() - started
        if verbosity >= 1 or summary.failed:
            self.stdout.write(
                f"migrate_schemas: {len(summary.migrated)} migrated, {len(summary.up_to_date)} up to date "
                f"(skipped), {len(summary.failed)} failed in {elapsed:.1f} s"
            )
        for schema, error in summary.failed.items():
            self.stderr.write(f"  FAILED {schema}: {error}")
        if summary.failed:
            names = ", ".join(list(summary.failed)[:10]) + (" ..." if len(summary.failed) > 10 else "")
            raise CommandError(f"{len(summary.failed)} schema(s) failed to migrate: {names}")

    def _migrate_tenants(self, args, options, child_options, summary, skip, executor, workers, verbosity):
        public = settings.PUBLIC_SCHEMA_NAME
        in_process: list[str] = []
        if self.schema_name and self.schema_name != public:
            if not schema_exists(self.schema_name):
                raise CommandError(f'Schema "{self.schema_name}" does not exist.')
            tenant_schemas = [self.schema_name]
        elif self.schema_name:
            return
        else:
            # Migrated with the tenants (created if missing), so new tenants copy a current template.
            template = template_schema_name()
            template_schema_create()
            in_process.append(template)
            tenant_schemas = list(
                Client.objects.real().order_by("schema_name").values_list("schema_name", flat=True)
            )
        everything = in_process + tenant_schemas
        current = schemas_up_to_date(schema_names=everything) if skip else set()
        summary.up_to_date += [s for s in everything if s in current]
        in_process = [s for s in in_process if s not in current]
        pending = [s for s in tenant_schemas if s not in current]
        if verbosity >= 1:
            to_migrate = len(in_process) + len(pending)
            self.stdout.write(
                f"migrate_schemas: {len(everything)} tenant schemas, {len(everything) - to_migrate}"
                f" up to date, {to_migrate} to migrate"
                + (f" ({executor}, {min(workers, len(pending))} workers)" if pending else "")
            )
        # Tenants made before per-tenant roles existed get theirs (one query when none is missing).
        created = roles.tenant_roles_ensure(schema_names=tenant_schemas)
        if created and verbosity >= 1:
            self.stdout.write(f"migrate_schemas: created the roles of {len(created)} tenant schemas")
        try:
            self._migrate_pending(
                args, child_options, summary, in_process, pending, executor, workers, verbosity
            )
        finally:
            # Tables a migration added are granted to the schema's role (default privileges
            # cover the owner's; this covers migrations run by any other role).
            migrated = set(summary.migrated)
            roles.tenant_grants_refresh(schema_names=[s for s in tenant_schemas if s in migrated])

    def _migrate_pending(
        self, args, child_options, summary, in_process, pending, executor, workers, verbosity
    ):
        for schema in in_process:
            self._record(summary, *_migrate_one(args, child_options, "standard", schema), verbosity)
        if template_schema_name() in summary.migrated:
            clone_script_cache_clear()
            if spares_enabled():
                spares_refill_enqueue()  # the spares are of the old template now: replace them
        if not pending:
            return
        if executor == "multiprocessing" and workers > 1 and len(pending) > 1:
            results = self._run_pool(args, child_options, pending, workers)
        else:
            results = (_migrate_one(args, child_options, "standard", s) for s in pending)
        bar = ProgressBar(self.stdout, label="  migrating", unit="schemas")
        for done, (schema, error) in enumerate(results, start=1):
            self._record(summary, schema, error, verbosity)
            if verbosity >= 1:
                bar.update(done, len(pending))
        bar.finish()

    def _run_pool(self, args, options, schemas: list[str], workers: int):
        # Same start method as django-tenants' MultiprocessingExecutor: fork, so workers
        # inherit the loaded app registry. Connections are closed first and never shared.
        connections.close_all()
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
        context = multiprocessing.get_context(method)
        job = functools.partial(_migrate_one, args, options, "multiprocessing")
        with context.Pool(processes=min(workers, len(schemas))) as pool:
            yield from pool.imap_unordered(job, schemas, chunksize=1)

    def _record(self, summary: MigrateSummary, schema: str, error: str | None, verbosity: int) -> None:
        if error is None:
            summary.migrated.append(schema)
            if verbosity >= 2:
                self.stdout.write(f"  migrated {schema}")
        else:
            summary.failed[schema] = error
            self.stderr.write(f"  FAILED {schema}: {error}")
