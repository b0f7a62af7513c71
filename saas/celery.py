"""The Celery application (`celery -A saas worker|beat`): configured from Django's
settings (`CELERY_*`, saas/settings/jobs.py), tasks found in every app's tasks.py.

tenant-schemas-celery's CeleryApp stamps each message with the schema current when it
is sent, and the worker runs the task in that schema.
"""

import os
from typing import Any

from celery.signals import task_failure, worker_ready, worker_shutdown
from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saas.settings.dev")

app = CeleryApp("saas")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

_relay: Any = None


@worker_ready.connect
def _relay_start(sender: Any = None, **kwargs: Any) -> None:
    """Heartbeat and outbox relay, in the worker's main process (core/jobs.py)."""
    from core.jobs import WorkerRelay

    global _relay
    _relay = WorkerRelay(hostname=getattr(sender, "hostname", None))
    _relay.start()


@worker_shutdown.connect
def _relay_stop(**kwargs: Any) -> None:
    if _relay is not None:
        _relay.stop()


@task_failure.connect
def _failure_count(sender: Any = None, **kwargs: Any) -> None:
    from core.jobs import task_failure_record

    task_failure_record(getattr(sender, "name", "unknown"))
