"""`manage.py stats_rollup`: add every settled event to the hourly rollups."""

import time

from django.core.management.base import BaseCommand, CommandError

from core.progress import ProgressBar
from usage_stats.rollups.rollup import DEFAULT_CHUNK_SEQS, DEFAULT_WAIT_S, rollup_rebuild, rollup_run


class Command(BaseCommand):
    help = (
        "Roll up usage events into the hourly dashboard tables. Idempotent and resumable: "
        "run it as often as you like (cron every minute, or --every)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--chunk", type=int, default=DEFAULT_CHUNK_SEQS, help="events per transaction")
        parser.add_argument(
            "--wait", type=float, default=DEFAULT_WAIT_S, help="seconds to wait for in-flight writes"
        )
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help="empty the rollups and add every stored event again (hours already dropped from "
            "the raw table are lost)",
        )
        parser.add_argument("--every", type=float, default=0, help="repeat every N seconds until interrupted")

    def handle(self, *args, chunk: int, wait: float, rebuild: bool, every: float, **options):
        if chunk < 1:
            raise CommandError("--chunk must be at least 1.")
        if wait < 0 or every < 0:
            raise CommandError("--wait and --every cannot be negative.")
        if rebuild and every:
            raise CommandError("--rebuild runs once; leave out --every.")
        while True:
            bar = ProgressBar(self.stdout, label="rolling up")
            started = time.monotonic()
            run = rollup_rebuild if rebuild else rollup_run
            result = run(chunk_seqs=chunk, wait_s=wait, progress=bar.update)
            bar.finish()
            for vxid in result.blocked_by:
                self.stderr.write(f"waiting for write transaction {vxid}; its events go into the next run")
            self.stdout.write(
                f"rolled up {result.events_added:,} events in {time.monotonic() - started:.1f} s "
                f"(watermark seq {result.watermark:,})"
            )
            if not every:
                return
            time.sleep(every)
