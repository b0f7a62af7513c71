"""The whole path with real processes: gunicorn answers, a Celery worker sends the mail over
SMTP to a real server, and the link in it works once. Also 20 concurrent sign-ups for one
subdomain against gunicorn, and the hand-off refused on replay in another process."""

import re
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
import requests
from django.conf import settings

from tests.jobs.support import RedisServer, celery_process, jobs_env, redis_server
from tests.support.factories import make_person, unique
from tests.support.gunicorn import Gunicorn, database_url, gunicorn
from tests.support.live_server import committed
from tests.support.mail import SmtpSink, smtp_sink
from tests.support.tenants import PASSWORD

pytestmark = [pytest.mark.smtp, pytest.mark.django_db, pytest.mark.timeout(240)]

NEW_PASSWORD = "worker-delivered-passphrase-9"
ROUTING_TTL_S = 1.0
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(scope="module")
def stack(tenants, django_db_blocker, tmp_path_factory) -> Iterator[tuple[Gunicorn, SmtpSink, RedisServer]]:
    """A private Redis, a real SMTP server, one Celery worker and gunicorn, all on the test databases."""
    log_dir = tmp_path_factory.mktemp("mail-stack")
    with django_db_blocker.unblock(), redis_server(log_dir / "redis") as redis, smtp_sink() as sink:
        env = jobs_env(
            database_url=database_url(settings.DEFAULT_DB_ALIAS),
            stats_database_url=database_url(settings.STATS_DB_ALIAS),
            redis_url=redis.url,
            EMAIL_URL=sink.url,
        )
        extra = {
            "REDIS_URL": redis.url,
            "EMAIL_URL": sink.url,
            # 20 sign-ups from one loopback client: the per-IP limit is tested in test_signup.py.
            "SIGNUP_THROTTLE_PER_IP": "1000",
            # How soon the other gunicorn worker routes the new host (tenants/routing.py).
            "TENANT_CACHE_TTL_S": str(ROUTING_TTL_S),
        }
        with (
            celery_process("worker", env=env, log_dir=log_dir),
            gunicorn(
                database_url=env["DATABASE_URL"],
                stats_database_url=env["STATS_DATABASE_URL"],
                log_dir=log_dir,
                workers=2,
                threads=4,
                extra_env=extra,
            ) as server,
        ):
            yield server, sink, redis


class HostSession:
    """A browser-like session for one host: its own cookies, CSRF token from each form page."""

    def __init__(self, server: Gunicorn, host: str) -> None:
        self.server, self.host, self.http = server, host, requests.Session()

    def get(self, path: str, **kw) -> requests.Response:
        return self.http.get(self.server.url(path), headers=self.server.headers(self.host), timeout=30, **kw)

    def post_form(self, path: str, data: dict, *, form_path: str | None = None) -> requests.Response:
        page = self.get(form_path or path)
        token = CSRF_RE.search(page.text).group(1)
        headers = self.server.headers(self.host, Referer=f"http://{self.host}{path}")
        return self.http.post(
            self.server.url(path),
            data={**data, "csrfmiddlewaretoken": token},
            headers=headers,
            allow_redirects=False,
            timeout=60,
        )


def _local(link: str, host: str) -> str:
    return link.split(host, 1)[1]


def test_reset_mail_sent_by_the_worker_and_the_link_works_once(stack, acme):
    server, sink, _redis = stack
    person = committed(make_person, acme)
    session = HostSession(server, acme.host)
    response = session.post_form("/accounts/password/reset/", {"email": person.email})
    assert response.status_code == 302
    [mail] = sink.wait_for(person.email, timeout_s=30)
    link = _local(
        next(u for u in mail.links if "/accounts/password/reset/" in u), f"{acme.host}:{server.port}"
    )
    form = session.get(link)
    assert form.status_code == 200 and "Choose a new password" in form.text
    set_path = form.url.split(str(server.port), 1)[1]
    done = session.post_form(set_path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"] == "/"
    assert session.get("/", allow_redirects=False).status_code == 200  # signed in
    replay = HostSession(server, acme.host).get(link)
    assert replay.status_code == 400 and "already used, has expired" in replay.text


def test_twenty_concurrent_sign_ups_for_one_subdomain(stack):
    server, sink, _redis = stack
    slug = unique("race").replace("-", "")[:20]
    sessions = [HostSession(server, "localhost") for _ in range(20)]
    tokens = [CSRF_RE.search(s.get("/signup/").text).group(1) for s in sessions]
    barrier = threading.Barrier(len(sessions))
    results: list[requests.Response | BaseException] = [None] * len(sessions)  # type: ignore[list-item]

    def sign_up(index: int) -> None:
        session = sessions[index]
        data = {
            "name": f"Race {index}",
            "slug": slug,
            "owner_email": f"racer{index}@{slug}.example",
            "owner_password": PASSWORD,
            "csrfmiddlewaretoken": tokens[index],
        }
        barrier.wait()
        try:
            results[index] = session.http.post(
                server.url("/signup/"),
                data=data,
                headers=server.headers("localhost", Referer="http://localhost/signup/"),
                allow_redirects=False,
                timeout=120,
            )
        except BaseException as exc:  # reported below, never lost in a thread
            results[index] = exc

    threads = [threading.Thread(target=sign_up, args=(i,)) for i in range(len(sessions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = Counter(r.status_code if isinstance(r, requests.Response) else repr(r) for r in results)
    assert statuses == {302: 1, 400: 19}, statuses
    taken = [r for r in results if r.status_code == 400]
    assert all("This subdomain is already taken." in r.text for r in taken)

    # The winner lands signed in on the new host; the same hand-off again (any worker) is refused.
    [winner] = [r for r in results if r.status_code == 302]
    location = winner.headers["Location"]
    host = f"{slug}.localhost"
    assert location.startswith(f"http://{host}:{server.port}/accounts/welcome/?t=")
    path = _local(location, f"{host}:{server.port}")
    owner = HostSession(server, host)
    # A worker that has not reloaded its routing table since the sign-up answers the new host
    # with 404 for up to TENANT_CACHE_TTL_S (tenants/routing.py); a 404 does not spend the token.
    deadline = time.monotonic() + ROUTING_TTL_S + 1
    while (
        first := owner.get(path, allow_redirects=False)
    ).status_code == 404 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert first.status_code == 302 and first.headers["Location"] == "/"
    assert owner.get("/", allow_redirects=False).status_code == 200
    # Every worker routes the new host after the routing TTL; then each replay reaches the view.
    time.sleep(ROUTING_TTL_S + 0.5)
    replays = [HostSession(server, host).get(path, allow_redirects=False).status_code for _ in range(4)]
    assert replays == [400] * 4
    # Sent on the base domain, not valid on another host either.
    assert HostSession(server, "acme.localhost").get(path, allow_redirects=False).status_code == 400
    # One verification mail, to the winner only, sent by the worker.
    mails = _wait_mails(sink, slug)
    assert [m.subject for m in mails] == ["Confirm your email address for Taskhive"]


def _wait_mails(sink: SmtpSink, slug: str, timeout_s: float = 30) -> list:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = [m for m in sink.mails() if any(t.endswith(f"@{slug}.example") for t in m.to)]
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"no mail to @{slug}.example")
