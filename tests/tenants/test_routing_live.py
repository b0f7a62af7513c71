"""Routing freshness against gunicorn with 4 workers (each its own routing table):

- 1,000 sign-ups through the public site, each followed at once by a GET of the redirect
  target and of its stylesheet (which land on any worker): not one 404;
- a suspension made through one worker's staff admin is enforced by every worker within
  the documented 1 s: the 200+ probes sent after that are all refused.

Sign-up is real HTTP; only password hashing is cheap (the test settings' MD5 hasher)."""

import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django_tenants.utils import schema_context

from accounts.models import User
from tenants.models import Client
from tests.support.gunicorn import database_url, gunicorn
from tests.support.signup import csrf_token as _csrf
from tests.support.signup import signup_and_follow as _signup_and_follow
from tests.support.tenants import PASSWORD, tenants_drop_fast

pytestmark = [pytest.mark.live, pytest.mark.timeout(900)]

SIGNUPS = int(os.environ.get("SIGNUP_BURST_COUNT", "1000"))
BOUND_S = 1.0
STAFF_EMAIL = "routing-live-staff@example.com"


def _server(tmp_path: Path, **env: str):
    return gunicorn(
        database_url=database_url(settings.DEFAULT_DB_ALIAS),
        stats_database_url=database_url(settings.STATS_DB_ALIAS),
        log_dir=tmp_path,
        workers=4,
        extra_env={"USAGE_STATS_ENABLED": "false", **env},
    )


def test_every_fresh_signup_is_served_by_every_worker(tenants, django_db_blocker, tmp_path):
    run = uuid.uuid4().hex[:6]
    slugs = [f"burst-{run}-{i:04d}" for i in range(SIGNUPS)]
    try:
        with _server(tmp_path) as server, ThreadPoolExecutor(max_workers=3) as pool:
            results = list(pool.map(lambda slug: _signup_and_follow(server, slug), slugs))
        statuses = [status for seen in results for _kind, status in seen]
        failures = [(slug, seen) for slug, seen in zip(slugs, results, strict=True) if seen[-1][1] != 200]
        assert statuses.count(404) == 0, failures[:10]
        assert not failures, failures[:10]
        assert len(statuses) == 3 * SIGNUPS
    finally:
        with django_db_blocker.unblock():
            tenants_drop_fast(prefix=f"burst-{run}-")


def _staff_ensure() -> None:
    with schema_context(settings.PUBLIC_SCHEMA_NAME):
        if not User.objects.filter(email=STAFF_EMAIL).exists():
            User.objects.create_superuser(STAFF_EMAIL, PASSWORD)


def test_a_suspension_made_in_one_worker_is_enforced_by_all_four_within_a_second(
    committed_tenants, django_db_blocker, tmp_path
):
    with django_db_blocker.unblock():
        _staff_ensure()
    tenant = committed_tenants("susp4")
    host = f"{tenant.slug}.{settings.BASE_DOMAIN}"
    with _server(tmp_path) as server:
        probe_url, probe_headers = server.url("/accounts/login/"), server.headers(host)

        def probe() -> int:
            return requests.get(probe_url, headers=probe_headers, timeout=30).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:  # every worker loads its table
            assert set(pool.map(lambda _: probe(), range(80))) == {200}

        admin = requests.Session()
        public = server.headers(settings.BASE_DOMAIN)
        login = admin.get(server.url("/admin/login/"), headers=public, timeout=30)
        signed_in = admin.post(
            server.url("/admin/login/?next=/admin/"),
            data={"csrfmiddlewaretoken": _csrf(login), "username": STAFF_EMAIL, "password": PASSWORD},
            headers={**public, "Referer": server.url("/admin/login/")},
            allow_redirects=False,
            timeout=30,
        )
        assert signed_in.status_code == 302
        changelist = server.url("/admin/tenants/client/")
        page = admin.get(changelist, headers=public, timeout=30)

        probes: list[tuple[float, int]] = []
        lock = threading.Lock()
        stop = threading.Event()

        def keep_probing() -> None:
            while not stop.is_set():
                sent = time.monotonic()
                status = probe()
                with lock:
                    probes.append((sent, status))

        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = [pool.submit(keep_probing) for _ in range(4)]
            suspended = admin.post(
                changelist,
                data={
                    "csrfmiddlewaretoken": _csrf(page),
                    "action": "suspend_tenants",
                    "_selected_action": str(tenant.pk),
                    "index": "0",
                },
                headers={**public, "Referer": changelist},
                timeout=30,
            )
            changed_at = time.monotonic()  # the change committed before this answer
            assert suspended.status_code == 200 and "1 tenant(s) suspended" in suspended.text
            while True:
                with lock:
                    after = [p for p in probes if p[0] >= changed_at + BOUND_S]
                if len(after) >= 200:
                    break
                time.sleep(0.05)
            stop.set()
            for future in futures:
                future.result()
        with django_db_blocker.unblock():
            assert Client.objects.get(pk=tenant.pk).suspended_at is not None
        after = [status for sent, status in probes if sent >= changed_at + BOUND_S]
        assert len(after) >= 200 and set(after) == {423}, sorted(set(after))
        served = [sent - changed_at for sent, status in probes if status == 200 and sent >= changed_at]
        assert not served or max(served) < BOUND_S, max(served)
