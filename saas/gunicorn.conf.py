"""gunicorn settings; every value can be overridden on the command line."""

import os
import shutil
import tempfile
from pathlib import Path

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 10
accesslog = "-" if os.environ.get("ACCESS_LOG", "0") == "1" else None

# Prometheus multiprocess mode (core/metrics.py): every worker writes its samples to
# this directory. It must be chosen before a worker imports prometheus_client and be
# emptied when the server starts, or counters of a previous run would be added in.
_PROMETHEUS_DIR_OWNED = "PROMETHEUS_MULTIPROC_DIR" not in os.environ
if _PROMETHEUS_DIR_OWNED:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="taskhive-prometheus-")


def on_starting(server):
    prometheus_dir = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    prometheus_dir.mkdir(parents=True, exist_ok=True)
    for stale in prometheus_dir.glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    # Drops the dead worker's live gauges; its counters stay in the totals.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def _usage_stats_collector():
    """The usage-stats collector if this process has loaded it; never imports Django here."""
    import sys

    return sys.modules.get("usage_stats.ingest.process")


def post_fork(server, worker):
    # os.register_at_fork already resets the collector; this also covers a preloaded app.
    collector = _usage_stats_collector()
    if collector is not None:
        collector.reset_after_fork()


def worker_exit(server, worker):
    # Also called in the master for a worker that died; only the worker owns its queue.
    collector = _usage_stats_collector()
    if collector is not None and worker.pid == os.getpid():
        collector.shutdown()


def on_exit(server):
    collector = _usage_stats_collector()
    if collector is not None:  # the master's own events (preload)
        collector.shutdown()
    if _PROMETHEUS_DIR_OWNED:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
