"""Redis stopped for 20 s while users keep working: no request fails, and every job
queued before, during and after the outage completes once Redis is back (the outbox)."""

import string
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from accounts.models import User
from core.models import JobOutbox, JobProgress
from tests.support.gunicorn import database_url, gunicorn
from tests.support.live_server import committed

from .support import wait_for

pytestmark = [pytest.mark.redis, pytest.mark.live, pytest.mark.django_db, pytest.mark.timeout(300)]

OUTAGE_S = 20.0
BEFORE_S, AFTER_S = 5.0, 8.0
CSRF = string.ascii_letters[:32]


def _session_cookie(info) -> str:
    client = HttpClient(HTTP_HOST=info.host)
    with schema_context(info.tenant.schema_name):
        client.force_login(User.objects.get(email=info.owner_email))
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def test_redis_down_for_20_s_under_load_fails_no_request_and_loses_no_job(
    jobs_worker, jobs_redis, redis_clean, tenants, tmp_path: Path
):
    acme = tenants["acme"]
    cookies = {settings.SESSION_COOKIE_NAME: committed(_session_cookie, acme), "csrftoken": CSRF}
    schema = acme.tenant.schema_name
    first_id = committed(lambda: max(JobProgress.objects.values_list("id", flat=True), default=0))
    statuses: Counter = Counter()
    failures: list[str] = []
    stop = threading.Event()
    env = {"REDIS_URL": jobs_redis.url}
    with gunicorn(
        database_url=database_url(settings.DEFAULT_DB_ALIAS),
        stats_database_url=database_url(settings.STATS_DB_ALIAS),
        log_dir=tmp_path,
        workers=2,
        threads=4,
        extra_env=env,
    ) as server:
        headers = server.headers(acme.host)

        def browse() -> None:
            with requests.Session() as session:
                session.cookies.update(cookies)
                while not stop.is_set():
                    try:
                        status = session.get(server.url("/"), headers=headers, timeout=10).status_code
                    except requests.RequestException as exc:
                        failures.append(f"GET /: {exc!r}")
                        continue
                    statuses[f"GET {status}"] += 1
                    if status >= 400:
                        failures.append(f"GET / -> {status}")
                    time.sleep(0.05)

        def export() -> None:
            with requests.Session() as session:
                session.cookies.update(cookies)
                while not stop.is_set():
                    try:
                        response = session.post(
                            server.url("/export/"),
                            headers={**headers, "X-CSRFToken": CSRF},
                            timeout=10,
                            allow_redirects=False,
                        )
                    except requests.RequestException as exc:
                        failures.append(f"POST /export/: {exc!r}")
                        continue
                    statuses[f"POST {response.status_code}"] += 1
                    if response.status_code != 302:
                        failures.append(f"POST /export/ -> {response.status_code}")
                    stop.wait(1.5)

        with ThreadPoolExecutor(max_workers=4) as pool:
            running = [pool.submit(browse), pool.submit(browse), pool.submit(browse), pool.submit(export)]
            time.sleep(BEFORE_S)
            jobs_redis.stop()
            outage_started = time.monotonic()
            time.sleep(OUTAGE_S)
            jobs_redis.start()
            outage_s = time.monotonic() - outage_started
            time.sleep(AFTER_S)
            stop.set()
            for future in running:
                future.result(timeout=30)

        assert failures == [], failures[:10]
        assert outage_s >= OUTAGE_S
        assert statuses["GET 200"] > 100 and statuses["POST 302"] >= 15, statuses

        def requested() -> list[JobProgress]:
            return list(JobProgress.objects.filter(id__gt=first_id, target_schema=schema))

        exports = committed(requested)
        assert len(exports) == statuses["POST 302"]
        task_ids = [e.task_id for e in exports]
        kept = committed(lambda: JobOutbox.objects.filter(task_id__in=task_ids).count())
        assert kept >= 5, "exports asked for during the outage went to the outbox"

        wait_for(
            lambda: all(e.state == "done" for e in committed(requested)),
            timeout_s=120,
            interval_s=1,
            message=f"every export to finish:\n{jobs_worker.log()}",
        )
        assert committed(lambda: JobOutbox.objects.filter(task_id__in=task_ids, sent_at=None).count()) == 0
    for row in committed(requested):
        Path(row.result_path).unlink(missing_ok=True)
