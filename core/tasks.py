"""Jobs every app can queue (core/jobs.py `job_enqueue_on_commit`)."""

from typing import Any

from celery import shared_task
from django.core import mail

from core.jobs import job_once


@shared_task(bind=True, name="core.mail_send", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def mail_send(
    self: Any,
    *,
    subject: str,
    message: str,
    recipient_list: list[str],
    from_email: str | None = None,
    html_message: str | None = None,
) -> int:
    """Send one mail (Django's EMAIL_* settings). Sent once per job id: the job's row is
    held locked while the mail goes out and committed right after, so only a process
    killed between the mail server's answer and that commit can send it twice."""
    with job_once(key=self.request.id, task_name=self.name) as first:
        if not first:
            return 0
        return mail.send_mail(
            subject, message, from_email, recipient_list, html_message=html_message, fail_silently=False
        )


@shared_task(name="core.jobs_records_purge")
def jobs_records_purge_task() -> int:
    """Daily: forget job-run keys and sent outbox rows past JOBS_RECORDS_RETAIN_DAYS."""
    from django.conf import settings

    from core.jobs import jobs_records_purge

    return jobs_records_purge(older_than_days=settings.JOBS_RECORDS_RETAIN_DAYS)
