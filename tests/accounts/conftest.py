from collections.abc import Iterator

import pytest

from saas.celery import app as celery_app
from tests.support.factories import make_person
from tests.support.mail import SmtpSink, smtp_sink


@pytest.fixture
def acme_member(acme):
    return make_person(acme, full_name="Mia Member")


@pytest.fixture
def globex_member(globex):
    return make_person(globex, full_name="Gus Globex")


@pytest.fixture(scope="session")
def _smtp_server() -> Iterator[SmtpSink]:
    with smtp_sink() as sink:
        yield sink


@pytest.fixture
def mailbox(_smtp_server, settings) -> Iterator[SmtpSink]:
    """A real SMTP server that Django's SMTP backend sends to, empty at the start; jobs run in
    this process as soon as they are queued (Celery's eager mode: the same task code a worker
    runs, core.tasks.mail_send). Requests whose mail a test reads run inside
    `django_capture_on_commit_callbacks(execute=True)`, since the test's transaction never
    commits. tests/accounts/test_mail_worker.py runs the same flow with a real worker."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _smtp_server.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    previous = (celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates)
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    _smtp_server.clear()
    try:
        yield _smtp_server
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


@pytest.fixture(scope="session")
def _live_server(tenants):
    from tests.support.live_server import live_server

    with live_server() as server:
        yield server


@pytest.fixture
def live(_live_server, db):
    """The app on a loopback port (its threads see committed data only)."""
    return _live_server
