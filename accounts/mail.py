"""Mail to people, always through the job queue: `mail_queue` renders the message now and
sends it from a Celery worker once the caller's transaction commits (core.tasks.mail_send,
SMTP from EMAIL_URL). A rolled-back write sends nothing; a broker outage keeps the mail in
the outbox until the broker is back (core/jobs.py)."""

from typing import Any

from django.template.loader import render_to_string

from core.jobs import QueuedJob, job_enqueue_on_commit
from core.tasks import mail_send


def mail_queue(*, to: str, template: str, context: dict[str, Any]) -> QueuedJob:
    """Queue one plain-text mail. `template` names a pair under templates/accounts/mail/:
    `<template>_subject.txt` (one line) and `<template>.txt` (the body)."""
    subject = " ".join(render_to_string(f"accounts/mail/{template}_subject.txt", context).split())
    body = render_to_string(f"accounts/mail/{template}.txt", context)
    return job_enqueue_on_commit(mail_send, subject=subject, message=body, recipient_list=[to])
