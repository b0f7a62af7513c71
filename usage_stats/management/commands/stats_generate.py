"""`manage.py stats_generate [--days D]`: demo activity of each tenant's people (what the
product would record for them: `make run`); `--events N`: N bulk synthetic events across
the tenants (load tests, `make bench`). Both are counted as demo data on the dashboards."""

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import get_tenant_model

from core.progress import ProgressBar
from usage_stats.demo.activity import activity_events, activity_people, activity_write
from usage_stats.demo.synthetic import events_exist, events_generate

MAX_EVENTS = 100_000_000
MAX_DAYS = 3660


class Command(BaseCommand):
    help = (
        "Fill the stats database with realistic synthetic events across the existing tenants "
        "(run stats_rollup afterwards to see them on the dashboards)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--events",
            type=int,
            default=None,
            help="bulk mode: this many synthetic events (default: the demo people's activity)",
        )
        parser.add_argument("--days", type=int, default=30, help="spread over the last D days")
        parser.add_argument(
            "--tenant",
            action="append",
            default=[],
            help="a tenant schema (repeatable; default: every tenant)",
        )
        parser.add_argument(
            "--big-share", type=float, default=0.5, help="share of events for the first tenant (0..1)"
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing if the stats database already holds request events (make run)",
        )

    def handle(
        self,
        *args,
        events: int | None,
        days: int,
        tenant: list[str],
        big_share: float,
        if_empty: bool,
        **options,
    ):
        if events is not None and not 1 <= events <= MAX_EVENTS:
            raise CommandError(f"--events must be between 1 and {MAX_EVENTS:,}.")
        if not 1 <= days <= MAX_DAYS:
            raise CommandError(f"--days must be between 1 and {MAX_DAYS}.")
        if not 0 <= big_share < 1:
            raise CommandError("--big-share must be at least 0 and below 1.")
        ids = dict(
            get_tenant_model()
            .objects.real()
            .order_by("created_at", "schema_name")
            .values_list("schema_name", "uuid")
        )
        if tenant:
            unknown = sorted(set(tenant) - set(ids))
            if unknown:
                raise CommandError(f"Unknown tenant(s): {', '.join(unknown)}.")
            ids = {name: ids[name] for name in tenant}
        known = list(ids.values())
        if not known:
            raise CommandError("There are no tenants yet: run `manage.py seed_demo` or provision one first.")
        if if_empty and events_exist():
            self.stdout.write("the stats database already holds request events: nothing generated")
            return
        if events is None:
            people = activity_people(tenant_ids=known)
            written = activity_write(
                events=activity_events(people=people, days=days, end=dt.datetime.now(dt.UTC))
            )
            self.stdout.write(
                f"wrote {written:,} demo events of {len(people)} people in {len(known)} tenant(s)"
                f" over the last {days} days"
            )
            return
        bar = ProgressBar(self.stdout, label="generating")
        started = time.monotonic()
        result = events_generate(
            events=events, days=days, tenants=known, big_share=big_share, progress=bar.update
        )
        bar.finish()
        self.stdout.write(
            f"wrote {result.events:,} events for {result.tenants} tenant(s) "
            f"from {result.start:%Y-%m-%d %H:%M} to {result.end:%Y-%m-%d %H:%M} UTC"
            f" in {time.monotonic() - started:.1f} s"
        )
