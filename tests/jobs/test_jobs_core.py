"""core/jobs.py in-process: on-commit sending, the outbox fallback, job_once, mail_send."""

import uuid

import pytest
from django.core import mail
from django.db import transaction
from django.test import override_settings

from core import jobs
from core.jobs import job_enqueue_on_commit, job_once, jobs_outbox_relay
from core.models import JobOutbox, JobRun
from core.tasks import mail_send

from . import probe_tasks
from .support import port_is_free

pytestmark = [pytest.mark.django_db]


def _closed_port_url() -> str:
    port = next(p for p in range(6460, 6490) if port_is_free(p))
    return f"redis://127.0.0.1:{port}/0"


@pytest.fixture
def broker_down():
    """The broker is a closed port: every send fails at once."""
    from saas.celery import app

    from .conftest import _broker_point_at

    previous = (app.conf.broker_url, jobs.settings.REDIS_URL)
    url = _closed_port_url()
    _broker_point_at(url)
    try:
        yield url
    finally:
        _broker_point_at(previous[0])
        jobs.settings.REDIS_URL = previous[1]


def test_a_job_queued_while_the_broker_is_down_waits_in_the_outbox(
    broker_down, django_capture_on_commit_callbacks
):
    failures = jobs.jobs_enqueue_failures_total.labels("tests.probe_ran")
    before = failures._value.get()
    with django_capture_on_commit_callbacks(execute=True):
        queued = job_enqueue_on_commit(probe_tasks.probe_ran, "p1", countdown_s=30)
    row = JobOutbox.objects.get(task_id=queued.task_id)
    assert (row.task_name, row.args, row.schema_name) == ("tests.probe_ran", ["p1"], "public")
    assert row.sent_at is None
    assert row.eta is not None and "OperationalError" in row.last_error
    assert failures._value.get() == before + 1
    # The relay gives up at the first failure and keeps the row for the next round.
    assert jobs_outbox_relay() == 0
    row.refresh_from_db()
    assert row.attempts == 2 and row.sent_at is None


def test_a_job_neither_sent_nor_kept_is_logged_and_counted(broker_down, monkeypatch, caplog):
    def outbox_down(**kwargs):
        raise RuntimeError("database down too")

    monkeypatch.setattr(jobs, "_outbox_write", outbox_down)
    lost = jobs.jobs_lost_total.labels("tests.probe_ran")
    before = lost._value.get()
    job = jobs.QueuedJob(task_id=str(uuid.uuid4()), task_name="tests.probe_ran", schema_name="public")
    assert jobs.job_send(task=probe_tasks.probe_ran, job=job, args=["p"], kwargs={}, eta=None) is False
    assert lost._value.get() == before + 1
    assert f"tests.probe_ran {job.task_id} LOST" in caplog.text


def test_nothing_is_sent_for_a_rolled_back_transaction(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        try:
            with transaction.atomic():
                job_enqueue_on_commit(probe_tasks.probe_ran, "never")
                raise RuntimeError
        except RuntimeError:
            pass
    assert callbacks == []


def test_job_once_lets_the_first_delivery_through_only():
    key = str(uuid.uuid4())
    with job_once(key=key, task_name="t") as first:
        assert first
    with job_once(key=key, task_name="t") as again:
        assert not again
    assert JobRun.objects.filter(key=key).count() == 1


def test_job_once_forgets_a_delivery_whose_effect_rolled_back():
    key = str(uuid.uuid4())
    with pytest.raises(RuntimeError), job_once(key=key, task_name="t") as first:
        assert first
        raise RuntimeError("killed mid-effect")
    with job_once(key=key, task_name="t") as retry:
        assert retry


@override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
def test_mail_send_delivered_twice_sends_one_mail(tenants):
    kwargs = {"subject": "Hello", "message": "Body", "recipient_list": ["a@example.com"]}
    task_id = str(uuid.uuid4())
    assert mail_send.apply(kwargs=kwargs, task_id=task_id).get() == 1
    assert mail_send.apply(kwargs=kwargs, task_id=task_id).get() == 0
    assert [m.subject for m in mail.outbox] == ["Hello"]


def test_old_job_records_are_purged_and_recent_ones_kept():
    import datetime as dt

    from django.utils import timezone

    from core.jobs import jobs_records_purge

    old = timezone.now() - dt.timedelta(days=8)
    JobRun.objects.create(key="old-run", task_name="t", schema_name="public", finished_at=old)
    JobRun.objects.create(key="new-run", task_name="t", schema_name="public")
    JobOutbox.objects.create(task_id="old-sent", task_name="t", schema_name="public", sent_at=old)
    JobOutbox.objects.create(task_id="old-unsent", task_name="t", schema_name="public", created_at=old)
    assert jobs_records_purge(older_than_days=7) == 2
    kept = JobRun.objects.filter(key__in=["old-run", "new-run"]).values_list("key", flat=True)
    assert set(kept) == {"new-run"}
    assert set(JobOutbox.objects.values_list("task_id", flat=True)) >= {"old-unsent"}
    assert not JobOutbox.objects.filter(task_id="old-sent").exists()


def test_export_page_says_so_when_the_job_system_is_down(
    broker_down, acme, django_capture_on_commit_callbacks
):
    client = acme.login()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/export/").status_code == 302
    page = client.get("/export/").content.decode()
    assert "The job system is unavailable right now" in page
    assert "Waiting for a worker" in page
